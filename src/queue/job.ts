import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { join, posix, relative, resolve } from 'node:path';
import { resolveOutputOptions, type ProcessingOptions } from '../config/options.js';
import { ImageInputError, errorMessage } from '../errors.js';
import type { ImageTask } from '../pipeline/types.js';
import { isInside, realInside } from '../paths.js';
import { isObjectUrl, objectAllowed, outputRoot } from '../storage/index.js';
import { QUEUE_JOB_KEYS, parseJobEntry, type JobEntry } from '../plan/job-entry.js';

/**
 * A queue job as producers write it: `{"id":"42","input":"uploads/a.jpg","ops"?:["thumb"],
 * "options"?:{"thumbWidth":320,"quality":{"thumb":82}},"out"?:"processed"}`, checked, with its id.
 * `out` is the output root relative to --data-dir; outputs go to `<out>/<id>/<id>_thumb.webp`.
 */
export interface QueueJob extends JobEntry {
  id: string;
}

export const DEFAULT_OUT = 'processed';

const PRODUCER_HINT = 'fix the producer that wrote this job';

function badJob(message: string): ImageInputError {
  return new ImageInputError('BAD_JOB', message, PRODUCER_HINT);
}

/** JSON with every object's keys sorted and no spaces: one text for one value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A job without an id is named after everything it asks for (input, ops, options, out), so the
 * same job always lands in one place and jobs that ask for different work never share one:
 * `j` + the first 20 hex digits of the SHA-256 of the job's canonical JSON without `id`.
 */
export function deriveJobId(job: Record<string, unknown>): string {
  const { id: _id, ...work } = job;
  return 'j' + createHash('sha256').update(canonicalJson(work)).digest('hex').slice(0, 20);
}

/** The form in which two spellings of one input path compare equal (`./a//b.jpg` is `a/b.jpg`). */
export function inputKey(input: string): string {
  if (isObjectUrl(input)) return input;
  return posix.normalize(input.split('\\').join('/'));
}

/** A string holding half of a UTF-16 surrogate pair: no file name can be written that way. */
function hasLoneSurrogate(s: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** Why a path given in a job can never name a file here: it is not UTF-8 text. */
export function notUtf8(what: string): ImageInputError {
  return badJob(
    `${what} is not valid UTF-8: file names in a job must be UTF-8 JSON strings (rename the file to a UTF-8 name)`,
  );
}

/** Parses and checks a raw job; throws a permanent BAD_JOB error for anything malformed. */
export function parseJob(raw: string): QueueJob {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw badJob(`malformed JSON: ${errorMessage(err)}`);
  }
  let entry: JobEntry;
  try {
    entry = parseJobEntry(value, QUEUE_JOB_KEYS);
  } catch (err) {
    throw badJob(errorMessage(err));
  }
  if (hasLoneSurrogate(entry.input)) throw notUtf8('"input"');
  if (entry.out !== undefined && hasLoneSurrogate(entry.out)) throw notUtf8('"out"');
  return { ...entry, id: entry.id ?? deriveJobId(value as Record<string, unknown>) };
}

/** A job's id and its input as the job names it. */
export interface JobIdentity {
  id: string;
  input: string;
}

/** Best effort, for log lines and job status; undefined for a job that does not parse. */
export function jobIdentityOf(raw: string): JobIdentity | undefined {
  try {
    const { id, input } = parseJob(raw);
    return { id, input: inputKey(input) };
  } catch {
    return undefined;
  }
}

function unsafe(what: string, path: string): ImageInputError {
  return new ImageInputError(
    'UNSAFE_PATH',
    `${what} "${path}" is outside the data folder`,
    'jobs may only name paths inside --data-dir',
  );
}

/** Resolves a job path inside the (real) data folder; refuses `..`, absolute escapes, symlinks out. */
export async function resolveInside(dataDir: string, path: string, what: string): Promise<string> {
  const abs = resolve(dataDir, path);
  if (!isInside(dataDir, abs) || !(await realInside(dataDir, abs))) throw unsafe(what, path);
  return abs;
}

