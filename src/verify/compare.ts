// Slightly over 300 lines: the walk over both folders and the per-output comparison share state
// (the item list, the limiter, the inferred options) that splitting would only pass around.
import fg from 'fast-glob';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { DEFAULT_OUTPUT_OPTIONS } from '../config/options.js';
import type { OutputOptions } from '../pipeline/types.js';
import { inferOptions, opsOf, optionDifferences, type InferredOptions } from './options-diff.js';
import { PREVIEW_NAME } from './preview.js';
import { decodeRgba, measurePixels, type PixelMeasures } from './pixels.js';
import { compareSidecars, type LooseSidecar } from './sidecar-fields.js';
import { groupOf, type ImageTolerance, type Tolerances } from './tolerances.js';
import type {
  Difference,
  ItemComparison,
  OptionDifference,
  OutputComparison,
  VerifyResult,
} from './types.js';

/** Options that change how outputs are encoded, not what they show: named, never failed on. */
const NOTE_ONLY_OPTIONS = ['quality', 'effort', 'keep-metadata'];

/** The committed configuration beside the outputs: never compared as an output. */
export const CONFIG_NAME = 'imgproc-verify.json';

export interface CompareOptions {
  tolerances: Tolerances;
  concurrency: number;
  /** The options of the current run, when it was made here: lets differing options be named. */
  actualOptions?: OutputOptions;
}

/** Every file under `dir`, '/'-separated and relative; hidden files (lock, temp) left out. */
async function listFiles(dir: string): Promise<string[]> {
  if (!(await stat(dir).catch(() => undefined))) return [];
  const files = await fg('**/*', {
    cwd: dir,
    dot: false,
    onlyFiles: true,
    followSymbolicLinks: false,
  });
  return files.filter((f) => f !== CONFIG_NAME && f !== PREVIEW_NAME).sort();
}

