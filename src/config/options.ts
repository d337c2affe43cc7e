import { availableParallelism } from 'node:os';
import { BACKEND_CHOICES, type BackendChoice } from '../backends/backend.js';
import { UsageError } from '../errors.js';
import { defaultMaxMemory, formatBytes, parseByteSize } from '../pipeline/memory-budget.js';
import {
  ALL_OPS,
  type ImageOutputName,
  type OpName,
  type OutputOptions,
} from '../pipeline/types.js';
import {
  didYouMean,
  parseBoolean,
  parseChoice,
  parseInteger,
  parseList,
  parseNumber,
} from './validate.js';

export const DEFAULT_OUTPUT_OPTIONS: Readonly<OutputOptions> = Object.freeze({
  thumbWidth: 256,
  blurSigma: 6,
  lqScale: 0.5,
  // A preview that fills a 1280 px viewport: 43% fewer lq bytes on the benchmark corpus than
  // uncapped, the largest file 365 KiB instead of 956 (npm run bench -- --lq-cap).
  lqMaxWidth: 1280,
  widths: Object.freeze([]),
  quality: Object.freeze({ thumb: 80, blur: 60, lq: 50 }),
  // The half-size copy is most of the encode time: effort 2 halves it for 6-13% more bytes.
  effort: Object.freeze({ thumb: 4, blur: 4, lq: 2 }),
  paletteSize: 6,
  keepMetadata: false,
});

/**
 * Images in flight per core: two keep both cores busy through each image's single-threaded stages
 * (file reads, JS work, the small encodes); measured 8-18% faster than one on the benchmark corpus.
 */
export const DEFAULT_CONCURRENCY_PER_CORE = 2;

/** sharp's own ceiling is 16383²; a web photo pipeline has no use for more than this. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Everything the pipeline and the front ends need, after flags, environment and defaults merged. */
export interface ProcessingOptions {
  ops: OpName[];
  output: OutputOptions;
  maxPixels: number;
  /** Bytes the images in flight may take together (--max-memory). */
  maxMemory: number;
  concurrency: number;
  force: boolean;
  backend: BackendChoice;
  gpu: number;
  gpuTimeoutMs: number;
}

/** Raw option values as strings or booleans, from commander or a job's overrides. */
export type RawOptions = Record<string, string | boolean | undefined>;

const OUTPUT_NAMES: readonly ImageOutputName[] = ['thumb', 'blur', 'lq'];

/**
 * A per-output setting: one number sets all three (`75`), `name=value` pairs set some
 * (`thumb=82,lq=45`).
 */
export function parsePerOutput(
  setting: string,
  value: string,
  min: number,
  max: number,
  base: Readonly<Record<ImageOutputName, number>>,
): Record<ImageOutputName, number> {
  const out = { ...base };
  if (!value.includes('=')) {
    const n = parseInteger(setting, value.trim(), min, max);
    for (const k of OUTPUT_NAMES) out[k] = n;
    return out;
  }
  for (const part of value.split(',')) {
    const [key = '', raw = ''] = part.split('=').map((s) => s.trim());
    const name = parseChoice(`${setting} output`, key, OUTPUT_NAMES);
    out[name] = parseInteger(`${setting} of ${name}`, raw, min, max);
  }
  return out;
}

/** `320,640,1280` → ascending distinct widths; an empty value means none. */
export function parseWidths(value: string): number[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const widths = items.map((item) => parseInteger('widths', item, 1, 16383));
  return [...new Set(widths)].sort((a, b) => a - b);
}

export function parseQuality(
  value: string,
  base: Readonly<Record<ImageOutputName, number>> = DEFAULT_OUTPUT_OPTIONS.quality,
): Record<ImageOutputName, number> {
  return parsePerOutput('quality', value, 1, 100, base);
}

export function parseEffort(
  value: string,
  base: Readonly<Record<ImageOutputName, number>> = DEFAULT_OUTPUT_OPTIONS.effort,
): Record<ImageOutputName, number> {
  return parsePerOutput('effort', value, 0, 6, base);
}

