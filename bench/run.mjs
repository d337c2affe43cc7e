#!/usr/bin/env node
// imgproc benchmark: every contender over the same corpus, at the same output settings, in one run.
//
//   npm run bench -- [--corpus DIR] [--limit N] [--contenders a,b,...] [--runs N] [--timeout S]
//                    [--imgproc-args "--concurrency 3"]   extra flags for every imgproc contender
//   npm run bench -- --overhead [--corpus DIR]    default and srcset jobs vs plain sharp, held-out photos
//   npm run bench -- --backend cuda [--corpus DIR] [--limit N]     imgproc on the GPU vs --cpu
//   npm run bench -- --flat-rss [--count 5000]                      memory over a long run
//   npm run bench -- --memory [--max-memory 2GiB] [--long-only]     peak RSS on heavy inputs vs the budget; long runs
//   npm run bench -- --encoder-table [--corpus DIR] [--limit N]     WebP quality/effort table
//   npm run bench -- --stages [--corpus DIR] [--limit N]            CPU time per pipeline stage
//   npm run bench -- --verify [--corpus DIR] [--limit N] [--runs 3] verify against a plain run
//   npm run bench -- --verify-tolerances [--corpus DIR]             what verify's tolerances rest on
//   npm run bench -- --lq-cap [--corpus DIR] [--limit N]            lq bytes per width cap
//   npm run bench -- --palette [--corpus DIR | --fixtures]          palette distances and shares
//   npm run bench -- --serve [--count 200] [--connections 16]       HTTP uploads vs enqueue, RSS
//   npm run bench -- --serve --s3-uploads                           serve RSS, uploads into s3://
//   npm run bench -- --s3 [--runs 3] [--count 1000]                 s3:// in and out vs local files
//
// Results: a markdown table on stdout, and JSON + markdown under bench/results/.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import {
  describeFiles,
  heldOutPhotos,
  resolveCorpus,
  selectFiles,
  stageFiles,
} from './lib/corpus.mjs';
import { measure } from './lib/measure.mjs';
import { loadDefaults, parseArgs, REPO_ROOT } from './lib/settings.mjs';

const { flags } = parseArgs(process.argv.slice(2));

if (flags.memory) {
  await (await import('./memory.mjs')).main(flags);
  process.exit(process.exitCode ?? 0);
}
if (flags['flat-rss']) {
  await (await import('./flat-rss.mjs')).main(flags);
  process.exit(process.exitCode ?? 0);
}
if (flags.serve) {
  await (await import('./serve.mjs')).main(flags);
  process.exit(process.exitCode ?? 0);
}
if (flags.s3) {
  await (await import('./s3.mjs')).main(flags);
  process.exit(process.exitCode ?? 0);
}
if (flags.queue) {
  await (await import('./queue.mjs')).main(flags);
  process.exit(process.exitCode ?? 0);
}
if (flags.stages) {
  await (await import('./stages.mjs')).main(flags);
  process.exit(process.exitCode ?? 0);
}
if (flags.verify) {
  await (await import('./verify.mjs')).main(flags);
  process.exit(process.exitCode ?? 0);
}
if (flags['verify-tolerances']) {
  await (await import('./verify-tolerances.mjs')).main(flags);
  process.exit(process.exitCode ?? 0);
}
if (flags.palette) {
  await (await import('./palette-report.mjs')).main(flags);
  process.exit(process.exitCode ?? 0);
}
if (flags['lq-cap']) {
  await (await import('./lq-cap.mjs')).main(flags);
  process.exit(process.exitCode ?? 0);
}
if (flags['encoder-table']) {
  await (await import('./encoder-table.mjs')).main(flags);
  process.exit(process.exitCode ?? 0);
}

const BIN = path.join(REPO_ROOT, 'bin/imgproc.cjs');
const COMMAND = path.join(REPO_ROOT, 'bin/imgproc');
const NODE = process.execPath;
const script = (name) => path.join(REPO_ROOT, 'bench', name);

