import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ImageInputError } from '../../src/errors.js';
import { queueKeys, type QueueKeys } from '../../src/queue/keys.js';
import { createLogger } from '../../src/queue/logger.js';
import {
  retryDelayMs,
  QueueWorker,
  type JobHandler,
  type WorkerOptions,
} from '../../src/queue/worker.js';
import { haveRedisServer, startRedis, waitFor, type TestRedis } from './redis-server.js';

const quiet = createLogger({ format: 'json', write: () => {} });

describe('queue keys', () => {
  it('uses the protocol names by default', () => {
    const k = queueKeys();
    expect([k.jobs, k.retry, k.failed, k.done]).toEqual([
      'image_jobs',
      'image_retry',
      'image_failed',
      'image_done',
    ]);
    expect(k.processing('h_cpu0')).toBe('image_processing:h_cpu0');
    expect(k.heartbeat('h_cpu0')).toBe('image_worker:h_cpu0');
  });

  it('derives every name from --prefix and --queue', () => {
    const k = queueKeys({ prefix: 'app:', queue: 'thumbs_jobs' });
    expect([k.jobs, k.retry, k.processing('w')]).toEqual([
      'app:thumbs_jobs',
      'app:thumbs_retry',
      'app:thumbs_processing:w',
    ]);
    expect(() => queueKeys({ queue: 'bad name' })).toThrow(/queue name/);
  });

  it('backs off 2 s, 4 s, 8 s with at most 20% jitter', () => {
    expect([1, 2, 3].map((a) => retryDelayMs(a, 2000, () => 0.5))).toEqual([2000, 4000, 8000]);
    expect(retryDelayMs(3, 2000, () => 0)).toBe(6400);
    expect(retryDelayMs(3, 2000, () => 1)).toBe(9600);
  });
});

