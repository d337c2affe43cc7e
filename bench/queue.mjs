#!/usr/bin/env node
// Queue overhead and throughput: the same images through `imgproc --daemon` (Redis queue) and
// through the batch command, on a private redis-server.
//
//   node bench/queue.mjs [--count 1000] [--size 64] [--concurrency N] [--corpus DIR] [--limit 16]
//   npm run bench -- --queue …
//
// 1. Overhead: --count tiny PNGs, --ops gradient. Batch wall time vs the daemon, cold (started
//    with the queue full, so start-up is counted as in the batch) and warm (started first, then
//    fed); Redis commands per job from INFO commandstats.
// 2. Corpus: the benchmark corpus (or --limit files of it), every output, batch vs daemon (cold).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { resolveCorpus, selectFiles, stageFiles } from './lib/corpus.mjs';
import { parseArgs, REPO_ROOT } from './lib/settings.mjs';

const BIN = path.join(REPO_ROOT, 'bin/imgproc.cjs');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startRedis(dir) {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('redis-server is not installed (apt-get install redis-server)');
  }
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  const redis = new Redis({ port, host: '127.0.0.1', retryStrategy: (n) => (n > 50 ? null : 100) });
  redis.on('error', () => {});
  await redis.ping();
  return { url: `redis://127.0.0.1:${port}/0`, redis, stop: () => proc.kill('SIGTERM') };
}

function runBatch(input, out, extra) {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [BIN, input, '--out', out, '--cpu', '--force', '--no-progress', '--quiet', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`batch failed (${r.status}): ${r.stderr}`);
  return ms;
}

function daemon(url, prefix, dataDir, extra) {
  const child = spawn(
    process.execPath,
    [
      BIN,
      '--daemon',
      '--redis',
      url,
      '--prefix',
      prefix,
      '--data-dir',
      dataDir,
      '--cpu',
      '--log-format',
      'json',
      '--done-cap',
      '1000000',
      '--block-timeout',
      '0.5',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => child.once('exit', r));
  return {
    child,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`daemon exited ${code}: ${err.slice(-2000)}`);
    },
  };
}

