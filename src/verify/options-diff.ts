import { DEFAULT_OUTPUT_OPTIONS } from '../config/options.js';
import { ALL_OPS, type OpName, type OutputOptions } from '../pipeline/types.js';
import { optionsHash } from '../pipeline/sidecar.js';
import type { LooseSidecar } from './sidecar-fields.js';

/** A sidecar records only a hash of its options: these are found by trying likely values. */
export interface InferredOptions {
  ops: OpName[];
  options: OutputOptions;
}

const OUTPUTS = ['thumb', 'blur', 'lq'] as const;

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let i = 0; from + i * step <= to + 1e-9; i++)
    out.push(Math.round((from + i * step) * 1e6) / 1e6);
  return out;
}

/** Every options object that differs from `base` in one setting, with likely values. */
function* singleChanges(base: OutputOptions): Generator<OutputOptions> {
  // A run with one setting changed compared with one made with the defaults.
  for (const key of Object.keys(DEFAULT_OUTPUT_OPTIONS) as (keyof OutputOptions)[]) {
    yield { ...base, [key]: DEFAULT_OUTPUT_OPTIONS[key] };
  }
  for (const thumbWidth of range(1, 4096, 1)) yield { ...base, thumbWidth };
  for (const blurSigma of range(0.3, 30, 0.1)) yield { ...base, blurSigma };
  for (const blurSigma of range(31, 100, 1)) yield { ...base, blurSigma };
  for (const lqScale of range(0.005, 1, 0.005)) yield { ...base, lqScale };
  for (const paletteSize of range(1, 32, 1)) yield { ...base, paletteSize };
  yield { ...base, keepMetadata: !base.keepMetadata };
  for (const [key, min, max] of [
    ['quality', 1, 100],
    ['effort', 0, 6],
  ] as const) {
    for (const v of range(min, max, 1)) {
      yield { ...base, [key]: { thumb: v, blur: v, lq: v } };
      for (const o of OUTPUTS) yield { ...base, [key]: { ...base[key], [o]: v } };
    }
  }
}

/** The ops a sidecar shows were asked for. */
export function opsOf(sidecar: LooseSidecar): OpName[] {
  const present = new Set([
    ...Object.keys(sidecar.outputs ?? {}),
    ...(sidecar.gradient ? ['gradient'] : []),
  ]);
  return ALL_OPS.filter((op) => present.has(op));
}

/**
 * The options that made `sidecar`, when they are `base` with at most one setting changed (plus
 * the ops its outputs show); undefined when no such guess reproduces its hash (another imgproc
 * version, or several settings changed).
 */
export function inferOptions(
  sidecar: LooseSidecar,
  base: OutputOptions,
): InferredOptions | undefined {
  const target = sidecar.options;
  if (typeof target !== 'string') return undefined;
  const ops = opsOf(sidecar);
  if (optionsHash(ops, base) === target) return { ops, options: base };
  for (const options of singleChanges(base)) {
    if (optionsHash(ops, options) === target) return { ops, options };
  }
  return undefined;
}

const FLAG_NAMES: Record<string, string> = {
  thumbWidth: 'thumb-width',
  blurSigma: 'blur-sigma',
  lqScale: 'lq-scale',
  quality: 'quality',
  effort: 'effort',
  paletteSize: 'palette-size',
  keepMetadata: 'keep-metadata',
};

function show(v: unknown): string {
  if (typeof v === 'object' && v !== null) {
    return Object.entries(v)
      .map(([k, x]) => `${k}=${String(x)}`)
      .join(',');
  }
  return String(v);
}

/** The settings (as flag names) whose values differ between two inferred option sets. */
export function optionDifferences(
  expected: InferredOptions,
  actual: InferredOptions,
): { option: string; expected: string; actual: string }[] {
  const out: { option: string; expected: string; actual: string }[] = [];
  if (expected.ops.join(',') !== actual.ops.join(',')) {
    out.push({ option: 'ops', expected: expected.ops.join(','), actual: actual.ops.join(',') });
  }
  const e = expected.options as unknown as Record<string, unknown>;
  const a = actual.options as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) {
    if (JSON.stringify(e[key]) !== JSON.stringify(a[key])) {
      out.push({ option: FLAG_NAMES[key] ?? key, expected: show(e[key]), actual: show(a[key]) });
    }
  }
  return out;
}
