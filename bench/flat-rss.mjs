#!/usr/bin/env node
// Memory over a long run: generate many small images, run `imgproc --cpu` over them, sample the
// resident memory of its process tree every 200 ms, and report it at 10/50/90/100% progress.
// A flat line means nothing grows with the number of images processed.
// Usage: npm run bench -- --flat-rss [--count 5000] [--backend cpu|cuda] [--keep]
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { measure } from './lib/measure.mjs';
import { parseArgs, REPO_ROOT } from './lib/settings.mjs';

const PER_FOLDER = 100;
const DISTINCT = 40;

/** A small photo-like JPEG: two gradients, a disc and grain, different for every seed. */
async function smallPhoto(seed, width, height) {
  const px = Buffer.alloc(width * height * 3);
  let r = seed * 2654435761;
  const noise = () => {
    r = (Math.imul(r ^ (r >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return (r & 15) - 8;
  };
  const cx = ((seed * 37) % width) | 0;
  const cy = ((seed * 53) % height) | 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const disc = Math.hypot(x - cx, y - cy) < height / 4 ? 90 : 0;
      px[i] = Math.min(255, Math.max(0, ((x * 255) / width + seed * 7 + noise()) % 256));
      px[i + 1] = Math.min(255, Math.max(0, (y * 255) / height + disc + noise()));
      px[i + 2] = Math.min(255, Math.max(0, 160 - disc + ((seed * 13) % 80) + noise()));
    }
  }
  return sharp(px, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 82 })
    .toBuffer();
}

function countSidecars(dir) {
  let n = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) n += countSidecars(path.join(dir, e.name));
      else if (e.name.endsWith('.json')) n++;
    }
  } catch {
    // the output folder does not exist yet
  }
  return n;
}

export async function main(flags) {
  const count = Number(flags.count ?? 5000);
  const backend = flags.backend === 'cuda' ? ['--backend', 'cuda'] : ['--cpu'];
  const work = mkdtempSync(path.join(os.tmpdir(), 'imgproc-flat-rss-'));
  const input = path.join(work, 'input');
  const out = path.join(work, 'out');
  console.error(`flat-rss: writing ${count} images under ${input} …`);
  const bases = [];
  for (let i = 0; i < DISTINCT; i++) {
    bases.push(await smallPhoto(i + 1, 480 + (i % 5) * 40, 320 + (i % 3) * 40));
  }
  for (let i = 0; i < count; i++) {
    const folder = path.join(input, `f${String(Math.floor(i / PER_FOLDER)).padStart(3, '0')}`);
    if (i % PER_FOLDER === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, `img${String(i).padStart(5, '0')}.jpg`), bases[i % DISTINCT]);
  }

  const samples = [];
  let lastCount = 0;
  let ticks = 0;
  console.error(`flat-rss: imgproc ${backend.join(' ')} over ${count} images …`);
  const m = await measure(
    process.execPath,
    [
      path.join(REPO_ROOT, 'bin/imgproc.cjs'),
      input,
      '--out',
      out,
      ...backend,
      '--no-progress',
      '--quiet',
    ],
    {
      cwd: REPO_ROOT,
      sampleMs: 200,
      onSample: (rssKiB, t) => {
        // counting sidecars walks the output tree: do it once a second, interpolate nothing
        if (ticks++ % 5 === 0) lastCount = countSidecars(out);
        samples.push({ t, rssKiB, done: lastCount });
      },
    },
  );
  const done = countSidecars(out);
  if (!flags.keep) rmSync(work, { recursive: true, force: true });

  const at = (fraction) => {
    const s = samples.find((x) => x.done >= fraction * count);
    return s ?? samples[samples.length - 1];
  };
  const lines = [
    `imgproc ${backend.join(' ')}: ${done}/${count} images (small JPEGs, 480-640 px) in ${m.wallS.toFixed(1)} s ` +
      `(${(done / m.wallS).toFixed(1)} images/s), exit ${m.code}; peak RSS ${(m.peakRssKiB / 1024).toFixed(0)} MiB; ` +
      `${samples.length} samples, every 200 ms.`,
    '',
    '| progress | images done | elapsed s | RSS MiB |',
    '|---:|---:|---:|---:|',
  ];
  for (const p of [0.1, 0.5, 0.9]) {
    const s = at(p);
    if (s)
      lines.push(
        `| ${p * 100}% | ${s.done} | ${s.t.toFixed(1)} | ${(s.rssKiB / 1024).toFixed(0)} |`,
      );
  }
  const last = samples[samples.length - 1];
  if (last)
    lines.push(
      `| 100% | ${done} | ${m.wallS.toFixed(1)} | ${(last.rssKiB / 1024).toFixed(0)} (last sample) |`,
    );
  const markdown = lines.join('\n') + '\n';
  process.stdout.write(`\n${markdown}`);

  const dir = path.join(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `flat-rss-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  writeFileSync(`${base}.md`, markdown);
  writeFileSync(
    `${base}.json`,
    JSON.stringify({ count, done, ...m, stderr: undefined, samples }) + '\n',
  );
  console.error(`flat-rss: results in ${path.relative(REPO_ROOT, base)}.{md,json}`);
  if (m.code !== 0 || done !== count) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(parseArgs(process.argv.slice(2)).flags);
}