async function waitDone(redis, key, count, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  let polls = 0;
  while ((await redis.llen(key)) < count) {
    polls++;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} results`);
    await sleep(5);
  }
  return polls + 1;
}

function commandStats(info) {
  const out = {};
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

let seq = 0;
/** One daemon run over `files` (paths relative to dataDir): cold = queue filled before start. */
async function daemonRun(r, dataDir, files, extra, mode) {
  const prefix = `bench${++seq}:`;
  const jobs = `${prefix}image_jobs`;
  const done = `${prefix}image_done`;
  const raws = files.map((f, i) => JSON.stringify({ id: `b${i}`, input: f }));
  const push = async () => {
    for (let i = 0; i < raws.length; i += 1000)
      await r.redis.lpush(jobs, ...raws.slice(i, i + 1000));
  };
  rmSync(path.join(dataDir, 'processed'), { recursive: true, force: true });
  if (mode === 'cold') {
    await push();
    const t0 = performance.now();
    const d = daemon(r.url, prefix, dataDir, extra);
    await waitDone(r.redis, done, raws.length);
    const ms = performance.now() - t0;
    await d.stop();
    return { ms };
  }
  const d = daemon(r.url, prefix, dataDir, extra);
  while ((await r.redis.keys(`${prefix}image_worker:*`)).length === 0) await sleep(20);
  await sleep(300);
  await r.redis.config('RESETSTAT');
  const t0 = performance.now();
  await push();
  const polls = await waitDone(r.redis, done, raws.length);
  const ms = performance.now() - t0;
  const stats = commandStats(await r.redis.info('commandstats'));
  await d.stop();
  // Our own commands: the pushes, the polls, this INFO.
  stats.lpush = (stats.lpush ?? 0) - Math.ceil(raws.length / 1000);
  stats.llen = (stats.llen ?? 0) - polls;
  // Commands a client sends (scripts' inner calls are counted in commandstats too); an HGET
  // follows each BLMOVE that returned a job, so BLMOVE counts twice (an upper bound).
  const top = ['evalsha', 'eval', 'blmove', 'smembers', 'exists'];
  const trips = top.reduce((a, k) => a + (stats[k] ?? 0), 0) + (stats.blmove ?? 0);
  return { ms, roundTripsPerJob: trips / raws.length, commands: stats };
}

const fmt = (n, d = 1) => n.toFixed(d);

export async function main(flags) {
  const count = Number(flags.count ?? 1000);
  const size = Number(flags.size ?? 64);
  const conc = flags.concurrency ? ['--concurrency', String(flags.concurrency)] : [];
  const work = mkdtempSync(path.join(os.tmpdir(), 'imgproc-bench-queue-'));
  const r = await startRedis(work);
  const results = {
    date: new Date().toISOString(),
    host: os.hostname(),
    cpus: os.availableParallelism(),
    node: process.version,
  };
  try {
    // 1. Overhead on tiny images.
    const data = path.join(work, 'tiny');
    mkdirSync(path.join(data, 'in'), { recursive: true });
    for (let i = 0; i < count; i++) {
      await sharp({
        create: {
          width: size,
          height: size,
          channels: 3,
          background: { r: i % 256, g: (i * 7) % 256, b: (i * 13) % 256 },
        },
      })
        .png()
        .toFile(path.join(data, 'in', `${i}.png`));
    }
    const files = readdirSync(path.join(data, 'in')).map((f) => `in/${f}`);
    const ops = ['--ops', 'gradient', ...conc];
    const runs = Number(flags.runs ?? 3);
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    runBatch(path.join(data, 'in'), path.join(work, 'warmup'), ops);
    const b = [],
      c = [],
      w = [];
    let warmLast;
    // Interleaved, so that load from elsewhere on the machine hits every contender alike.
    for (let i = 0; i < runs; i++) {
      b.push(runBatch(path.join(data, 'in'), path.join(work, 'batch-out'), ops));
      c.push((await daemonRun(r, data, files, ops, 'cold')).ms);
      warmLast = await daemonRun(r, data, files, ops, 'warm');
      w.push(warmLast.ms);
    }
    const batchMs = median(b);
    const cold = { ms: median(c) };
    const warm = { ...warmLast, ms: median(w) };
    results.overhead = {
      count,
      size,
      ops: 'gradient',
      runs,
      batchRunsMs: b,
      daemonColdRunsMs: c,
      daemonWarmRunsMs: w,
      batchMs,
      daemonColdMs: cold.ms,
      daemonWarmMs: warm.ms,
      batchJobsPerS: (count / batchMs) * 1000,
      daemonColdJobsPerS: (count / cold.ms) * 1000,
      daemonWarmJobsPerS: (count / warm.ms) * 1000,
      overheadColdMsPerJob: (cold.ms - batchMs) / count,
      overheadWarmMsPerJob: (warm.ms - batchMs) / count,
      redisRoundTripsPerJob: warm.roundTripsPerJob,
      redisCommands: warm.commands,
    };
    const o = results.overhead;
    console.log(
      `## Queue overhead: ${count} × ${size} px PNG, --ops gradient, median of ${runs}\n`,
    );
    console.log('| run | wall s | jobs/s | vs batch, ms/job |');
    console.log('|---|---:|---:|---:|');
    console.log(`| batch command | ${fmt(batchMs / 1000, 2)} | ${fmt(o.batchJobsPerS, 0)} | – |`);
    console.log(
      `| daemon, cold (start-up counted) | ${fmt(cold.ms / 1000, 2)} | ${fmt(o.daemonColdJobsPerS, 0)} | ${fmt(o.overheadColdMsPerJob, 2)} |`,
    );
    console.log(
      `| daemon, warm (already running) | ${fmt(warm.ms / 1000, 2)} | ${fmt(o.daemonWarmJobsPerS, 0)} | ${fmt(o.overheadWarmMsPerJob, 2)} |`,
    );
    console.log(
      `\nRedis round trips per job (warm, upper bound): ${fmt(warm.roundTripsPerJob, 2)}; command calls, scripts' inner calls included: ${JSON.stringify(warm.commands)}\n`,
    );

    // 2. The corpus, every output.
    if (flags.corpus !== 'none') {
      const corpus = resolveCorpus(flags.corpus);
      const picked = selectFiles(corpus, Number(flags.limit ?? 16));
      const cdata = path.join(work, 'corpus');
      stageFiles(picked, path.join(cdata, 'in'));
      const cfiles = readdirSync(path.join(cdata, 'in')).map((f) => `in/${f}`);
      const cBatch = runBatch(path.join(cdata, 'in'), path.join(work, 'corpus-batch'), conc);
      const cDaemon = (await daemonRun(r, cdata, cfiles, conc, 'cold')).ms;
      results.corpus = {
        dir: corpus,
        files: cfiles.length,
        batchMs: cBatch,
        daemonMs: cDaemon,
        batchImagesPerS: (cfiles.length / cBatch) * 1000,
        daemonImagesPerS: (cfiles.length / cDaemon) * 1000,
        daemonVsBatch: cBatch / cDaemon,
      };
      const c = results.corpus;
      console.log(`## Corpus: ${c.files} images from ${corpus}, every output\n`);
      console.log('| run | wall s | images/s |');
      console.log('|---|---:|---:|');
      console.log(`| batch command | ${fmt(cBatch / 1000, 2)} | ${fmt(c.batchImagesPerS, 2)} |`);
      console.log(`| daemon (cold) | ${fmt(cDaemon / 1000, 2)} | ${fmt(c.daemonImagesPerS, 2)} |`);
      console.log(
        `\ndaemon throughput / batch throughput: ${fmt(c.daemonVsBatch * 100, 1)}% (target ≥ 90%)`,
      );
    }
    const outDir = path.join(REPO_ROOT, 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `queue-${results.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
    console.log(`\nresults: ${path.relative(REPO_ROOT, file)}`);
  } finally {
    r.redis.disconnect();
    r.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(parseArgs(process.argv.slice(2)).flags);
}