export interface TaskContext {
  /** Real path of --data-dir. */
  dataDir: string;
  processing: ProcessingOptions;
  /**
   * Absolute folders inside the data folder, or `s3://` prefixes, that jobs may write under; the
   * first is the default.
   */
  outputRoots?: readonly string[];
  /** The `s3://` prefixes jobs may read and write (--allow). */
  allow?: readonly string[];
}

/** An `s3://` location a job names, checked against --allow. */
function checkAllowed(location: string, what: string, allow: readonly string[], shown = location) {
  if (!objectAllowed(location, allow)) {
    throw new ImageInputError(
      'UNSAFE_PATH',
      `${what} "${shown}" is outside the allowed object locations`,
      allow.length
        ? `jobs may only name objects under ${allow.join(', ')} (--allow)`
        : 'the daemon allows no s3:// locations: start it with --allow s3://bucket/prefix',
    );
  }
}

/** Where a job's outputs go: its `out`, or the first output root; only under an output root. */
async function resolveOutDir(job: QueueJob, ctx: TaskContext): Promise<string> {
  const roots = ctx.outputRoots ?? [join(ctx.dataDir, DEFAULT_OUT)];
  const out = job.out ?? roots[0]!;
  if (isObjectUrl(out)) {
    const prefix = outputRoot(out);
    checkAllowed(`${prefix}/${job.id}/${job.id}.json`, 'out', ctx.allow ?? [], out);
    return prefix;
  }
  const outDir = resolve(ctx.dataDir, out);
  await resolveInside(ctx.dataDir, relative(ctx.dataDir, outDir), 'out');
  for (const root of roots) {
    if (isInside(root, outDir) && (await realInside(root, outDir))) return outDir;
  }
  const names = roots.map((r) => relative(ctx.dataDir, r) || '.').join(', ');
  throw new ImageInputError(
    'UNSAFE_PATH',
    `out "${job.out}" is not inside an output root (${names})`,
    'the daemon writes only under its --output-roots',
  );
}

/** A job's output folder, or the folder above it, that exists as something else is permanent. */
async function checkFolders(dataDir: string, dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    const st = await lstat(dir).catch(() => undefined);
    if (st && !st.isDirectory()) {
      throw new ImageInputError(
        'OUTPUT_CONFLICT',
        `${relative(dataDir, dir)} exists and is not a folder`,
        'remove it, or give the job another "out" or id',
      );
    }
  }
}

/** Builds the same ImageTask the batch command builds, from a checked job. */
export async function buildTask(job: QueueJob, ctx: TaskContext): Promise<ImageTask> {
  const ops = job.ops ?? ctx.processing.ops;
  let options = ctx.processing.output;
  try {
    if (job.options !== undefined) {
      options = resolveOutputOptions(job.options, ctx.processing.output, {});
    }
  } catch (err) {
    throw badJob(errorMessage(err));
  }
  let input: string;
  if (isObjectUrl(job.input)) {
    // A missing object is found by the pipeline's HEAD, as permanent as a missing file.
    checkAllowed(job.input, 'input', ctx.allow ?? []);
    input = job.input;
  } else {
    input = await resolveInside(ctx.dataDir, job.input, 'input');
    const st = await lstat(input).catch(() => undefined);
    if (!st) throw new ImageInputError('UNREADABLE', 'file not found', 'check the path');
  }
  const outDir = await resolveOutDir(job, ctx);
  if (!isObjectUrl(outDir)) {
    // A pre-existing <out>/<id> that is a symlink out of the data folder must not be written through.
    await resolveInside(
      ctx.dataDir,
      relative(ctx.dataDir, resolve(outDir, job.id)),
      'output folder',
    );
    await checkFolders(ctx.dataDir, [outDir, join(outDir, job.id)]);
  }
  return {
    input,
    sourceLabel: job.input,
    outDir,
    outputStem: `${job.id}/${job.id}`,
    ops,
    options,
    maxPixels: ctx.processing.maxPixels,
    force: false,
  };
}
