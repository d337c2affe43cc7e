import { UsageError } from '../errors.js';

/**
 * Every Redis key the queue uses, built here and nowhere else. With the defaults (no prefix, queue
 * `image_jobs`) the names are exactly those of the protocol: `image_jobs`, `image_processing:<w>`,
 * `image_retry`, `image_failed`, `image_done`, `image_worker:<w>`. Another queue name replaces the
 * `image` stem: `--queue thumbs_jobs` gives `thumbs_processing:<w>`, `--queue thumbs` gives
 * `thumbs_processing:<w>` too; `--prefix app:` goes in front of every key.
 */
export interface QueueKeys {
  prefix: string;
  queue: string;
  /** Pending jobs (list; producers LPUSH, workers take from the right). */
  jobs: string;
  /** Jobs waiting for their backoff (sorted set, score = due time in ms). */
  retry: string;
  /** Dead letters (list of JSON records). */
  failed: string;
  /** Results (list of JSON records, capped). */
  done: string;
  /** Failed attempts per job (hash: sha1 of the raw job → count). */
  attempts: string;
  /** Times a job was taken back from a dead worker (hash: sha1 of the raw job → count). */
  recoveries: string;
  /** Ids of the workers that may hold a processing list (set). */
  workers: string;
  processing(worker: string): string;
  heartbeat(worker: string): string;
  /** A job's status by id (JSON string with a TTL): state, input, attempts, error, outputs. */
  status(jobId: string): string;
}

export const DEFAULT_QUEUE = 'image_jobs';

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/;
const PREFIX = /^[A-Za-z0-9:._{}-]{0,100}$/;

export function queueKeys(opts: { prefix?: string; queue?: string } = {}): QueueKeys {
  const prefix = opts.prefix ?? '';
  const queue = opts.queue ?? DEFAULT_QUEUE;
  if (!QUEUE_NAME.test(queue)) {
    throw new UsageError(
      `Expected a queue name of letters, digits, ':', '.', '_' or '-' for queue but received "${queue}"`,
    );
  }
  if (!PREFIX.test(prefix)) {
    throw new UsageError(
      `Expected a key prefix of letters, digits, ':', '.', '_', '-', '{' or '}' for prefix but received "${prefix}"`,
    );
  }
  const stem = prefix + (queue.endsWith('_jobs') ? queue.slice(0, -'_jobs'.length) : queue);
  return {
    prefix,
    queue,
    jobs: prefix + queue,
    retry: `${stem}_retry`,
    failed: `${stem}_failed`,
    done: `${stem}_done`,
    attempts: `${stem}_attempts`,
    recoveries: `${stem}_recoveries`,
    workers: `${stem}_workers`,
    processing: (worker) => `${stem}_processing:${worker}`,
    heartbeat: (worker) => `${stem}_worker:${worker}`,
    status: (jobId) => `${stem}_job:${jobId}`,
  };
}