const TARGETS = [
  { what: 'imgproc vs naive sharp (images/s)', a: 'imgproc', b: 'naive', min: 1.8 },
  { what: 'imgproc vs tuned sharp (images/s)', a: 'imgproc', b: 'tuned', min: 0.95 },
  {
    what: 'imgproc --ops thumb vs vipsthumbnail (images/s)',
    a: 'imgproc-thumb',
    b: 'vips-thumb',
    min: 1.2,
  },
  // The default job's overhead over writing the same WebP files and nothing else: at most 5%.
  {
    what: 'imgproc vs bare sharp (images/s)',
    a: 'imgproc',
    b: 'bare',
    min: 1 / 1.05,
    goal: '≥ 0.952× (≤ 5% more)',
    overhead: true,
  },
  // Like for like: the bare script given the huge pages imgproc takes (bin/huge-pages.cjs), and
  // imgproc held to 4 KiB pages like the bare script.
  {
    what: 'imgproc vs bare sharp, both with huge pages (images/s)',
    a: 'imgproc',
    b: 'bare-hp',
    min: 1 / 1.05,
    goal: '≥ 0.952× (≤ 5% more)',
    overhead: true,
  },
  {
    what: 'imgproc vs bare sharp, both with 4 KiB pages (images/s)',
    a: 'imgproc-4k',
    b: 'bare',
    min: 1 / 1.05,
    goal: '≥ 0.952× (≤ 5% more)',
    overhead: true,
  },
  {
    what: 'imgproc --widths vs bare sharp --widths (images/s)',
    a: 'imgproc-srcset',
    b: 'bare-srcset',
    min: null,
    overhead: true,
  },
  {
    what: 'imgproc --widths vs bare sharp --widths, both with huge pages (images/s)',
    a: 'imgproc-srcset',
    b: 'bare-srcset-hp',
    min: null,
    overhead: true,
  },
  {
    what: 'imgproc --backend cuda vs --cpu (images/s)',
    a: 'imgproc-cuda',
    b: 'imgproc',
    min: null,
  },
];
const RSS_LIMIT_KIB = 1024 * 1024;
const SRCSET_WIDTHS = '320,640,1280';
/** `--overhead`: the default job and the srcset job against plain sharp, as the README reports. */
const OVERHEAD_CONTENDERS =
  'imgproc,imgproc-4k,bare,bare-hp,imgproc-srcset,bare-srcset,bare-srcset-hp';
/** What imgproc's bin sets for itself where the kernel gives huge pages on request. */
const HUGE_PAGES = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' };

function contenders(settingsJson, backend, imgprocArgs) {
  const imgproc = (id, label, extra, outputs, env) => ({
    id,
    env,
    label: [label, ...imgprocArgs].join(' '),
    outputs,
    // The `imgproc` command as users run it (bin/imgproc, which sets huge pages before Node starts).
    command: COMMAND,
    args: (dir, out) => [
      dir,
      '--out',
      out,
      '--no-progress',
      '--quiet',
      '--force',
      ...extra,
      ...imgprocArgs,
    ],
    needs: 'imgproc',
  });
  if (backend === 'cuda') {
    return [
      imgproc('imgproc-cuda', 'imgproc --backend cuda', ['--backend', 'cuda'], 3),
      imgproc('imgproc', 'imgproc --cpu', ['--cpu'], 3),
    ];
  }
  const bench = (id, label, file, outputs, needs, extra = [], env) => ({
    id,
    env,
    label,
    outputs,
    needs,
    command: NODE,
    args: (dir, out) => [script(file), dir, out, '--settings', settingsJson, ...extra],
  });
  const widths = ['--widths', SRCSET_WIDTHS];
  return [
    imgproc('imgproc', 'imgproc --cpu', ['--cpu'], 3),
    bench('naive', 'naive sharp (4 pipelines/image)', 'naive-sharp.mjs', 3),
    bench('tuned', 'tuned sharp (decode once)', 'tuned-sharp.mjs', 3),
    imgproc('imgproc-thumb', 'imgproc --cpu --ops thumb', ['--cpu', '--ops', 'thumb'], 1),
    bench('vips-thumb', 'vipsthumbnail, 1 process/core', 'vips-thumbnail.mjs', 1, 'vipsthumbnail'),
    bench('bare', 'bare sharp (same WebPs, nothing else)', 'bare-sharp.mjs', 3),
    imgproc('imgproc-4k', 'imgproc --cpu, 4 KiB pages', ['--cpu'], 3, { IMGPROC_HUGE_PAGES: '0' }),
    bench('bare-hp', 'bare sharp, huge pages', 'bare-sharp.mjs', 3, undefined, [], HUGE_PAGES),
    imgproc('imgproc-srcset', `imgproc --cpu --widths ${SRCSET_WIDTHS}`, ['--cpu', ...widths], 6),
    bench(
      'bare-srcset',
      `bare sharp --widths ${SRCSET_WIDTHS}`,
      'bare-sharp.mjs',
      6,
      undefined,
      widths,
    ),
    bench(
      'bare-srcset-hp',
      `bare sharp --widths ${SRCSET_WIDTHS}, huge pages`,
      'bare-sharp.mjs',
      6,
      undefined,
      widths,
      HUGE_PAGES,
    ),
  ];
}

