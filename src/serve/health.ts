import type { ServeContext } from './context.js';

export interface Health {
  status: 'ok' | 'no live workers' | 'redis unavailable';
  redis: boolean;
  /** Daemons whose heartbeat is alive. */
  workers: number;
}

/**
 * Redis answers, and how many daemons are alive (their heartbeat keys). Jobs can be queued
 * while no daemon runs, so only an unreachable Redis makes the server unhealthy.
 */
export async function health(ctx: ServeContext): Promise<Health> {
  const { redis, keys } = ctx;
  try {
    await redis.ping();
    const ids = await redis.smembers(keys.workers);
    const alive = ids.length
      ? ((await redis.pipeline(ids.map((id) => ['exists', keys.heartbeat(id)])).exec()) ?? [])
      : [];
    const workers = alive.filter(([, v]) => v === 1).length;
    return { status: workers ? 'ok' : 'no live workers', redis: true, workers };
  } catch {
    return { status: 'redis unavailable', redis: false, workers: 0 };
  }
}
