#!/usr/bin/env node
// Memory with hostile and heavy inputs: a folder of legal but decode-heavy files (a 200 KB PNG
// declaring 1048576x64, a 2 KB AVIF of 9999x9999, four of each, and a small JPEG padded with zeros
// to 1.9 GB, sparse on disk), processed at default settings. Reports the --max-memory budget, the
// process's base (one 1x1 image) and the peak RSS, which must stay under budget + base.
// Then a long run: 12 strips of 262144x64 one after another (-j 1), with imgproc's allocator
// setting (the default), with glibc's defaults (IMGPROC_NATIVE=0: no addon, no setting) and with
// the environment settings a user without the addon can make.
// Usage: npm run bench -- --memory [--max-memory 2GiB] [--bin other/bin/imgproc.cjs] [--keep]
//                               [--long-only] [--runs 3] [--corpus DIR]
// With --corpus, the allocator's cost on ordinary photos: that folder at default settings, with
// the setting and without.
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  ftruncateSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { measure } from './lib/measure.mjs';
import { REPO_ROOT } from './lib/settings.mjs';

const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}
/** A legal all-black 8-bit RGB PNG. */
function blackPng(width, height) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const rows = Buffer.alloc((1 + width * 3) * height);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function makeCorpus(dir) {
  const png = blackPng(1048576, 64);
  for (let i = 0; i < 4; i++) writeFileSync(path.join(dir, `wide-${i}.png`), png);
  console.error('memory: encoding a 9999x9999 AVIF (about 30 s) …');
  const avif = path.join(dir, 'big-0.avif');
  await sharp({ create: { width: 9999, height: 9999, channels: 3, background: '#808080' } })
    .avif({ effort: 0 })
    .toFile(avif);
  for (let i = 1; i < 4; i++) copyFileSync(avif, path.join(dir, `big-${i}.avif`));
  for (let i = 0; i < 2; i++) {
    const jpeg = path.join(dir, `padded-${i}.jpg`);
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .jpeg()
      .toFile(jpeg);
    const fd = openSync(jpeg, 'r+');
    ftruncateSync(fd, 1.9e9);
    closeSync(fd);
  }
}

export async function main(flags) {
  const bin = path.resolve(flags.bin ?? path.join(REPO_ROOT, 'bin/imgproc.cjs'));
  const work = mkdtempSync(path.join(os.tmpdir(), 'imgproc-bench-memory-'));
  const input = path.join(work, 'heavy');
  const tiny = path.join(work, 'tiny');
  mkdirSync(input);
  mkdirSync(tiny);
  await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
    .png()
    .toFile(path.join(tiny, 'one.png'));
  if (flags['long-only']) {
    await longRun(bin, work, Number(flags.runs ?? 3), flags.corpus);
    if (!flags.keep) rmSync(work, { recursive: true, force: true });
    return;
  }
  await makeCorpus(input);
  const extra = flags['max-memory'] ? ['--max-memory', String(flags['max-memory'])] : [];
  let budget = null;
  try {
    const doctor = JSON.parse(
      execFileSync(process.execPath, [bin, 'doctor', '--json', ...extra]).toString(),
    );
    budget = doctor.defaults.maxMemory ?? null;
  } catch {
    // an imgproc without a memory budget
  }
  const run = (dir) =>
    measure(
      process.execPath,
      [bin, dir, '--out', path.join(work, 'out'), '--cpu', '--force', '--no-progress', ...extra],
      {
        timeoutS: Number(flags.timeout ?? 600),
      },
    );
  const base = await run(tiny);
  const heavy = await run(input);
  const lines = heavy.stderr.split('\n').filter((l) => l.startsWith('✗') || /processed/.test(l));
  const fmt = (kib) => `${(kib / 1024).toFixed(0)} MiB`;
  console.log(
    `\n## Memory: heavy inputs at default settings (${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM)\n`,
  );
  console.log(
    `command: node ${path.relative(process.cwd(), bin)} <heavy folder> --cpu --force ${extra.join(' ')}`,
  );
  console.log(
    `| budget (--max-memory) | base RSS (1x1 image) | peak RSS, heavy folder | wall s | under budget + base |`,
  );
  console.log(`|---|---|---|---|---|`);
  const under =
    budget === null
      ? 'no budget'
      : heavy.peakRssKiB * 1024 <= budget + base.peakRssKiB * 1024
        ? 'yes'
        : 'NO';
  console.log(
    `| ${budget === null ? 'none' : fmt(budget / 1024)} | ${fmt(base.peakRssKiB)} | ${fmt(heavy.peakRssKiB)} | ${heavy.wallS.toFixed(1)} | ${under} |`,
  );
  console.log('\n```\n' + lines.join('\n') + '\n```');
  await longRun(bin, work, Number(flags.runs ?? 3), flags.corpus);
  if (!flags.keep) rmSync(work, { recursive: true, force: true });
  else console.error(`memory: kept ${work}`);
  if (under === 'NO') process.exitCode = 1;
}

