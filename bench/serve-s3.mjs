#!/usr/bin/env node
// Memory of `imgproc serve` when uploads stream into object storage (--upload-dir s3://…) rather
// than into the data folder: peak RSS while --rss-uploads clients upload --rss-mib MiB each at
// once, against 1 MiB each, both ways in one run. Uploads into object storage are held one 5 MiB
// part (and the part being filled) at a time, so the peak grows with the uploads in flight.
//
//   npm run bench -- --serve --s3-uploads [--rss-uploads 100] [--rss-mib 10]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './lib/settings.mjs';
import { startRedis } from './queue.mjs';
import { client, imgprocEnv, startServer } from './s3.mjs';
import { memory } from './serve.mjs';

export async function main(flags) {
  const uploads = Number(flags['rss-uploads'] ?? 100);
  const mib = Number(flags['rss-mib'] ?? 10);
  const work = mkdtempSync(path.join(os.tmpdir(), 'imgproc-bench-serve-s3-'));
  const redis = await startRedis(work);
  const store = path.join(work, 's3');
  mkdirSync(store);
  const server = await startServer(store);
  try {
    const s3 = await client(server.endpoint);
    await s3.createBucket('bench');
    s3.destroy();
    const env = imgprocEnv(server.endpoint, work);
    console.error(
      `serve bench, uploads into object storage: ${uploads} at once, 1 and ${mib} MiB each, ${os.cpus().length} cores`,
    );
    const local = await memory(redis.url, uploads, mib, work, [], env);
    const s3Flags = ['--upload-dir', 's3://bench/up', '--allow', 's3://bench'];
    const objects = await memory(redis.url, uploads, mib, work, s3Flags, env);
    const f = (x, d = 1) => x.toFixed(d);
    const lines = [
      '| uploads into | concurrent uploads | MiB each | accepted | serve RSS idle MiB | serve RSS peak MiB | seconds |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...[
        ...local.map((r) => ({ ...r, into: '--data-dir' })),
        ...objects.map((r) => ({ ...r, into: 's3:// (s3rver)' })),
      ].map(
        (r) =>
          `| ${r.into} | ${r.uploads} | ${r.uploadMiB} | ${r.accepted} | ${f(r.idleRssMiB)} | ${f(r.peakRssMiB)} | ${f(r.seconds, 2)} |`,
      ),
    ];
    console.log(lines.join('\n'));
    const out = path.join(REPO_ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(
      path.join(out, 'serve-s3.json'),
      JSON.stringify({ uploads, mib, local, objects }, null, 2),
    );
    writeFileSync(path.join(out, 'serve-s3.md'), lines.join('\n') + '\n');
  } finally {
    server.stop();
    redis.redis.disconnect();
    redis.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
