// What `imgproc verify` adds to a plain run of the same inputs.
//
//   npm run bench -- --verify [--corpus DIR] [--limit N] [--runs 3]
//
// Makes an expected folder once, then alternates a plain `imgproc --cpu --force` run and an
// `imgproc verify --cpu` against that (equal) folder, each `--runs` times; reports the best and
// median wall time and CPU seconds of each, and the ratio verify / run (target: at most 1.3).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveCorpus, selectFiles, stageFiles } from './lib/corpus.mjs';
import { measure } from './lib/measure.mjs';
import { REPO_ROOT } from './lib/settings.mjs';

const BIN = path.join(REPO_ROOT, 'bin/imgproc.cjs');
const TARGET = 1.3;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(label, args) {
  const r = await measure(process.execPath, [BIN, ...args]);
  if (r.code !== 0) throw new Error(`${label} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return r;
}

export async function main(flags) {
  const corpus = resolveCorpus(flags.corpus);
  const files = selectFiles(corpus, flags.limit ? Number(flags.limit) : undefined);
  const runs = Number(flags.runs ?? 3);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'imgproc-bench-verify-'));
  try {
    const inputs = path.join(tmp, 'in');
    stageFiles(files, inputs);
    const expected = path.join(tmp, 'expected');
    const common = ['--cpu', '--no-progress', '--quiet'];
    await timed('expected run', [inputs, '--out', expected, ...common]);
    const plain = [];
    const verify = [];
    for (let i = 0; i < runs; i++) {
      const out = path.join(tmp, `out-${i}`);
      plain.push(await timed('run', [inputs, '--out', out, '--force', ...common]));
      rmSync(out, { recursive: true, force: true });
      verify.push(await timed('verify', ['verify', inputs, '--expected', expected, ...common]));
    }
    const row = (name, rs) => {
      const wall = rs.map((r) => r.wallS);
      const cpu = rs.map((r) => r.cpuS);
      return {
        name,
        bestWallS: Math.min(...wall),
        medianWallS: median(wall),
        medianCpuS: median(cpu),
        peakRssMiB: Math.max(...rs.map((r) => r.peakRssKiB)) / 1024,
      };
    };
    const a = row(`imgproc --cpu (${files.length} images)`, plain);
    const b = row('imgproc verify --cpu, equal expected folder', verify);
    const ratio = b.bestWallS / a.bestWallS;
    const cpuRatio = b.medianCpuS / a.medianCpuS;
    const lines = [
      `| command | best wall s | median wall s | median CPU s | peak RSS MiB |`,
      `|---|---:|---:|---:|---:|`,
      ...[a, b].map(
        (r) =>
          `| ${r.name} | ${r.bestWallS.toFixed(2)} | ${r.medianWallS.toFixed(2)} | ${r.medianCpuS.toFixed(2)} | ${r.peakRssMiB.toFixed(0)} |`,
      ),
      '',
      `verify / run: ${ratio.toFixed(2)}x wall (best of ${runs}), ${cpuRatio.toFixed(2)}x CPU (median); target at most ${TARGET}x: ${ratio <= TARGET ? 'met' : 'NOT met'}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
    if (ratio > TARGET) process.exitCode = 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
