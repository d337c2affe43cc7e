import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queueKeys, type QueueKeys } from '../../src/queue/keys.js';
import { FAST, cli, killAll, png, type CliProcess } from './daemon-helpers.js';
import {
  freePort,
  haveRedisServer,
  sleep,
  startRedis,
  waitFor,
  type TestRedis,
} from './redis-server.js';

type JobRecord = Record<string, unknown> & { id?: string; job?: string; code?: string };

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

// What a job id means, where a job may write, and which file it reads: the built CLI as a daemon.
describe.skipIf(!haveRedisServer())('daemon jobs: ids, output roots, inputs', () => {
  let server: TestRedis;
  let redis: Redis;
  let dir: string;
  let data: string;
  let keys: QueueKeys;
  let prefix: string;
  let n = 0;
  const started: CliProcess[] = [];

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'imgproc-jobs-')));
    data = join(dir, 'data');
    mkdirSync(join(data, 'up'), { recursive: true });
    await png(join(data, 'up', 'a.png'), 16, 1);
    await png(join(data, 'up', 'b.png'), 16, 2);
    await png(join(dir, 'outside.png'), 300, 3);
  });
  afterEach(() => killAll(started));
  afterAll(async () => {
    await server?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const fresh = () => {
    prefix = `j${++n}:`;
    keys = queueKeys({ prefix });
    return ['--redis', server.url, '--prefix', prefix];
  };
  const daemon = (extra: string[] = []) =>
    cli(
      ['--daemon', '--redis', server.url, '--prefix', prefix, '--data-dir', data, '--cpu']
        .concat(FAST)
        .concat(extra),
      dir,
      started,
    );
  const run = async (args: string[]) => {
    const p = cli(args, dir, started);
    const code = await p.exited;
    return { code, stdout: p.stdout(), stderr: p.stderr() };
  };
  const records = async (key: string) =>
    (await redis.lrange(key, 0, -1)).map((s) => JSON.parse(s) as JobRecord).reverse();
  const settle = (done: number, failed: number) =>
    waitFor(
      `${done} results and ${failed} dead letters`,
      async () =>
        (await redis.llen(keys.done)) === done && (await redis.llen(keys.failed)) === failed,
    );
  const status = async (id: string) =>
    JSON.parse((await redis.get(keys.status(id))) ?? 'null') as JobRecord | null;

  it('an id belongs to one input: a conflicting repeat fails for good, a true repeat runs again', async () => {
    fresh();
    const d = daemon();
    await redis.lpush(keys.jobs, '{"id":"p1","input":"up/a.png"}');
    await settle(1, 0);
    const thumb = join(data, 'processed', 'p1', 'p1_thumb.webp');
    const before = sha(thumb);
    // The status is written just after the result is recorded.
    await waitFor('the done status', async () => (await status('p1'))?.state === 'done');
    expect(await status('p1')).toMatchObject({
      id: 'p1',
      state: 'done',
      input: 'up/a.png',
      attempts: 1,
      out: 'processed',
      outputs: { thumb: 'p1/p1_thumb.webp' },
      sidecar: 'p1/p1.json',
    });

    // The same id for another input: refused at once, the first job's outputs untouched.
    await redis.lpush(keys.jobs, '{"id":"p1","input":"up/b.png"}');
    await settle(1, 1);
    const [conflict] = await records(keys.failed);
    expect(conflict).toMatchObject({ id: 'p1', code: 'ID_CONFLICT', permanent: true, attempts: 1 });
    expect(conflict!.error).toContain('up/a.png');
    expect(sha(thumb)).toBe(before);
    expect((await status('p1'))?.state).toBe('done');
    // Log lines name the input, so an operator can tell which file a job was (written just after
    // the outcome is recorded, so waited for).
    await waitFor('the done line', () =>
      /job p1 \(up\/a\.png\): done \(\d+\.\d ms\)/.test(d.stderr()),
    );
    await waitFor('the conflict line', () =>
      /job p1 \(up\/b\.png\): failed permanently: id "p1" belongs/.test(d.stderr()),
    );

    // Once Redis forgot the id (its status expired), the sidecar still holds it for its input.
    await redis.del(keys.status('p1'));
    await redis.lpush(keys.jobs, '{"id":"p1","input":"up/b.png"}');
    await settle(1, 2);
    expect((await records(keys.failed))[1]).toMatchObject({ id: 'p1', code: 'ID_CONFLICT' });
    expect(sha(thumb)).toBe(before);

    // The same job again (another spelling of the same path): a repeat, recorded, outputs kept.
    await redis.lpush(keys.jobs, '{"id":"p1","input":"./up//a.png"}');
    await settle(2, 2);
    expect((await records(keys.done))[1]).toMatchObject({ id: 'p1', skipped: true });
    expect(sha(thumb)).toBe(before);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });

  it('two jobs with one id running at once: one runs, the other fails as ID_CONFLICT', async () => {
    fresh();
    const d = daemon(['--concurrency', '2', '--test-job-delay', '500']);
    await redis.lpush(
      keys.jobs,
      '{"id":"c1","input":"up/a.png"}',
      '{"id":"c1","input":"up/b.png"}',
    );
    await settle(1, 1);
    const [done] = await records(keys.done);
    const [failed] = await records(keys.failed);
    expect(failed).toMatchObject({ id: 'c1', code: 'ID_CONFLICT' });
    const sidecar = JSON.parse(readFileSync(join(data, 'processed', 'c1', 'c1.json'), 'utf8'));
    expect(sidecar.source.path).toBe(done!.input);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });

  it('enqueue gives the same input with other options another id', async () => {
    const conn = fresh();
    const ids = async (extra: string[]) => {
      const r = await run([
        'enqueue',
        'up/a.png',
        '--data-dir',
        'data',
        '--json',
        ...conn,
        ...extra,
      ]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { ids: string[] }).ids[0];
    };
    const plain = await ids([]);
    const wide = await ids(['--options', '{"thumbWidth":64}']);
    expect(wide).not.toBe(plain);
    expect(await ids([])).toBe(plain);
    // README: `j` + 20 hex digits of the SHA-256 of the job's JSON without id, keys sorted.
    const rule = 'j' + createHash('sha256').update('{"input":"up/a.png"}').digest('hex');
    expect(plain).toBe(rule.slice(0, 21));
  });

  it('writes only under the output roots, and never over a file imgproc did not write', async () => {
    fresh();
    mkdirSync(join(data, 'settings'), { recursive: true });
    writeFileSync(join(data, 'settings', 'settings.json'), '{"theme":"dark"}');
    mkdirSync(join(data, 'processed', 'mine'), { recursive: true });
    writeFileSync(join(data, 'processed', 'mine', 'mine.json'), '{"not":"a sidecar"}');
    writeFileSync(join(data, 'processed', 'afile'), 'x');
    mkdirSync(join(data, 'web'), { recursive: true });
    const d = daemon(['--output-roots', 'processed,web']);
    await redis.lpush(
      keys.jobs,
      '{"id":"settings","input":"up/a.png","out":"."}',
      '{"id":"u1","input":"up/a.png","out":"up"}',
      '{"id":"mine","input":"up/a.png"}',
      '{"id":"afile","input":"up/a.png"}',
      '{"id":"x1","input":"up/a.png","out":"processed/afile"}',
      '{"id":"w1","input":"up/a.png","out":"web"}',
    );
    await settle(1, 5);
    const failed = Object.fromEntries((await records(keys.failed)).map((r) => [r.id, r]));
    expect(failed.settings).toMatchObject({ code: 'UNSAFE_PATH', attempts: 1 });
    expect(failed.u1).toMatchObject({ code: 'UNSAFE_PATH', attempts: 1 });
    expect(failed.mine).toMatchObject({ code: 'OUTPUT_CONFLICT', attempts: 1 });
    expect(failed.afile).toMatchObject({ code: 'OUTPUT_CONFLICT', attempts: 1, permanent: true });
    expect(failed.x1).toMatchObject({ code: 'OUTPUT_CONFLICT', attempts: 1, permanent: true });
    expect(readFileSync(join(data, 'settings', 'settings.json'), 'utf8')).toBe('{"theme":"dark"}');
    expect(readFileSync(join(data, 'processed', 'mine', 'mine.json'), 'utf8')).toBe(
      '{"not":"a sidecar"}',
    );
    const [w1] = await records(keys.done);
    expect(w1).toMatchObject({ id: 'w1', out: 'web', outputs: { thumb: 'w1/w1_thumb.webp' } });
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });

  it('reads the file it checked, even when the name is swapped for a link to outside meanwhile', async () => {
    fresh();
    await png(join(data, 'up', 'swap.png'), 16, 4);
    const original = sha(join(data, 'up', 'swap.png'));
    const d = daemon(['--test-job-delay', '1500']);
    await redis.lpush(keys.jobs, '{"id":"sw","input":"up/swap.png"}');
    await waitFor('the job held', async () => {
      const held = await redis.keys(`${prefix}image_processing:*`);
      return held.length > 0 && (await redis.llen(held[0]!)) === 1;
    });
    await sleep(500);
    renameSync(join(data, 'up', 'swap.png'), join(dir, 'moved-away.png'));
    symlinkSync(join(dir, 'outside.png'), join(data, 'up', 'swap.png'));
    await settle(1, 0);
    const sidecar = JSON.parse(readFileSync(join(data, 'processed', 'sw', 'sw.json'), 'utf8'));
    expect(sidecar.source.sha256).toBe(original);
    const thumb = await sharp(join(data, 'processed', 'sw', 'sw_thumb.webp')).metadata();
    expect(thumb.width).toBe(16);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });

  it('names a path that is not UTF-8 as such, not as a missing file', async () => {
    fresh();
    const d = daemon();
    const rawBytes = Buffer.concat([
      Buffer.from('{"id":"nu1","input":"up/'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('.png"}'),
    ]);
    await redis.lpush(keys.jobs, rawBytes, '{"id":"nu2","input":"up/\\udc80.png"}');
    await settle(0, 2);
    const failed = await records(keys.failed);
    for (const rec of failed) {
      expect(rec).toMatchObject({ code: 'BAD_JOB', permanent: true });
      expect(rec.error).toMatch(/not valid UTF-8/);
      expect(rec.error).not.toMatch(/not found/);
    }
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });

  it('serves metrics on loopback by default, on the address asked for otherwise', async () => {
    fresh();
    const port = await freePort();
    const d = daemon(['--metrics-port', String(port)]);
    await waitFor('the metrics line', () => d.stderr().includes('metrics on'));
    expect(d.stderr()).toContain(`metrics on http://127.0.0.1:${port}/metrics`);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const port2 = await freePort();
    const e = daemon(['--metrics-port', String(port2), '--metrics-host', '0.0.0.0']);
    await waitFor('the metrics line', () => e.stderr().includes('metrics on'));
    expect(e.stderr()).toContain(`metrics on http://0.0.0.0:${port2}/metrics`);
    e.child.kill('SIGTERM');
    expect(await e.exited).toBe(0);
  });

  it('names a refused password as an authentication failure, at once', async () => {
    const locked = await startRedis({ password: 'sekret' });
    try {
      const wrong = `redis://:wrong@127.0.0.1:${locked.port}/0`;
      const t0 = Date.now();
      const d = cli(['--daemon', '--redis', wrong, '--data-dir', data, '--cpu'], dir, started);
      expect(await d.exited).toBe(1);
      // Retrying would go on for good; a machine under load still starts and stops well within this.
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(d.stderr()).toMatch(/refused the credentials: WRONGPASS/);
      expect(d.stderr()).not.toMatch(/cannot reach/);
      expect(d.stderr()).not.toContain('wrong');
      const none = `redis://127.0.0.1:${locked.port}/0`;
      const stats = await run(['queue', 'stats', '--redis', none]);
      expect(stats.code).toBe(1);
      expect(stats.stderr).toMatch(/refused the credentials: NOAUTH/);
      expect(stats.stderr).not.toMatch(/cannot reach/);
    } finally {
      await locked.destroy();
    }
  });
});
