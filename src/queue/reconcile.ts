import type { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import type { QueueKeys } from './keys.js';
import type { Logger } from './logger.js';
import type { QueueScripts } from './scripts.js';
import type { InFlightJob } from './types.js';

/**
 * After a reconnect: jobs in this worker's processing list that no fetch loop holds (their fetch
 * reply was lost in the outage) go back to the queue. Duplicates count: two identical jobs held
 * by one loop leave one in the list to hand back.
 */
export async function handBackStrayJobs(
  redis: Redis,
  keys: QueueKeys,
  scripts: QueueScripts,
  workerId: string,
  inFlight: Iterable<InFlightJob>,
  log: Logger,
): Promise<void> {
  try {
    const listed = (await redis.lrangeBuffer(keys.processing(workerId), 0, -1)) as Buffer[];
    const heldCount = new Map<string, number>();
    for (const job of inFlight) {
      const hex = job.raw.toString('hex');
      heldCount.set(hex, (heldCount.get(hex) ?? 0) + 1);
    }
    const stray: Buffer[] = [];
    for (const raw of listed) {
      const hex = raw.toString('hex');
      const held = heldCount.get(hex) ?? 0;
      if (held > 0) heldCount.set(hex, held - 1);
      else stray.push(raw);
    }
    if (stray.length === 0) return;
    const n = await scripts.handBack(workerId, stray);
    log.warn(`handed back ${n} job(s) whose fetch reply was lost in the outage`);
  } catch (err) {
    log.warn(`could not check the processing list after reconnecting: ${errorMessage(err)}`);
  }
}
