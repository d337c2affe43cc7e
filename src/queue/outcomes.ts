import { errorWithHint, isPermanent } from '../errors.js';
import type { JobIdentity } from './job.js';
import { jobStatus } from './job-status.js';
import type { Logger } from './logger.js';
import type { DaemonMetrics } from './metrics.js';
import type { QueueScripts } from './scripts.js';
import type { JobResult, WorkerBackendInfo, WorkerCounts } from './types.js';

/** Exponential backoff with ±20% jitter: 2 s, 4 s, 8 s … for base 2 s. */
export function retryDelayMs(attempt: number, baseMs: number, random = Math.random): number {
  return Math.round(baseMs * 2 ** (attempt - 1) * (0.8 + 0.4 * random()));
}

/** Durations for people and JSON readers alike: to a tenth of a millisecond. */
export function roundedMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** What recording an outcome needs from the worker. */
export interface OutcomeContext {
  scripts: QueueScripts;
  workerId: string;
  backend: WorkerBackendInfo;
  maxRetries: number;
  retryBaseMs: number;
  doneCap: number;
  statusTtlMs: number;
  counts: WorkerCounts;
  metrics?: DaemonMetrics;
}

/** One job's run: where it is held, which try this was, and how long it took. */
export interface FinishedRun {
  raw: Buffer;
  heldBy: string;
  attempt: number;
  durationMs: number;
  log: Logger;
  /** The job's id and input, when its status key is this run's to write. */
  job?: JobIdentity;
  /** Times a worker died running this job before this run. */
  crashes: number;
}

/** A status's attempts and crashes: tries whose worker died count as tries. */
function tries(run: FinishedRun): { attempts: number; crashes?: number } {
  return { attempts: run.attempt + run.crashes, crashes: run.crashes || undefined };
}

/** Records a result in the done list (once per job: see complete-5.lua). */
export async function recordSuccess(
  ctx: OutcomeContext,
  run: FinishedRun,
  result: JobResult,
): Promise<void> {
  const { id, ...fields } = result;
  const durationMs = roundedMs(run.durationMs);
  const record = JSON.stringify({
    id,
    ...fields,
    attempts: run.attempt,
    durationMs,
    worker: ctx.workerId,
    backend: ctx.backend.name,
  });
  const recorded = await ctx.scripts.complete(run.heldBy, run.raw, record, ctx.doneCap);
  if (recorded && run.job) {
    const outputs = fields.outputs as Record<string, string> | undefined;
    const sidecar = typeof fields.sidecar === 'string' ? fields.sidecar : undefined;
    const out = typeof fields.out === 'string' ? fields.out : undefined;
    const status = {
      ...run.job,
      state: 'done' as const,
      ...tries(run),
      out,
      outputs,
      sidecar,
    };
    await ctx.scripts.setJobStatus(
      run.job.id,
      jobStatus({ ...status, worker: ctx.workerId }),
      ctx.statusTtlMs,
    );
  }
  ctx.counts.jobsDone++;
  ctx.metrics?.done.inc();
  ctx.metrics?.duration.observe({ outcome: 'done' }, run.durationMs / 1000);
  if (recorded)
    run.log.info('done', { durationMs: roundedMs(run.durationMs), attempt: run.attempt });
  else {
    run.log.warn('done, but another worker had taken the job back; its result stands', {
      durationMs: roundedMs(run.durationMs),
    });
  }
}

/** A transient failure waits for its backoff in the retry set; the rest are dead-lettered. */
export async function recordFailure(
  ctx: OutcomeContext,
  run: FinishedRun,
  err: unknown,
): Promise<void> {
  const message = errorWithHint(err);
  const rawCode = (err as { code?: unknown } | undefined)?.code;
  const code = typeof rawCode === 'string' ? rawCode : 'ERROR';
  const permanent = isPermanent(err);
  if (!permanent && run.attempt <= ctx.maxRetries) {
    const delay = retryDelayMs(run.attempt, ctx.retryBaseMs);
    const moved = await ctx.scripts.scheduleRetry(run.heldBy, run.raw, delay);
    if (moved && run.job) {
      const status = jobStatus({
        ...run.job,
        state: 'retrying',
        ...tries(run),
        worker: ctx.workerId,
        error: message,
        code,
        retryAt: Date.now() + delay,
      });
      await ctx.scripts.setJobStatus(run.job.id, status, ctx.statusTtlMs);
    }
    ctx.counts.jobsRetried++;
    ctx.metrics?.retried.inc();
    run.log.warn(`failed (${message}); retry ${run.attempt} of ${ctx.maxRetries} in ${delay} ms`, {
      durationMs: roundedMs(run.durationMs),
    });
    return;
  }
  const moved = await ctx.scripts.deadLetter(run.heldBy, run.raw, {
    error: message,
    code,
    permanent,
    attempts: run.attempt,
    worker: ctx.workerId,
  });
  if (moved && run.job) {
    const status = jobStatus({
      ...run.job,
      state: 'failed',
      ...tries(run),
      worker: ctx.workerId,
      error: message,
      code,
    });
    await ctx.scripts.setJobStatus(run.job.id, status, ctx.statusTtlMs);
  }
  ctx.counts.jobsFailed++;
  ctx.metrics?.failed.inc({ code });
  ctx.metrics?.duration.observe({ outcome: 'failed' }, run.durationMs / 1000);
  run.log.error(
    permanent
      ? `failed permanently: ${message}`
      : `failed after ${run.attempt} attempts: ${message}`,
    { durationMs: roundedMs(run.durationMs), code: rawCode },
  );
}
