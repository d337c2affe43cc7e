import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueKeys, type QueueKeys } from '../../src/queue/keys.js';
import { QueueScripts } from '../../src/queue/scripts.js';
import { haveRedisServer, sleep, startRedis, type TestRedis } from './redis-server.js';

// Each Lua script's documented behaviour, one script call at a time, against a real redis-server.
describe.skipIf(!haveRedisServer())('queue Lua scripts', () => {
  let server: TestRedis;
  let redis: Redis;
  let n = 0;

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  const fresh = (): { keys: QueueKeys; scripts: QueueScripts } => {
    const keys = queueKeys({ prefix: `s${++n}:` });
    return { keys, scripts: new QueueScripts(redis, keys) };
  };
  const hash = (raw: string) => createHash('sha1').update(raw).digest('hex');
  const job = (id: string) => JSON.stringify({ id, input: `${id}.png` });
  const redisNow = async () => {
    const [s, us] = await redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };
  const held = (keys: QueueKeys, worker: string) => redis.lrange(keys.processing(worker), 0, -1);

  describe('fetch', () => {
    it('takes the oldest pending job into the worker’s processing list, with its failures', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.jobs, job('a'), job('b'));
      await redis.hset(keys.attempts, hash(job('a')), 2);
      await redis.hset(keys.recoveries, hash(job('a')), 1);
      const first = await scripts.fetch('w1');
      expect(first?.raw.toString()).toBe(job('a'));
      expect(first?.failures).toBe(2);
      expect(first?.crashes).toBe(1);
      expect(await held(keys, 'w1')).toEqual([job('a')]);
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('b')]);
      const second = await scripts.fetch('w1');
      expect(second).toMatchObject({ failures: 0, crashes: 0 });
      expect(second?.raw.toString()).toBe(job('b'));
      expect(await scripts.fetch('w1')).toBeUndefined();
    });

    it('blocking fetch moves the oldest job too, and counts its failures', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.jobs, job('a'), job('b'));
      await redis.hset(keys.attempts, hash(job('a')), 1);
      await redis.hset(keys.recoveries, hash(job('a')), 2);
      const got = await scripts.fetchBlocking(redis, 'w1', 0.1);
      expect(got?.raw.toString()).toBe(job('a'));
      expect(got?.failures).toBe(1);
      expect(got?.crashes).toBe(2);
      expect(await held(keys, 'w1')).toEqual([job('a')]);
    });
  });

  describe('complete', () => {
    it('records the result and drops the job from the processing list and its counters', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.jobs, job('a'));
      await scripts.fetch('w1');
      await redis.hset(keys.attempts, hash(job('a')), 1);
      await redis.hset(keys.recoveries, hash(job('a')), 1);
      expect(await scripts.complete('w1', Buffer.from(job('a')), '{"id":"a"}', 0)).toBe(true);
      expect(await redis.lrange(keys.done, 0, -1)).toEqual(['{"id":"a"}']);
      expect(await held(keys, 'w1')).toEqual([]);
      expect(await redis.hlen(keys.attempts)).toBe(0);
      expect(await redis.hlen(keys.recoveries)).toBe(0);
    });

    it('keeps the done list at --done-cap, newest first', async () => {
      const { keys, scripts } = fresh();
      for (let i = 0; i < 5; i++) {
        await redis.lpush(keys.processing('w1'), job(`j${i}`));
        await scripts.complete('w1', Buffer.from(job(`j${i}`)), `{"id":"j${i}"}`, 3);
      }
      expect(await redis.lrange(keys.done, 0, -1)).toEqual([
        '{"id":"j4"}',
        '{"id":"j3"}',
        '{"id":"j2"}',
      ]);
    });

    it('keeps every result with a cap of 0', async () => {
      const { keys, scripts } = fresh();
      for (let i = 0; i < 4; i++) {
        await redis.lpush(keys.processing('w1'), job(`j${i}`));
        await scripts.complete('w1', Buffer.from(job(`j${i}`)), `{"id":"j${i}"}`, 0);
      }
      expect(await redis.llen(keys.done)).toBe(4);
    });

    it('records nothing for a job the worker no longer holds (another worker took it back)', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.processing('w2'), job('a'));
      expect(await scripts.complete('w1', Buffer.from(job('a')), '{"id":"a"}', 0)).toBe(false);
      expect(await redis.llen(keys.done)).toBe(0);
      expect(await held(keys, 'w2')).toEqual([job('a')]);
    });

    it('takes a job handed back but not yet taken again off the queue, and records it once', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.jobs, job('other'), job('a'));
      expect(await scripts.complete('w1', Buffer.from(job('a')), '{"id":"a"}', 0)).toBe(true);
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('other')]);
      expect(await redis.lrange(keys.done, 0, -1)).toEqual(['{"id":"a"}']);
    });
  });

  describe('fail', () => {
    it('parks a retry in the sorted set, due after the backoff by the Redis clock', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.processing('w1'), job('a'));
      const before = await redisNow();
      expect(await scripts.scheduleRetry('w1', Buffer.from(job('a')), 60_000)).toBe(true);
      const after = await redisNow();
      const due = Number(await redis.zscore(keys.retry, job('a')));
      expect(due).toBeGreaterThanOrEqual(before + 60_000);
      expect(due).toBeLessThanOrEqual(after + 60_000);
      expect(await redis.hget(keys.attempts, hash(job('a')))).toBe('1');
      expect(await held(keys, 'w1')).toEqual([]);
    });

    it('dead-letters with one record shape: the job’s own id, error, code, attempts, worker, time', async () => {
      const { keys, scripts } = fresh();
      const noId = '{"input":"b.png"}';
      await redis.lpush(keys.processing('w1'), job('a'), noId, 'not json');
      await redis.hset(keys.attempts, hash(job('a')), 3);
      const why = {
        error: 'boom',
        code: 'NOT_AN_IMAGE',
        permanent: true,
        attempts: 4,
        worker: 'w1',
      };
      const before = await redisNow();
      expect(await scripts.deadLetter('w1', Buffer.from(job('a')), why)).toBe(true);
      await scripts.deadLetter('w1', Buffer.from(noId), { ...why, permanent: false });
      await scripts.deadLetter('w1', Buffer.from('not json'), why);
      const [garbled, withoutId, first] = (await redis.lrange(keys.failed, 0, -1)).map(
        (s) => JSON.parse(s) as Record<string, unknown>,
      );
      expect(first).toEqual({
        id: 'a',
        job: job('a'),
        error: 'boom',
        code: 'NOT_AN_IMAGE',
        permanent: true,
        attempts: 4,
        worker: 'w1',
        failedAt: expect.any(Number),
      });
      expect(first!.failedAt).toBeGreaterThanOrEqual(before);
      expect(withoutId).not.toHaveProperty('id');
      expect(withoutId).toMatchObject({ job: noId, permanent: false });
      expect(garbled).toMatchObject({ job: 'not json' });
      expect(await redis.hlen(keys.attempts)).toBe(0);
      expect(await held(keys, 'w1')).toEqual([]);
    });

    it('moves nothing for a job the worker no longer holds', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.processing('w2'), job('a'));
      expect(await scripts.scheduleRetry('w1', Buffer.from(job('a')), 0)).toBe(false);
      const why = { error: 'e', code: 'ERROR', permanent: true, attempts: 1, worker: 'w1' };
      expect(await scripts.deadLetter('w1', Buffer.from(job('a')), why)).toBe(false);
      expect(await redis.zcard(keys.retry)).toBe(0);
      expect(await redis.llen(keys.failed)).toBe(0);
      expect(await held(keys, 'w2')).toEqual([job('a')]);
    });
  });

  describe('promote', () => {
    it('moves only the retries that are due, oldest due first, at most the limit', async () => {
      const { keys, scripts } = fresh();
      const now = await redisNow();
      await redis.zadd(keys.retry, now - 2000, job('old'), now - 1000, job('newer'));
      await redis.zadd(keys.retry, now + 60_000, job('later'));
      expect(await scripts.promoteDue(1)).toBe(1);
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('old')]);
      expect(await scripts.promoteDue(10)).toBe(1);
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('newer'), job('old')]);
      expect(await redis.zrange(keys.retry, 0, '-1')).toEqual([job('later')]);
    });

    it('moves a retry once its backoff has passed', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.processing('w1'), job('a'));
      await scripts.scheduleRetry('w1', Buffer.from(job('a')), 300);
      expect(await scripts.promoteDue(10)).toBe(0);
      await sleep(400);
      expect(await scripts.promoteDue(10)).toBe(1);
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('a')]);
    });
  });

  describe('reap', () => {
    it('leaves a live worker alone', async () => {
      const { keys, scripts } = fresh();
      await redis.set(keys.heartbeat('w1'), '{}', 'PX', 10_000);
      await redis.sadd(keys.workers, 'w1');
      await redis.lpush(keys.processing('w1'), job('a'));
      expect(await scripts.reap('w1', 3)).toBeUndefined();
      expect(await held(keys, 'w1')).toEqual([job('a')]);
      expect(await redis.sismember(keys.workers, 'w1')).toBe(1);
    });

    it('requeues a dead worker’s jobs at the taking end, oldest first, and unregisters it', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.jobs, job('pending'));
      await redis.sadd(keys.workers, 'w1');
      await redis.lpush(keys.processing('w1'), job('a'), job('b'));
      expect(await scripts.reap('w1', 3)).toEqual({
        requeued: 2,
        dead: 0,
        requeuedJobs: [job('b'), job('a')],
        deadJobs: [],
      });
      // The taking end is the right: a (taken first) is next, then b, then the pending job.
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('pending'), job('b'), job('a')]);
      expect(await redis.hget(keys.recoveries, hash(job('a')))).toBe('1');
      expect(await redis.sismember(keys.workers, 'w1')).toBe(0);
    });

    it('dead-letters a job at the crash cap, counting its failed attempts too', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.processing('w1'), job('a'), job('b'));
      await redis.hset(keys.recoveries, hash(job('b')), 2);
      await redis.hset(keys.attempts, hash(job('b')), 1);
      expect(await scripts.reap('w1', 3)).toEqual({
        requeued: 1,
        dead: 1,
        requeuedJobs: [job('a')],
        deadJobs: [job('b')],
      });
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('a')]);
      const [dead] = (await redis.lrange(keys.failed, 0, -1)).map((s) => JSON.parse(s));
      expect(dead).toMatchObject({
        id: 'b',
        job: job('b'),
        code: 'CRASHED',
        error: 'job crashed its worker 3 times',
        permanent: false,
        attempts: 4,
        worker: 'w1',
      });
      expect(await redis.hexists(keys.recoveries, hash(job('b')))).toBe(0);
      expect(await redis.hexists(keys.attempts, hash(job('b')))).toBe(0);
    });

    it('takes over its own id’s leftovers despite the live heartbeat, and stays registered', async () => {
      const { keys, scripts } = fresh();
      await redis.set(keys.heartbeat('w1'), '{}', 'PX', 10_000);
      await redis.sadd(keys.workers, 'w1');
      await redis.lpush(keys.processing('w1'), job('a'));
      expect(await scripts.reap('w1', 3, true)).toMatchObject({ requeued: 1, dead: 0 });
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('a')]);
      expect(await redis.sismember(keys.workers, 'w1')).toBe(1);
    });
  });

  describe('handback', () => {
    it('returns every held job to the taking end, in the order they were taken, uncounted', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.jobs, job('a'), job('b'));
      await scripts.fetch('w1');
      await scripts.fetch('w1');
      await redis.lpush(keys.jobs, job('pending'));
      expect(await scripts.handBack('w1')).toBe(2);
      expect(await held(keys, 'w1')).toEqual([]);
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('pending'), job('b'), job('a')]);
      expect(await redis.hlen(keys.attempts)).toBe(0);
      expect(await redis.hlen(keys.recoveries)).toBe(0);
    });

    it('returns only the named jobs, and only those it holds', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.processing('w1'), job('a'), job('b'));
      const named = [Buffer.from(job('b')), Buffer.from(job('elsewhere'))];
      expect(await scripts.handBack('w1', named)).toBe(1);
      expect(await held(keys, 'w1')).toEqual([job('a')]);
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('b')]);
    });
  });

  describe('worker ids', () => {
    it('claims an id once, refreshes it only with its token, and releases it only when idle', async () => {
      const { keys, scripts } = fresh();
      expect(await scripts.claimId('w1', '{"token":"t1"}', 10_000)).toBe(true);
      expect(await scripts.claimId('w1', '{"token":"t2"}', 10_000)).toBe(false);
      expect(await redis.get(keys.heartbeat('w1'))).toBe('{"token":"t1"}');
      expect(await redis.sismember(keys.workers, 'w1')).toBe(1);
      expect(await scripts.refreshHeartbeat('w1', '{"token":"t2"}', 10_000, 't2')).toBe(false);
      expect(await scripts.refreshHeartbeat('w1', '{"token":"t1","n":2}', 5000, 't1')).toBe(true);
      expect(await redis.get(keys.heartbeat('w1'))).toBe('{"token":"t1","n":2}');
      expect(await redis.pttl(keys.heartbeat('w1'))).toBeLessThanOrEqual(5000);
      expect(await scripts.releaseId('w1', 't2')).toBe(false);
      await redis.lpush(keys.processing('w1'), job('a'));
      expect(await scripts.releaseId('w1', 't1')).toBe(true);
      expect(await redis.exists(keys.heartbeat('w1'))).toBe(0);
      // Still holding a job: stays registered so that a reaper finds the list.
      expect(await redis.sismember(keys.workers, 'w1')).toBe(1);
    });

    it('claims an id whose heartbeat expired', async () => {
      const { scripts } = fresh();
      expect(await scripts.claimId('w1', '{"token":"t1"}', 100)).toBe(true);
      await sleep(200);
      expect(await scripts.claimId('w1', '{"token":"t2"}', 10_000)).toBe(true);
    });
  });

  describe('retry-failed', () => {
    it('requeues dead letters oldest first with fresh attempts, keeping records that hold no job', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.failed, JSON.stringify({ job: job('old') }), 'garbage');
      await redis.lpush(keys.failed, JSON.stringify({ job: job('new') }));
      await redis.hset(keys.attempts, hash(job('old')), 4);
      expect(await scripts.retryFailed(0)).toMatchObject({ moved: 2, permanentLeft: 0 });
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('new'), job('old')]);
      expect(await redis.lrange(keys.failed, 0, -1)).toEqual(['garbage']);
      expect(await redis.hlen(keys.attempts)).toBe(0);
    });

    it('moves at most the limit', async () => {
      const { keys, scripts } = fresh();
      await redis.lpush(keys.failed, JSON.stringify({ job: job('a') }));
      await redis.lpush(keys.failed, JSON.stringify({ job: job('b') }));
      expect(await scripts.retryFailed(1)).toMatchObject({ moved: 1, permanentLeft: 0 });
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('a')]);
      expect(await redis.llen(keys.failed)).toBe(1);
    });

    it('leaves permanent failures in order unless asked, and moves them when asked', async () => {
      const { keys, scripts } = fresh();
      const permanent = (id: string) => JSON.stringify({ job: job(id), permanent: true });
      await redis.lpush(keys.failed, permanent('p1'), JSON.stringify({ job: job('t1') }));
      await redis.lpush(keys.failed, permanent('p2'), JSON.stringify({ job: job('t2') }));
      expect(await scripts.retryFailed(0)).toMatchObject({ moved: 2, permanentLeft: 2 });
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([job('t2'), job('t1')]);
      expect(await redis.lrange(keys.failed, 0, -1)).toEqual([permanent('p2'), permanent('p1')]);
      expect(await scripts.retryFailed(0, true)).toMatchObject({ moved: 2, permanentLeft: 0 });
      expect(await redis.llen(keys.failed)).toBe(0);
      expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([
        job('p2'),
        job('p1'),
        job('t2'),
        job('t1'),
      ]);
    });
  });
});
