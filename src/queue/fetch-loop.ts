import { isUtf8 } from 'node:buffer';
import type { Redis } from 'ioredis';
import { ImageInputError, errorMessage } from '../errors.js';
import { jobIdentityOf, notUtf8, type JobIdentity } from './job.js';
import { jobStatus } from './job-status.js';
import type { Logger } from './logger.js';
import { recordFailure, recordSuccess, type OutcomeContext } from './outcomes.js';
import type { QueueScripts } from './scripts.js';
import { sleep } from './settings.js';
import type { InFlightJob, JobHandler } from './types.js';

/** What a fetch loop needs from its worker; read afresh each time (the id can change). */
export interface FetchLoopContext {
  scripts: QueueScripts;
  handler: JobHandler;
  blockTimeoutS: number;
  /** How long a job's status key outlives its last change. */
  statusTtlMs: number;
  /** Jobs being processed, by a sequence number of this daemon. */
  inFlight: Map<number, InFlightJob>;
  nextSequence: () => number;
  blockingClient: () => Redis;
  isStopping: () => boolean;
  workerId: () => string;
  log: () => Logger;
  outcomes: () => OutcomeContext;
  onInFlightChange: (delta: 1 | -1) => void;
}

/**
 * Fetches and runs jobs one at a time until the worker stops. Each job moves atomically to the
 * processing list; its outcome is recorded while the next fetch travels, and at most one
 * recording is pending per loop so that a slow Redis holds the loop back.
 */
export async function runFetchLoop(ctx: FetchLoopContext): Promise<void> {
  let blocking: Redis | undefined;
  const blockingClient = () => (blocking ??= ctx.blockingClient());
  let failuresInARow = 0;
  let recorded: Promise<void> = Promise.resolve();
  while (!ctx.isStopping()) {
    try {
      const job = await fetchNext(ctx, blockingClient);
      failuresInARow = 0;
      if (job) {
        await recorded;
        ({ recorded } = await processJob(ctx, job.raw, job.failures, job.crashes));
      }
    } catch (err) {
      if (ctx.isStopping()) break;
      failuresInARow++;
      ctx.log().warn(`fetch failed: ${errorMessage(err)}`);
      await sleep(Math.min(5000, 100 * 2 ** failuresInARow));
    }
  }
  await recorded;
}

async function fetchNext(ctx: FetchLoopContext, blockingClient: () => Redis) {
  const workerId = ctx.workerId();
  const job = await ctx.scripts.fetch(workerId);
  if (job || ctx.isStopping()) return job;
  // Nothing pending: block on the queue (on this loop's own connection) until a job arrives.
  return ctx.scripts.fetchBlocking(blockingClient(), workerId, ctx.blockTimeoutS);
}

/**
 * Runs the handler; once it has finished, resolves with the promise of recording the outcome,
 * which the loop lets travel in the same round trip as its next fetch.
 */
async function processJob(
  ctx: FetchLoopContext,
  raw: Buffer,
  failures: number,
  crashes: number,
): Promise<{ recorded: Promise<void> }> {
  const sequence = ctx.nextSequence();
  const text = raw.toString('utf8');
  const identity = jobIdentityOf(text);
  const id = identity?.id ?? '(unparsed)';
  const attempt = failures + 1;
  const heldBy = ctx.workerId();
  const started = performance.now();
  ctx.inFlight.set(sequence, { raw, id, heldBy, startedAt: Date.now() });
  ctx.onInFlightChange(1);
  const log = ctx.log().child(identity ? { job: id, input: identity.input } : { job: id });
  // Set once the id is bound to this job: only then does its status key speak for this job.
  let bound: JobIdentity | undefined;
  const finished = () => ({
    raw,
    heldBy,
    attempt,
    durationMs: performance.now() - started,
    log,
    job: bound,
    crashes,
  });
  let record: () => Promise<void>;
  try {
    if (!isUtf8(raw)) throw notUtf8('the job');
    if (identity) {
      await begin(ctx, identity, attempt, crashes, heldBy);
      bound = identity;
    }
    const result = await ctx.handler(text, { attempt, workerId: heldBy });
    record = () => recordSuccess(ctx.outcomes(), finished(), result);
  } catch (err) {
    record = () => recordFailure(ctx.outcomes(), finished(), err);
  }
  const recorded = record()
    .catch((err: unknown) => {
      // Only Redis can fail here; the job stays in the processing list for the reaper.
      log.error(`could not record the outcome: ${errorMessage(err)}`);
    })
    .finally(() => {
      ctx.inFlight.delete(sequence);
      ctx.onInFlightChange(-1);
    });
  return { recorded };
}

/** Marks the job processing; a job whose id is bound to another input fails for good. */
async function begin(
  ctx: FetchLoopContext,
  job: JobIdentity,
  attempt: number,
  crashes: number,
  worker: string,
): Promise<void> {
  const status = jobStatus({
    ...job,
    state: 'processing',
    attempts: attempt + crashes,
    crashes: crashes || undefined,
    worker,
  });
  const other = await ctx.scripts.beginJob(job.id, job.input, status, ctx.statusTtlMs);
  if (other !== undefined) {
    throw new ImageInputError(
      'ID_CONFLICT',
      `id "${job.id}" belongs to another input ("${other}")`,
      'give each input its own id, or leave "id" out to have one derived from the job',
    );
  }
}
