import type { Redis } from 'ioredis';
import type { QueueKeys } from './keys.js';

/** Pushes raw jobs onto the queue, in order, a thousand per round trip. */
export async function pushJobs(redis: Redis, keys: QueueKeys, raws: string[]): Promise<number> {
  const CHUNK = 1000;
  let length = 0;
  for (let i = 0; i < raws.length; i += CHUNK) {
    length = await redis.lpush(keys.jobs, ...raws.slice(i, i + CHUNK));
  }
  return length;
}
