#!/usr/bin/env node
// Object storage: the corpus through `imgproc s3://… --out s3://…` against the same files from and
// to a local folder, on a private S3-compatible server (s3rver) on this machine.
//
//   npm run bench -- --s3 [--corpus DIR] [--limit N] [--runs 3] [--count 1000] [--server-apart]
//                        [--imgproc-args "…"]
//   node bench/s3.mjs …
//
// The server keeps its objects in memory (/dev/shm) where there is one: see serverStore.
// 1. Corpus: local → local and s3:// → s3:// runs in `--runs` rounds (default 3) whose order
//    alternates, every output, each run into an empty folder or prefix. images/s from the best and
//    the median wall time, imgproc's CPU and peak RSS (the server is another process: its CPU is
//    reported apart), requests per image. Target: the S3 run takes at most 15% longer, judged on
//    the paired figure (each S3 run against the local run of its round), which a machine that
//    slows down or speeds up between rounds moves least.
//    `--server-apart` repeats the comparison with the server alone on the last CPU and imgproc on
//    the others (taskset), as a server on another machine would be.
// 2. Re-run: `--count` small images (64 px PNGs) in a bucket, processed once, then run again over
//    the unchanged bucket: wall time, and GETs of sources counted at the server (target: 0).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import { resolveCorpus, selectFiles, stageFiles } from './lib/corpus.mjs';
import { measure } from './lib/measure.mjs';
import { parseArgs, REPO_ROOT } from './lib/settings.mjs';

// The `imgproc` command as users run it (it starts the `node` on PATH: this one, see imgprocEnv).
const COMMAND = path.join(REPO_ROOT, 'bin/imgproc');
// The same server the tests start: s3rver over a folder, every request reported on stdout.
const SERVER = path.join(REPO_ROOT, 'test/storage/s3rver-process.mjs');
const KEY = 'S3RVER';
const TARGET_OVERHEAD = 0.15;

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

/** CPU seconds a live process has used so far (user + system). */
function cpuOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export async function startServer(dir) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--openssl-legacy-provider', SERVER, String(port), dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const requests = [];
  let seeded;
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const seen = JSON.parse(line);
      if (seen.ready) resolve();
      else if (seen.seeded !== undefined) seeded?.();
      else requests.push(seen);
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    pid: child.pid,
    requests,
    seed(bucket, keys, body) {
      const done = new Promise((r) => (seeded = r));
      const seed = { bucket, keys, body: body.toString('base64'), encoding: 'base64' };
      child.stdin.write(JSON.stringify({ seed }) + '\n');
      return done;
    },
    stop: () => child.kill('SIGTERM'),
  };
}

/** The environment imgproc reaches the server with, and nothing from this machine's AWS setup. */
export function imgprocEnv(endpoint, dir) {
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (k.startsWith('IMGPROC_') || k.startsWith('AWS_')) delete env[k];
  return {
    ...env,
    PATH: [path.dirname(process.execPath), env.PATH].filter(Boolean).join(path.delimiter),
    AWS_ACCESS_KEY_ID: KEY,
    AWS_SECRET_ACCESS_KEY: KEY,
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    IMGPROC_S3_ENDPOINT: endpoint,
    IMGPROC_S3_PATH_STYLE: '1',
  };
}

/** An S3 client for the set-up (bucket, uploads); imgproc itself is what is measured. */
export async function client(endpoint) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const s3 = new sdk.S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: KEY, secretAccessKey: KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    createBucket: (Bucket) => s3.send(new sdk.CreateBucketCommand({ Bucket })),
    put: (Bucket, Key, Body) => s3.send(new sdk.PutObjectCommand({ Bucket, Key, Body })),
    destroy: () => s3.destroy(),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '–');

/** Requests by kind, per image: `GET` (whole), `GET range`, `HEAD`, `PUT`, `LIST`. */
function tally(requests, bucket, images) {
  const counts = {};
  for (const r of requests) {
    let kind = r.method;
    if (r.method === 'GET' && r.path === `/${bucket}/`) kind = 'LIST';
    else if (r.method === 'GET' && r.range) kind = 'GET range';
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, +(v / images).toFixed(2)]));
}

