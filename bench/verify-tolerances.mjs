// The measurements behind `imgproc verify`'s default tolerances (README, "Tolerances").
//
//   npm run bench -- --verify-tolerances [--corpus DIR] [--json FILE] [--only id,id] [--keep]
//
// Processes a corpus (default: fixtures/photos) with the CPU backend and defaults, then measures
// how far each variant lies from it, output by output: variants that must pass (the C++
// reference of the CUDA kernels, other WebP efforts, a re-encode) and deliberate changes that
// must fail (a colour shift, a one-pixel shift, another blur sigma, a wrong orientation, lost
// alpha, another palette). Prints the worst value of every measure and the verdict under the
// default tolerances.
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { REPO_ROOT } from './lib/settings.mjs';

const dist = (p) => import(pathToFileURL(path.join(REPO_ROOT, 'dist', p)).href);

/** Every variant, by what it does to a run. `pass` says whether the defaults must accept it. */
export const VARIANTS = [
  { id: 'reference', pass: true, what: 'C++ reference of the CUDA kernels (no GPU needed)' },
  { id: 'effort0', pass: true, what: 'WebP effort 0 for every output', options: { effort: 0 } },
  { id: 'effort6', pass: true, what: 'WebP effort 6 for every output', options: { effort: 6 } },
  {
    id: 'reencode',
    pass: null,
    what: 'outputs decoded and encoded again (same settings)',
    edit: 'reencode',
  },
  { id: 'shift3', pass: false, what: 'colour +3 levels (R, G, B)', edit: 'shift3' },
  { id: 'shift2', pass: null, what: 'colour +2 levels (R, G, B)', edit: 'shift2' },
  { id: 'translate1', pass: false, what: 'content moved 1 px right', edit: 'translate1' },
  { id: 'crop1', pass: false, what: 'one pixel column cropped', edit: 'crop1' },
  { id: 'sigma5', pass: null, what: 'blur sigma 5 instead of 6', options: { blurSigma: 5 } },
  { id: 'sigma7', pass: null, what: 'blur sigma 7 instead of 6', options: { blurSigma: 7 } },
  { id: 'sigma4', pass: false, what: 'blur sigma 4 instead of 6', options: { blurSigma: 4 } },
  { id: 'sigma9', pass: false, what: 'blur sigma 9 instead of 6', options: { blurSigma: 9 } },
  { id: 'rotate180', pass: false, what: 'wrong orientation (turned 180°)', edit: 'rotate180' },
  { id: 'noalpha', pass: false, what: 'alpha lost (flattened on black)', edit: 'noalpha' },
  {
    id: 'palette5',
    pass: false,
    what: 'palette of 5 colours instead of 6',
    options: { paletteSize: 5 },
  },
];

async function referenceBackend() {
  const { nativeAddon, NativeBinding } = await dist('native/index.js');
  const load = nativeAddon();
  if (!load.ok) throw new Error(`the native addon does not load: ${load.reason}`);
  const binding = new NativeBinding(load.addon);
  return {
    name: 'cuda',
    description: 'C++ reference',
    decodePolicy: 'full-unless-cheap-shrink',
    async resample(source, request) {
      const { thumb, blur, lq, sample } = await binding.referenceResample(source, request);
      return { thumb, blur, lq, sample };
    },
    async close() {},
  };
}

/** Runs the real pipeline over `corpus` into `out`, with `backend` and option overrides. */
async function produce(corpus, out, backend, overrides = {}) {
  const { planBatch } = await dist('plan/plan.js');
  const { processImage } = await dist('pipeline/process-image.js');
  const { resolveProcessingOptions } = await dist('config/options.js');
  const raw = Object.fromEntries(Object.entries(overrides).map(([k, v]) => [k, String(v)]));
  const processing = resolveProcessingOptions({ ...raw, cpu: true, force: true, concurrency: '4' });
  const { MemoryBudget } = await dist('pipeline/memory-budget.js');
  const memory = new MemoryBudget(processing.maxMemory);
  const plan = await planBatch({ inputs: [corpus], outDir: out, processing });
  for (const task of plan.tasks) {
    await processImage(task, { backend, memory }).catch((err) => {
      process.stderr.write(`skipped ${task.input}: ${err.message}\n`);
    });
  }
}

