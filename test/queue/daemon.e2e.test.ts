import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { queueKeys, type QueueKeys } from '../../src/queue/keys.js';
import {
  freePort,
  haveRedisServer,
  sleep,
  startRedis,
  waitFor,
  type TestRedis,
} from './redis-server.js';

const BIN = resolve('bin/imgproc.cjs');
// Short intervals so that expiry and recovery take a second, not fifteen.
const FAST = [
  '--heartbeat-interval',
  '0.2',
  '--heartbeat-ttl',
  '0.8',
  '--reap-interval',
  '0.2',
  '--block-timeout',
  '0.2',
  '--retry-delay',
  '0.1',
];

/** A done or failed record, as the daemon writes it. */
interface JobRecord {
  id?: string;
  job?: string;
  input?: string;
  code?: string;
  worker?: string;
  outputs: { thumb: string };
  gradient: { css: string };
  [field: string]: unknown;
}

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];

function cli(args: string[], cwd: string): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, UV_THREADPOOL_SIZE: '4' },
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const p: Proc & { stdout: () => string } = {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
  };
  procs.push(p);
  return p;
}

async function run(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = cli(args, cwd) as Proc & { stdout: () => string };
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

async function png(path: string, size: number, seed: number): Promise<void> {
  await sharp({
    create: {
      width: size,
      height: size,
      channels: 3,
      background: { r: (seed * 37) % 256, g: (seed * 91) % 256, b: 128 },
    },
  })
    .png()
    .toFile(path);
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe.skipIf(!haveRedisServer())('imgproc --daemon (the built CLI against redis-server)', () => {
  let server: TestRedis;
  let redis: Redis;
  let dir: string;
  let data: string;
  let keys: QueueKeys;
  let prefix: string;
  let n = 0;

  beforeAll(async () => {
    server = await startRedis({ persist: true });
    redis = server.client();
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'imgproc-daemon-')));
    data = join(dir, 'data');
    mkdirSync(join(data, 'up'), { recursive: true });
    for (let i = 0; i < 20; i++) await png(join(data, 'up', `${i}.png`), 16, i);
    await png(join(data, 'up', 'big.png'), 300, 99);
    writeFileSync(join(data, 'up', 'text.png'), 'this is not an image');
    writeFileSync(join(dir, 'outside.png'), readFileSync(join(data, 'up', '0.png')));
    symlinkSync(join(dir, 'outside.png'), join(data, 'up', 'link.png'));
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
  });
  afterAll(async () => {
    await server?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const fresh = () => {
    prefix = `e${++n}:`;
    keys = queueKeys({ prefix });
    return ['--redis', server.url, '--prefix', prefix];
  };
  const daemon = (extra: string[] = []) =>
    cli(
      [
        '--daemon',
        '--redis',
        server.url,
        '--prefix',
        prefix,
        '--data-dir',
        data,
        '--cpu',
        ...FAST,
        ...extra,
      ],
      dir,
    );
  const records = async (key: string) =>
    (await redis.lrange(key, 0, -1)).map((s) => JSON.parse(s) as JobRecord);
  const doneIds = async () => (await records(keys.done)).map((r) => r.id as string);
  const leftovers = async () => {
    const processing = await redis.keys(`${prefix}image_processing:*`);
    let held = 0;
    for (const k of processing) held += await redis.llen(k);
    return { pending: await redis.llen(keys.jobs), retry: await redis.zcard(keys.retry), held };
  };

  it('processes real images, reports results and dead letters, serves metrics, and exits 0 on SIGTERM', async () => {
    const conn = fresh();
    const enq = await run(
      [
        'enqueue',
        'up/0.png',
        'up/1.png',
        'up/big.png',
        'up/text.png',
        '--data-dir',
        'data',
        '--json',
        ...conn,
      ],
      dir,
    );
    expect(enq.code, enq.stderr).toBe(0);
    const { ids } = JSON.parse(enq.stdout) as { ids: string[] };
    expect(ids).toHaveLength(4);
    await redis.lpush(
      keys.jobs,
      '{"id":"m1",',
      '{"id":"esc","input":"../outside.png"}',
      '{"id":"sym","input":"up/link.png"}',
      '{"id":"abs","input":"/etc/passwd"}',
      '{"id":"w","input":"up/0.png","options":{"thumbWidth":8},"ops":["thumb","gradient"]}',
    );
    const port = await freePort();
    const d = daemon([
      '--log-format',
      'json',
      '--metrics-port',
      String(port),
      '--concurrency',
      '2',
    ]);
    await waitFor(
      '4 results and 5 dead letters',
      async () => (await redis.llen(keys.done)) === 4 && (await redis.llen(keys.failed)) === 5,
    );

    const done = await records(keys.done);
    const big = done.find((r) => r.input === 'up/big.png')!;
    expect(big).toMatchObject({ attempts: 1, backend: 'cpu', skipped: false });
    expect(big.worker).toMatch(/_cpu0$/);
    expect(typeof big.durationMs).toBe('number');
    expect(big.gradient.css).toMatch(/^linear-gradient/);
    // Paths relative to the job's output root, as in the sidecar; `out` names the root.
    expect(big.out).toBe('processed');
    expect(big.outputs.thumb).toBe(`${big.id}/${big.id}_thumb.webp`);
    expect(big.sidecar).toBe(`${big.id}/${big.id}.json`);
    const sidecar = JSON.parse(
      readFileSync(join(data, 'processed', big.sidecar as string), 'utf8'),
    );
    expect(sidecar.outputs.thumb.path).toBe(big.outputs.thumb);
    const meta = await sharp(join(data, 'processed', big.outputs.thumb)).metadata();
    expect([meta.format, meta.width]).toEqual(['webp', 256]);
    const w = done.find((r) => r.id === 'w')!;
    expect(Object.keys(w.outputs)).toEqual(['thumb']);
    expect((await sharp(join(data, 'processed', w.outputs.thumb)).metadata()).width).toBe(8);

    const failed: Record<string, JobRecord> = Object.fromEntries(
      (await records(keys.failed)).map((r) => [r.id ?? r.job, r]),
    );
    expect(failed['{"id":"m1",']?.code).toBe('BAD_JOB');
    expect(failed.esc?.code).toBe('UNSAFE_PATH');
    expect(failed.sym?.code).toBe('UNSAFE_PATH');
    expect(failed.abs?.code).toBe('UNSAFE_PATH');
    const notImage = Object.values(failed).find((r: JobRecord) =>
      String(r.job).includes('text.png'),
    )!;
    expect(notImage).toMatchObject({ code: 'NOT_AN_IMAGE', attempts: 1, permanent: true });
    expect(readdirSync(join(data, 'processed'))).not.toContain('esc');

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^imgproc_jobs_done_total 4$/m);
    expect(metrics).toMatch(/^imgproc_jobs_failed_total\{code="UNSAFE_PATH"\} 3$/m);
    expect(metrics).toMatch(/^imgproc_queue_depth\{list="failed"\} 5$/m);
    expect(metrics).toMatch(/^imgproc_backend_info\{backend="cpu"/m);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    const stats = await run(['queue', 'stats', '--json', ...conn], dir);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      pending: 0,
      retry: 0,
      failed: 5,
      done: 4,
      workers: 1,
    });
    const workers = JSON.parse((await run(['workers', '--json', ...conn], dir)).stdout);
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatchObject({ backend: 'cpu', jobsDone: 4, jobsFailed: 5, current: [] });
    expect(workers[0].pid).toBe(d.child.pid);

    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const lines = d
      .stderr()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const jobLine = lines.find((l) => l.job === 'w' && l.msg === 'done')!;
    expect(jobLine).toMatchObject({ level: 'info', service: 'imgproc' });
    expect(jobLine.worker).toMatch(/_cpu0$/);
    expect(typeof jobLine.durationMs).toBe('number');
    // Rounded for people: a tenth of a millisecond at most.
    expect(String(jobLine.durationMs)).toMatch(/^\d+(\.\d)?$/);
    expect(jobLine.input).toBe('up/0.png');
    expect(typeof jobLine.time).toBe('string');
    expect(await redis.exists(keys.heartbeat(jobLine.worker as string))).toBe(0);

    // Every one of these failed for good: they stay unless asked for.
    const again = await run(['queue', 'retry-failed', ...conn], dir);
    expect(again.stdout).toContain(`moved 0 job(s) from ${keys.failed} back to ${keys.jobs}`);
    expect(again.stdout).toContain(
      `left 5 permanent failure(s) in ${keys.failed}: they fail again as they are; --include-permanent moves them too`,
    );
    expect(await redis.llen(keys.jobs)).toBe(0);
    const forced = await run(
      ['queue', 'retry-failed', '--include-permanent', '--json', ...conn],
      dir,
    );
    expect(JSON.parse(forced.stdout)).toMatchObject({ moved: 5, permanentLeft: 0 });
    expect(await redis.llen(keys.jobs)).toBe(5);
  });

  it('writes the same bytes when a job runs twice', async () => {
    fresh();
    const raw = '{"id":"twice","input":"up/big.png"}';
    await redis.lpush(keys.jobs, raw);
    const d = daemon();
    await waitFor('first result', async () => (await redis.llen(keys.done)) === 1);
    const out = join(data, 'processed', 'twice');
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, sha(join(out, f))]));
    rmSync(join(out, 'twice.json'));
    rmSync(join(out, 'twice_thumb.webp'));
    await redis.lpush(keys.jobs, raw);
    await waitFor('second result', async () => (await redis.llen(keys.done)) === 2);
    const after = Object.fromEntries(readdirSync(out).map((f) => [f, sha(join(out, f))]));
    expect(after).toEqual(before);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });

  it('on SIGTERM finishes the job in flight within the timeout, hands back the rest, and exits 0', async () => {
    fresh();
    await redis.lpush(
      keys.jobs,
      '{"id":"g1","input":"up/2.png"}',
      '{"id":"g2","input":"up/3.png"}',
    );
    const d = daemon(['--concurrency', '1', '--test-job-delay', '800', '--shutdown-timeout', '10']);
    await waitFor('g1 in flight', async () => (await leftovers()).held === 1);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(await doneIds()).toEqual(['g1']);
    expect(await redis.lrange(keys.jobs, 0, -1)).toEqual(['{"id":"g2","input":"up/3.png"}']);

    const slow = daemon([
      '--concurrency',
      '1',
      '--test-job-delay',
      '20000',
      '--shutdown-timeout',
      '0.3',
    ]);
    await waitFor('g2 in flight', async () => (await leftovers()).held === 1);
    slow.child.kill('SIGINT');
    expect(await slow.exited).toBe(0);
    expect(await redis.lrange(keys.jobs, 0, -1)).toEqual(['{"id":"g2","input":"up/3.png"}']);
    expect((await leftovers()).held).toBe(0);
    expect(readdirSync(join(data, 'processed'))).not.toContain('g2');
  });

  it('recovers the job of a worker killed with SIGKILL mid-job', async () => {
    fresh();
    await redis.lpush(keys.jobs, '{"id":"k1","input":"up/4.png"}');
    const a = daemon(['--test-job-delay', '20000']);
    await waitFor('k1 in flight', async () => (await leftovers()).held === 1);
    a.child.kill('SIGKILL');
    await a.exited;
    expect((await leftovers()).held).toBe(1);
    const b = daemon();
    await waitFor('k1 done by another worker', async () => (await doneIds()).includes('k1'));
    const [rec] = await records(keys.done);
    expect(rec!.id).toBe('k1');
    expect(await leftovers()).toEqual({ pending: 0, retry: 0, held: 0 });
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('dead-letters a job that keeps killing its workers', async () => {
    fresh();
    await redis.lpush(keys.jobs, '{"id":"poison","input":"x"}', '{"id":"fine","input":"y"}');
    const script = resolve('test/queue/crash-worker.mjs');
    for (let i = 0; i < 5 && (await redis.llen(keys.failed)) === 0; i++) {
      const child = spawn(process.execPath, [script, server.url, prefix], { stdio: 'ignore' });
      const p = {
        child,
        stderr: () => '',
        exited: new Promise<number | null>((r) => child.once('exit', r)),
      };
      procs.push(p);
      await Promise.race([
        p.exited,
        waitFor('a dead letter', async () => (await redis.llen(keys.failed)) > 0, 15_000),
      ]);
    }
    const [dead] = await records(keys.failed);
    expect(dead).toMatchObject({
      id: 'poison',
      code: 'CRASHED',
      error: 'job crashed its worker 2 times',
    });
    expect(JSON.parse(dead!.job!).id).toBe('poison');
    await waitFor('the other job done', async () => (await doneIds()).includes('fine'));
  });

  it('survives a Redis restart: jobs queued before and after all complete', async () => {
    fresh();
    const before = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ id: `b${i}`, input: `up/${i}.png` }),
    );
    const after = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ id: `a${i}`, input: `up/${i + 10}.png` }),
    );
    const d = daemon(['--concurrency', '2', '--test-job-delay', '50']);
    await waitFor(
      'the worker up',
      async () => (await redis.keys(`${prefix}image_worker:*`)).length === 1,
    );
    await redis.lpush(keys.jobs, ...before);
    await waitFor('some work started', async () => (await redis.llen(keys.jobs)) < 10);
    await server.stop();
    await sleep(1500);
    await server.start();
    await redis.lpush(keys.jobs, ...after);
    await waitFor('every job done', async () => new Set(await doneIds()).size === 20, 30_000);
    expect(await leftovers()).toEqual({ pending: 0, retry: 0, held: 0 });
    expect(d.child.exitCode).toBeNull();
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  });

  const offline = async (extra: string[] = []) => {
    const port = await freePort();
    const url = `redis://:s3cret@127.0.0.1:${port}/0`;
    return cli(['--daemon', '--redis', url, '--data-dir', data, '--cpu', ...FAST, ...extra], dir);
  };
  const unreachableLine =
    /cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+\/0 \(ECONNREFUSED\); retrying with backoff/;

  it('says once at start-up that Redis cannot be reached, with the password hidden', async () => {
    const d = await offline();
    await waitFor('the warning', () => unreachableLine.test(d.stderr()), 10_000);
    // Reconnect attempts go on every few hundred ms; the warning is not repeated each time.
    await sleep(1500);
    expect(d.stderr().match(new RegExp(unreachableLine, 'g'))).toHaveLength(1);
    expect(d.stderr()).not.toContain('s3cret');
    d.child.kill('SIGTERM');
    await d.exited;
  });

  /** The exit code, or 'still running' if the daemon has not exited within `ms`. */
  const exitWithin = (p: Proc, ms: number) =>
    Promise.race([p.exited, sleep(ms).then(() => 'still running' as const)]);

  it('on SIGTERM while Redis is unreachable exits 0 without waiting for the shutdown timeout', async () => {
    const d = await offline(['--shutdown-timeout', '30']);
    await waitFor('the warning', () => unreachableLine.test(d.stderr()), 10_000);
    d.child.kill('SIGTERM');
    expect(await exitWithin(d, 10_000), d.stderr()).toBe(0);

    // Connected first, then Redis goes away: the Redis steps of the shutdown are skipped.
    fresh();
    const e = daemon(['--shutdown-timeout', '30']);
    await waitFor('the worker up', () => e.stderr().includes('worker started'));
    await server.stop();
    try {
      await waitFor('the warning', () => /cannot reach Redis/.test(e.stderr()), 10_000);
      e.child.kill('SIGTERM');
      expect(await exitWithin(e, 10_000), e.stderr()).toBe(0);
      expect(e.stderr()).toMatch(
        /shutdown: Redis is not connected; skipped hand back and release id; jobs held by \S+_cpu0 return to the queue/,
      );
    } finally {
      await server.start();
    }
  });

  it('exits 0 on a SIGTERM during start-up', async () => {
    fresh();
    const d = daemon();
    // The first line comes from the backend choice, before the worker connects.
    await waitFor('the first log line', () => d.stderr().length > 0);
    d.child.kill('SIGTERM');
    expect(await d.exited, d.stderr()).toBe(0);
    expect(d.stderr()).toMatch(/SIGTERM: stopping/);
  });

  it('enqueue refuses bad per-job options and ops with exit 2, queueing nothing', async () => {
    const conn = fresh();
    const bogus = await run(
      [
        'enqueue',
        join(data, 'up', '0.png'),
        '--data-dir',
        data,
        '--options',
        '{"bogus":1}',
        ...conn,
      ],
      dir,
    );
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/--options: unknown option "bogus"; valid options are thumbWidth/);
    const width = await run(
      [
        'enqueue',
        join(data, 'up', '0.png'),
        '--data-dir',
        data,
        '--options',
        '{"thumbWidth":0}',
        ...conn,
      ],
      dir,
    );
    expect(width.code).toBe(2);
    expect(width.stderr).toMatch(/thumb-width but received "0"/);
    const manifest = join(dir, 'bad.ndjson');
    writeFileSync(
      manifest,
      '{"input":"up/0.png"}\n{"input":"up/1.png","options":{"quality":{"thumb":101}}}\n',
    );
    const m = await run(['enqueue', '-m', manifest, '--data-dir', data, ...conn], dir);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/job 2: .*quality of thumb but received "101"/);
    expect(await redis.llen(keys.jobs)).toBe(0);
    const ok = await run(
      [
        'enqueue',
        join(data, 'up', '0.png'),
        '--data-dir',
        data,
        '--options',
        '{"thumbWidth":32}',
        ...conn,
      ],
      dir,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(await redis.llen(keys.jobs)).toBe(1);
  });

  it('a usage error of a queue command exits 2, and `queue` lists its subcommands', async () => {
    for (const args of [['queue'], ['queue', 'bogus']]) {
      const r = await run(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^\s+stats \[options\]/m);
      expect(r.stderr).toMatch(/^\s+retry-failed \[options\]/m);
    }
    expect((await run(['queue', 'bogus'], dir)).stderr).toMatch(/unknown command 'bogus'/);
    for (const args of [
      ['queue', 'stats', '--bogus'],
      ['enqueue', '--bogus'],
      ['workers', '--bogus'],
    ]) {
      const r = await run(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/unknown option '--bogus'/);
    }
    expect((await run(['queue', '--help'], dir)).code).toBe(0);
  });

  it('enqueue resolves relative inputs in --data-dir, and refuses inputs outside it', async () => {
    const conn = fresh();
    const elsewhere = mkdtempSync(join(tmpdir(), 'imgproc-cwd-'));
    try {
      const r = await run(
        ['enqueue', 'up/0.png', 'up/1*.png', '--data-dir', data, '--json', ...conn],
        elsewhere,
      );
      expect(r.code, r.stderr).toBe(0);
      const inputs = (await redis.lrange(keys.jobs, 0, -1)).map(
        (raw) => (JSON.parse(raw) as { input: string }).input,
      );
      expect(inputs.sort()).toEqual(
        ['up/0.png', ...Array.from({ length: 10 }, (_, i) => `up/1${i}.png`), 'up/1.png'].sort(),
      );
      const outside = await run(
        ['enqueue', join(dir, 'outside.png'), '--data-dir', data, ...conn],
        elsewhere,
      );
      expect(outside.code).toBe(2);
      expect(outside.stderr).toMatch(
        /outside\.png is outside the data folder .*: inputs must be inside --data-dir/,
      );
      const up = await run(['enqueue', '../outside.png', '--data-dir', data, ...conn], elsewhere);
      expect(up.code).toBe(2);
      expect(up.stderr).toMatch(/is outside the data folder/);
      expect(await redis.llen(keys.jobs)).toBe(12);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('enqueue fails fast with a clear message when Redis is unreachable', async () => {
    const port = await freePort();
    const r = await run(
      ['enqueue', 'up/0.png', '--data-dir', 'data', '--redis', `redis://127.0.0.1:${port}`],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
  });

  it('shares one queue among daemons: 2000 jobs, each done exactly once, nothing left', async () => {
    fresh();
    const raws = Array.from({ length: 2000 }, (_, i) =>
      JSON.stringify({ id: `m${i}`, input: `up/${i % 20}.png`, ops: ['gradient'] }),
    );
    const a = daemon(['--concurrency', '4', '--done-cap', '5000']);
    const b = daemon(['--concurrency', '4', '--done-cap', '5000']);
    for (let i = 0; i < raws.length; i += 500)
      await redis.lpush(keys.jobs, ...raws.slice(i, i + 500));
    await waitFor('2000 results', async () => (await redis.llen(keys.done)) >= 2000, 120_000);
    await sleep(300);
    const ids = await doneIds();
    expect(ids).toHaveLength(2000);
    expect(new Set(ids).size).toBe(2000);
    const workersUsed = new Set((await records(keys.done)).map((r) => r.worker));
    expect(workersUsed.size).toBe(2);
    expect(await leftovers()).toEqual({ pending: 0, retry: 0, held: 0 });
    expect(await redis.llen(keys.failed)).toBe(0);
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect([await a.exited, await b.exited]).toEqual([0, 0]);
  }, 180_000);
});