async function runImgproc(args, env, server, wrap = (a) => [COMMAND, a]) {
  const before = server.requests.length;
  const serverCpu = cpuOf(server.pid);
  const m = await measure(...wrap([...args, '--cpu', '--no-progress']), {
    env,
    cwd: REPO_ROOT,
    timeoutS: 900,
  });
  if (m.code !== 0) throw new Error(`imgproc ${args.join(' ')} failed (${m.code}): ${m.stderr}`);
  return {
    ...m,
    serverCpuS: cpuOf(server.pid) - serverCpu,
    requests: server.requests.slice(before),
  };
}

export async function main(flags) {
  const runs = Number(flags.runs ?? 3);
  const count = Number(flags.count ?? 1000);
  const extra =
    typeof flags['imgproc-args'] === 'string'
      ? flags['imgproc-args'].split(/\s+/).filter(Boolean)
      : [];
  const corpus = resolveCorpus(flags.corpus);
  const files = selectFiles(corpus, flags.limit ? Number(flags.limit) : 0);
  const work = mkdtempSync(path.join(os.tmpdir(), 'imgproc-bench-s3-'));
  const store = serverStore();
  const server = await startServer(store ?? path.join(work, 'server'));
  const env = imgprocEnv(server.endpoint, work);
  const s3 = await client(server.endpoint);
  const results = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    node: process.version,
    loadBefore: os.loadavg()[0],
  };
  try {
    await s3.createBucket('bench');
    const input = stageFiles(files, path.join(work, 'input'));
    let sourceBytes = 0;
    for (const f of files) {
      const body = readFileSync(path.join(input, path.basename(f)));
      sourceBytes += body.length;
      await s3.put('bench', `corpus/${path.basename(f)}`, body);
    }
    results.serverStore = store ? 'memory (/dev/shm)' : 'disk (the temporary folder)';
    console.error(
      `bench s3: ${files.length} images, ${fmt(sourceBytes / 2 ** 20, 1)} MiB, server ${server.endpoint}, ` +
        `objects in ${results.serverStore}`,
    );

    // Each run writes into an empty folder or prefix: the same work for both.
    let outputs = 0;
    const modes = {
      local: () => {
        const out = path.join(work, `out-local-${outputs++}`);
        mkdirSync(out);
        return [input, '--out', out, '--quiet', ...extra];
      },
      s3: () => ['s3://bench/corpus/', '--out', `s3://bench/out-${outputs++}`, '--quiet', ...extra],
    };
    results.corpus = await compare('shared', modes, { env, server, runs, images: files.length });
    if (flags['server-apart']) {
      const apart = serverApart(server.pid);
      if (apart) {
        try {
          results.corpusApart = {
            ...(await compare('apart', modes, {
              env,
              server,
              runs,
              images: files.length,
              ...apart,
            })),
            cpus: apart.cpus,
            serverCpu: apart.serverCpu,
          };
        } finally {
          apart.restore();
        }
      }
    }
    results.corpus.sourceMiB = +(sourceBytes / 2 ** 20).toFixed(1);

    // Re-run over an unchanged bucket of `count` small images.
    if (count > 0) results.rerun = await rerun(server, env, count, extra);
  } finally {
    server.stop();
    s3.destroy();
    rmSync(work, { recursive: true, force: true });
    if (store) rmSync(store, { recursive: true, force: true });
  }
  results.loadAfter = os.loadavg()[0];
  report(results);
}

/**
 * A folder in memory (/dev/shm) for the server's objects, or undefined where there is none. A
 * remote store's disks are not this machine's; s3rver writes three files for every object (the
 * bytes, an MD5 and the metadata) where a local run writes one, and on a file system that must
 * look past recently deleted inodes for each new one (ext4 without a journal), each costs more the
 * more files were deleted shortly before: on disk, the server's CPU for the same run varied twofold.
 */
function serverStore() {
  try {
    return mkdtempSync('/dev/shm/imgproc-bench-s3rver-');
  } catch {
    return undefined;
  }
}

/**
 * With `--server-apart`: the server on the last CPU and imgproc (both runs) on the others, as a
 * server on another machine would be; undefined (with a line saying why) where that cannot be.
 */