async function editImage(file, edit, settings) {
  const img = sharp(file);
  const meta = await img.metadata();
  let { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  const ch = info.channels;
  let { width, height } = info;
  if (edit === 'shift3' || edit === 'shift2') {
    const k = edit === 'shift3' ? 3 : 2;
    for (let i = 0; i < data.length; i++) if (i % ch < 3) data[i] = Math.min(255, data[i] + k);
  } else if (edit === 'translate1') {
    const row = width * ch;
    for (let y = 0; y < height; y++) data.copyWithin(y * row + ch, y * row, y * row + row - ch);
  } else if (edit === 'rotate180') {
    const out = Buffer.alloc(data.length);
    const n = width * height;
    for (let p = 0; p < n; p++) data.copy(out, (n - 1 - p) * ch, p * ch, p * ch + ch);
    data = out;
  }
  let pipeline = sharp(data, { raw: { width, height, channels: ch } });
  if (edit === 'crop1' && width > 1)
    pipeline = pipeline.extract({ left: 0, top: 0, width: width - 1, height });
  if (edit === 'noalpha') {
    if (!meta.hasAlpha) return false;
    pipeline = pipeline.flatten({ background: '#000000' });
  }
  await writeFile(file, await pipeline.webp({ ...settings, alphaQuality: 100 }).toBuffer());
  return true;
}

/** A copy of `base` with every output edited and re-encoded with the default settings. */
async function edited(base, out, edit) {
  const { DEFAULT_OUTPUT_OPTIONS: d } = await dist('config/options.js');
  await cp(base, out, { recursive: true });
  for (const f of await readdir(out, { recursive: true })) {
    const m = /_(thumb|blur|lq)\.webp$/.exec(f);
    if (!m) continue;
    await editImage(path.join(out, f), edit, { quality: d.quality[m[1]], effort: d.effort[m[1]] });
  }
}

/** Every measure on every output, whatever the defaults compute. */
function measureAll(t) {
  const all = { mismatch: t.mismatch ?? 0.02, ssim: t.ssim ?? 0.95, shift: t.shift ?? 1.5 };
  return { ...t, ...all };
}

export async function measureTolerances({
  corpus = path.join(REPO_ROOT, 'fixtures/photos'),
  only,
  keep = false,
} = {}) {
  const { CpuBackend } = await dist('backends/cpu.js');
  const { compareFolders } = await dist('verify/compare.js');
  const { DEFAULT_TOLERANCES, cloneTolerances } = await dist('verify/tolerances.js');
  const { paletteDistance } = await dist('verify/sidecar-fields.js');
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'imgproc-tolerances-'));
  const rows = [];
  try {
    const base = path.join(tmp, 'base');
    await produce(corpus, base, new CpuBackend());
    const every = cloneTolerances(DEFAULT_TOLERANCES);
    for (const g of ['thumb', 'blur', 'lq']) every[g] = measureAll(every[g]);
    // Below any distance: every colour role and placeholder is reported with its value.
    every.palette.deltaE = -1;
    every.placeholder.difference = -1;
    for (const v of VARIANTS.filter((x) => !only || only.split(',').includes(x.id))) {
      const dir = path.join(tmp, v.id);
      if (v.id === 'reference') await produce(corpus, dir, await referenceBackend());
      else if (v.edit) await edited(base, dir, v.edit);
      else await produce(corpus, dir, new CpuBackend(), v.options);
      const measured = await compareFolders(base, dir, { tolerances: every, concurrency: 4 });
      const verdict = await compareFolders(base, dir, {
        tolerances: DEFAULT_TOLERANCES,
        concurrency: 4,
      });
      const worst = {};
      const take = (key, value, better) => {
        if (value === undefined || Number.isNaN(value)) return;
        if (!(key in worst) || (better === 'high' ? value < worst[key] : value > worst[key]))
          worst[key] = value;
      };
      for (const item of measured.items) {
        for (const o of item.outputs) {
          if (!o.measures) continue;
          take(`${o.name}.mismatch`, o.measures.mismatch);
          take(`${o.name}.ssim`, o.measures.ssim, 'high');
          take(`${o.name}.shift`, o.measures.shift);
        }
        const e = JSON.parse(await readFile(path.join(base, item.sidecar), 'utf8'));
        const a = JSON.parse(
          await readFile(path.join(dir, item.sidecar), 'utf8').catch(() => 'null'),
        );
        if (e?.gradient && a?.gradient) {
          take('palette.deltaE', paletteDistance(e.gradient.palette, a.gradient.palette));
          take('roles.deltaE', 0);
          take('placeholder.difference', 0);
        }
        for (const d of item.differences) {
          if (/^gradient\.(primary|secondary)$/.test(d.output) && d.measure === 'deltaE')
            take('roles.deltaE', d.value);
          if (/^gradient\.(blurDataUrl|thumbHash|blurHash)$/.test(d.output))
            take('placeholder.difference', d.measure === 'difference' ? d.value : Infinity);
        }
      }
      const failedItems = verdict.items.filter(
        (i) => i.status !== 'identical' && i.status !== 'within',
      );
      const structural = verdict.items
        .flatMap((i) => i.differences)
        .filter((d) => ['size', 'alpha', 'missing'].includes(d.measure)).length;
      rows.push({
        ...v,
        worst,
        failedOptions: verdict.options.filter((o) => o.fails).map((o) => o.option),
        failedItems: failedItems.length,
        items: verdict.items.length,
        structural,
        failed: !verdict.passed,
      });
    }
  } finally {
    if (keep) process.stderr.write(`kept ${tmp}\n`);
    else await rm(tmp, { recursive: true, force: true });
  }
  return rows;
}