/** Why a contender cannot run here, or null. */
function unavailable(needs) {
  if (needs === 'imgproc') {
    const r = spawnSync(NODE, [BIN, '--help'], { encoding: 'utf8' });
    return r.status === 0 ? null : 'the imgproc CLI does not start here (run `npm run build`)';
  }
  if (needs === 'vipsthumbnail') {
    return spawnSync('vipsthumbnail', ['--vips-version']).error
      ? 'vipsthumbnail is not installed (Debian/Ubuntu: apt-get install -y libvips-tools)'
      : null;
  }
  return null;
}

function outputTotals(dir) {
  let webp = 0;
  let bytes = 0;
  let other = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.webp')) {
        webp++;
        bytes += statSync(p).size;
      } else other++;
    }
  };
  walk(dir);
  return { webp, bytes, other };
}

/** Child environment without anything that would change a contender's defaults. */
function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('IMGPROC_') || k === 'UV_THREADPOOL_SIZE' || k.startsWith('VIPS_'))
      delete env[k];
  }
  // bin/imgproc starts the `node` on PATH: this one.
  env.PATH = [path.dirname(NODE), env.PATH].filter(Boolean).join(path.delimiter);
  return env;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const fmt = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '–');

function versionOf(cmd, args) {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim()
      .split('\n')[0];
  } catch {
    return null;
  }
}

