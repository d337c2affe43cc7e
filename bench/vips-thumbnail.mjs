#!/usr/bin/env node
// vipsthumbnail as people run it in batch: one process per core, each over its share of the files
// (shares balanced by file size). Exits 127 when vipsthumbnail is not installed.
// Usage: node bench/vips-thumbnail.mjs <inputDir> <outDir> [--settings JSON] [--processes N]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { listImages, parseArgs, settingsFromFlags } from './lib/settings.mjs';

const { flags, positionals } = parseArgs(process.argv.slice(2));
const [inputDir, outDir] = positionals;
if (!inputDir || !outDir) {
  console.error('Usage: node bench/vips-thumbnail.mjs <inputDir> <outDir> [--settings JSON]');
  process.exit(2);
}
if (spawnSync('vipsthumbnail', ['--vips-version']).error) {
  console.error('vipsthumbnail not found (Debian/Ubuntu: apt-get install -y libvips-tools)');
  process.exit(127);
}
const s = await settingsFromFlags(flags);
const processes = Number(flags.processes ?? availableParallelism());
mkdirSync(outDir, { recursive: true });

const shares = Array.from({ length: processes }, () => ({ bytes: 0, files: [] }));
const files = listImages(inputDir).map((f) => ({ f, bytes: statSync(f).size }));
for (const { f, bytes } of files.sort((a, b) => b.bytes - a.bytes)) {
  const least = shares.reduce((a, b) => (b.bytes < a.bytes ? b : a));
  least.bytes += bytes;
  least.files.push(f);
}

const target = `${outDir}/%s_thumb.webp[Q=${s.quality.thumb},effort=${s.effort.thumb},strip]`;
const codes = await Promise.all(
  shares
    .filter((share) => share.files.length)
    .map(
      (share) =>
        new Promise((resolve) => {
          const child = spawn(
            'vipsthumbnail',
            ['--size', `${s.thumbWidth}x`, '-o', target, ...share.files],
            {
              stdio: ['ignore', 'inherit', 'inherit'],
              env: { ...process.env, VIPS_CONCURRENCY: '1' },
            },
          );
          child.on('close', (code) => resolve(code ?? 1));
        }),
    ),
);
process.exitCode = codes.some((c) => c !== 0) ? 3 : 0;
