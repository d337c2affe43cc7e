import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import {
  resolveOps,
  resolveOutputOptions,
  jobOptionOverrides,
  type ProcessingOptions,
} from '../config/options.js';
import { ImageInputError, errorMessage } from '../errors.js';
import type { ImageTask, OpName } from '../pipeline/types.js';
import { isInside, realInside } from '../paths.js';
import { checkJobId } from '../plan/naming.js';

/**
 * A queue job as producers write it: `{"id":"42","input":"uploads/a.jpg","ops"?:["thumb"],
 * "options"?:{"thumbWidth":320,"quality":{"thumb":82}},"out"?:"processed"}`.
 */
export interface QueueJob {
  id: string;
  input: string;
  ops?: string[] | string;
  options?: Record<string, unknown>;
  /** Output root relative to --data-dir; outputs go to `<out>/<id>/<id>_thumb.webp`. */
  out?: string;
}

export const DEFAULT_OUT = 'processed';

function badJob(message: string): ImageInputError {
  return new ImageInputError('BAD_JOB', message, 'fix the producer that wrote this job');
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
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badJob('a job must be a JSON object like {"id":"42","input":"uploads/a.jpg"}');
  }
  const v = value as Record<string, unknown>;
  if (typeof v.input !== 'string' || v.input.trim() === '') {
    throw badJob('missing "input" (a path inside the data folder)');
  }
  if (v.input.includes('\0')) throw badJob('"input" contains a NUL byte');
  let id: string;
  if (v.id === undefined || v.id === null || v.id === '') {
    id = deriveJobId(v.input);
  } else if (typeof v.id === 'string' || (typeof v.id === 'number' && Number.isFinite(v.id))) {
    id = String(v.id);
    const bad = checkJobId(id);
    if (bad) throw badJob(bad);
  } else {
    throw badJob('"id" must be a string');
  }
  const job: QueueJob = { id, input: v.input };
  if (v.ops !== undefined) {
    const okList = Array.isArray(v.ops) && v.ops.every((o) => typeof o === 'string');
    if (!okList && typeof v.ops !== 'string') {
      throw badJob('"ops" must be an array like ["thumb","gradient"]');
    }
    job.ops = v.ops as string[] | string;
  }
  if (v.options !== undefined) {
    if (typeof v.options !== 'object' || v.options === null || Array.isArray(v.options)) {
      throw badJob('"options" must be an object like {"thumbWidth":320}');
    }
    job.options = v.options as Record<string, unknown>;
  }
  if (v.out !== undefined) {
    if (typeof v.out !== 'string' || v.out.trim() === '' || v.out.includes('\0')) {
      throw badJob('"out" must be a folder path inside the data folder');
    }
    job.out = v.out;
  }
  return job;
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
  let ops: OpName[] = ctx.processing.ops;
  let options = ctx.processing.output;
  try {
    if (job.ops !== undefined) {
      ops = resolveOps({ ops: Array.isArray(job.ops) ? job.ops.join(',') : job.ops }, {});
    }
    if (job.options !== undefined) {
      options = resolveOutputOptions(jobOptionOverrides(job.options), ctx.processing.output, {});
    }
  } catch (err) {
    if (err instanceof ImageInputError) throw err;
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
