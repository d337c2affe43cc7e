#!/usr/bin/env node
// The floor imgproc's default job is measured against: a plain sharp script that reads each file
// once, decodes it once to the largest output size, and writes the same WebP files imgproc writes
// (thumb, blur, lq, and with --widths the responsive widths) with nothing else: no hash, palette,
// placeholders or sidecar. Same concurrency scheme as tuned-sharp.mjs.
// Usage: node bench/bare-sharp.mjs <inputDir> <outDir> [--settings JSON] [--widths 320,640,1280]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import {
  listImages,
  lqSize,
  outputStem,
  parseArgs,
  settingsFromFlags,
  widthSize,
} from './lib/settings.mjs';

const { flags, positionals } = parseArgs(process.argv.slice(2));
const [inputDir, outDir] = positionals;
if (!inputDir || !outDir) {
  console.error('Usage: node bench/bare-sharp.mjs <inputDir> <outDir> [--settings JSON]');
  process.exit(2);
}
const parallel = Number(flags.parallel ?? availableParallelism() + 1);
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, parallel * 3));
// sharp's CommonJS entry, as imgproc loads it (src/sharp.ts): on Node 20 its ES module entry costs
// about 70 ms more CPU to load, which would count against this script and not against imgproc.
const sharp = createRequire(import.meta.url)('sharp');
const { default: pLimit } = await import('p-limit');
sharp.concurrency(Number(flags['vips-threads'] ?? 1));
sharp.cache(false);

const s = await settingsFromFlags(flags);
const widths =
  typeof flags.widths === 'string'
    ? flags.widths
        .split(',')
        .map(Number)
        .sort((a, b) => a - b)
    : [];
const limit = pLimit(parallel);
const area = (z) => z.width * z.height;

/** imgproc's rule: each width below the source, and one copy at the source width for the rest. */
function responsive(width, height) {
  const sizes = widths.filter((w) => w < width).map((w) => widthSize(width, height, w));
  if (widths.some((w) => w >= width)) sizes.push({ width, height });
  return sizes;
}

async function processOne(file) {
  const stem = outputStem(inputDir, file, outDir);
  const input = await readFile(file);
  const meta = await sharp(input).metadata();
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  const thumb = widthSize(width, height, s.thumbWidth);
  const lq = lqSize(width, height, s);
  const extra = responsive(width, height);
  const target = [thumb, lq, ...extra].reduce((a, b) => (area(b) > area(a) ? b : a));
  const decoded = await sharp(input)
    .rotate()
    .resize({ ...target, fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const raw = (d, info) =>
    sharp(d, { raw: { width: info.width, height: info.height, channels: info.channels } });
  const derive = async (size) =>
    size.width === decoded.info.width && size.height === decoded.info.height
      ? decoded
      : raw(decoded.data, decoded.info)
          .resize({ ...size, fit: 'fill' })
          .raw()
          .toBuffer({ resolveWithObject: true });
  await mkdir(path.dirname(stem), { recursive: true });
  const save = async (name, img, settings, blur) => {
    let p = raw(img.data, img.info);
    if (blur) p = p.blur(s.blurSigma);
    const webp = await p
      .webp({ quality: s.quality[settings], effort: s.effort[settings] })
      .toBuffer();
    await writeFile(`${stem}_${name}.webp`, webp);
  };
  await Promise.all([
    derive(lq).then((img) => save('lq', img, 'lq')),
    derive(thumb).then((t) =>
      Promise.all([save('thumb', t, 'thumb'), save('blur', t, 'blur', true)]),
    ),
    ...extra.map((size) => derive(size).then((img) => save(`w${size.width}`, img, 'thumb'))),
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
