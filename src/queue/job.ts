import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { resolveOutputOptions, type ProcessingOptions } from '../config/options.js';
import { ImageInputError, errorMessage } from '../errors.js';
import type { ImageTask } from '../pipeline/types.js';
import { isInside, realInside } from '../paths.js';
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

/** A job without an id is named after its input, so the same input always lands in one place. */
export function deriveJobId(input: string): string {
  return 'j' + createHash('sha256').update(input).digest('hex').slice(0, 20);
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
  return { ...entry, id: entry.id ?? deriveJobId(entry.input) };
}

/** Best effort, for log lines and dead letters of jobs that do not parse. */
export function jobIdOf(raw: string): string | undefined {
  try {
    return parseJob(raw).id;
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
  const input = await resolveInside(ctx.dataDir, job.input, 'input');
  const st = await lstat(input).catch(() => undefined);
  if (!st) throw new ImageInputError('UNREADABLE', 'file not found', 'check the path');
  const outDir = await resolveInside(ctx.dataDir, job.out ?? DEFAULT_OUT, 'out');
  // A pre-existing <out>/<id> that is a symlink out of the data folder must not be written through.
  await resolveInside(ctx.dataDir, relative(ctx.dataDir, resolve(outDir, job.id)), 'output folder');
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
