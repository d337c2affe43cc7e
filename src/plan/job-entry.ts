import { readFile } from 'node:fs/promises';
import {
  DEFAULT_OUTPUT_OPTIONS,
  jobOptionOverrides,
  resolveOps,
  resolveOutputOptions,
  type RawOptions,
} from '../config/options.js';
import { didYouMean } from '../config/validate.js';
import { FatalError, ImageInputError, errorMessage } from '../errors.js';
import type { OpName } from '../pipeline/types.js';
import { checkJobId } from './naming.js';

/**
 * One job as a manifest entry or a queue job gives it, checked: `{"input": "a.jpg", "id"?: "42",
 * "ops"?: ["thumb"] or "thumb,lq", "options"?: {"thumbWidth": 320}, "out"?: "processed"}`.
 */
export interface JobEntry {
  input: string;
  id?: string;
  ops?: OpName[];
  /** Checked overrides, to resolve on top of the front end's own output options. */
  options?: RawOptions;
  /** Queue jobs only: output root relative to the data folder. */
  out?: string;
}

export type JobEntryKey = keyof JobEntry;

/** What a batch manifest entry may hold. */
export const MANIFEST_KEYS: readonly JobEntryKey[] = ['input', 'id', 'ops', 'options'];
/** What a queue job (and so an `enqueue` manifest entry) may hold. */
export const QUEUE_JOB_KEYS: readonly JobEntryKey[] = [...MANIFEST_KEYS, 'out'];

/** Deeper than any valid job (entry → options → quality is three); stops a stack overflow later. */
const MAX_DEPTH = 16;

function badEntry(message: string): ImageInputError {
  return new ImageInputError('BAD_JOB', message);
}

/** Whether a parsed JSON value nests deeper than `max`, without recursion. */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v as object)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Checks one parsed entry with the same rules for every front end. Throws a BAD_JOB
 * `ImageInputError` naming the first problem; unknown keys are refused with a did-you-mean.
 */
export function parseJobEntry(value: unknown, keys: readonly JobEntryKey[]): JobEntry {
  if (nestsDeeperThan(value, MAX_DEPTH)) {
    throw badEntry(`nested more than ${MAX_DEPTH} levels deep; a job is a flat JSON object`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badEntry('expected a JSON object like {"input": "a.jpg"}');
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if ((keys as readonly string[]).includes(key)) continue;
    const guess = didYouMean(key, keys);
    throw badEntry(
      `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}; ` +
        `valid keys are ${keys.join(', ')}`,
    );
  }
  if (typeof v.input !== 'string' || v.input.trim() === '') {
    throw badEntry('missing "input" (a path to an image)');
  }
  if (v.input.includes('\0')) throw badEntry('"input" contains a NUL byte');
  const entry: JobEntry = { input: v.input };
  if (v.id !== undefined && v.id !== null && v.id !== '') {
    if (typeof v.id !== 'string' && !Number.isFinite(v.id)) {
      throw badEntry('"id" must be a string');
    }
    const bad = checkJobId(String(v.id));
    if (bad) throw badEntry(bad);
    entry.id = String(v.id);
  }
  if (v.ops !== undefined) {
    const list = typeof v.ops === 'string' ? v.ops : Array.isArray(v.ops) ? v.ops : undefined;
    if (list === undefined || (Array.isArray(list) && !list.every((o) => typeof o === 'string'))) {
      throw badEntry('"ops" must be an array like ["thumb", "lq"] or a string like "thumb,lq"');
    }
    entry.ops = settings(() =>
      resolveOps({ ops: Array.isArray(list) ? list.join(',') : list }, {}),
    );
  }
  if (v.options !== undefined) {
    const overrides = settings(() => jobOptionOverrides(v.options));
    settings(() => resolveOutputOptions(overrides, DEFAULT_OUTPUT_OPTIONS, {}));
    entry.options = overrides;
  }
  if (v.out !== undefined) {
    if (typeof v.out !== 'string' || v.out.trim() === '' || v.out.includes('\0')) {
      throw badEntry('"out" must be a folder path inside the data folder');
    }
    entry.out = v.out;
  }
  return entry;
}

/** A bad setting inside a job is the job's fault: the same error type as any other. */
function settings<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw badEntry(errorMessage(err));
  }
}

/** One item of a job list: where it is (`jobs.ndjson:3`, `jobs.json entry 3`) and its value. */
export type JobListItem =
  | { where: string; value: unknown; error?: undefined }
  | { where: string; error: string; value?: undefined };

/**
 * A JSON array of jobs, or NDJSON with one job a line (blank lines and `//` comment lines
 * skipped, `\r\n` accepted). A line that is not JSON is one item's error; a file that cannot be
 * used at all (unreadable, a broken array) is a FatalError.
 */
export async function readJobList(path: string): Promise<JobListItem[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FatalError(`cannot read manifest ${path}: ${errorMessage(err)}`);
  }
  return parseJobList(text.replace(/^\uFEFF/, ''), path);
}

export function parseJobList(text: string, path: string): JobListItem[] {
  if (text.trimStart().startsWith('[')) {
    let entries: unknown[];
    try {
      // The text starts with '[': whatever parses is an array.
      entries = JSON.parse(text) as unknown[];
    } catch (err) {
      throw new FatalError(`manifest ${path} is not valid JSON: ${errorMessage(err)}`);
    }
    return entries.map((value, i) => ({ where: `${path} entry ${i + 1}`, value }));
  }
  const items: JobListItem[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('//')) return;
    const where = `${path}:${i + 1}`;
    try {
      items.push({ where, value: JSON.parse(trimmed) });
    } catch (err) {
      items.push({ where, error: `not valid JSON: ${errorMessage(err)}` });
    }
  });
  return items;
}
