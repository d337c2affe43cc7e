import { extname, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { compareText } from './order.js';

/** Ids from manifests and queue jobs become folder names: keep them to a safe alphabet. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkJobId(id: string): string | undefined {
  if (!SAFE_ID.test(id) || id.includes('..')) {
    return `unsafe id "${id}": use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, no '..'`;
  }
  return undefined;
}

/** `trips/rome.jpg` → `trips/rome`; always '/'-separated, never absolute, never `..`. */
export function stemOf(relPath: string): string {
  // A backslash is an ordinary character in POSIX file names; it separates folders on Windows only.
  // On POSIX sep is '/' and only /\/+/ runs; the empty parts a split on single '/' would leave are
  // dropped by the filter, so its '+' changes nothing.
  // Stryker disable next-line StringLiteral,Regex: equivalent on POSIX, see above
  const separators = sep === '\\' ? /[\\/]+/ : /\/+/;
  const clean = relPath.split(separators).filter((p) => p && p !== '.');
  if (clean.some((p) => p === '..') || clean.length === 0) {
    throw new UsageError(`cannot derive an output name from "${relPath}"`);
  }
  const joined = clean.join('/');
  return joined.slice(0, joined.length - extname(joined).length) || joined;
}

export interface Named {
  /** Stable, unique key of the input (its absolute path). */
  key: string;
  /** Relative path the stem came from; its extension disambiguates. */
  relPath: string;
  stem: string;
  /** A caller-chosen name (a job id): never renamed, others move out of its way. */
  fixed?: boolean;
}

export interface Collision {
  stem: string;
  renamed: Array<{ relPath: string; stem: string; key: string }>;
}

/**
 * Two inputs that would write the same names (`a.jpg` and `a.png`, or the same relative path under
 * two roots) never overwrite each other: every member of a colliding group gets its extension
 * appended (`a_jpg`, `a_png`), then a counter if that is still not unique. Case-insensitively,
 * since outputs may land on a case-insensitive file system. Deterministic: independent of order.
 */
export function disambiguate<T extends Named>(items: T[]): { items: T[]; collisions: Collision[] } {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = item.stem.toLowerCase();
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  const taken = new Set(items.map((i) => i.stem.toLowerCase()));
  // The next counter to try per base name: each rename is then O(1), not a scan from 2.
  const nextCounter = new Map<string, number>();
  const collisions: Collision[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    group.sort((a, b) => compareText(a.key, b.key));
    const original = group[0]!.stem;
    const renamed: Collision['renamed'] = [];
    for (const item of group) {
      if (item.fixed) continue;
      const ext = extname(item.relPath).slice(1).toLowerCase() || 'noext';
      const base = `${item.stem}_${ext}`;
      let stem = base;
      let n = nextCounter.get(base.toLowerCase()) ?? 2;
      while (taken.has(stem.toLowerCase())) stem = `${base}_${n++}`;
      nextCounter.set(base.toLowerCase(), n);
      taken.add(stem.toLowerCase());
      item.stem = stem;
      renamed.push({ relPath: item.relPath, stem, key: item.key });
    }
    collisions.push({ stem: original, renamed });
  }
  return { items, collisions };
}
