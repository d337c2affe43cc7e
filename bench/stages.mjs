#!/usr/bin/env node
// Where the CPU time of one image goes, stage by stage, with plain sharp on one libvips thread:
// decode (shrink-on-load to the lq size), the thumb resize, the blur, and each WebP encode.
// It bounds what any pipeline can gain: the encodes are the same work for every contender.
// Usage: npm run bench -- --stages [--corpus DIR] [--limit N]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { resolveCorpus, selectFiles } from './lib/corpus.mjs';
import { loadDefaults, parseArgs } from './lib/settings.mjs';

async function cpuMs(fn) {
  const t0 = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(t0);
  return { value, ms: (used.user + used.system) / 1000 };
}

const rawOf = ({ data, info }) =>
  sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });

export async function main(flags) {
  const corpus = resolveCorpus(flags.corpus);
  const files = selectFiles(corpus, flags.limit ? Number(flags.limit) : 0);
  const { settings: s } = await loadDefaults();
  sharp.concurrency(1);
  sharp.cache(false);
  const stages = [
    'read+header',
    'decode to lq size',
    'thumb resize',
    'blur',
    'encode thumb',
    'encode blur',
    'encode lq',
  ];
  const byFormat = {};
  for (const file of files) {
    const t = {};
    const { value: meta, ms: headerMs } = await cpuMs(async () => {
      const buf = readFileSync(file);
      return { buf, meta: await sharp(buf).metadata() };
    });
    t['read+header'] = headerMs;
    const { buf } = meta;
    const width = meta.meta.autoOrient?.width ?? meta.meta.width;
    const height = meta.meta.autoOrient?.height ?? meta.meta.height;
    const lqSize = {
      width: Math.max(1, Math.round(width * s.lqScale)),
      height: Math.max(1, Math.round(height * s.lqScale)),
    };
    const lq = await cpuMs(() =>
      sharp(buf)
        .rotate()
        .resize({ ...lqSize, fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true }),
    );
    t['decode to lq size'] = lq.ms;
    const tw = Math.min(s.thumbWidth, width);
    const thumb = await cpuMs(() =>
      rawOf(lq.value)
        .resize({ width: tw, height: Math.max(1, Math.round((height * tw) / width)), fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true }),
    );
    t['thumb resize'] = thumb.ms;
    const blur = await cpuMs(() =>
      rawOf(thumb.value).blur(s.blurSigma).raw().toBuffer({ resolveWithObject: true }),
    );
    t.blur = blur.ms;
    const enc = (img, name) =>
      cpuMs(() => rawOf(img).webp({ quality: s.quality[name], effort: s.effort[name] }).toBuffer());
    t['encode thumb'] = (await enc(thumb.value, 'thumb')).ms;
    t['encode blur'] = (await enc(blur.value, 'blur')).ms;
    t['encode lq'] = (await enc(lq.value, 'lq')).ms;
    for (const key of [meta.meta.format, 'all']) {
      const f = (byFormat[key] ??= {
        n: 0,
        mp: 0,
        ms: Object.fromEntries(stages.map((x) => [x, 0])),
      });
      f.n++;
      f.mp += (width * height) / 1e6;
      for (const x of stages) f.ms[x] += t[x];
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const lines = [
    `${files.length} images from ${corpus}; sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, one libvips thread; ` +
      `CPU ms per image (mean), effort thumb ${s.effort.thumb}, blur ${s.effort.blur}, lq ${s.effort.lq}.`,
    '',
    `| format | images | MP/image | ${stages.join(' | ')} | total | encodes share |`,
    `|---|---:|---:|${stages.map(() => '---:').join('|')}|---:|---:|`,
  ];
  const order = Object.keys(byFormat)
    .filter((k) => k !== 'all')
    .sort()
    .concat('all');
  for (const key of order) {
    const f = byFormat[key];
    const per = stages.map((x) => f.ms[x] / f.n);
    const total = per.reduce((a, b) => a + b, 0);
    const encodes = per.slice(4).reduce((a, b) => a + b, 0);
    lines.push(
      `| ${key} | ${f.n} | ${(f.mp / f.n).toFixed(1)} | ${per.map((x) => x.toFixed(0)).join(' | ')} | ` +
        `${total.toFixed(0)} | ${((100 * encodes) / total).toFixed(0)}% |`,
    );
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(parseArgs(process.argv.slice(2)).flags);
}
