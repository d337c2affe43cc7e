import { Redis, type RedisOptions } from 'ioredis';
import { FatalError, UsageError, errorMessage } from '../errors.js';

/** Hides a password in a Redis URL before it reaches a log line or an error message. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/** `redis://host:port/db` with any user or password hidden, for "cannot reach" lines. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    const auth = u.username || u.password ? '***@' : '';
    const db = u.pathname.replace(/^\//, '') || '0';
    return `${u.protocol}//${auth}${u.hostname}:${u.port || '6379'}/${db}`;
  } catch {
    return redactUrl(url);
  }
}

function checkUrl(url: string): void {
  if (!/^rediss?:\/\//.test(url)) {
    throw new UsageError(
      `Expected a URL like redis://host:6379/0 for redis but received "${redactUrl(url)}"`,
    );
  }
}

/** Redis refused the credentials (wrong password, no password, a user without rights). */
export function isAuthFailure(err: unknown): boolean {
  return /^(WRONGPASS|NOAUTH|NOPERM)\b/.test(errorMessage(err));
}

/** The one message for refused credentials: it names authentication, not reachability. */
export function authFailure(url: string, err: unknown): FatalError {
  return new FatalError(
    `Redis at ${describeRedisUrl(url)} refused the credentials: ${errorMessage(err)} ` +
      'Check the user and password in --redis (or IMGPROC_REDIS).',
  );
}

/** Capped exponential backoff with jitter, so a fleet does not reconnect in lock step. */
export function reconnectDelay(attempt: number, capMs = 5000): number {
  const base = Math.min(capMs, 100 * 2 ** Math.min(attempt, 10));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * A connection for a long-running worker: reconnects forever with backoff, and commands wait
 * for the connection instead of failing, so an outage delays work but loses none.
 */
export function workerConnection(url: string, onReconnecting?: (delayMs: number) => void): Redis {
  checkUrl(url);
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    connectTimeout: 5000,
    retryStrategy: (times) => {
      const delay = reconnectDelay(times);
      onReconnecting?.(delay);
      return delay;
    },
  } satisfies RedisOptions);
  // Errors surface through retries and the logs of the caller; an unhandled 'error' would crash.
  redis.on('error', () => {});
  return redis;
}

/**
 * A connection for a short command (enqueue, stats): connects once, fails fast with one clear
 * message when Redis cannot be reached.
 */
export function clientConnection(url: string, timeoutMs = 3000): Promise<Redis> {
  return firstConnection(url, timeoutMs, () => null);
}

/**
 * A connection for a server that answers clients: reconnects forever with backoff, but while
 * Redis is away each command fails at once (the client gets a 503) instead of waiting. The first
 * connection must succeed within `timeoutMs`.
 */
export function serviceConnection(url: string, timeoutMs = 5000): Promise<Redis> {
  return firstConnection(url, timeoutMs, (times) => reconnectDelay(times));
}

/** Connects and pings within `timeoutMs`; a refusal is one clear line, a wrong password named. */
async function firstConnection(
  url: string,
  timeoutMs: number,
  retryStrategy: (times: number) => number | null,
): Promise<Redis> {
  checkUrl(url);
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    retryStrategy,
  });
  let lastError: unknown;
  redis.on('error', (err) => {
    lastError = err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    const cause = lastError ?? err;
    if (isAuthFailure(cause) || isAuthFailure(err))
      throw authFailure(url, isAuthFailure(err) ? err : cause);
    throw new FatalError(
      `cannot reach Redis at ${redactUrl(url)}: ${errorMessage(cause)}. ` +
        'Check that redis-server runs there and that --redis (or IMGPROC_REDIS) is right.',
    );
  }
  return redis;
}
