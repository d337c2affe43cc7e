#!/usr/bin/env node
// Bytes of the low-quality copy per width cap, to choose --lq-max-width from measurements: every
// corpus image made into lq at imgproc's lq quality and effort, uncapped (the --lq-scale size) and
// capped at each width below; prints the total and the largest file per cap.
// Usage: npm run bench -- --lq-cap [--corpus DIR] [--limit N]
import sharp from 'sharp';
import { resolveCorpus, selectFiles } from './lib/corpus.mjs';
import { loadDefaults } from './lib/settings.mjs';

const CAPS = [960, 1280, 1600, 1920, 2560];

export async function main(flags) {
  const { settings } = await loadDefaults();
  const files = selectFiles(resolveCorpus(flags.corpus), flags.limit ? Number(flags.limit) : 0);
  const caps = [Infinity, ...CAPS];
  const totals = new Map(caps.map((c) => [c, { bytes: 0, largest: 0, capped: 0 }]));
  for (const file of files) {
    const meta = await sharp(file).metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const half = Math.max(1, Math.round(width * settings.lqScale));
    // Decoded once to the uncapped lq size; each cap is a resize of those pixels, as imgproc does.
    const { data, info } = await sharp(file)
      .rotate()
      .resize({ width: half })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const raw = { width: info.width, height: info.height, channels: info.channels };
    for (const cap of caps) {
      const w = Math.min(half, cap);
      let pipeline = sharp(data, { raw });
      if (w < half) pipeline = pipeline.resize({ width: w });
      const webp = await pipeline
        .webp({ quality: settings.quality.lq, effort: settings.effort.lq })
        .toBuffer();
      const t = totals.get(cap);
      t.bytes += webp.length;
      t.largest = Math.max(t.largest, webp.length);
      if (w < half) t.capped++;
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const kib = (n) => (n / 1024).toFixed(0);
  console.log(
    `${files.length} images; lq at ${settings.lqScale * 100}% q${settings.quality.lq} effort ${settings.effort.lq}\n`,
  );
  console.log('| lq width cap | images capped | total KiB | mean KiB | largest KiB |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [cap, t] of totals) {
    console.log(
      `| ${cap === Infinity ? 'none' : `${cap} px`} | ${t.capped} | ${kib(t.bytes)} | ${kib(t.bytes / files.length)} | ${kib(t.largest)} |`,
    );
  }
}