export async function main(flags) {
  const rows = await measureTolerances({
    corpus: flags.corpus,
    only: flags.only,
    keep: Boolean(flags.keep),
  });
  const keys = [
    'thumb.mismatch',
    'thumb.shift',
    'blur.mismatch',
    'blur.shift',
    'lq.ssim',
    'lq.shift',
    'palette.deltaE',
    'roles.deltaE',
    'placeholder.difference',
  ];
  const fmt = (k, v) =>
    v === undefined
      ? '–'
      : k.endsWith('mismatch')
        ? `${(v * 100).toFixed(2)}%`
        : v === Infinity
          ? 'other kind'
          : v.toFixed(k.endsWith('ssim') ? 4 : 2);
  const verdict = (r) => {
    if (!r.failed) return 'passes';
    const on = [];
    if (r.failedItems) on.push(`${r.failedItems}/${r.items} items`);
    if (r.structural) on.push(`${r.structural} size/alpha`);
    if (r.failedOptions.length) on.push(`option ${r.failedOptions.join(', ')}`);
    return `fails (${on.join(', ')})`;
  };
  const lines = [
    `| variant | must | ${keys.join(' | ')} | verdict |`,
    `|---|---|${keys.map(() => '---:').join('|')}|---|`,
    ...rows.map(
      (r) =>
        `| ${r.what} | ${r.pass === null ? '–' : r.pass ? 'pass' : 'fail'} | ${keys.map((k) => fmt(k, r.worst[k])).join(' | ')} | ${verdict(r)}${r.pass !== null && r.failed === r.pass ? ' **WRONG**' : ''} |`,
    ),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (flags.json) await writeFile(flags.json, JSON.stringify(rows, null, 2) + '\n');
  if (rows.some((r) => r.pass !== null && r.failed === r.pass)) process.exitCode = 1;
}
