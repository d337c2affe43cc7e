import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isObjectUrl, outputRoot, type ObjectStoreSettings } from '../storage/index.js';
import { resolveObjectStoreSettings } from './object-store.js';
import { pick, type RawOptions } from './options.js';
import { parseBoolean, parseChoice, parseInteger, parseNumber } from './validate.js';

/** Whether `--daemon` (or IMGPROC_DAEMON) asks for the queue worker instead of a batch run. */
export function daemonRequested(raw: RawOptions, env: NodeJS.ProcessEnv = process.env): boolean {
  const v = pick(raw, 'daemon', env);
  return typeof v === 'string' ? parseBoolean('daemon', v) : v === true;
}

function seconds(
  raw: RawOptions,
  key: string,
  flag: string,
  def: number,
  min = 0.001,
  max = 86_400,
): number {
  const v = pick(raw, key);
  if (v === undefined || v === true) return def;
  return Math.round(parseNumber(flag, String(v), min, max) * 1000);
}

function integer(
  raw: RawOptions,
  key: string,
  flag: string,
  def: number,
  min: number,
  max: number,
): number {
  const v = pick(raw, key);
  return v === undefined || v === true ? def : parseInteger(flag, String(v), min, max);
}

/** The `s3://bucket[/prefix]` locations jobs may name (--allow, repeatable or comma-separated). */
export function resolveAllow(raw: RawOptions): string[] {
  const v = pick(raw, 'allow');
  return (typeof v === 'string' ? v : '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '')
    .map((a) => {
      if (!isObjectUrl(a)) {
        throw new UsageError(
          `Expected s3://bucket or s3://bucket/prefix for allow but received "${a}"`,
        );
      }
      return outputRoot(a);
    });
}

/** How long a job's status key outlives its last change (--status-ttl, default a week). */
export function resolveStatusTtlMs(raw: RawOptions): number {
  return seconds(raw, 'statusTtl', 'status-ttl', 7 * 86_400_000, 1, 366 * 86_400);
}

/** Every daemon setting, validated before anything connects. */
export interface DaemonConfig {
  redisUrl: string;
  queue?: string;
  prefix?: string;
  dataDir: string;
  /** The `s3://bucket[/prefix]` locations jobs may read and write (canonical, no trailing '/'). */
  allow: string[];
  objectStore: ObjectStoreSettings;
  maxRetries: number;
  maxCrashes: number;
  shutdownTimeoutMs: number;
  doneCap: number;
  logFormat: 'human' | 'json';
  metricsPort?: number;
  metricsHost: string;
  /** As given, relative to dataDir; checked against the real data folder at start. */
  outputRoots: string[];
  statusTtlMs: number;
  heartbeatIntervalMs: number;
  heartbeatTtlMs: number;
  reapIntervalMs: number;
  retryBaseMs: number;
  blockTimeoutS: number;
  testJobDelayMs: number;
}

export function resolveDaemonConfig(raw: RawOptions): DaemonConfig {
  const redisUrl = pick(raw, 'redis');
  if (typeof redisUrl !== 'string' || redisUrl === '') {
    throw new UsageError(
      '--daemon needs --redis <url> (or IMGPROC_REDIS), e.g. redis://127.0.0.1:6379/0',
    );
  }
  const heartbeatIntervalMs = seconds(raw, 'heartbeatInterval', 'heartbeat-interval', 5000);
  const metricsPort = pick(raw, 'metricsPort');
  const str = (k: string) => {
    const v = pick(raw, k);
    return typeof v === 'string' ? v : undefined;
  };
  const allow = resolveAllow(raw);
  return {
    redisUrl,
    queue: str('queue'),
    prefix: str('prefix'),
    dataDir: resolve(str('dataDir') ?? '.'),
    allow,
    objectStore: resolveObjectStoreSettings(raw),
    maxRetries: integer(raw, 'maxRetries', 'max-retries', 3, 0, 100),
    maxCrashes: integer(raw, 'maxCrashes', 'max-crashes', 3, 1, 1000),
    shutdownTimeoutMs: seconds(raw, 'shutdownTimeout', 'shutdown-timeout', 30_000, 0),
    doneCap: integer(raw, 'doneCap', 'done-cap', 10_000, 0, 100_000_000),
    logFormat: parseChoice('log-format', str('logFormat') ?? 'human', ['human', 'json'] as const),
    metricsPort:
      metricsPort === undefined
        ? undefined
        : parseInteger('metrics-port', String(metricsPort), 0, 65535),
    metricsHost: str('metricsHost') ?? '127.0.0.1',
    outputRoots: (str('outputRoots') ?? 'processed')
      .split(',')
      .map((r) => r.trim())
      .filter((r) => r !== ''),
    statusTtlMs: resolveStatusTtlMs(raw),
    heartbeatIntervalMs,
    heartbeatTtlMs: seconds(raw, 'heartbeatTtl', 'heartbeat-ttl', heartbeatIntervalMs * 3),
    reapIntervalMs: seconds(raw, 'reapInterval', 'reap-interval', heartbeatIntervalMs),
    retryBaseMs: seconds(raw, 'retryDelay', 'retry-delay', 2000, 0),
    blockTimeoutS: seconds(raw, 'blockTimeout', 'block-timeout', 5000, 0.01) / 1000,
    testJobDelayMs: integer(raw, 'testJobDelay', 'test-job-delay', 0, 0, 3_600_000),
  };
}
