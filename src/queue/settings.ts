import { hostname } from 'node:os';
import type { QueueKeys } from './keys.js';
import type { Logger } from './logger.js';
import type { DaemonMetrics } from './metrics.js';
import type { JobHandler, WorkerBackendInfo } from './types.js';

export interface WorkerOptions {
  redisUrl: string;
  keys: QueueKeys;
  handler: JobHandler;
  backend: WorkerBackendInfo;
  log: Logger;
  /** Jobs in flight at once, each with its own fetch loop. */
  concurrency?: number;
  /** Retries after the first try for a transient failure. */
  maxRetries?: number;
  /** First backoff; doubles each retry (2 s, 4 s, 8 s), ±20% jitter. */
  retryBaseMs?: number;
  /** A job taken back from this many dead workers is dead-lettered. */
  maxCrashes?: number;
  /** Longest length of the done list (0 = unbounded). */
  doneCap?: number;
  heartbeatIntervalMs?: number;
  heartbeatTtlMs?: number;
  reapIntervalMs?: number;
  promoteIntervalMs?: number;
  /** How long a stop waits for jobs in flight before handing them back. */
  shutdownTimeoutMs?: number;
  /** BLMOVE timeout when the queue is empty. */
  blockTimeoutS?: number;
  /** While Redis stays unreachable, the warning is repeated at most this often. */
  unreachableWarnMs?: number;
  /** How long a job's status key outlives its last change. */
  statusTtlMs?: number;
  /** Host part of the worker id (default: this machine's hostname). */
  host?: string;
  metrics?: DaemonMetrics;
  /** Called for jobs handed back unfinished at shutdown, to remove their partial files. */
  onAbandon?: (raw: string) => Promise<void>;
  /** Extra heartbeat fields (GPU utilisation and memory). */
  heartbeatExtra?: () => Promise<Record<string, unknown>>;
}

type OptionalHooks = 'metrics' | 'onAbandon' | 'heartbeatExtra';

/** Every option with its default filled in. */
export type WorkerSettings = Required<Omit<WorkerOptions, OptionalHooks>> &
  Pick<WorkerOptions, OptionalHooks>;

export function resolveWorkerSettings(opts: WorkerOptions): WorkerSettings {
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
  return {
    concurrency: 1,
    maxRetries: 3,
    retryBaseMs: 2000,
    maxCrashes: 3,
    doneCap: 10_000,
    heartbeatIntervalMs: 5000,
    heartbeatTtlMs: 15_000,
    reapIntervalMs: 5000,
    promoteIntervalMs: 500,
    shutdownTimeoutMs: 30_000,
    blockTimeoutS: 5,
    unreachableWarnMs: 30_000,
    statusTtlMs: 7 * 24 * 3600 * 1000,
    host: hostname(),
    ...given,
  } as WorkerSettings;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
