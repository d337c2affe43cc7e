import { createRequire } from 'node:module';
import { UsageError } from '../errors.js';

/** Messages of one shape: `Expected <what> for <name> but received "<value>"`. */
function expected(what: string, name: string, value: unknown): UsageError {
  return new UsageError(`Expected ${what} for ${name} but received "${String(value)}"`);
}

/**
 * The valid choice a mistyped `value` most likely meant, or undefined when none is close: at most
 * a third of the longer word's letters differ, so `format` never suggests `force`.
 */
export function didYouMean(value: string, choices: readonly string[]): string | undefined {
  if (choices.length === 0 || value === '') return undefined;
  // Loaded on a mistake only: a run that goes right never pays for it.
  const { closest, distance } = createRequire(import.meta.url)(
    'fastest-levenshtein',
  ) as typeof import('fastest-levenshtein');
  const lower = value.toLowerCase();
  const best = closest(
    lower,
    choices.map((c) => c.toLowerCase()),
  );
  const index = choices.findIndex((c) => c.toLowerCase() === best);
  const edits = distance(lower, best);
  return edits <= Math.floor(Math.max(lower.length, best.length) / 3) ? choices[index] : undefined;
}

export function parseInteger(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^[+]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw expected(`an integer between ${min} and ${max}`, name, value);
  }
  return n;
}

export function parseNumber(
  name: string,
  value: string,
  min: number,
  max: number,
  { minExclusive = false } = {},
): number {
  const n = Number(value);
  const tooLow = minExclusive ? n <= min : n < min;
  if (value.trim() === '' || !Number.isFinite(n) || tooLow || n > max) {
    const range = minExclusive
      ? `greater than ${min} and at most ${max}`
      : `between ${min} and ${max}`;
    throw expected(`a number ${range}`, name, value);
  }
  return n;
}

export function parseChoice<T extends string>(
  name: string,
  value: string,
  choices: readonly T[],
): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw expected(`one of ${choices.join(', ')}`, name, value);
}

export function parseList<T extends string>(
  name: string,
  value: string,
  choices: readonly T[],
): T[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0)
    throw expected(`a comma-separated list of ${choices.join(', ')}`, name, value);
  const out: T[] = [];
  for (const item of items) {
    const choice = parseChoice(name, item, choices);
    if (!out.includes(choice)) out.push(choice);
  }
  return out;
}

export function parseBoolean(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw expected('one of true, false, 1, 0', name, value);
}