function serverApart(serverPid) {
  // The CPUs this process may run on (a container's cpuset need not start at 0).
  const allowed = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'latin1'));
  const cpus = (allowed?.[1] ?? '')
    .split(',')
    .filter(Boolean)
    .flatMap((part) => {
      const [from, to = from] = part.split('-').map(Number);
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    });
  if (cpus.length < 2) {
    console.error('bench s3: --server-apart needs at least 2 CPUs; skipped');
    return undefined;
  }
  const serverCpu = String(cpus.at(-1));
  const imgprocCpus = cpus.slice(0, -1).join(',');
  const pin = (list) =>
    execFileSync('taskset', ['-a', '-p', '-c', list, String(serverPid)], { stdio: 'ignore' });
  try {
    pin(serverCpu);
  } catch (err) {
    console.error(`bench s3: --server-apart: taskset (util-linux) failed: ${err.message}; skipped`);
    return undefined;
  }
  return {
    cpus: imgprocCpus,
    serverCpu,
    wrap: (args) => ['taskset', ['-c', imgprocCpus, COMMAND, ...args]],
    restore: () => pin(cpus.join(',')),
  };
}

/**
 * Local and S3 runs of the corpus, `runs` of each, interleaved in rounds whose order alternates
 * (local first, then S3 first), so that a machine that slows down or speeds up meanwhile weighs
 * on both alike; each S3 run is paired with the local run of its round.
 */
async function compare(label, modes, { env, server, runs, images, wrap }) {
  const samples = { local: [], s3: [] };
  for (let round = 0; round < runs; round++) {
    const order = round % 2 === 0 ? ['local', 's3'] : ['s3', 'local'];
    for (const mode of order) {
      const m = await runImgproc(modes[mode](), env, server, wrap);
      samples[mode].push(m);
      console.error(
        `bench s3 (${label}): round ${round + 1}/${runs} ${mode}: ${fmt(m.wallS)} s wall, ` +
          `${fmt(m.cpuS)} s CPU, ${fmt(m.peakRssKiB / 1024, 0)} MiB peak, server ${fmt(m.serverCpuS)} s CPU`,
      );
    }
  }
  const row = (mode) => {
    const xs = samples[mode];
    const best = Math.min(...xs.map((m) => m.wallS));
    const med = median(xs.map((m) => m.wallS));
    return {
      wallS: xs.map((m) => +m.wallS.toFixed(2)),
      bestWallS: best,
      medianWallS: med,
      imagesPerSBest: images / best,
      imagesPerSMedian: images / med,
      cpuSPerImage: median(xs.map((m) => m.cpuS)) / images,
      serverCpuSPerImage: median(xs.map((m) => m.serverCpuS)) / images,
      peakRssMiB: Math.max(...xs.map((m) => m.peakRssKiB)) / 1024,
      requestsPerImage: mode === 's3' ? tally(xs.at(-1).requests, 'bench', images) : {},
    };
  };
  const local = row('local');
  const remote = row('s3');
  return {
    images,
    runs,
    local,
    s3: remote,
    overheadBest: remote.bestWallS / local.bestWallS - 1,
    overheadMedian: remote.medianWallS / local.medianWallS - 1,
    // Each S3 run against the local run of its round: slow minutes of the machine cancel out.
    overheadPaired: median(samples.s3.map((m, i) => m.wallS / samples.local[i].wallS)) - 1,
  };
}

/** `count` 64 px PNGs processed once, then again over the unchanged bucket. */
async function rerun(server, env, count, extra) {
  const png = await sharp({
    create: { width: 64, height: 64, channels: 3, background: '#4a7ab5' },
  })
    .png()
    .toBuffer();
  const keys = Array.from({ length: count }, (_, i) => `small/p${String(i).padStart(5, '0')}.png`);
  await server.seed('bench', keys, png);
  const small = ['s3://bench/small/', '--out', 's3://bench/small-out', ...extra];
  const first = await runImgproc(small, env, server);
  const again = await runImgproc(small, env, server);
  const sourceGets = again.requests.filter(
    (r) => r.method === 'GET' && r.path.startsWith('/bench/small/'),
  ).length;
  return {
    images: count,
    firstWallS: first.wallS,
    rerunWallS: again.wallS,
    rerunCpuS: again.cpuS,
    rerunServerCpuS: again.serverCpuS,
    sourceGets,
    requestsPerImage: tally(again.requests, 'bench', count),
    processedLine: again.stderr.trim().split('\n').at(-1),
  };
}

