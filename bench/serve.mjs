#!/usr/bin/env node
// The HTTP front against `imgproc enqueue`, on a private redis-server, with one daemon.
//
//   npm run bench -- --serve [--count 200] [--size 64] [--connections 16] [--rss-uploads 100]
//                            [--rss-mib 10] [--s3-uploads]
//
// 1. Uploads: --count distinct --size px PNGs POSTed by autocannon over --connections loopback
//    connections: uploads/s and latency percentiles of the POSTs, then the time until the one
//    daemon has done every job (end to end).
// 2. The same files put in the data folder and queued with one `imgproc enqueue`: its wall time,
//    and the time until the daemon has done every job.
// 3. Memory: peak RSS of `serve` while --rss-uploads clients upload --rss-mib MiB each at once,
//    against 1 MiB each: a server that streams stays flat, one that buffers grows by the total.
//    With --s3-uploads, only this, for uploads into object storage (bench/serve-s3.mjs).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { treeRssKiB } from './lib/measure.mjs';
import { parseArgs, REPO_ROOT } from './lib/settings.mjs';
import { startRedis } from './queue.mjs';

const BIN = path.join(REPO_ROOT, 'bin/imgproc.cjs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cli(args, cwd, env = process.env) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...env, UV_THREADPOOL_SIZE: '4' },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.once('exit', (code) => r(code)));
  return { child, exited, stderr: () => stderr };
}

async function startServe(redisUrl, prefix, data, cwd, extra = [], env = undefined) {
  const p = cli(
    ['serve', '--redis', redisUrl, '--prefix', prefix, '--data-dir', data, '--port', '0', ...extra],
    cwd,
    env,
  );
  for (let i = 0; i < 200; i++) {
    const m = /listening on (http:\/\/\S+)/.exec(p.stderr());
    if (m) return { ...p, url: m[1] };
    if (p.child.exitCode !== null) throw new Error(`serve exited: ${p.stderr()}`);
    await sleep(50);
  }
  throw new Error('serve did not start');
}

async function doneCount(redis, prefix) {
  return redis.llen(`${prefix}image_done`);
}

async function untilDone(redis, prefix, n, deadlineMs = 600_000) {
  const t0 = performance.now();
  while ((await doneCount(redis, prefix)) < n) {
    if (performance.now() - t0 > deadlineMs) throw new Error('jobs did not finish in time');
    await sleep(20);
  }
  return performance.now();
}

function pngs(count, size) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      sharp({
        create: {
          width: size,
          height: size,
          channels: 3,
          background: { r: i % 256, g: Math.floor(i / 256) % 256, b: 91 },
        },
      })
        .png()
        .toBuffer(),
    ),
  );
}

async function uploads(redisUrl, redis, images, connections, work) {
  const prefix = 'http:';
  const data = path.join(work, 'http');
  mkdirSync(data, { recursive: true });
  const serve = await startServe(redisUrl, prefix, data, work);
  const daemon = cli(
    ['--daemon', '--redis', redisUrl, '--prefix', prefix, '--data-dir', data, '--cpu'],
    work,
  );
  await sleep(1500);
  let next = 0;
  const t0 = performance.now();
  const result = await autocannon({
    url: `${serve.url}/v1/jobs`,
    connections,
    amount: images.length,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        setupRequest: (req) => ({ ...req, body: images[next++ % images.length] }),
      },
    ],
  });
  const tEnd = await untilDone(redis, prefix, images.length);
  daemon.child.kill('SIGTERM');
  serve.child.kill('SIGTERM');
  await Promise.all([daemon.exited, serve.exited]);
  return {
    accepted: result['2xx'],
    errors: result.errors + result.non2xx,
    uploadsPerSecond: result['2xx'] / result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    endToEndSeconds: (tEnd - t0) / 1000,
    jobsPerSecond: images.length / ((tEnd - t0) / 1000),
  };
}

async function enqueued(redisUrl, redis, images, work) {
  const prefix = 'cli:';
  const data = path.join(work, 'cli');
  mkdirSync(path.join(data, 'in'), { recursive: true });
  images.forEach((png, i) => writeFileSync(path.join(data, 'in', `${i}.png`), png));
  const daemon = cli(
    ['--daemon', '--redis', redisUrl, '--prefix', prefix, '--data-dir', data, '--cpu'],
    work,
  );
  await sleep(1500);
  const t0 = performance.now();
  const enq = cli(
    ['enqueue', 'in', '--data-dir', data, '--redis', redisUrl, '--prefix', prefix],
    work,
  );
  if ((await enq.exited) !== 0) throw new Error(`enqueue failed: ${enq.stderr()}`);
  const enqueueSeconds = (performance.now() - t0) / 1000;
  const tEnd = await untilDone(redis, prefix, images.length);
  daemon.child.kill('SIGTERM');
  await daemon.exited;
  return {
    enqueueSeconds,
    endToEndSeconds: (tEnd - t0) / 1000,
    jobsPerSecond: images.length / ((tEnd - t0) / 1000),
  };
}

