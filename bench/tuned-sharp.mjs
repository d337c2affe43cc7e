#!/usr/bin/env node
// The best plain sharp script we know for this job: read the file once, decode once with
// shrink-on-load straight to the largest size any output needs, derive every output from that raw
// buffer (the palette sample from the thumbnail), and encode the outputs in parallel. libvips threads per image are few and images
// run side by side instead, which keeps small cores busy through the single-threaded stages.
// Usage: node bench/tuned-sharp.mjs <inputDir> <outDir> [--settings JSON]
//          [--parallel N] [--vips-threads N]      (defaults: the best measured on 2 cores)
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import {
  listImages,
  lqSize,
  outputStem,
  paletteWriter,
  parseArgs,
  settingsFromFlags,
} from './lib/settings.mjs';

const { flags, positionals } = parseArgs(process.argv.slice(2));
const [inputDir, outDir] = positionals;
if (!inputDir || !outDir) {
  console.error('Usage: node bench/tuned-sharp.mjs <inputDir> <outDir> [--settings JSON]');
  process.exit(2);
}
const cores = availableParallelism();
const parallel = Number(flags.parallel ?? cores + 1);
const vipsThreads = Number(flags['vips-threads'] ?? 1);
// libuv's pool is sized on first use: each image in flight can hold three encodes at once
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, parallel * 3));
// sharp's CommonJS entry, as imgproc loads it (src/sharp.ts): on Node 20 its ES module entry costs
// about 70 ms more CPU to load, which would count against this script and not against imgproc.
const sharp = createRequire(import.meta.url)('sharp');
const { default: pLimit } = await import('p-limit');
sharp.concurrency(vipsThreads);
sharp.cache(false);

const s = await settingsFromFlags(flags);
const limit = pLimit(parallel);
const writePalette = await paletteWriter(sharp, s);
const webp = (name) => ({ quality: s.quality[name], effort: s.effort[name] });
const area = (z) => z.width * z.height;

function sizes(width, height) {
  const thumb =
    width <= s.thumbWidth
      ? { width, height }
      : { width: s.thumbWidth, height: Math.max(1, Math.round((height * s.thumbWidth) / width)) };
  const lq = lqSize(width, height, s);
  const k = Math.min(1, 64 / Math.max(width, height));
  const sample = {
    width: Math.max(1, Math.round(width * k)),
    height: Math.max(1, Math.round(height * k)),
  };
  return { thumb, lq, sample, decode: area(lq) >= area(thumb) ? lq : thumb };
}

async function processOne(file) {
  const stem = outputStem(inputDir, file, outDir);
  const input = await readFile(file);
  const meta = await sharp(input).metadata();
  const z = sizes(meta.autoOrient?.width ?? meta.width, meta.autoOrient?.height ?? meta.height);
  const decoded = await sharp(input)
    .rotate()
    .resize({ ...z.decode, fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = (d, info) =>
    sharp(d, { raw: { width: info.width, height: info.height, channels: info.channels } });
  const sameSize = (a, b) => a.width === b.width && a.height === b.height;
  const derive = async (size) =>
    sameSize(size, decoded.info)
      ? decoded
      : raw(decoded.data, decoded.info)
          .resize({ ...size, fit: 'fill' })
          .raw()
          .toBuffer({ resolveWithObject: true });
  await mkdir(path.dirname(stem), { recursive: true });
  const save = async (name, img, blur) => {
    let p = raw(img.data, img.info);
    if (blur) p = p.blur(s.blurSigma);
    await writeFile(`${stem}_${name}.webp`, await p.webp(webp(name)).toBuffer());
  };
  await Promise.all([
    derive(z.lq).then((lq) => save('lq', lq)),
    derive(z.thumb).then(async (t) => {
      const sample = await raw(t.data, t.info)
        .resize({ ...z.sample, fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      await Promise.all([
        save('thumb', t),
        save('blur', t, true),
        writePalette(sample, `${stem}.json`),
      ]);
    }),
  ]);
}

let failed = 0;
await Promise.all(
  listImages(inputDir).map((file) =>
    limit(() =>
      processOne(file).catch((err) => {
        failed++;
        console.error(`${file}: ${err.message}`);
      }),
    ),
  ),
);
process.exitCode = failed ? 3 : 0;
