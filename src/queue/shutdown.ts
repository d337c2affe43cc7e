import { errorMessage } from '../errors.js';
import { jobIdentityOf } from './job.js';
import { jobStatus } from './job-status.js';
import type { Logger } from './logger.js';
import type { QueueScripts } from './scripts.js';
import { sleep } from './settings.js';
import type { InFlightJob } from './types.js';
import type { WorkerConnection } from './worker-connection.js';
import type { WorkerIdentity } from './identity.js';

/** Everything a stopping worker winds down. */
export interface ShutdownContext {
  connection: WorkerConnection;
  scripts: QueueScripts;
  identity: WorkerIdentity;
  inFlight: Map<number, InFlightJob>;
  /** The fetch loops; each ends after its current job. */
  loops: Promise<void>[];
  /** Start-up, which a stop during start-up waits for so that the claimed id is released. */
  started: Promise<void> | undefined;
  /** Background timers (heartbeat, promote, reap). */
  timers: NodeJS.Timeout[];
  shutdownTimeoutMs: number;
  statusTtlMs: number;
  onAbandon?: (raw: string) => Promise<void>;
  log: Logger;
}

/** Redis answers each shutdown step within this, or the step is given up. */
const STEP_TIMEOUT_MS = 5000;

/**
 * Waits up to the shutdown timeout for jobs in flight, hands back the rest, gives up the worker id
 * and closes the connection. Each step runs alone and bounded; with Redis down it is skipped: held
 * jobs stay listed, and another daemon's reaper requeues them once this heartbeat expires.
 */
export async function shutDown(ctx: ShutdownContext): Promise<void> {
  const { connection, log } = ctx;
  const skipped = new Set<string>();
  const step = async (what: string, fn: () => Promise<unknown>) => {
    if (!connection.isUp) {
      skipped.add(what);
      return;
    }
    try {
      await Promise.race([
        fn(),
        sleep(STEP_TIMEOUT_MS).then(() => {
          throw new Error(`Redis did not answer in ${STEP_TIMEOUT_MS / 1000} s`);
        }),
        connection.untilDown().then(() => {
          throw new Error('the Redis connection was lost');
        }),
      ]);
    } catch (err) {
      log.warn(`shutdown: ${what} failed: ${errorMessage(err)}`);
    }
  };
  // A stop during start-up waits for the id claim, so that the id is released, not leaked;
  // not while Redis is down: the claim would wait for it.
  await Promise.race([
    ctx.started?.catch(() => {}),
    sleep(ctx.shutdownTimeoutMs),
    connection.untilDown(),
  ]);
  log.info(`stopping: ${ctx.inFlight.size} job(s) in flight`);
  // Ends blocked BLMOVEs; a job one of them moved meanwhile is handed back below.
  connection.disconnectBlocking();
  const result = await waitForLoops(ctx);
  for (const timer of ctx.timers) clearInterval(timer);
  const abandoned = [...ctx.inFlight.values()];
  if (result === 'timeout' && abandoned.length) {
    log.warn(`shutdown timeout: handing back ${abandoned.length} unfinished job(s)`);
  }
  const workerId = ctx.identity.id;
  if (workerId) {
    const holders = new Set([workerId, ...abandoned.map((job) => job.heldBy)]);
    for (const holder of holders) {
      await step('hand back', async () => {
        const n = await ctx.scripts.handBack(holder);
        if (n) log.info(`handed back ${n} job(s)`);
      });
    }
    if (abandoned.length) await step('hand back', () => markQueuedAgain(ctx, abandoned));
    if (ctx.onAbandon) {
      for (const job of abandoned) {
        await ctx.onAbandon(job.raw.toString('utf8')).catch((err: unknown) => {
          log.warn(`shutdown: cleanup failed: ${errorMessage(err)}`);
        });
      }
    }
    await step('release id', () => ctx.identity.release());
  }
  if (connection.isUp) await step('close', () => connection.redis.quit());
  connection.redis.disconnect();
  if (skipped.size) {
    log.warn(
      `shutdown: Redis is not connected; skipped ${[...skipped].join(' and ')}; ` +
        `jobs held by ${workerId} return to the queue when its heartbeat expires`,
    );
  }
  log.info('stopped');
}

/** Jobs handed back unfinished are waiting again: their status says `queued`, if still ours. */
async function markQueuedAgain(ctx: ShutdownContext, jobs: InFlightJob[]): Promise<void> {
  for (const held of jobs) {
    const job = jobIdentityOf(held.raw.toString('utf8'));
    if (!job) continue;
    const status = jobStatus({ ...job, state: 'queued', attempts: 0 });
    await ctx.scripts.setStatusIfHeld(job.id, held.heldBy, status, ctx.statusTtlMs, false);
  }
}

/** Until every loop ended, the timeout passed, or Redis is down with nothing in flight. */
async function waitForLoops(ctx: ShutdownContext): Promise<'done' | 'timeout' | 'down'> {
  let waiting = true;
  // With Redis down and nothing in flight, the loops only wait for Redis: do not wait for them.
  const idleAndDown = async () => {
    while (waiting && (ctx.inFlight.size > 0 || ctx.connection.isUp)) await sleep(50);
    return 'down' as const;
  };
  const result = await Promise.race([
    Promise.all(ctx.loops).then(() => 'done' as const),
    sleep(ctx.shutdownTimeoutMs).then(() => 'timeout' as const),
    idleAndDown(),
  ]);
  waiting = false;
  return result;
}