/** One upload of `bytes` pseudo-random bytes, streamed in 64 KiB writes with backpressure. */
function streamUpload(url, bytes, seed) {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/jobs`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': bytes },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024);
    let sent = 0;
    let n = 0;
    const write = () => {
      while (sent < bytes) {
        chunk.writeUInt32LE(seed, 0);
        chunk.writeUInt32LE(n++, 4);
        const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
        sent += piece.length;
        if (!req.write(piece)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

/** Peak RSS of `serve` (with `extra` flags) under uploads of 1 MiB and `mib` MiB at once. */
export async function memory(redisUrl, uploadsAtOnce, mib, work, extra = [], env = undefined) {
  const rows = [];
  for (const size of [1, mib]) {
    const prefix = `rss${size}:`;
    const data = path.join(work, `rss${size}`);
    mkdirSync(data, { recursive: true });
    const serve = await startServe(redisUrl, prefix, data, work, extra, env);
    await sleep(500);
    const idle = treeRssKiB(serve.child.pid);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, treeRssKiB(serve.child.pid))), 25);
    const t0 = performance.now();
    const codes = await Promise.all(
      Array.from({ length: uploadsAtOnce }, (_, i) =>
        streamUpload(serve.url, size * 1024 * 1024, i + size * 1000),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, treeRssKiB(serve.child.pid));
    serve.child.kill('SIGTERM');
    await serve.exited;
    rmSync(data, { recursive: true, force: true });
    rows.push({
      uploadMiB: size,
      uploads: uploadsAtOnce,
      accepted: codes.filter((c) => c === 202).length,
      idleRssMiB: idle / 1024,
      peakRssMiB: peak / 1024,
      seconds,
    });
  }
  return rows;
}

export async function main(flags) {
  if (flags['s3-uploads']) return (await import('./serve-s3.mjs')).main(flags);
  const count = Number(flags.count ?? 200);
  const size = Number(flags.size ?? 64);
  const connections = Number(flags.connections ?? 16);
  const rssUploads = Number(flags['rss-uploads'] ?? 100);
  const rssMib = Number(flags['rss-mib'] ?? 10);
  const work = mkdtempSync(path.join(os.tmpdir(), 'imgproc-bench-serve-'));
  const redis = await startRedis(work);
  try {
    const images = await pngs(count, size);
    console.error(
      `serve bench: ${count} PNGs of ${size}x${size}, ${connections} connections, one daemon (--cpu), ${os.cpus().length} cores`,
    );
    const http = await uploads(redis.url, redis.redis, images, connections, work);
    const cliRun = await enqueued(redis.url, redis.redis, images, work);
    const rss = await memory(redis.url, rssUploads, rssMib, work);
    const f = (x, d = 1) => x.toFixed(d);
    const lines = [
      `| path | uploads/s | POST latency p50 / p90 / p99 / max ms | queued in s | all ${count} done in s | jobs/s end to end |`,
      '|---|---:|---:|---:|---:|---:|',
      `| imgproc serve (POST raw PNG) | ${f(http.uploadsPerSecond)} | ${http.latencyMs.p50} / ${http.latencyMs.p90} / ${http.latencyMs.p99} / ${http.latencyMs.max} | ${f(count / http.uploadsPerSecond, 2)} | ${f(http.endToEndSeconds, 2)} | ${f(http.jobsPerSecond)} |`,
      `| imgproc enqueue (files in place) | | | ${f(cliRun.enqueueSeconds, 2)} | ${f(cliRun.endToEndSeconds, 2)} | ${f(cliRun.jobsPerSecond)} |`,
      '',
      '| concurrent uploads | MiB each | accepted | serve RSS idle MiB | serve RSS peak MiB | seconds |',
      '|---:|---:|---:|---:|---:|---:|',
      ...rss.map(
        (r) =>
          `| ${r.uploads} | ${r.uploadMiB} | ${r.accepted} | ${f(r.idleRssMiB)} | ${f(r.peakRssMiB)} | ${f(r.seconds, 2)} |`,
      ),
    ];
    console.log(lines.join('\n'));
    if (http.errors) console.log(`\n${http.errors} upload(s) failed`);
    const out = path.join(REPO_ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      path.join(out, 'serve.json'),
      JSON.stringify({ count, size, connections, http, enqueue: cliRun, rss }, null, 2),
    );
    writeFileSync(path.join(out, 'serve.md'), lines.join('\n') + '\n');
  } finally {
    redis.redis.disconnect();
    redis.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(parseArgs(process.argv.slice(2)).flags);
}
