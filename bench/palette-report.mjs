#!/usr/bin/env node
// How good the palettes are on a real set: for every image, the palette imgproc's pipeline makes
// (same decode, sample and quantisation, from dist/), the smallest CIEDE2000 distance between two
// of its colours, and the share of the sample's opaque pixels each colour stands for.
// Usage: npm run bench -- --palette [--corpus DIR | --fixtures] [--limit N]
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveCorpus, selectFiles } from './lib/corpus.mjs';
import { listImages, REPO_ROOT } from './lib/settings.mjs';

const dist = (p) => import(pathToFileURL(path.join(REPO_ROOT, 'dist', p)).href);

export async function main(flags) {
  const { decode, decodeSize, readHeader } = await dist('pipeline/decode.js');
  const { decodeTarget, planOutputSizes, sampleStep } = await dist('pipeline/output-sizes.js');
  const { paletteSample } = await dist('pipeline/sample.js');
  const { distinctPalette, toHex } = await dist('gradient/index.js');
  const { deltaE2000 } = await dist('gradient/colour.js');
  const { DEFAULT_OUTPUT_OPTIONS, DEFAULT_MAX_PIXELS } = await dist('config/options.js');
  const { ALL_OPS } = await dist('pipeline/types.js');

  const files = flags.fixtures
    ? listImages(path.join(REPO_ROOT, 'fixtures/photos'))
    : selectFiles(resolveCorpus(flags.corpus), flags.limit ? Number(flags.limit) : 0);
  const task = { ops: ALL_OPS, options: DEFAULT_OUTPUT_OPTIONS };
  const rows = [];
  for (const file of files) {
    const buf = await readFile(file);
    const info = await readHeader(buf, DEFAULT_MAX_PIXELS);
    const source = { width: info.width, height: info.height };
    const size = decodeSize(info, decodeTarget(source, task), 'largest-output');
    const decoded = await decode(buf, info, size, DEFAULT_MAX_PIXELS);
    const sample = await paletteSample(
      decoded,
      planOutputSizes(source, task).sample,
      size,
      sampleStep(source, task),
    );
    const entries = distinctPalette(
      sample.data,
      sample.channels,
      DEFAULT_OUTPUT_OPTIONS.paletteSize,
    );
    const total = entries.reduce((a, e) => a + e.count, 0);
    let minDistance = Infinity;
    for (let i = 0; i < entries.length; i++) {
      for (let j = i + 1; j < entries.length; j++) {
        minDistance = Math.min(minDistance, deltaE2000(entries[i], entries[j]));
      }
    }
    rows.push({
      name: path.relative(
        flags.fixtures ? path.join(REPO_ROOT, 'fixtures/photos') : path.dirname(file),
        file,
      ),
      palette: entries.map((e) => `${toHex(e)} ${((100 * e.count) / total).toFixed(1)}%`),
      minDistance,
      shares: entries.map((e) => e.count / total),
    });
  }
  const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  console.log('| image | colours | min ΔE00 | palette (share of opaque sample pixels) |');
  console.log('|---|---:|---:|---|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.palette.length} | ${fmt(r.minDistance)} | ${r.palette.join(', ')} |`,
    );
  }
  const multi = rows.filter((r) => r.palette.length > 1);
  const sorted = (xs) => [...xs].sort((a, b) => a - b);
  const median = (xs) => sorted(xs)[Math.floor(xs.length / 2)];
  const minDistances = multi.map((r) => r.minDistance);
  const smallest = rows.map((r) => Math.min(...r.shares));
  const primary = rows.map((r) => r.shares[0]);
  console.log(
    `\n${rows.length} images, ${multi.length} with more than one colour. Smallest ΔE00 between two colours of a palette: ` +
      `min ${fmt(Math.min(...minDistances))}, median ${fmt(median(minDistances))}. ` +
      `Share of the primary: median ${fmt(100 * median(primary))}%; share of the least populous colour: ` +
      `min ${fmt(100 * Math.min(...smallest), 2)}%, median ${fmt(100 * median(smallest))}%.`,
  );
}