const LONG_RUN_VARIANTS = [
  { what: 'one strip alone (default)', env: {}, count: 1 },
  { what: 'default: imgproc sets the mmap threshold (addon)', env: {} },
  { what: 'glibc defaults (IMGPROC_NATIVE=0)', env: { IMGPROC_NATIVE: '0' } },
  {
    what: 'IMGPROC_NATIVE=0 MALLOC_ARENA_MAX=2',
    env: { IMGPROC_NATIVE: '0', MALLOC_ARENA_MAX: '2' },
  },
  {
    what: 'MALLOC_MMAP_THRESHOLD_=1048576 (arenas still limited)',
    env: { MALLOC_MMAP_THRESHOLD_: '1048576' },
  },
  {
    what: 'IMGPROC_NATIVE=0 MALLOC_MMAP_THRESHOLD_=1048576',
    env: { IMGPROC_NATIVE: '0', MALLOC_MMAP_THRESHOLD_: '1048576' },
  },
];

/** Peak RSS over a long run of large images, one at a time: what freed memory glibc keeps. */
async function longRun(bin, work, runs, corpus) {
  const dir = path.join(work, 'strips');
  mkdirSync(dir, { recursive: true });
  const strip = blackPng(262144, 64);
  for (let i = 0; i < 12; i++) writeFileSync(path.join(dir, `strip-${i}.png`), strip);
  const one = path.join(dir, 'strip-0.png');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('IMGPROC_') && !k.startsWith('MALLOC_'),
    ),
  );
  console.log(
    `\n## Memory over a long run: 12 strips of 262144x64 (PNG) one after another, -j 1, median of ${runs}\n`,
  );
  console.log('| allocator | peak RSS | wall s | CPU s |');
  console.log('|---|---:|---:|---:|');
  for (const v of LONG_RUN_VARIANTS) {
    await row(v.what, [bin, v.count === 1 ? one : dir, '-j', '1'], { ...env, ...v.env });
  }
  if (!corpus) return;
  console.log(`\n${corpus}, default settings, median of ${runs}:\n`);
  console.log('| allocator | peak RSS | wall s | CPU s |');
  console.log('|---|---:|---:|---:|');
  await row('default: imgproc sets the mmap threshold (addon)', [bin, corpus], env);
  await row('glibc defaults (IMGPROC_NATIVE=0)', [bin, corpus], { ...env, IMGPROC_NATIVE: '0' });

  async function row(what, args, rowEnv) {
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const results = [];
    for (let r = 0; r < runs; r++) {
      const out = ['--out', path.join(work, 'out-long'), '--cpu', '--force', '--no-progress'];
      results.push(
        await measure(process.execPath, [...args, ...out], { env: rowEnv, timeoutS: 300 }),
      );
    }
    const failed = results.find((x) => x.code !== 0);
    if (failed) console.error(`memory: ${what} failed: ${failed.stderr.slice(-400)}`);
    const kib = median(results.map((x) => x.peakRssKiB));
    console.log(
      `| ${what} | ${(kib / 1024).toFixed(0)} MiB | ${median(results.map((x) => x.wallS)).toFixed(2)} | ${median(results.map((x) => x.cpuS)).toFixed(2)} |`,
    );
  }
}