/** Flag name (camelCase, as commander gives it) → environment variable. */
export function envName(flag: string): string {
  return 'IMGPROC_' + flag.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

/** The flag's value, else IMGPROC_* from the environment, else undefined. */
export function pick(
  raw: RawOptions,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
): string | boolean | undefined {
  const v = raw[key];
  if (v !== undefined) return v;
  return env[envName(key)];
}

function str(v: string | boolean | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}

function bool(name: string, v: string | boolean | undefined): boolean {
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  return parseBoolean(name, v);
}

/** The output-affecting options; `base` lets a job override only what it names. */
export function resolveOutputOptions(
  raw: RawOptions,
  base: Readonly<OutputOptions> = DEFAULT_OUTPUT_OPTIONS,
  env: NodeJS.ProcessEnv = process.env,
): OutputOptions {
  const get = (k: string) => str(pick(raw, k, env));
  const thumbWidth = get('thumbWidth');
  const blurSigma = get('blurSigma');
  const lqScale = get('lqScale');
  const lqMaxWidth = get('lqMaxWidth');
  const widths = get('widths');
  const quality = get('quality');
  const effort = get('effort');
  const paletteSize = get('paletteSize');
  const keepMetadata = pick(raw, 'keepMetadata', env);
  return {
    thumbWidth:
      thumbWidth === undefined
        ? base.thumbWidth
        : parseInteger('thumb-width', thumbWidth, 1, 16383),
    blurSigma:
      blurSigma === undefined ? base.blurSigma : parseNumber('blur-sigma', blurSigma, 0.3, 100),
    lqScale:
      lqScale === undefined
        ? base.lqScale
        : parseNumber('lq-scale', lqScale, 0, 1, { minExclusive: true }),
    lqMaxWidth:
      lqMaxWidth === undefined
        ? base.lqMaxWidth
        : parseInteger('lq-max-width', lqMaxWidth, 1, 16383),
    widths: widths === undefined ? [...base.widths] : parseWidths(widths),
    quality: quality === undefined ? { ...base.quality } : parseQuality(quality, base.quality),
    effort: effort === undefined ? { ...base.effort } : parseEffort(effort, base.effort),
    paletteSize:
      paletteSize === undefined
        ? base.paletteSize
        : parseInteger('palette-size', paletteSize, 1, 32),
    keepMetadata:
      keepMetadata === undefined ? base.keepMetadata : bool('keep-metadata', keepMetadata),
  };
}

export function resolveOps(raw: RawOptions, env: NodeJS.ProcessEnv = process.env): OpName[] {
  const v = str(pick(raw, 'ops', env));
  return v === undefined ? [...ALL_OPS] : parseList('ops', v, ALL_OPS);
}

/** Below this not even a small photo fits: a typo ("512" for 512 MiB) is refused, not obeyed. */
const MIN_MAX_MEMORY = 16 * 1024 * 1024;

function parseMaxMemory(value: string): number {
  const bytes = parseByteSize(value);
  if (bytes === undefined || bytes < MIN_MAX_MEMORY) {
    throw new UsageError(
      `Expected a size of at least ${formatBytes(MIN_MAX_MEMORY)} (like 4GiB or 512MiB) for max-memory but received "${value}"`,
    );
  }
  return bytes;
}

export function resolveProcessingOptions(
  raw: RawOptions,
  env: NodeJS.ProcessEnv = process.env,
): ProcessingOptions {
  const get = (k: string) => str(pick(raw, k, env));
  const concurrency = get('concurrency');
  const maxPixels = get('maxPixels');
  const maxMemory = get('maxMemory');
  const gpu = get('gpu');
  const gpuTimeout = get('gpuTimeout');
  const cpu = bool('cpu', pick(raw, 'cpu', env));
  const backendRaw = get('backend');
  let backend: BackendChoice =
    backendRaw === undefined ? 'auto' : parseChoice('backend', backendRaw, BACKEND_CHOICES);
  if (cpu) {
    if (backendRaw !== undefined && backend !== 'cpu') {
      throw new UsageError(`--cpu contradicts --backend ${backend}; give one of them`);
    }
    backend = 'cpu';
  }
  return {
    ops: resolveOps(raw, env),
    output: resolveOutputOptions(raw, DEFAULT_OUTPUT_OPTIONS, env),
    maxPixels:
      maxPixels === undefined
        ? DEFAULT_MAX_PIXELS
        : parseInteger('max-pixels', maxPixels, 1, Number.MAX_SAFE_INTEGER),
    maxMemory: maxMemory === undefined ? defaultMaxMemory() : parseMaxMemory(maxMemory),
    concurrency:
      concurrency === undefined
        ? DEFAULT_CONCURRENCY_PER_CORE * availableParallelism()
        : parseInteger('concurrency', concurrency, 1, 256),
    force: bool('force', pick(raw, 'force', env)),
    backend,
    gpu: gpu === undefined ? 0 : parseInteger('gpu', gpu, 0, 64),
    gpuTimeoutMs:
      gpuTimeout === undefined
        ? 30_000
        : Math.round(
            parseNumber('gpu-timeout (seconds)', gpuTimeout, 0, 3600, { minExclusive: true }) *
              1000,
          ),
  };
}

/** Option names a manifest entry or a queue job may override, in camelCase. */
export const JOB_OPTION_KEYS = [
  'thumbWidth',
  'blurSigma',
  'lqScale',
  'lqMaxWidth',
  'widths',
  'quality',
  'effort',
  'paletteSize',
  'keepMetadata',
] as const;

/**
 * A job's `options` object (JSON) → raw overrides for `resolveOutputOptions`. `quality` and
 * `effort` may be a number or a per-output object like `{"thumb": 85}`; `widths` an array of
 * numbers or a comma-separated string.
 */
export function jobOptionOverrides(options: unknown): RawOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new UsageError('"options" must be an object like {"thumbWidth": 320}');
  }
  const raw: RawOptions = {};
  for (const [k, v] of Object.entries(options as Record<string, unknown>)) {
    if (!(JOB_OPTION_KEYS as readonly string[]).includes(k)) {
      const guess = didYouMean(k, JOB_OPTION_KEYS);
      const hint = guess ? ` (did you mean "${guess}"?)` : '';
      throw new UsageError(
        `unknown option "${k}"${hint}; valid options are ${JOB_OPTION_KEYS.join(', ')}`,
      );
    }
    if ((k === 'quality' || k === 'effort') && typeof v === 'object' && v !== null) {
      raw[k] = Object.entries(v as Record<string, unknown>)
        .map(([o, q]) => `${o}=${String(q)}`)
        .join(',');
    } else if (k === 'widths' && Array.isArray(v)) {
      raw[k] = v.map((w) => String(w)).join(',');
    } else if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') {
      raw[k] = typeof v === 'boolean' ? v : String(v);
    } else {
      throw new UsageError(`option "${k}" must be a number, a string or a boolean`);
    }
  }
  return raw;
}
