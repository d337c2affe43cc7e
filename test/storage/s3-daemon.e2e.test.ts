import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedisServer, startRedis, waitFor, type TestRedis } from '../queue/redis-server.js';
import { PHOTOS } from '../e2e/helpers.js';
import { startS3, type TestS3 } from './s3-server.js';

const BIN = resolve('bin/imgproc.cjs');
const FAST = ['--heartbeat-interval', '0.2', '--heartbeat-ttl', '0.8', '--reap-interval', '0.2'];
const FAST_MORE = ['--block-timeout', '0.2', '--retry-delay', '0.1'];

let redis: TestRedis;
let s3: TestS3;
let dataDir: string;
const daemons: ChildProcess[] = [];

function daemon(extra: string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn(
    process.execPath,
    [
      BIN,
      '--daemon',
      '--redis',
      redis.url,
      '--data-dir',
      dataDir,
      '--cpu',
      ...FAST,
      ...FAST_MORE,
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...s3.env } },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  daemons.push(child);
  return { child, stderr: () => err };
}

const describeRedis = haveRedisServer() ? describe : describe.skip;

beforeAll(async () => {
  if (!haveRedisServer()) return;
  redis = await startRedis();
  s3 = await startS3();
  await s3.createBucket('photos');
  await s3.put('photos', 'uploads/a.jpg', readFileSync(join(PHOTOS, 'trips/coast.jpg')));
  dataDir = mkdtempSync(join(tmpdir(), 'imgproc-s3-daemon-'));
});

