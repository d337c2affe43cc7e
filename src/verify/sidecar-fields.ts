import { deltaE76, type Rgb } from '../gradient/colour.js';
import { decodePlaceholder } from './placeholders.js';
import { meanAbsDifference } from './pixels.js';
import type { Tolerances } from './tolerances.js';
import type { Difference } from './types.js';

/** A sidecar as read from disk: schema version 1, plus whatever additive fields it carries. */
export interface LooseSidecar {
  version: number;
  source: Record<string, unknown>;
  outputs: Record<string, { path: string; width: number; height: number; bytes: number }>;
  gradient?: Record<string, unknown>;
  backend?: string;
  options?: string;
}

const HEX = /^#[0-9A-Fa-f]{6}$/;

function rgbOf(hex: string): Rgb {
  const n = parseInt(hex.slice(1), 16);
  return { r: (n >> 16) & 255, g: (n >> 8) & 255, b: n & 255 };
}

function deltaE(a: string, b: string): number {
  return deltaE76(rgbOf(a), rgbOf(b));
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/**
 * Largest distance from a colour of either palette to the nearest colour of the other: palettes
 * of two backends may order near-equal colours differently, and that is no difference.
 */
export function paletteDistance(expected: readonly string[], actual: readonly string[]): number {
  const nearest = (c: string, others: readonly string[]) =>
    Math.min(...others.map((o) => deltaE(c, o)));
  if (expected.length === 0 || actual.length === 0) {
    return expected.length === actual.length ? 0 : Infinity;
  }
  return Math.max(
    ...expected.map((c) => nearest(c, actual)),
    ...actual.map((c) => nearest(c, expected)),
  );
}

/** The sidecar's facts: source, output sizes, gradient. Output pixels are compared elsewhere. */
export async function compareSidecars(
  item: string,
  expected: LooseSidecar,
  actual: LooseSidecar,
  tol: Tolerances,
): Promise<Difference[]> {
  const diffs: Difference[] = [];
  const differ = (
    output: string,
    measure: string,
    message: string,
    value?: number | string,
    limit?: number | string,
  ) => diffs.push({ item, output, measure, message, value, limit });

  for (const key of ['sha256', 'bytes', 'format', 'width', 'height', 'hasAlpha', 'path']) {
    const e = expected.source?.[key];
    const a = actual.source?.[key];
    if (e !== a) {
      const why = key === 'sha256' || key === 'bytes' ? ' (the input file has changed)' : '';
      differ(
        'source',
        key,
        `source.${key} is ${String(a)}, expected ${String(e)}${why}`,
        String(a),
        String(e),
      );
    }
  }
  for (const [name, e] of Object.entries(expected.outputs ?? {})) {
    const a = actual.outputs?.[name];
    if (!a) continue; // reported as a missing output with its file
    if (a.width !== e.width || a.height !== e.height) {
      differ(
        name,
        'size',
        `size ${a.width}x${a.height}, expected ${e.width}x${e.height}`,
        `${a.width}x${a.height}`,
        `${e.width}x${e.height}`,
      );
    }
  }
  await compareGradient(expected.gradient, actual.gradient, tol, differ);
  return diffs;
}

type Differ = (
  output: string,
  measure: string,
  message: string,
  value?: number | string,
  limit?: number | string,
) => void;

/** Fields compared with a measure; any other gradient field must be equal. */
const ROLE_FIELDS = ['primary', 'secondary'];
const PLACEHOLDER_FIELDS = ['blurDataUrl', 'thumbHash', 'blurHash'];

async function compareGradient(
  expected: Record<string, unknown> | undefined,
  actual: Record<string, unknown> | undefined,
  tol: Tolerances,
  differ: Differ,
): Promise<void> {
  if (!expected && !actual) return;
  if (!expected || !actual) {
    differ(
      'gradient',
      expected ? 'missing' : 'extra',
      expected ? 'gradient missing' : 'gradient not expected',
    );
    return;
  }
  const limit = tol.palette.deltaE;
  const e = expected;
  const a = actual;
  if (Array.isArray(e.palette) && Array.isArray(a.palette)) {
    const d = paletteDistance(e.palette as string[], a.palette as string[]);
    if (d > limit) {
      differ(
        'gradient.palette',
        'deltaE',
        `palette ΔE ${fmt(d)} > ${limit} ([${(a.palette as string[]).join(', ')}], expected [${(e.palette as string[]).join(', ')}])`,
        d,
        limit,
      );
    }
  }
  for (const role of ROLE_FIELDS) {
    const ev = e[role];
    const av = a[role];
    if (typeof ev === 'string' && typeof av === 'string' && HEX.test(ev) && HEX.test(av)) {
      const d = deltaE(ev, av);
      if (d > limit)
        differ(
          `gradient.${role}`,
          'deltaE',
          `${role} ${av}, expected ${ev} (ΔE ${fmt(d)} > ${limit})`,
          d,
          limit,
        );
    } else if (ev !== av) {
      differ(`gradient.${role}`, 'value', `${role} ${String(av)}, expected ${String(ev)}`);
    }
  }
  if (typeof e.css === 'string' && typeof a.css === 'string') {
    compareCss(e.css, a.css, limit, differ);
  }
  for (const field of PLACEHOLDER_FIELDS) {
    if (!(field in e) && !(field in a)) continue;
    const d = await placeholderDifference(field, e, a);
    if (d === undefined) {
      differ(
        `gradient.${field}`,
        'value',
        `${field} ${field in a ? 'is not the same kind of image' : 'missing'}`,
      );
    } else if (d > tol.placeholder.difference) {
      differ(
        `gradient.${field}`,
        'difference',
        `${field} differs by ${fmt(d)} levels on average > ${tol.placeholder.difference}`,
        d,
        tol.placeholder.difference,
      );
    }
  }
  const handled = new Set(['palette', 'css', ...ROLE_FIELDS, ...PLACEHOLDER_FIELDS]);
  for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) {
    if (handled.has(key)) continue;
    if (JSON.stringify(e[key]) !== JSON.stringify(a[key])) {
      differ(
        `gradient.${key}`,
        'value',
        `${key} ${JSON.stringify(a[key])}, expected ${JSON.stringify(e[key])}`,
      );
    }
  }
}

/** The CSS must be the same text once its colours are set aside; the colours within ΔE. */
function compareCss(e: string, a: string, limit: number, differ: Differ): void {
  const colours = /#[0-9A-Fa-f]{6}/g;
  const ec = e.match(colours) ?? [];
  const ac = a.match(colours) ?? [];
  if (e.replace(colours, '#') !== a.replace(colours, '#') || ec.length !== ac.length) {
    differ('gradient.css', 'value', `css "${a}", expected "${e}"`);
    return;
  }
  const worst = Math.max(0, ...ec.map((c, i) => deltaE(c, ac[i] as string)));
  if (worst > limit)
    differ(
      'gradient.css',
      'deltaE',
      `css "${a}", expected "${e}" (ΔE ${fmt(worst)} > ${limit})`,
      worst,
      limit,
    );
}

/** Mean absolute difference of two placeholders decoded to pixels; undefined when not comparable. */
async function placeholderDifference(
  field: string,
  e: Record<string, unknown>,
  a: Record<string, unknown>,
): Promise<number | undefined> {
  const [ei, ai] = await Promise.all([decodePlaceholder(field, e), decodePlaceholder(field, a)]);
  if (!ei || !ai || ei.width !== ai.width || ei.height !== ai.height) return undefined;
  return meanAbsDifference(ei, ai);
}
