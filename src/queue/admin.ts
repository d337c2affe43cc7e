import type { Redis } from 'ioredis';
import { jobIdentityOf } from './job.js';
import { jobStatus } from './job-status.js';
import type { QueueKeys } from './keys.js';
import { QueueScripts } from './scripts.js';

export interface ProcessingListStats {
  worker: string;
  length: number;
  alive: boolean;
}

export interface QueueStats {
  keys: { jobs: string; retry: string; failed: string; done: string };
  pending: number;
  retry: number;
  retryDue: number;
  failed: number;
  done: number;
  processing: ProcessingListStats[];
  workers: number;
}

export interface WorkerInfo {
  id: string;
  [field: string]: unknown;
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => '\\' + c);
}

/** Processing lists by SCAN, so that one whose worker left the registry still shows. */
async function processingWorkers(redis: Redis, keys: QueueKeys): Promise<string[]> {
  const base = keys.processing('');
  const ids = new Set(await redis.smembers(keys.workers));
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', globEscape(base) + '*', 'COUNT', 1000);
    cursor = next;
    for (const key of found) ids.add(key.slice(base.length));
  } while (cursor !== '0');
  return [...ids].sort();
}

/** Lengths of every list, the retry set, each processing list, and the live workers. */
export async function queueStats(redis: Redis, keys: QueueKeys): Promise<QueueStats> {
  const ids = await processingWorkers(redis, keys);
  const now = Number((await redis.time())[0]) * 1000;
  const p = redis.pipeline();
  p.llen(keys.jobs)
    .zcard(keys.retry)
    .zcount(keys.retry, '-inf', now)
    .llen(keys.failed)
    .llen(keys.done);
  for (const id of ids) p.llen(keys.processing(id)).exists(keys.heartbeat(id));
  const res = ((await p.exec()) ?? []).map(([err, v]) => {
    if (err) throw err;
    return Number(v);
  });
  const processing = ids.map((worker, i) => ({
    worker,
    length: res[5 + 2 * i]!,
    alive: res[6 + 2 * i] === 1,
  }));
  return {
    keys: { jobs: keys.jobs, retry: keys.retry, failed: keys.failed, done: keys.done },
    pending: res[0]!,
    retry: res[1]!,
    retryDue: res[2]!,
    failed: res[3]!,
    done: res[4]!,
    processing: processing.filter((p) => p.length > 0 || p.alive),
    workers: processing.filter((p) => p.alive).length,
  };
}

/**
 * Moves dead letters back to the queue with fresh attempt counts; permanent failures (a
 * malformed job, not an image …) fail again at once, so they move only when asked.
 */
export async function retryFailed(
  redis: Redis,
  keys: QueueKeys,
  limit = 0,
  includePermanent = false,
  statusTtlMs = 7 * 86_400_000,
): Promise<{ moved: number; permanentLeft: number }> {
  const scripts = new QueueScripts(redis, keys);
  const { moved, permanentLeft, movedJobs } = await scripts.retryFailed(limit, includePermanent);
  // Waiting again: a status that still says failed says queued now, with its attempts.
  for (const raw of movedJobs) {
    const job = jobIdentityOf(raw);
    if (!job) continue;
    const status = jobStatus({ ...job, state: 'queued', attempts: 0 });
    await scripts.setStatusIfHeld(job.id, '', status, statusTtlMs, false, 'failed');
  }
  return { moved, permanentLeft };
}

/** Live workers and their latest heartbeat, by id. */
export async function listWorkers(redis: Redis, keys: QueueKeys): Promise<WorkerInfo[]> {
  const ids = (await redis.smembers(keys.workers)).sort();
  if (ids.length === 0) return [];
  const values = await redis.mget(ids.map((id) => keys.heartbeat(id)));
  const out: WorkerInfo[] = [];
  ids.forEach((id, i) => {
    const v = values[i];
    if (!v) return;
    try {
      const { token: _token, ...info } = JSON.parse(v) as Record<string, unknown>;
      out.push({ ...info, id });
    } catch {
      out.push({ id, unreadable: v });
    }
  });
  return out;
}