async function readSidecar(path: string): Promise<LooseSidecar | undefined> {
  try {
    const s = JSON.parse(await readFile(path, 'utf8')) as LooseSidecar;
    return s && s.version === 1 && typeof s.source === 'object' && typeof s.outputs === 'object'
      ? s
      : undefined;
  } catch {
    return undefined;
  }
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 2)}%`;

/** Measures past their limits, as differences. */
function judge(item: string, output: string, m: PixelMeasures, tol: ImageTolerance): Difference[] {
  const out: Difference[] = [];
  if (m.mismatch !== undefined && tol.mismatch !== null && m.mismatch > tol.mismatch) {
    out.push({
      item,
      output,
      measure: 'mismatch',
      value: m.mismatch,
      limit: tol.mismatch,
      message: `mismatch ${pct(m.mismatch)} of pixels > ${pct(tol.mismatch)} (threshold ${tol.threshold})`,
    });
  }
  if (m.ssim !== undefined && tol.ssim !== null && m.ssim < tol.ssim) {
    out.push({
      item,
      output,
      measure: 'ssim',
      value: m.ssim,
      limit: tol.ssim,
      message: `SSIM ${m.ssim.toFixed(4)} < ${tol.ssim}`,
    });
  }
  if (m.shift !== undefined && tol.shift !== null && m.shift > tol.shift) {
    out.push({
      item,
      output,
      measure: 'shift',
      value: m.shift,
      limit: tol.shift,
      message: `mean colour shift ${m.shift.toFixed(2)} levels > ${tol.shift}`,
    });
  }
  return out;
}

/** One output file of one item: byte-identical fast path, else size, alpha and pixel measures. */
async function compareOutput(
  item: string,
  name: string,
  path: string,
  dirs: { expected: string; actual: string },
  tolerances: Tolerances,
): Promise<{ output: OutputComparison; differences: Difference[] }> {
  const [eBytes, aBytes] = await Promise.all([
    readFile(join(dirs.expected, path)),
    readFile(join(dirs.actual, path)),
  ]);
  if (eBytes.equals(aBytes))
    return { output: { name, path, status: 'identical' }, differences: [] };
  const [e, a] = await Promise.all([decodeRgba(eBytes), decodeRgba(aBytes)]);
  const base = { name, path, width: a.width, height: a.height };
  if (e.width !== a.width || e.height !== a.height) {
    const message = `size ${a.width}x${a.height}, expected ${e.width}x${e.height}`;
    return {
      output: { ...base, status: 'differs' },
      differences: [
        {
          item,
          output: name,
          measure: 'size',
          message,
          value: `${a.width}x${a.height}`,
          limit: `${e.width}x${e.height}`,
        },
      ],
    };
  }
  if (e.hasAlpha !== a.hasAlpha) {
    // Structural, like a size: the pixel measures would only repeat it.
    const message = e.hasAlpha ? 'alpha channel lost' : 'alpha channel added';
    return {
      output: { ...base, status: 'differs' },
      differences: [{ item, output: name, measure: 'alpha', message }],
    };
  }
  const measures = measurePixels(e, a, tolerances[groupOf(name)]);
  const differences = judge(item, name, measures, tolerances[groupOf(name)]);
  return {
    output: { ...base, status: differences.length ? 'differs' : 'within', measures },
    differences,
  };
}

function statusOf(
  outputs: OutputComparison[],
  differences: Difference[],
): ItemComparison['status'] {
  if (differences.length > 0) return 'differs';
  return outputs.every((o) => o.status === 'identical') ? 'identical' : 'within';
}

/**
 * Compares an output folder with an expected one: the set of files, every sidecar's fields, every
 * output's pixels, and the options each sidecar's hash reveals.
 */
export async function compareFolders(
  expectedDir: string,
  actualDir: string,
  opts: CompareOptions,
): Promise<Omit<VerifyResult, 'failures' | 'seconds'>> {
  const dirs = { expected: expectedDir, actual: actualDir };
  const [eFiles, aFiles] = await Promise.all([listFiles(expectedDir), listFiles(actualDir)]);
  const aSet = new Set(aFiles);
  const eSet = new Set(eFiles);
  const limit = pLimit(opts.concurrency);
  const claimed = new Set<string>();
  const notes = new Set<string>();
  const optionCounts = new Map<string, OptionDifference>();
  const inferCache = new Map<string, InferredOptions | undefined>();
  const infer = (s: LooseSidecar, base: OutputOptions) => {
    const key = `${s.options}|${Object.keys(s.outputs).join(',')}|${Boolean(s.gradient)}|${JSON.stringify(base)}`;
    if (!inferCache.has(key)) inferCache.set(key, inferOptions(s, base));
    return inferCache.get(key);
  };

  const sidecarPaths = [...new Set([...eFiles, ...aFiles])].filter((f) => f.endsWith('.json'));
  const loaded = await Promise.all(
    sidecarPaths.map(async (p) => ({
      path: p,
      expected: eSet.has(p) ? await readSidecar(join(expectedDir, p)) : undefined,
      actual: aSet.has(p) ? await readSidecar(join(actualDir, p)) : undefined,
    })),
  );
  const items = await Promise.all(
    loaded
      .filter((s) => s.expected || s.actual)
      .map((s) =>
        limit(async (): Promise<ItemComparison> => {
          const item = String((s.expected ?? s.actual)!.source?.path ?? s.path);
          claimed.add(s.path);
          for (const o of Object.values(s.expected?.outputs ?? {})) claimed.add(o.path);
          for (const o of Object.values(s.actual?.outputs ?? {})) claimed.add(o.path);
          if (!s.actual || !s.expected) {
            const status: 'extra' | 'missing' = s.actual ? 'extra' : 'missing';
            const message = s.actual ? 'not in the expected folder' : 'missing from this run';
            const outputs = Object.entries((s.expected ?? s.actual)!.outputs).map(([name, o]) => ({
              name,
              path: o.path,
              status,
            }));
            return {
              item,
              sidecar: s.path,
              status,
              outputs,
              differences: [
                { item, output: 'sidecar', measure: status, message: `${message} (${s.path})` },
              ],
            };
          }
          const e = s.expected;
          const a = s.actual;
          const differences = await compareSidecars(item, e, a, opts.tolerances);
          if (e.backend !== a.backend)
            notes.add(`expected outputs made on ${e.backend}, these on ${a.backend}`);
          if (e.options !== a.options) {
            const ai = opts.actualOptions
              ? { ops: opsOf(a), options: opts.actualOptions }
              : infer(a, DEFAULT_OUTPUT_OPTIONS);
            const ei = ai && infer(e, ai.options);
            if (ai && ei) {
              for (const d of optionDifferences(ei, ai)) {
                const key = `${d.option}|${d.expected}|${d.actual}`;
                const seen = optionCounts.get(key) ?? {
                  ...d,
                  items: 0,
                  fails: !NOTE_ONLY_OPTIONS.includes(d.option),
                };
                seen.items++;
                optionCounts.set(key, seen);
              }
            } else {
              notes.add(
                'options hash differs and no single option explains it: another imgproc version, or several options changed',
              );
            }
          }
          const outputs: OutputComparison[] = [];
          const names = [...new Set([...Object.keys(e.outputs), ...Object.keys(a.outputs)])];
          await Promise.all(
            names.map(async (name) => {
              const eo = e.outputs[name];
              const ao = a.outputs[name];
              if (!eo || !ao || !eSet.has(eo.path) || !aSet.has(ao.path) || eo.path !== ao.path) {
                const missing = !ao || !aSet.has(ao.path);
                const path = (eo ?? ao)!.path;
                outputs.push({ name, path, status: missing ? 'missing' : 'extra' });
                differences.push({
                  item,
                  output: name,
                  measure: missing ? 'missing' : 'extra',
                  message: `${missing ? 'missing from this run' : 'not in the expected folder'} (${path})`,
                });
                return;
              }
              const r = await compareOutput(item, name, eo.path, dirs, opts.tolerances);
              outputs.push(r.output);
              differences.push(...r.differences);
            }),
          );
          outputs.sort((x, y) => names.indexOf(x.name) - names.indexOf(y.name));
          return {
            item,
            sidecar: s.path,
            status: statusOf(outputs, differences),
            outputs,
            differences,
          };
        }),
      ),
  );
  items.sort((x, y) => (x.item < y.item ? -1 : x.item > y.item ? 1 : 0));

  const files: Difference[] = [];
  for (const f of eFiles)
    if (!claimed.has(f) && !aSet.has(f))
      files.push({ item: f, output: 'file', measure: 'missing', message: 'missing from this run' });
  for (const f of aFiles)
    if (!claimed.has(f) && !eSet.has(f))
      files.push({
        item: f,
        output: 'file',
        measure: 'extra',
        message: 'not in the expected folder',
      });

  const count = (s: ItemComparison['status']) => items.filter((i) => i.status === s).length;
  const summary = {
    items: items.length,
    identical: count('identical'),
    within: count('within'),
    differs: count('differs'),
    missing: count('missing'),
    extra: count('extra'),
    inputsFailed: 0,
  };
  const options = [...optionCounts.values()];
  return {
    expectedDir,
    actualDir,
    passed:
      summary.differs + summary.missing + summary.extra + files.length === 0 &&
      !options.some((o) => o.fails),
    summary,
    items,
    files,
    options,
    notes: [...notes],
  };
}
