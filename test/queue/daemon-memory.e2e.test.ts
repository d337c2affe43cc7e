import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queueKeys } from '../../src/queue/keys.js';
import { writeBlackPng } from '../e2e/heavy.js';
import { FAST, cli, killAll, png, type CliProcess } from './daemon-helpers.js';
import { haveRedisServer, startRedis, waitFor, type TestRedis } from './redis-server.js';

const MIB = 1024 ** 2;

/** The process's peak resident memory so far, as the kernel counts it. */
function peakRss(pid: number): number {
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!kib) throw new Error(`no VmHWM for process ${pid}`);
  return Number(kib[1]) * 1024;
}

// The daemon admits each job by its estimated peak against --max-memory, as a batch run does.
describe.skipIf(!haveRedisServer())('daemon memory budget', () => {
  let server: TestRedis;
  let redis: Redis;
  let dir: string;
  let data: string;
  const started: CliProcess[] = [];
  const keys = queueKeys({ prefix: 'mem:' });

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'imgproc-daemon-mem-')));
    data = join(dir, 'data');
    mkdirSync(join(data, 'up'), { recursive: true });
    await png(join(data, 'up', 'tiny.png'), 16, 1);
    // Small files that decode to long strips: about 280 MiB (x64) and 370 MiB (x128) estimated.
    await writeBlackPng(join(data, 'up', 'strip-a.png'), 262144, 64);
    copyFileSync(join(data, 'up', 'strip-a.png'), join(data, 'up', 'strip-b.png'));
    await writeBlackPng(join(data, 'up', 'wide.png'), 262144, 128);
  });
  afterEach(() => killAll(started));
  afterAll(async () => {
    await server?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const settle = (done: number, failed: number) =>
    waitFor(
      `${done} results and ${failed} dead letters`,
      async () =>
        (await redis.llen(keys.done)) === done && (await redis.llen(keys.failed)) === failed,
    );

  it('refuses for good a job that alone needs more than --max-memory; jobs that only together exceed it wait and complete', async () => {
    const budget = 300 * MIB;
    const d = cli(
      ['--daemon', '--redis', server.url, '--prefix', 'mem:', '--data-dir', data, '--cpu']
        .concat(FAST)
        // As many jobs in flight as cores: one libvips thread each, the same estimates anywhere.
        .concat(['--concurrency', String(Math.max(2, availableParallelism()))])
        .concat(['--max-memory', '300MiB']),
      dir,
      started,
    );
    await redis.lpush(keys.jobs, '{"id":"tiny","input":"up/tiny.png"}');
    await settle(1, 0);
    const base = peakRss(d.child.pid!);

    await redis.lpush(keys.jobs, '{"id":"wide","input":"up/wide.png"}');
    await settle(1, 1);
    const [dead] = (await redis.lrange(keys.failed, 0, -1)).map((s) => JSON.parse(s));
    expect(dead).toMatchObject({
      id: 'wide',
      code: 'OVER_MEMORY_BUDGET',
      permanent: true,
      attempts: 1,
    });
    const line =
      /^needs about \d+ MiB to process \(262144x128 PNG\), more than --max-memory 300 MiB \(raise --max-memory if the machine has the room, or shrink the image first\)$/;
    expect(dead.error).toMatch(line);
    expect(await redis.zcard(keys.retry)).toBe(0);
    expect(existsSync(join(data, 'processed', 'wide'))).toBe(false);
    await waitFor('the failure line', () =>
      /job wide \(up\/wide\.png\): failed permanently: needs about \d+ MiB to process \(262144x128 PNG\), more than --max-memory 300 MiB \(raise --max-memory/.test(
        d.stderr(),
      ),
    );

    // Two strips at once: each fits the budget, both together do not; the second waits.
    await redis.lpush(
      keys.jobs,
      '{"id":"a","input":"up/strip-a.png"}',
      '{"id":"b","input":"up/strip-b.png"}',
    );
    await settle(3, 1);
    const done = (await redis.lrange(keys.done, 0, -1)).map((s) => JSON.parse(s));
    expect(done.map((r) => [r.id, r.attempts]).sort()).toEqual([
      ['a', 1],
      ['b', 1],
      ['tiny', 1],
    ]);
    for (const id of ['a', 'b'])
      expect(existsSync(join(data, 'processed', id, `${id}_thumb.webp`))).toBe(true);
    const peak = peakRss(d.child.pid!);
    expect(peak, `peak ${peak / MIB} MiB, base ${base / MIB} MiB`).toBeLessThan(budget + base);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });
});