async function main() {
  if (flags.overhead) {
    flags['held-out'] ??= true;
    flags.runs ??= '5';
    flags.contenders ??= OVERHEAD_CONTENDERS;
  }
  const backend = flags.backend === 'cuda' ? 'cuda' : 'cpu';
  const limit = flags.limit ? Number(flags.limit) : 0;
  const runs = Number(flags.runs ?? 1);
  const timeoutS = Number(flags.timeout ?? 600);
  const corpus = resolveCorpus(flags.corpus);
  const { source: settingsSource, settings } = await loadDefaults();
  const settingsJson = JSON.stringify(settings);
  const imgprocArgs =
    typeof flags['imgproc-args'] === 'string'
      ? flags['imgproc-args'].split(/\s+/).filter(Boolean)
      : [];
  let list = contenders(settingsJson, backend, imgprocArgs);
  if (typeof flags.contenders === 'string') {
    const wanted = flags.contenders.split(',');
    const unknown = wanted.filter((w) => !list.some((c) => c.id === w));
    if (unknown.length) {
      throw new Error(
        `unknown contender ${unknown.join(', ')}; choose from ${list.map((c) => c.id).join(', ')}`,
      );
    }
    list = list.filter((c) => wanted.includes(c.id));
  }

  const files = flags['held-out'] ? heldOutPhotos(corpus) : selectFiles(corpus, limit);
  if (files.length === 0) throw new Error(`no images in ${corpus}`);
  const described = await describeFiles(files);
  const sourceMp = described.reduce((a, r) => a + r.mp, 0);
  const sourceBytes = described.reduce((a, r) => a + r.bytes, 0);
  const work = mkdtempSync(path.join(os.tmpdir(), 'imgproc-bench-'));
  const inputDir = stageFiles(files, path.join(work, 'input'));
  const formats = {};
  for (const r of described) formats[r.format] = (formats[r.format] ?? 0) + 1;

  const env = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
    vipsthumbnail: versionOf('vipsthumbnail', ['--vips-version']),
    corpus,
    images: files.length,
    sourceMp: +sourceMp.toFixed(1),
    sourceMiB: +(sourceBytes / 2 ** 20).toFixed(1),
    formats,
    settings,
    settingsSource,
    loadBefore: os.loadavg().map((x) => +x.toFixed(2)),
  };
  console.error(
    `bench: ${files.length} images, ${fmt(sourceMp, 1)} MP, ${fmt(sourceBytes / 2 ** 20, 1)} MiB from ${corpus}`,
  );
  console.error(`bench: settings ${settingsJson} (from ${settingsSource})`);

  const results = {};
  const skipped = {};
  for (const c of list) {
    const why = c.needs ? unavailable(c.needs) : null;
    if (why) {
      skipped[c.id] = why;
      console.error(`bench: skipping ${c.label}: ${why}`);
    }
  }
  const active = list.filter((c) => !skipped[c.id]);
  // runs are interleaved so that a slow minute on a shared machine hits every contender alike
  for (let run = 0; run < runs; run++) {
    for (const c of active) {
      const out = path.join(work, `out-${c.id}`);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      console.error(`bench: run ${run + 1}/${runs} ${c.label} …`);
      const m = await measure(c.command, c.args(inputDir, out), {
        env: { ...cleanEnv(), ...c.env },
        cwd: REPO_ROOT,
        timeoutS,
      });
      const totals = outputTotals(out);
      rmSync(out, { recursive: true, force: true });
      const expected = files.length * c.outputs;
      const problems = [];
      if (m.timedOut) problems.push(`killed after ${timeoutS} s`);
      else if (m.code !== 0) problems.push(`exit code ${m.code}`);
      if (totals.webp !== expected) problems.push(`${totals.webp} of ${expected} WebP files`);
      if (problems.length) {
        const tail = m.stderr.trim().split('\n').slice(-5).join('\n  ');
        console.error(`bench: ${c.label}: ${problems.join(', ')}${tail ? `\n  ${tail}` : ''}`);
      }
      (results[c.id] ??= { label: c.label, runs: [] }).runs.push({
        ...m,
        ...totals,
        expected,
        problems,
      });
      console.error(
        `bench:   ${fmt(m.wallS)} s wall, ${fmt(m.cpuS)} s CPU, ${fmt(m.peakRssKiB / 1024, 0)} MiB peak`,
      );
    }
  }
  rmSync(work, { recursive: true, force: true });
  env.loadAfter = os.loadavg().map((x) => +x.toFixed(2));

  const rows = {};
  for (const [id, r] of Object.entries(results)) {
    // best wall time: other work on the machine only ever slows a run down
    const wallS = Math.min(...r.runs.map((x) => x.wallS));
    const cpuS = median(r.runs.map((x) => x.cpuS));
    rows[id] = {
      label: r.label,
      wallS,
      imagesPerS: files.length / wallS,
      mpPerS: sourceMp / wallS,
      cpuSPerImage: cpuS / files.length,
      peakRssMiB: Math.max(...r.runs.map((x) => x.peakRssKiB)) / 1024,
      outputBytes: r.runs[r.runs.length - 1].bytes,
      outputs: `${r.runs[r.runs.length - 1].webp}/${r.runs[0].expected}`,
      problems: [...new Set(r.runs.flatMap((x) => x.problems))],
    };
  }

  const lines = [];
  lines.push(
    `${env.images} images, ${env.sourceMp} MP, ${env.sourceMiB} MiB (${Object.entries(formats)
      .map(([k, v]) => `${v} ${k}`)
      .join(
        ', ',
      )}); ${env.cores} cores (${env.cpu}), Node ${env.node}, sharp ${env.sharp} / libvips ${env.libvips}` +
      (env.vipsthumbnail ? `, vipsthumbnail ${env.vipsthumbnail.replace(/^libvips /, '')}` : '') +
      `; ${runs > 1 ? `best wall time and median CPU of ${runs} runs` : '1 run'}.`,
  );
  lines.push(
    `Load average (1 min) before ${env.loadBefore[0]}, after ${env.loadAfter[0]}` +
      (Math.max(env.loadBefore[0], env.loadAfter[0]) > 0.5
        ? ': other work shared the cores, so wall-time figures are pessimistic; CPU s/image is much less affected.'
        : '.'),
  );
  lines.push(
    `Settings: thumb ${settings.thumbWidth} px q${settings.quality.thumb}, blur sigma ${settings.blurSigma} q${settings.quality.blur}, ` +
      `lq ${settings.lqScale * 100}% q${settings.quality.lq}, WebP effort thumb ${settings.effort.thumb}, blur ${settings.effort.blur}, lq ${settings.effort.lq} (${settingsSource}).`,
  );
  lines.push('');
  lines.push(
    '| contender | wall s | images/s | MP/s | CPU s/image | peak RSS MiB | output KiB | outputs |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const r of Object.values(rows)) {
    lines.push(
      `| ${r.label} | ${fmt(r.wallS)} | ${fmt(r.imagesPerS)} | ${fmt(r.mpPerS, 1)} | ${fmt(r.cpuSPerImage, 3)} | ` +
        `${fmt(r.peakRssMiB, 0)} | ${fmt(r.outputBytes / 1024, 0)} | ${r.outputs}${r.problems.length ? ' ⚠ ' + r.problems.join('; ') : ''} |`,
    );
  }
  for (const [id, why] of Object.entries(skipped))
    lines.push(`| ${id} | skipped: ${why} | | | | | | |`);
  lines.push('');
  lines.push('| target | images/s ratio | CPU/image ratio | goal | met (images/s) | met (CPU) |');
  lines.push('|---|---:|---:|---:|---|---|');
  const verdicts = [];
  const overheads = [];
  for (const t of TARGETS) {
    if (!rows[t.a] || !rows[t.b]) continue;
    const failed = [t.a, t.b].filter((id) => rows[id].problems.length);
    if (failed.length) {
      lines.push(
        `| ${t.what.replace(' (images/s)', '')} | – | – | | not measured: ${failed.join(', ')} failed | |`,
      );
      continue;
    }
    const ratio = rows[t.a].imagesPerS / rows[t.b].imagesPerS;
    const cpuRatio = rows[t.b].cpuSPerImage / rows[t.a].cpuSPerImage;
    const verdict = (x) => (t.min === null ? '–' : x >= t.min ? 'yes' : 'no');
    const met = verdict(ratio);
    const metCpu = verdict(cpuRatio);
    verdicts.push({ ...t, ratio, cpuRatio, met, metCpu });
    const goal = t.goal ?? (t.min === null ? '–' : `≥ ${fmt(t.min)}×`);
    lines.push(
      `| ${t.what.replace(' (images/s)', '')} | ${fmt(ratio, 3)}× | ${fmt(cpuRatio, 3)}× | ${goal} | ${met} | ${metCpu} |`,
    );
    if (t.overhead) {
      const more = 100 * (rows[t.a].cpuSPerImage / rows[t.b].cpuSPerImage - 1);
      overheads.push(
        `${rows[t.a].label}: ${fmt(rows[t.a].cpuSPerImage, 3)} CPU s/image against ${fmt(rows[t.b].cpuSPerImage, 3)} for ${rows[t.b].label}, ${more >= 0 ? '+' : ''}${fmt(more, 1)}% CPU.`,
      );
    }
  }
  for (const id of ['imgproc', 'imgproc-thumb', 'imgproc-cuda']) {
    if (!rows[id] || rows[id].problems.length) continue;
    const met = rows[id].peakRssMiB * 1024 < RSS_LIMIT_KIB ? 'yes' : 'no';
    verdicts.push({ what: `${id} peak RSS`, peakRssMiB: rows[id].peakRssMiB, met });
    lines.push(
      `| ${rows[id].label} peak RSS | ${fmt(rows[id].peakRssMiB, 0)} MiB | | < 1024 MiB | ${met} | |`,
    );
  }
  if (overheads.length) lines.push('', ...overheads);
  const markdown = lines.join('\n') + '\n';
  process.stdout.write(`\n${markdown}`);

  const dir = path.join(REPO_ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `bench-${backend}-${env.date.replace(/[:.]/g, '-')}`);
  writeFileSync(
    `${base}.json`,
    JSON.stringify({ env, rows, verdicts, skipped, results }, null, 2) + '\n',
  );
  writeFileSync(`${base}.md`, `Command: \`${env.command}\`\n\n${markdown}`);
  console.error(`bench: results in ${path.relative(REPO_ROOT, base)}.{md,json}`);
  if (Object.values(rows).some((r) => r.problems.length)) process.exitCode = 1;
}

try {
  await main();
} catch (err) {
  console.error(`bench: ${err.message}`);
  process.exitCode = 2;
}
