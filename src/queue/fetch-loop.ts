import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import { jobIdOf } from './job.js';
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
        ({ recorded } = await processJob(ctx, job.raw, job.failures));
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
): Promise<{ recorded: Promise<void> }> {
  const sequence = ctx.nextSequence();
  const text = raw.toString('utf8');
  const id = jobIdOf(text) ?? '(unparsed)';
  const attempt = failures + 1;
  const heldBy = ctx.workerId();
  const started = performance.now();
  ctx.inFlight.set(sequence, { raw, id, heldBy, startedAt: Date.now() });
  ctx.onInFlightChange(1);
  const log = ctx.log().child({ job: id });
  let record: () => Promise<void>;
  try {
    const result = await ctx.handler(text, { attempt, workerId: heldBy });
    record = () =>
      recordSuccess(ctx.outcomes(), finished(raw, heldBy, attempt, started, log), result);
  } catch (err) {
    record = () => recordFailure(ctx.outcomes(), finished(raw, heldBy, attempt, started, log), err);
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

function finished(raw: Buffer, heldBy: string, attempt: number, started: number, log: Logger) {
  return { raw, heldBy, attempt, durationMs: performance.now() - started, log };
}
