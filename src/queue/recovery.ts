import type { Redis } from 'ioredis';
import { jobIdentityOf } from './job.js';
import { jobStatus } from './job-status.js';
import type { QueueKeys } from './keys.js';
import type { Logger } from './logger.js';
import type { DaemonMetrics } from './metrics.js';
import type { QueueScripts, Reaped } from './scripts.js';

/** Retries moved per promote call; the loop calls again while a full batch came back. */
const PROMOTE_BATCH = 500;

/** Moves every retry whose backoff has passed back to the queue. */
export async function promoteDueRetries(scripts: QueueScripts, log: Logger): Promise<void> {
  for (;;) {
    const moved = await scripts.promoteDue(PROMOTE_BATCH);
    if (moved > 0) log.debug(`${moved} retr${moved === 1 ? 'y' : 'ies'} due`);
    if (moved < PROMOTE_BATCH) return;
  }
}

export interface ReapContext {
  redis: Redis;
  keys: QueueKeys;
  scripts: QueueScripts;
  /** This daemon's worker id, never reaped by itself. */
  ownId: string | undefined;
  maxCrashes: number;
  statusTtlMs: number;
  metrics?: DaemonMetrics;
  log: Logger;
}

/**
 * The status of jobs taken back from a dead worker: `retrying` (code CRASHED) for those requeued,
 * `failed` for those dead-lettered; written only where the status still names that worker.
 */
export async function markReaped(
  scripts: QueueScripts,
  workerId: string,
  reaped: Reaped,
  maxCrashes: number,
  statusTtlMs: number,
): Promise<void> {
  const mark = async (raw: string, dead: boolean) => {
    const job = jobIdentityOf(raw);
    if (!job) return;
    const status = jobStatus({
      ...job,
      state: dead ? 'failed' : 'retrying',
      attempts: 0, // kept from the status the dead worker wrote (status-if-held-1.lua)
      worker: workerId,
      // A dead-lettered job has crashed its workers maxCrashes times (see reap-7.lua).
      error: dead
        ? `job crashed its worker ${maxCrashes} times`
        : `worker ${workerId} died while running it; requeued`,
      code: 'CRASHED',
    });
    await scripts.setStatusIfHeld(job.id, workerId, status, statusTtlMs, true);
  };
  for (const raw of reaped.requeuedJobs) await mark(raw, false);
  for (const raw of reaped.deadJobs) await mark(raw, true);
}

/** Hands back the jobs of workers whose heartbeat expired. */
export async function reapDeadWorkers(ctx: ReapContext): Promise<void> {
  const { redis, keys } = ctx;
  const others = (await redis.smembers(keys.workers)).filter((id) => id !== ctx.ownId);
  if (others.length === 0) return;
  const alive = await redis.pipeline(others.map((id) => ['exists', keys.heartbeat(id)])).exec();
  for (let i = 0; i < others.length; i++) {
    if (alive?.[i]?.[1] === 1) continue;
    const workerId = others[i]!;
    const reaped = await ctx.scripts.reap(workerId, ctx.maxCrashes);
    if (!reaped) continue;
    await markReaped(ctx.scripts, workerId, reaped, ctx.maxCrashes, ctx.statusTtlMs);
    const { requeued, dead } = reaped;
    if (requeued || dead) {
      ctx.metrics?.recovered.inc(requeued);
      if (dead) ctx.metrics?.failed.inc({ code: 'CRASHED' }, dead);
      ctx.log.warn(
        `worker ${workerId} stopped heartbeating; took back ${requeued} job(s), dead-lettered ${dead} that kept crashing workers`,
      );
    }
  }
}

/** Jobs left in this id's processing list belong to a daemon that died holding the same id. */
export async function takeOverLeftovers(
  scripts: QueueScripts,
  ownId: string,
  maxCrashes: number,
  statusTtlMs: number,
  metrics: DaemonMetrics | undefined,
  log: Logger,
): Promise<void> {
  const reaped = await scripts.reap(ownId, maxCrashes, true);
  if (!reaped) return;
  await markReaped(scripts, ownId, reaped, maxCrashes, statusTtlMs);
  const { requeued, dead } = reaped;
  if (requeued || dead) {
    metrics?.recovered.inc(requeued + dead);
    log.warn(
      `took over ${requeued + dead} job(s) left by an earlier daemon with this id: ${requeued} requeued, ${dead} dead-lettered`,
    );
  }
}
