import { UsageError } from '../errors.js';
import { parseNumber } from '../config/validate.js';

/**
 * Limits for one image output. A measure set to `null` is not computed; `verify` fails the output
 * when any computed measure is past its limit.
 */
export interface ImageTolerance {
  /** pixelmatch's per-pixel threshold: the OKLab distance (0-1) under which pixels count as equal. */
  threshold: number;
  /** Largest share (0-1) of pixels that pixelmatch may find different. */
  mismatch: number | null;
  /** Smallest mean SSIM (luma, ssim.js). */
  ssim: number | null;
  /** Largest |mean difference| of any channel, in 8-bit levels: catches a uniform colour shift. */
  shift: number | null;
}

export interface Tolerances {
  thumb: ImageTolerance;
  blur: ImageTolerance;
  lq: ImageTolerance;
  /** Every responsive width (`w320`, `w640`, …). */
  widths: ImageTolerance;
  /** Largest CIE76 ΔE between palette colours and between colour roles. */
  palette: { deltaE: number };
  /** Largest mean absolute difference, in levels, between decoded placeholders (data URL, hashes). */
  placeholder: { difference: number };
}

export type ToleranceGroup = keyof Tolerances;

/**
 * Chosen by measurement over the fixtures (`npm run bench -- --verify-tolerances`; the README
 * lists the figures): the C++ reference of the CUDA kernels and WebP effort 0 and 6 pass; a
 * colour shift of 3 levels, a one-pixel shift or crop, a wrong orientation, lost alpha and a
 * changed palette fail. A blur sigma changed by less than half is within encoder noise in pixels;
 * the options hash names it.
 */
export const DEFAULT_TOLERANCES: Readonly<Tolerances> = Object.freeze({
  thumb: { threshold: 0.05, mismatch: 0.02, ssim: null, shift: 1.5 },
  blur: { threshold: 0.1, mismatch: 0.01, ssim: null, shift: 1.5 },
  lq: { threshold: 0.1, mismatch: null, ssim: 0.9, shift: 2.5 },
  widths: { threshold: 0.1, mismatch: null, ssim: 0.9, shift: 2.5 },
  palette: { deltaE: 10 },
  placeholder: { difference: 6 },
});

/** Which tolerance group an output name belongs to. */
export function groupOf(output: string): 'thumb' | 'blur' | 'lq' | 'widths' {
  if (output === 'thumb' || output === 'blur' || output === 'lq') return output;
  return 'widths';
}

type Entry = { key: string; min: number; max: number; nullable: boolean };

const IMAGE_KEYS: Entry[] = [
  { key: 'threshold', min: 0, max: 1, nullable: false },
  { key: 'mismatch', min: 0, max: 1, nullable: true },
  { key: 'ssim', min: -1, max: 1, nullable: true },
  { key: 'shift', min: 0, max: 255, nullable: true },
];

const KEYS: Record<ToleranceGroup, Entry[]> = {
  thumb: IMAGE_KEYS,
  blur: IMAGE_KEYS,
  lq: IMAGE_KEYS,
  widths: IMAGE_KEYS,
  palette: [{ key: 'deltaE', min: 0, max: 200, nullable: false }],
  placeholder: [{ key: 'difference', min: 0, max: 255, nullable: false }],
};

/** Every settable name, as `group.measure`: for messages and the README. */
export const TOLERANCE_NAMES: readonly string[] = Object.entries(KEYS).flatMap(([g, entries]) =>
  entries.map((e) => `${g}.${e.key}`),
);

export function cloneTolerances(t: Readonly<Tolerances>): Tolerances {
  return structuredClone(t) as Tolerances;
}

/** Sets one `group.measure` from text; `off` disables a measure that may be disabled. */
export function setTolerance(t: Tolerances, name: string, value: string | number | null): void {
  const [group = '', key = '', ...rest] = name.split('.');
  const entry = (KEYS as Record<string, Entry[] | undefined>)[group]?.find((e) => e.key === key);
  if (!entry || rest.length > 0) {
    throw new UsageError(
      `Expected one of ${TOLERANCE_NAMES.join(', ')} for tolerance but received "${name}"`,
    );
  }
  const target = t[group as ToleranceGroup] as unknown as Record<string, number | null>;
  if (value === null || (typeof value === 'string' && value.trim() === 'off')) {
    if (!entry.nullable) {
      throw new UsageError(`tolerance ${name} cannot be turned off; give a number`);
    }
    target[key] = null;
    return;
  }
  target[key] = parseNumber(`tolerance ${name}`, String(value), entry.min, entry.max);
}

/** `thumb.mismatch=0.02,lq.ssim=0.97` (from --tolerance, given once or several times). */
export function applyToleranceFlags(t: Tolerances, flags: readonly string[]): void {
  for (const flag of flags) {
    for (const part of flag.split(',')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      if (eq < 0) {
        throw new UsageError(
          `Expected name=value (for example thumb.mismatch=0.02) for tolerance but received "${part}"`,
        );
      }
      setTolerance(t, part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }
}

/** The `tolerances` object of a config file: `{"thumb": {"mismatch": 0.02}, "palette": {…}}`. */
export function applyToleranceObject(t: Tolerances, value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${where}: "tolerances" must be an object like {"thumb": {"shift": 2}}`);
  }
  for (const [group, measures] of Object.entries(value as Record<string, unknown>)) {
    if (typeof measures !== 'object' || measures === null || Array.isArray(measures)) {
      throw new UsageError(`${where}: tolerances.${group} must be an object`);
    }
    for (const [key, v] of Object.entries(measures as Record<string, unknown>)) {
      if (v !== null && typeof v !== 'number' && v !== 'off') {
        throw new UsageError(`${where}: tolerances.${group}.${key} must be a number or "off"`);
      }
      setTolerance(t, `${group}.${key}`, v as number | string | null);
    }
  }
}
