#!/usr/bin/env node
// The script most projects write: one independent sharp pipeline per output (thumb, blur, lq and
// the palette sample), each reading and decoding the file again, images in parallel up to the
// core count.
// Usage: node bench/naive-sharp.mjs <inputDir> <outDir> [--settings JSON] [--concurrency N]
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import {
  listImages,
  lqSize,
  outputStem,
  paletteWriter,
  parseArgs,
  settingsFromFlags,
} from './lib/settings.mjs';

// sharp's CommonJS entry, as imgproc loads it (src/sharp.ts): the faster one to load on Node 20.
const sharp = createRequire(import.meta.url)('sharp');

const { flags, positionals } = parseArgs(process.argv.slice(2));
const [inputDir, outDir] = positionals;
if (!inputDir || !outDir) {
  console.error('Usage: node bench/naive-sharp.mjs <inputDir> <outDir> [--settings JSON]');
  process.exit(2);
}
const s = await settingsFromFlags(flags);
const limit = pLimit(Number(flags.concurrency ?? availableParallelism()));
const webp = (name) => ({ quality: s.quality[name], effort: s.effort[name] });
const writePalette = await paletteWriter(sharp, s);

let failed = 0;
await Promise.all(
  listImages(inputDir).map((file) =>
    limit(async () => {
      const stem = outputStem(inputDir, file, outDir);
      await mkdir(path.dirname(stem), { recursive: true });
      try {
        const meta = await sharp(file).metadata();
        const width = meta.autoOrient?.width ?? meta.width;
        const height = meta.autoOrient?.height ?? meta.height;
        await Promise.all([
          sharp(file)
            .rotate()
            .resize({ width: s.thumbWidth, withoutEnlargement: true })
            .webp(webp('thumb'))
            .toFile(`${stem}_thumb.webp`),
          sharp(file)
            .rotate()
            .resize({ width: s.thumbWidth, withoutEnlargement: true })
            .blur(s.blurSigma)
            .webp(webp('blur'))
            .toFile(`${stem}_blur.webp`),
          sharp(file)
            .rotate()
            .resize({ ...lqSize(width, height, s), fit: 'fill' })
            .webp(webp('lq'))
            .toFile(`${stem}_lq.webp`),
          sharp(file)
            .rotate()
            .resize({ width: 64, height: 64, fit: 'inside', withoutEnlargement: true })
            .raw()
            .toBuffer({ resolveWithObject: true })
            .then((sample) => writePalette(sample, `${stem}.json`)),
        ]);
      } catch (err) {
        failed++;
        console.error(`${file}: ${err.message}`);
      }
    }),
  ),
);
process.exitCode = failed ? 3 : 0;
