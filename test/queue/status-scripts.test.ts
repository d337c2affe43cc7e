import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStatus, type JobStatus } from '../../src/queue/job-status.js';
import { queueKeys, type QueueKeys } from '../../src/queue/keys.js';
import { retryFailed } from '../../src/queue/admin.js';
import { enqueueJobs } from '../../src/queue/producer.js';
import { markReaped } from '../../src/queue/recovery.js';
import { QueueScripts } from '../../src/queue/scripts.js';
import { haveRedisServer, startRedis, type TestRedis } from './redis-server.js';

// A job's status key through its life: queued by a producer, bound to its input, and what is
// left of it when the worker running it dies or hands it back.
describe.skipIf(!haveRedisServer())('job status scripts', () => {
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
    const keys = queueKeys({ prefix: `st${++n}:` });
    return { keys, scripts: new QueueScripts(redis, keys) };
  };
  const ready = (id: string, input: string) => ({
    raw: JSON.stringify({ id, input }),
    id,
    input,
  });
  const status = async (keys: QueueKeys, id: string) =>
    JSON.parse((await redis.get(keys.status(id))) ?? 'null') as JobStatus | null;
  const processing = (id: string, input: string, worker: string, attempts = 1) =>
    jobStatus({ id, input, state: 'processing', attempts, worker });

  it('enqueue pushes each job marked queued, with the TTL, in order', async () => {
    const { keys } = fresh();
    const jobs = [ready('a', 'up/a.png'), ready('b', './up//b.png')];
    const { length, conflicts } = await enqueueJobs(redis, keys, jobs, 60_000);
    expect(length).toBe(2);
    expect(conflicts).toEqual([]);
    expect(await redis.lrange(keys.jobs, 0, -1)).toEqual([jobs[1]!.raw, jobs[0]!.raw]);
    expect(await status(keys, 'a')).toMatchObject({ state: 'queued', input: 'up/a.png' });
    // The input as the daemon compares it: one spelling for one path.
    expect(await status(keys, 'b')).toMatchObject({ state: 'queued', input: 'up/b.png' });
    const ttl = await redis.pttl(keys.status('a'));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('an id bound to another input: refuse pushes nothing, push pushes; the binding stays', async () => {
    const { keys } = fresh();
    await enqueueJobs(redis, keys, [ready('x', 'a.png')], 60_000);
    const refused = await enqueueJobs(redis, keys, [ready('x', 'b.png')], 60_000, 'refuse');
    expect(refused.conflicts).toEqual([{ id: 'x', input: 'b.png', boundTo: 'a.png' }]);
    expect(refused.length).toBe(1);
    const pushed = await enqueueJobs(redis, keys, [ready('x', 'b.png')], 60_000, 'push');
    expect(pushed.conflicts).toHaveLength(1);
    expect(pushed.length).toBe(2);
    expect(await status(keys, 'x')).toMatchObject({ state: 'queued', input: 'a.png' });
    // The same input again is a repeat, not a conflict.
    expect((await enqueueJobs(redis, keys, [ready('x', 'a.png')], 60_000)).conflicts).toEqual([]);
  });

  it('a failed job frees its id; a done one keeps it', async () => {
    const { keys, scripts } = fresh();
    await scripts.setJobStatus(
      'f',
      jobStatus({ id: 'f', input: 'a.png', state: 'failed', attempts: 1 }),
      60_000,
    );
    expect((await enqueueJobs(redis, keys, [ready('f', 'b.png')], 60_000)).conflicts).toEqual([]);
    await scripts.setJobStatus(
      'd',
      jobStatus({ id: 'd', input: 'a.png', state: 'done', attempts: 1 }),
      60_000,
    );
    const { conflicts } = await enqueueJobs(redis, keys, [ready('d', 'b.png')], 60_000, 'refuse');
    expect(conflicts).toHaveLength(1);
  });

  it('begin refuses another input while the id is queued for one', async () => {
    const { keys, scripts } = fresh();
    await enqueueJobs(redis, keys, [ready('q', 'a.png')], 60_000);
    const other = await scripts.beginJob('q', 'b.png', processing('q', 'b.png', 'w1'), 60_000);
    expect(other).toBe('a.png');
    expect(await status(keys, 'q')).toMatchObject({ state: 'queued', input: 'a.png' });
    const own = await scripts.beginJob('q', 'a.png', processing('q', 'a.png', 'w1'), 60_000);
    expect(own).toBeUndefined();
    expect(await status(keys, 'q')).toMatchObject({ state: 'processing', worker: 'w1' });
  });

  it('status-if-held writes only while the status names that worker running the job', async () => {
    const { keys, scripts } = fresh();
    await scripts.setJobStatus('h', processing('h', 'a.png', 'w1', 2), 60_000);
    const retrying = jobStatus({ id: 'h', input: 'a.png', state: 'retrying', attempts: 0 });
    expect(await scripts.setStatusIfHeld('h', 'w2', retrying, 60_000, true)).toBe(false);
    expect(await scripts.setStatusIfHeld('h', 'w1', retrying, 60_000, true)).toBe(true);
    // Attempts kept from the dead worker's status; one crash counted.
    expect(await status(keys, 'h')).toMatchObject({ state: 'retrying', attempts: 2, crashes: 1 });
    // No longer processing: a second write is refused.
    expect(await scripts.setStatusIfHeld('h', 'w1', retrying, 60_000, true)).toBe(false);
    expect(await scripts.setStatusIfHeld('gone', 'w1', retrying, 60_000, true)).toBe(false);
  });

  it('a reaped job says retrying (CRASHED) when requeued, failed when dead-lettered', async () => {
    const { keys, scripts } = fresh();
    const a = ready('ra', 'a.png');
    const b = ready('rb', 'b.png');
    await scripts.setJobStatus('ra', processing('ra', 'a.png', 'dead1'), 60_000);
    await scripts.setJobStatus('rb', processing('rb', 'b.png', 'dead1', 3), 60_000);
    await redis.lpush(keys.processing('dead1'), a.raw, b.raw);
    await redis.hset(keys.recoveries, createHash('sha1').update(b.raw).digest('hex'), 2);
    const reaped = await scripts.reap('dead1', 3);
    expect(reaped).toMatchObject({ requeued: 1, dead: 1 });
    await markReaped(scripts, 'dead1', reaped!, 3, 60_000);
    expect(await status(keys, 'ra')).toMatchObject({
      state: 'retrying',
      code: 'CRASHED',
      attempts: 1,
      crashes: 1,
      error: 'worker dead1 died while running it; requeued',
    });
    expect(await status(keys, 'rb')).toMatchObject({
      state: 'failed',
      code: 'CRASHED',
      attempts: 3,
      error: 'job crashed its worker 3 times',
    });
  });

  it('retry-failed marks the jobs it moves back queued, where their status still says failed', async () => {
    const { keys, scripts } = fresh();
    const a = ready('fa', 'a.png');
    const b = ready('fb', 'b.png');
    const failed = (id: string, input: string) =>
      jobStatus({ id, input, state: 'failed', attempts: 4, code: 'ERROR', error: 'x' });
    await scripts.setJobStatus('fa', failed('fa', 'a.png'), 60_000);
    // fb's id was taken by another job meanwhile: its status is left alone.
    await scripts.setJobStatus('fb', processing('fb', 'other.png', 'w9'), 60_000);
    for (const raw of [a.raw, b.raw]) {
      await redis.lpush(keys.failed, JSON.stringify({ id: 'x', job: raw, permanent: false }));
    }
    expect(await retryFailed(redis, keys, 0, false, 60_000)).toEqual({
      moved: 2,
      permanentLeft: 0,
    });
    expect(await status(keys, 'fa')).toMatchObject({ state: 'queued', attempts: 4 });
    expect((await status(keys, 'fa'))?.error).toBeUndefined();
    expect(await status(keys, 'fb')).toMatchObject({ state: 'processing', input: 'other.png' });
  });
});
