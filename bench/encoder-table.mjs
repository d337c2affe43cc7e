#!/usr/bin/env node
// WebP settings per output, to choose defaults from measurements: for thumb, blur and lq, sweep
// quality (at the default effort) and effort 0-6 (at the default quality); report bytes, encode
// time and the quality of the decoded result against the unencoded pixels (PSNR over all channels,
// SSIM on luma over 8x8 blocks; RGB premultiplied by alpha, so hidden colours do not count).
// Usage: npm run bench -- --encoder-table [--corpus DIR] [--limit 8]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { resolveCorpus, selectFiles } from './lib/corpus.mjs';
import { loadDefaults, parseArgs, REPO_ROOT } from './lib/settings.mjs';

const QUALITIES = [30, 40, 50, 60, 70, 80, 90];
const EFFORTS = [0, 1, 2, 3, 4, 5, 6];

function psnr(a, b) {
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    se += d * d;
  }
  const mse = se / a.length;
  return mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse);
}

function luma(data, width, height, channels) {
  const y = new Float64Array(width * height);
  for (let i = 0; i < y.length; i++) {
    const p = i * channels;
    y[i] = channels >= 3 ? 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2] : data[p];
  }
  return y;
}

/** Mean SSIM of 8x8 blocks of luma (blocks that do not fit at the edges are left out). */
function ssim(a, b, width, height, channels) {
  const ya = luma(a, width, height, channels);
  const yb = luma(b, width, height, channels);
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  const n = 64;
  let sum = 0;
  let blocks = 0;
  for (let by = 0; by + 8 <= height; by += 8) {
    for (let bx = 0; bx + 8 <= width; bx += 8) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let y = by; y < by + 8; y++) {
        for (let x = bx; x < bx + 8; x++) {
          const p = ya[y * width + x];
          const q = yb[y * width + x];
          sa += p;
          sb += q;
          saa += p * p;
          sbb += q * q;
          sab += p * q;
        }
      }
      const ma = sa / n;
      const mb = sb / n;
      const va = saa / n - ma * ma;
      const vb = sbb / n - mb * mb;
      const cov = sab / n - ma * mb;
      sum += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      blocks++;
    }
  }
  return blocks ? sum / blocks : 1;
}

/** RGB premultiplied by alpha, alpha kept: colours under transparent pixels do not count. */
function premultiplied(data, channels) {
  if (channels !== 4) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3] / 255;
    out[i] = data[i] * a;
    out[i + 1] = data[i + 1] * a;
    out[i + 2] = data[i + 2] * a;
    out[i + 3] = data[i + 3];
  }
  return out;
}

const rawOf = (img) =>
  sharp(img.data, {
    raw: { width: img.info.width, height: img.info.height, channels: img.info.channels },
  });