afterAll(async () => {
  for (const d of daemons) d.kill('SIGKILL');
  await s3?.destroy();
  await redis?.destroy();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describeRedis('the daemon with s3:// jobs', () => {
  it('reads and writes objects under --allow; refuses others as permanent; a missing key is permanent', async () => {
    const client = redis.client();
    const d = daemon([
      '--allow',
      's3://photos/uploads',
      '--allow',
      's3://photos/web',
      '--output-roots',
      's3://photos/web',
    ]);
    await client.lpush(
      'image_jobs',
      JSON.stringify({ id: 'a1', input: 's3://photos/uploads/a.jpg' }),
    );
    await client.lpush(
      'image_jobs',
      JSON.stringify({ id: 'x1', input: 's3://photos/private/b.jpg' }),
      JSON.stringify({ id: 'x2', input: 's3://photos/uploads/a.jpg', out: 's3://other/web' }),
      JSON.stringify({ id: 'x3', input: 's3://photos/uploads/../private/b.jpg' }),
      JSON.stringify({ id: 'm1', input: 's3://photos/uploads/missing.jpg' }),
    );
    const done = await waitFor('the allowed job done', async () => {
      const list = await client.lrange('image_done', 0, -1);
      return list.map((r) => JSON.parse(r) as Record<string, unknown>).find((r) => r.id === 'a1');
    });
    expect(done.out).toBe('s3://photos/web');
    expect(done.outputs).toEqual({
      thumb: 'a1/a1_thumb.webp',
      blur: 'a1/a1_blur.webp',
      lq: 'a1/a1_lq.webp',
    });
    expect(await s3.keys('photos', 'web/')).toEqual([
      'web/a1/a1.json',
      'web/a1/a1_blur.webp',
      'web/a1/a1_lq.webp',
      'web/a1/a1_thumb.webp',
    ]);
    expect((await sharp(await s3.get('photos', 'web/a1/a1_thumb.webp')).metadata()).width).toBe(
      256,
    );

    const failed = await waitFor('four dead letters', async () => {
      const list = (await client.lrange('image_failed', 0, -1)).map(
        (r) => JSON.parse(r) as { job: string; error: string; attempts: number },
      );
      return list.length >= 4 ? list : undefined;
    });
    const byId = (id: string) => failed.find((f) => JSON.parse(f.job).id === id)!;
    for (const id of ['x1', 'x2', 'x3']) {
      expect(byId(id).error).toMatch(/outside the allowed object locations/);
      expect(byId(id).attempts).toBe(1);
    }
    expect(byId('m1').error).toMatch(/object not found: s3:\/\/photos\/uploads\/missing\.jpg/);
    expect(byId('m1').attempts).toBe(1);
    expect(await s3.keys('photos', 'web/x')).toEqual([]);
    d.child.kill('SIGTERM');
  });

  it('kill -9 mid-upload: nothing half written, the job is taken up again and completes', async () => {
    const client = redis.client();
    await client.del('image_done', 'image_failed');
    const big = await sharp({
      create: { width: 3000, height: 2000, channels: 3, background: { r: 90, g: 140, b: 200 } },
    })
      .jpeg()
      .toBuffer();
    await s3.put('photos', 'uploads/big.jpg', big);
    const first = daemon(['--allow', 's3://photos', '--output-roots', 's3://photos/out']);
    s3.requests.length = 0;
    await client.lpush(
      'image_jobs',
      JSON.stringify({ id: 'k1', input: 's3://photos/uploads/big.jpg' }),
    );
    await waitFor('an output upload', () =>
      s3.requests.some((r) => r.method === 'PUT' && r.path.startsWith('/photos/out/k1/')),
    );
    first.child.kill('SIGKILL');
    // Whatever landed is whole: each object is one PUT.
    for (const key of await s3.keys('photos', 'out/k1/')) {
      if (key.endsWith('.webp')) {
        expect((await sharp(await s3.get('photos', key)).metadata()).format).toBe('webp');
      }
    }
    daemon(['--allow', 's3://photos', '--output-roots', 's3://photos/out']);
    await waitFor(
      'the job done by the second daemon',
      async () => (await client.lrange('image_done', 0, -1)).some((r) => JSON.parse(r).id === 'k1'),
      30_000,
    );
    expect(await s3.keys('photos', 'out/k1/')).toEqual([
      'out/k1/k1.json',
      'out/k1/k1_blur.webp',
      'out/k1/k1_lq.webp',
      'out/k1/k1_thumb.webp',
    ]);
  });

  it('never replaces a foreign object, and an id belongs to its first input: both permanent', async () => {
    // The daemons of the tests above write elsewhere: only this one may take these jobs.
    await Promise.all(
      daemons
        .filter((c) => c.exitCode === null && c.signalCode === null)
        .map((c) => new Promise((r) => c.once('exit', r).kill('SIGKILL'))),
    );
    const client = redis.client();
    await client.del('image_done', 'image_failed');
    await s3.put('photos', 'owned/f1/f1_lq.webp', 'not made by imgproc');
    await s3.put('photos', 'uploads/other.jpg', readFileSync(join(PHOTOS, 'grey.jpg')));
    const d = daemon(['--allow', 's3://photos', '--output-roots', 's3://photos/owned']);
    await client.lpush(
      'image_jobs',
      JSON.stringify({ id: 'f1', input: 's3://photos/uploads/a.jpg' }),
      JSON.stringify({ id: 'i1', input: 's3://photos/uploads/a.jpg' }),
    );
    await waitFor('i1 done', async () =>
      (await client.lrange('image_done', 0, -1)).some((r) => JSON.parse(r).id === 'i1'),
    );
    await client.lpush(
      'image_jobs',
      JSON.stringify({ id: 'i1', input: 's3://photos/uploads/other.jpg' }),
    );
    const failed = await waitFor('two dead letters', async () => {
      const list = (await client.lrange('image_failed', 0, -1)).map(
        (r) => JSON.parse(r) as { job: string; error: string; attempts: number },
      );
      return list.length >= 2 ? list : undefined;
    });
    const byId = (id: string) => failed.find((f) => JSON.parse(f.job).id === id)!;
    expect(byId('f1').error).toContain(
      's3://photos/owned/f1/f1_lq.webp exists and was not written by imgproc',
    );
    expect(byId('i1').error).toContain(
      'id "i1" belongs to another input ("s3://photos/uploads/a.jpg")',
    );
    expect(byId('f1').attempts).toBe(1);
    expect(byId('i1').attempts).toBe(1);
    expect(await s3.keys('photos', 'owned/f1/')).toEqual(['owned/f1/f1_lq.webp']);
    expect((await s3.get('photos', 'owned/f1/f1_lq.webp')).toString()).toBe('not made by imgproc');
    const sidecar = JSON.parse((await s3.get('photos', 'owned/i1/i1.json')).toString());
    expect(sidecar.source.path).toBe('s3://photos/uploads/a.jpg');
    d.child.kill('SIGTERM');
  });
});