describe.skipIf(!haveRedisServer())('queue worker against redis-server', () => {
  let server: TestRedis;
  let redis: Redis;
  let n = 0;
  let keys: QueueKeys;
  const workers: QueueWorker[] = [];

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
  });
  afterAll(async () => {
    await server?.destroy();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });

  const fresh = () => {
    keys = queueKeys({ prefix: `t${++n}:` });
    return keys;
  };

  const worker = async (handler: JobHandler, extra: Partial<WorkerOptions> = {}) => {
    const w = new QueueWorker({
      redisUrl: server.url,
      keys,
      handler,
      backend: { name: 'cpu', description: 'test' },
      log: quiet,
      host: 'testhost',
      heartbeatIntervalMs: 200,
      heartbeatTtlMs: 600,
      reapIntervalMs: 200,
      promoteIntervalMs: 50,
      retryBaseMs: 50,
      blockTimeoutS: 0.2,
      shutdownTimeoutMs: 2000,
      ...extra,
    });
    workers.push(w);
    await w.start();
    return w;
  };
  // Undefined while empty, so that waitFor polls until a record arrives.
  const records = async (key: string) => {
    const list = (await redis.lrange(key, 0, -1)).map((s) => JSON.parse(s));
    return list.length ? list : undefined;
  };
  const done = () => records(keys.done);
  const failed = () => records(keys.failed);
  const ok: JobHandler = async (raw) => ({ id: JSON.parse(raw).id });

  it('holds a job in its processing list while working, and only there', async () => {
    fresh();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const w = await worker(async (raw) => {
      await gate;
      return { id: JSON.parse(raw).id, value: 7 };
    });
    const raw = '{"id":"a1","input":"x.png"}';
    await redis.lpush(keys.jobs, raw);
    await waitFor(
      'the job in the processing list',
      async () => (await redis.llen(keys.processing(w.id!))) === 1,
    );
    expect(await redis.lrange(keys.processing(w.id!), 0, -1)).toEqual([raw]);
    expect(await redis.llen(keys.jobs)).toBe(0);
    release();
    const [rec] = await waitFor('the result', done);
    expect(rec).toMatchObject({
      id: 'a1',
      value: 7,
      attempts: 1,
      worker: 'testhost_cpu0',
      backend: 'cpu',
    });
    expect(await redis.llen(keys.processing(w.id!))).toBe(0);
  });

  it('retries a transient failure through the retry set, then dead-letters it after --max-retries', async () => {
    fresh();
    let calls = 0;
    await worker(
      async () => {
        calls++;
        throw new Error('disk hiccup');
      },
      { maxRetries: 2 },
    );
    await redis.lpush(keys.jobs, '{"id":"r1","input":"x.png"}');
    const [rec] = await waitFor('the dead letter', failed);
    expect(calls).toBe(3);
    expect(rec).toMatchObject({ id: 'r1', error: 'disk hiccup', attempts: 3, permanent: false });
    expect(JSON.parse(rec.job)).toEqual({ id: 'r1', input: 'x.png' });
    expect(await redis.hlen(keys.attempts)).toBe(0);
  });

  it('parks a retry in the sorted set with a due time, and completes it on a later attempt', async () => {
    fresh();
    let calls = 0;
    await worker(
      async (raw) => {
        if (++calls === 1) throw new Error('try again');
        return { id: JSON.parse(raw).id };
      },
      { retryBaseMs: 1500 },
    );
    const raw = '{"id":"r2","input":"x.png"}';
    await redis.lpush(keys.jobs, raw);
    const due = await waitFor('the retry entry', () => redis.zscore(keys.retry, raw));
    const [now] = await redis.time();
    expect(Number(due)).toBeGreaterThan(Number(now) * 1000);
    const [rec] = await waitFor('the result', done);
    expect(rec).toMatchObject({ id: 'r2', attempts: 2 });
    expect(await redis.zcard(keys.retry)).toBe(0);
  });

  it('keeps each job’s status beside the queue: processing, retrying, then failed, with a TTL', async () => {
    fresh();
    let calls = 0;
    const seen: string[] = [];
    await worker(
      async () => {
        seen.push(JSON.parse((await redis.get(keys.status('st1')))!).state);
        if (++calls === 1) throw new Error('disk hiccup');
        throw new ImageInputError('NOT_AN_IMAGE', 'not an image');
      },
      { retryBaseMs: 300, statusTtlMs: 60_000 },
    );
    await redis.lpush(keys.jobs, '{"id":"st1","input":"x.png"}');
    const retrying = await waitFor('the retrying status', async () => {
      const st = JSON.parse((await redis.get(keys.status('st1'))) ?? '{}');
      return st.state === 'retrying' ? st : undefined;
    });
    expect(retrying).toMatchObject({
      id: 'st1',
      input: 'x.png',
      attempts: 1,
      error: 'disk hiccup',
    });
    expect(retrying.retryAt).toBeGreaterThan(Date.now() - 1000);
    await waitFor('the dead letter', failed);
    // The status is written just after the dead letter, so wait for it rather than race it.
    const finalStatus = await waitFor('the failed status', async () => {
      const st = JSON.parse((await redis.get(keys.status('st1'))) ?? '{}');
      return st.state === 'failed' ? st : undefined;
    });
    expect(finalStatus).toMatchObject({
      state: 'failed',
      attempts: 2,
      code: 'NOT_AN_IMAGE',
      error: 'not an image',
      worker: 'testhost_cpu0',
    });
    expect(seen).toEqual(['processing', 'processing']);
    const ttl = await redis.pttl(keys.status('st1'));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('dead-letters a permanent failure at once, with its code', async () => {
    fresh();
    let calls = 0;
    await worker(async () => {
      calls++;
      throw new ImageInputError('NOT_AN_IMAGE', 'not an image');
    });
    await redis.lpush(keys.jobs, '{"id":"p1","input":"x.png"}');
    const [rec] = await waitFor('the dead letter', failed);
    expect(calls).toBe(1);
    expect(rec).toMatchObject({ id: 'p1', code: 'NOT_AN_IMAGE', attempts: 1, permanent: true });
  });

  it('claims the first free worker id on a host, atomically, and frees it on stop', async () => {
    fresh();
    const a = await worker(ok);
    const b = await worker(ok);
    expect([a.id, b.id]).toEqual(['testhost_cpu0', 'testhost_cpu1']);
    const beat = JSON.parse((await redis.get(keys.heartbeat(a.id!)))!);
    expect(beat).toMatchObject({
      id: 'testhost_cpu0',
      pid: process.pid,
      backend: 'cpu',
      jobsDone: 0,
    });
    expect(await redis.pttl(keys.heartbeat(a.id!))).toBeGreaterThan(0);
    await a.stop();
    expect(await redis.exists(keys.heartbeat('testhost_cpu0'))).toBe(0);
    const c = await worker(ok);
    expect(c.id).toBe('testhost_cpu0');
  });

  it('takes back the jobs of a worker whose heartbeat expired, and dead-letters one that keeps crashing workers', async () => {
    fresh();
    const raw1 = '{"id":"g1","input":"x.png"}';
    const raw2 = '{"id":"g2","input":"x.png"}';
    const { createHash } = await import('node:crypto');
    await redis.lpush(keys.processing('ghost_cpu0'), raw1, raw2);
    await redis.sadd(keys.workers, 'ghost_cpu0');
    // g2 has already killed two workers: the third strike dead-letters it.
    await redis.hset(keys.recoveries, createHash('sha1').update(raw2).digest('hex'), 2);
    await worker(ok, { maxCrashes: 3 });
    const [rec] = await waitFor('g1 done', done);
    expect(rec.id).toBe('g1');
    const [dead] = await waitFor('g2 dead-lettered', failed);
    expect(dead).toMatchObject({ code: 'CRASHED', error: 'job crashed its worker 3 times' });
    expect(JSON.parse(dead.job).id).toBe('g2');
    expect(await redis.exists(keys.processing('ghost_cpu0'))).toBe(0);
    expect(await redis.sismember(keys.workers, 'ghost_cpu0')).toBe(0);
  });

  it('never reaps a live worker', async () => {
    fresh();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = await worker(async (raw) => {
      await gate;
      return { id: JSON.parse(raw).id };
    });
    await worker(ok);
    await redis.lpush(keys.jobs, '{"id":"s1","input":"x.png"}');
    await waitFor('the job held', async () => (await redis.llen(keys.processing(slow.id!))) === 1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await redis.llen(keys.processing(slow.id!))).toBe(1);
    expect(await redis.llen(keys.jobs)).toBe(0);
    release();
    const recs = await waitFor('the result', done);
    expect(recs.map((r) => r.id)).toEqual(['s1']);
  });

  it('on stop finishes jobs in flight, and hands back those past the shutdown timeout', async () => {
    fresh();
    const w = await worker(
      async (raw) => {
        const job = JSON.parse(raw);
        await new Promise((r) => setTimeout(r, job.id === 'slow' ? 10_000 : 300));
        return { id: job.id };
      },
      { concurrency: 2, shutdownTimeoutMs: 1000 },
    );
    await redis.lpush(keys.jobs, '{"id":"quick","input":"x"}', '{"id":"slow","input":"y"}');
    await waitFor('both held', async () => (await redis.llen(keys.processing(w.id!))) === 2);
    await w.stop();
    expect((await done())?.map((r) => r.id)).toEqual(['quick']);
    expect(await redis.lrange(keys.jobs, 0, -1)).toEqual(['{"id":"slow","input":"y"}']);
    expect(await redis.llen(keys.processing(w.id!))).toBe(0);
    expect(await redis.exists(keys.heartbeat(w.id!))).toBe(0);
    expect(await w.stop()).toBeUndefined();
  });

  it('retry-failed moves dead letters back with fresh attempts', async () => {
    fresh();
    const { retryFailed, queueStats } = await import('../../src/queue/admin.js');
    await redis.lpush(
      keys.failed,
      JSON.stringify({ job: '{"id":"d1","input":"x"}', error: 'e', attempts: 4 }),
    );
    expect((await queueStats(redis, keys)).failed).toBe(1);
    expect(await retryFailed(redis, keys)).toEqual({ moved: 1, permanentLeft: 0 });
    expect(await redis.lrange(keys.jobs, 0, -1)).toEqual(['{"id":"d1","input":"x"}']);
    expect(await redis.llen(keys.failed)).toBe(0);
  });
});
