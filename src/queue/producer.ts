import type { Redis } from 'ioredis';
import { inputKey } from './job.js';
import { jobStatus } from './job-status.js';
import type { QueueKeys } from './keys.js';
import { QueueScripts } from './scripts.js';

/** A checked job ready to push: its raw JSON, its id and its input as the job names it. */
export interface ReadyJob {
  raw: string;
  id: string;
  input: string;
}

/** A job whose id is bound to another input by a job that is queued, running or done. */
export interface IdConflict {
  id: string;
  input: string;
  /** The input the id is bound to. */
  boundTo: string;
}

/** Jobs pushed per round trip. */
const CHUNK = 1000;

/** One set of script commands per connection and queue, for producers that push job by job. */
const scriptsOf = new WeakMap<Redis, Map<string, QueueScripts>>();

function scriptsFor(redis: Redis, keys: QueueKeys): QueueScripts {
  let byQueue = scriptsOf.get(redis);
  if (!byQueue) scriptsOf.set(redis, (byQueue = new Map()));
  let scripts = byQueue.get(keys.jobs);
  if (!scripts) byQueue.set(keys.jobs, (scripts = new QueueScripts(redis, keys)));
  return scripts;
}

/**
 * Pushes jobs onto the queue in order, each marked `queued` in its status key (see
 * enqueue-2.lua). With `refuse`, a job whose id is bound to another input is not pushed; with
 * `push` it is, as any producer may, and the worker dead-letters it (ID_CONFLICT). Either way
 * the conflicts are returned, and the bound job's status is left alone.
 */
export async function enqueueJobs(
  redis: Redis,
  keys: QueueKeys,
  jobs: readonly ReadyJob[],
  statusTtlMs: number,
  onConflict: 'refuse' | 'push' = 'push',
): Promise<{ length: number; conflicts: IdConflict[] }> {
  const scripts = scriptsFor(redis, keys);
  const conflicts: IdConflict[] = [];
  for (let i = 0; i < jobs.length; i += CHUNK) {
    const chunk = jobs.slice(i, i + CHUNK);
    const answers = await Promise.all(
      chunk.map((job) => {
        const input = inputKey(job.input);
        const status = jobStatus({ id: job.id, state: 'queued', input, attempts: 0 });
        return scripts.enqueue(job.raw, job.id, input, status, statusTtlMs, onConflict);
      }),
    );
    answers.forEach((boundTo, j) => {
      if (boundTo !== undefined)
        conflicts.push({ id: chunk[j]!.id, input: chunk[j]!.input, boundTo });
    });
  }
  return { length: await redis.llen(keys.jobs), conflicts };
}

/** States in which a job holds its id (enqueue-2.lua and begin-1.lua hold to the same list). */
const BINDING_STATES = new Set(['queued', 'processing', 'retrying', 'done']);

/**
 * The input an id is bound to, when it is another than `input`: what `enqueueJobs` with
 * `refuse` would answer, read without pushing anything, for a producer that checks before it
 * stores an input. The push itself decides in the end (the binding may change meanwhile).
 */
export async function idBoundTo(
  redis: Redis,
  keys: QueueKeys,
  id: string,
  input: string,
): Promise<string | undefined> {
  const current = await redis.get(keys.status(id));
  if (current === null) return undefined;
  let status: { input?: unknown; state?: unknown };
  try {
    status = JSON.parse(current) as typeof status;
  } catch {
    return undefined;
  }
  if (typeof status !== 'object' || status === null) return undefined;
  if (status.input === inputKey(input) || !BINDING_STATES.has(String(status.state))) {
    return undefined;
  }
  return String(status.input);
}
