import type { Redis } from 'ioredis';
import { authFailure, describeRedisUrl, isAuthFailure, workerConnection } from './connection.js';
import type { Logger } from './logger.js';

/**
 * A worker's Redis connection and what it knows about it: whether it is up, why it last failed,
 * and the blocking connections of the fetch loops. Warns while Redis is unreachable and calls
 * `onRestored` when it comes back after an outage.
 */
export class WorkerConnection {
  readonly redis: Redis;
  private up = false;
  private everUp = false;
  private lastError?: string;
  private lastUnreachableWarnAt = 0;
  private readonly blockingClients = new Set<Redis>();

  constructor(
    private readonly url: string,
    private readonly log: () => Logger,
    private readonly unreachableWarnMs: number,
    onRestored: () => void,
  ) {
    this.redis = workerConnection(url, () => this.warnUnreachable());
    this.redis.on('error', (err: Error & { code?: unknown }) => {
      this.lastError = typeof err.code === 'string' ? err.code : err.message;
    });
    this.redis.on('ready', () => {
      this.up = true;
      this.lastUnreachableWarnAt = 0;
      if (this.everUp) {
        this.log().info('Redis connection restored');
        onRestored();
      }
      this.everUp = true;
    });
    this.redis.on('close', () => {
      this.up = false;
    });
  }

  /** Whether the connection is up (for /health). */
  get isUp(): boolean {
    return this.up;
  }

  /** Resolves once the connection is down (at once if it is down now). */
  untilDown(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.up) resolve();
      else this.redis.once('close', () => resolve());
    });
  }

  /** A connection of its own for one fetch loop's BLMOVE, which holds it while it waits. */
  blockingClient(): Redis {
    const client = this.redis.duplicate();
    client.on('error', () => {});
    this.blockingClients.add(client);
    return client;
  }

  /** Ends every blocked BLMOVE. */
  disconnectBlocking(): void {
    for (const client of this.blockingClients) client.disconnect();
  }

  /** One line at once, then at most every unreachableWarnMs while Redis stays unreachable. */
  private warnUnreachable(): void {
    const now = Date.now();
    if (this.lastUnreachableWarnAt && now - this.lastUnreachableWarnAt < this.unreachableWarnMs) {
      return;
    }
    this.lastUnreachableWarnAt = now;
    if (this.lastError && isAuthFailure(this.lastError)) {
      this.log().error(authFailure(this.url, this.lastError).message);
      return;
    }
    const why = this.lastError ? ` (${this.lastError})` : '';
    this.log().warn(
      `cannot reach Redis at ${describeRedisUrl(this.url)}${why}; retrying with backoff`,
    );
  }
}