/** The three unencoded outputs of one file, made the way imgproc makes them. */
async function references(file, s) {
  const meta = await sharp(file).metadata();
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  const lqSize = {
    width: Math.max(1, Math.round(width * s.lqScale)),
    height: Math.max(1, Math.round(height * s.lqScale)),
  };
  const lq = await sharp(file)
    .rotate()
    .resize({ ...lqSize, fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const thumbWidth = Math.min(s.thumbWidth, width);
  const thumbSize = {
    width: thumbWidth,
    height: Math.max(1, Math.round((height * thumbWidth) / width)),
  };
  const thumb = await rawOf(lq)
    .resize({ ...thumbSize, fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const blur = await rawOf(thumb).blur(s.blurSigma).raw().toBuffer({ resolveWithObject: true });
  return { thumb, blur, lq };
}

async function encodeAndScore(ref, quality, effort) {
  // CPU time, not wall time: the one libvips thread's work, unaffected by other load on the machine
  const t0 = process.cpuUsage();
  const webp = await rawOf(ref).webp({ quality, effort }).toBuffer();
  const used = process.cpuUsage(t0);
  const ms = (used.user + used.system) / 1000;
  const { width, height, channels } = ref.info;
  // libwebp drops an all-opaque alpha channel: compare like with like
  const decoder = channels === 4 ? sharp(webp).ensureAlpha() : sharp(webp).removeAlpha();
  const decoded = premultiplied(await decoder.raw().toBuffer(), channels);
  const original = premultiplied(ref.data, channels);
  return {
    bytes: webp.length,
    ms,
    psnr: psnr(original, decoded),
    ssim: ssim(original, decoded, width, height, channels),
  };
}

export async function main(flags) {
  const limit = Number(flags.limit ?? 8);
  const corpus = resolveCorpus(flags.corpus);
  const files = selectFiles(corpus, limit);
  const { settings: s, source } = await loadDefaults();
  // one libvips thread: encode times are per-image CPU cost, comparable between settings
  sharp.concurrency(1);
  sharp.cache(false);
  const grid = [
    ...QUALITIES.map((q) => ({ sweep: 'quality', q: () => q, e: (name) => s.effort[name] })),
    ...EFFORTS.map((e) => ({ sweep: 'effort', q: (name) => s.quality[name], e: () => e })),
  ];
  const totals = {};
  for (const [i, file] of files.entries()) {
    console.error(`encoder-table: ${i + 1}/${files.length} ${path.basename(file)}`);
    const refs = await references(file, s);
    for (const name of ['thumb', 'blur', 'lq']) {
      for (const g of grid) {
        const key = `${name}|${g.sweep}|${g.q(name)}|${g.e(name)}`;
        const r = await encodeAndScore(refs[name], g.q(name), g.e(name));
        const t = (totals[key] ??= {
          name,
          sweep: g.sweep,
          quality: g.q(name),
          effort: g.e(name),
          n: 0,
          bytes: 0,
          ms: 0,
          psnr: 0,
          ssim: 0,
        });
        t.n++;
        t.bytes += r.bytes;
        t.ms += r.ms;
        t.psnr += r.psnr;
        t.ssim += r.ssim;
      }
    }
  }

  const lines = [
    `${files.length} images from ${corpus}; sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, ` +
      `libwebp ${sharp.versions.webp}; one libvips thread. Defaults now (${source}): ` +
      `thumb q${s.quality.thumb}, blur q${s.quality.blur}, lq q${s.quality.lq}, effort thumb ${s.effort.thumb}, blur ${s.effort.blur}, lq ${s.effort.lq}. ` +
      'Bytes and encode CPU time are per image (mean); PSNR over all channels, SSIM on luma (8x8 blocks), means.',
  ];
  for (const name of ['thumb', 'blur', 'lq']) {
    for (const sweep of ['quality', 'effort']) {
      lines.push('');
      lines.push(
        `**${name}**, ${sweep === 'quality' ? `quality sweep at effort ${s.effort[name]}` : `effort sweep at quality ${s.quality[name]}`}`,
      );
      lines.push('');
      lines.push('| quality | effort | KiB/image | encode CPU ms/image | PSNR dB | SSIM |');
      lines.push('|---:|---:|---:|---:|---:|---:|');
      for (const t of Object.values(totals).filter((x) => x.name === name && x.sweep === sweep)) {
        const isDefault = t.quality === s.quality[name] && t.effort === s.effort[name];
        lines.push(
          `| ${t.quality}${isDefault ? ' (default)' : ''} | ${t.effort} | ${(t.bytes / t.n / 1024).toFixed(2)} | ` +
            `${(t.ms / t.n).toFixed(1)} | ${(t.psnr / t.n).toFixed(2)} | ${(t.ssim / t.n).toFixed(4)} |`,
        );
      }
    }
  }
  const markdown = lines.join('\n') + '\n';
  process.stdout.write(`\n${markdown}`);
  const dir = path.join(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `encoder-table-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  writeFileSync(`${base}.md`, markdown);
  writeFileSync(
    `${base}.json`,
    JSON.stringify({ files, settings: s, totals: Object.values(totals) }, null, 2) + '\n',
  );
  console.error(`encoder-table: results in ${path.relative(REPO_ROOT, base)}.{md,json}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(parseArgs(process.argv.slice(2)).flags);
}
