#!/usr/bin/env node
// The GPU path checked and measured in one command, on a machine with an NVIDIA GPU:
//   npm run gpu:check [-- --corpus DIR]     (on a machine without npm: node scripts/gpu-check.mjs)
// Builds the addon for the card found, runs test/native/gpu.test.ts, the CLI with --backend cuda
// against --cpu, compute-sanitizer (memcheck, racecheck), then measures throughput, GPU time per
// image, kernel bandwidth and nvJPEG decoding. Writes gpu-check.md and gpu-check.json to $OUT
// (else bench/results/gpu-check/) and prints a summary. Exit statuses: scripts/gpu-check/report.mjs.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findGpu } from './gpu-check/probe.mjs';
import { EXIT, exitStatus, summaryLines, writeReport } from './gpu-check/report.mjs';
import * as steps from './gpu-check/steps.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => process.stdout.write(`${line}\n`);
const { values } = parseArgs({ options: { corpus: { type: 'string' } } });

const found = findGpu();
if (!found.gpu) {
  say(`gpu:check: no NVIDIA GPU here (${found.reason}); nothing checked, exit ${EXIT.noGpu}`);
  process.exit(EXIT.noGpu);
}
for (const needed of [
  'node_modules/sharp',
  'node_modules/vitest',
  'dist/cli/main.js',
  'native/src',
]) {
  if (!existsSync(path.join(root, needed))) {
    say(
      `gpu:check: ${needed} is missing (unpack the device pack and run \`npm run build\` first); exit ${EXIT.broken}`,
    );
    process.exit(EXIT.broken);
  }
}

// The whole check must fit one 10-minute device call with room to spare.
const BUDGET_S = Number(process.env.IMGPROC_GPU_CHECK_BUDGET_S ?? 480);
const started = performance.now();
const work = mkdtempSync(path.join(os.tmpdir(), 'imgproc-gpu-check-'));
const ctx = {
  root,
  work,
  device: found.gpu,
  addonPath: path.join(root, 'native/build/Release/imgproc_native.node'),
  corpusDir: values.corpus ?? path.join(root, '.devicepack/corpus'),
  measurements: {},
  remainingS: () => BUDGET_S - (performance.now() - started) / 1000,
};
const result = {
  version: JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version,
  device: { ...found.gpu, cores: os.availableParallelism() },
  steps: [],
  measurements: ctx.measurements,
};

const plan = [
  ['build', 'build the addon for this card', steps.build, []],
  ['gpu-tests', 'test/native/gpu.test.ts (CUDA vs the C++ reference)', steps.gpuTests, ['build']],
  ['cli', 'CLI --backend cuda vs --cpu on the fixtures', steps.cliCompare, ['build']],
  ['corpus', 'benchmark corpus', prepareCorpus, []],
  [
    'throughput',
    'images/s and CPU s per image, cuda and cpu',
    steps.throughput,
    ['build', 'corpus'],
  ],
  ['gpu-time', 'GPU time per image', steps.gpuPerImage, ['build', 'corpus']],
  ['kernels', 'kernel bandwidth (bench/kernels.mjs)', steps.kernels, ['build']],
  ['nvjpeg', 'nvJPEG presence and decode time', steps.nvjpeg, ['corpus']],
  ['memcheck', 'compute-sanitizer memcheck', steps.sanitizer('memcheck'), ['build']],
  ['racecheck', 'compute-sanitizer racecheck', steps.sanitizer('racecheck'), ['build']],
];

async function prepareCorpus(c) {
  c.measurements.corpus = await steps.prepareCorpus(c);
  const k = c.measurements.corpus;
  return {
    status: 'pass',
    summary: `${k.files} images, ${k.megapixels.toFixed(1)} Mpx (${k.source})`,
  };
}

const passed = new Set();
for (const [id, title, step, needs] of plan) {
  const t0 = performance.now();
  const missing = needs.filter((n) => !passed.has(n));
  let outcome;
  if (missing.length > 0) {
    outcome = { status: 'skipped', summary: `needs ${missing.join(', ')}` };
  } else if (ctx.remainingS() < 10) {
    outcome = { status: 'skipped', summary: `the ${BUDGET_S} s budget ran out` };
  } else {
    say(`gpu:check: ${title} ...`);
    try {
      outcome = await step(ctx);
    } catch (err) {
      outcome = {
        status: 'fail',
        summary: `crashed: ${err?.stack?.split('\n').slice(0, 2).join(' ') ?? err}`,
      };
    }
  }
  if (outcome.status === 'pass') passed.add(id);
  result.steps.push({ id, title, seconds: (performance.now() - t0) / 1000, ...outcome });
}

const outDir = process.env.OUT
  ? path.resolve(process.env.OUT)
  : path.join(root, 'bench/results/gpu-check');
const files = writeReport(outDir, result);
rmSync(work, { recursive: true, force: true });
for (const line of summaryLines(result)) say(line);
say(`report: ${files.markdown}, ${files.json}`);
process.exit(exitStatus(result));