/** The table and the overhead lines of one comparison. */
function comparisonLines(c) {
  const lines = [
    '| run | best wall s | images/s (best) | median wall s | images/s (median) | imgproc CPU s/image | server CPU s/image | peak RSS MiB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [label, x] of [
    ['local files → local files', c.local],
    ['s3:// → s3://', c.s3],
  ]) {
    lines.push(
      `| ${label} | ${fmt(x.bestWallS)} | ${fmt(x.imagesPerSBest)} | ${fmt(x.medianWallS)} | ` +
        `${fmt(x.imagesPerSMedian)} | ${fmt(x.cpuSPerImage, 3)} | ${fmt(x.serverCpuSPerImage, 3)} | ${fmt(x.peakRssMiB, 0)} |`,
    );
  }
  const met = (o) => (o <= TARGET_OVERHEAD ? 'yes' : 'no');
  lines.push(
    '',
    `Wall s of each run, in order: local ${c.local.wallS.join(', ')}; s3 ${c.s3.wallS.join(', ')}.`,
    `S3 overhead: ${fmt(c.overheadPaired * 100, 1)}% (paired: the median of each S3 run over the local run of its round); ` +
      `target ≤ ${TARGET_OVERHEAD * 100}%: ${met(c.overheadPaired)}. ` +
      `Unpaired, which the machine's drift between rounds moves: ${fmt(c.overheadBest * 100, 1)}% (best wall), ` +
      `${fmt(c.overheadMedian * 100, 1)}% (median wall). ` +
      `CPU: imgproc ${fmt((c.s3.cpuSPerImage / c.local.cpuSPerImage - 1) * 100, 1)}% more, ` +
      `${fmt(((c.s3.cpuSPerImage + c.s3.serverCpuSPerImage) / c.local.cpuSPerImage - 1) * 100, 1)}% with the server's.`,
    `Requests per image (last S3 run): ${JSON.stringify(c.s3.requestsPerImage)}.`,
  );
  return lines;
}

function report(r) {
  const c = r.corpus;
  const lines = [
    `## imgproc from and to S3 (s3rver on this machine) against local files`,
    '',
    `${c.images} images, ${c.sourceMiB} MiB; ${r.cores} cores (${r.cpu}), Node ${r.node}; ` +
      `the server's objects in ${r.serverStore}; ` +
      `${c.runs} rounds of one run each, in alternating order; load average (1 min) before ${fmt(r.loadBefore)}, after ${fmt(r.loadAfter)}.`,
    '',
    'The server shares the cores with imgproc:',
    '',
    ...comparisonLines(c),
  ];
  if (r.corpusApart) {
    lines.push(
      '',
      `The server on CPU ${r.corpusApart.serverCpu} alone and imgproc (both runs) on CPUs ${r.corpusApart.cpus}, ` +
        'as a server on another machine would be (`--server-apart`):',
      '',
      ...comparisonLines(r.corpusApart),
    );
  }
  if (r.rerun) {
    const x = r.rerun;
    lines.push(
      '',
      `Re-run over an unchanged bucket of ${x.images} images (64 px PNGs): first run ${fmt(x.firstWallS)} s, ` +
        `re-run ${fmt(x.rerunWallS)} s wall (imgproc ${fmt(x.rerunCpuS)} s CPU, server ${fmt(x.rerunServerCpuS)} s CPU), ` +
        `${x.sourceGets} source GETs; ` +
        `requests per image ${JSON.stringify(x.requestsPerImage)}; "${x.processedLine}".`,
    );
  }
  const markdown = lines.join('\n') + '\n';
  process.stdout.write(`\n${markdown}`);
  const dir = path.join(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `s3-${r.date.replace(/[:.]/g, '-')}`);
  writeFileSync(`${base}.json`, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(`${base}.md`, `Command: \`${r.command}\`\n\n${markdown}`);
  console.error(`bench s3: results in ${path.relative(REPO_ROOT, base)}.{md,json}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(parseArgs(process.argv.slice(2), ['imgproc-args']).flags);
}
