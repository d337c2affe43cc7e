import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedisServer, waitFor } from '../queue/redis-server.js';
import { serveRig, type ServeRig } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A small PNG, different for every seed. */
const tinyPng = (seed: number) =>
  sharp({
    create: {
      width: 24,
      height: 16,
      channels: 3,
      background: { r: seed % 256, g: Math.floor(seed / 256) % 256, b: 77 },
    },
  })
    .png()
    .toBuffer();

// Daemons dying under a job and many clients at once: every job still ends, and says how.
describe.skipIf(!haveRedisServer())('imgproc serve: crashes and load', () => {
  let rig: ServeRig;
  let url: string;

  beforeAll(async () => {
    rig = await serveRig('load:');
    ({ url } = await rig.serve());
  });
  afterAll(async () => {
    await rig?.destroy();
  });

  const upload = async (body: Buffer, query = '') => {
    const res = await fetch(`${url}/v1/jobs${query}`, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { 'content-type': 'image/png' },
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as Json).id as string;
  };
  const view = async (id: string, wait = 0) =>
    (await (await fetch(`${url}/v1/jobs/${id}${wait ? `?wait=${wait}` : ''}`)).json()) as Json;

  it('a daemon killed (kill -9) mid-job: the status says retrying (CRASHED), then done', async () => {
    const hold = ['--test-job-delay', '60000', '-j', '1'];
    const slow = rig.daemon(hold);
    const id = await upload(await tinyPng(100_000), '?id=crash-1');
    await waitFor('the job to be processing', async () => (await view(id)).state === 'processing');
    // A second daemon, kept busy by a job of its own: it reaps the dead one but cannot take
    // the job back, so the job rests in `retrying` until a third daemon comes.
    const reaper = rig.daemon(hold);
    const blocker = await upload(await tinyPng(100_001), '?id=blocker-1');
    await waitFor('the blocker to be processing', async () => {
      return (await view(blocker)).state === 'processing';
    });
    slow.child.kill('SIGKILL');
    await slow.exited;
    let seen: Json = {};
    await waitFor('the job to leave processing', async () => {
      seen = await view(id);
      return seen.state !== 'processing';
    });
    expect(seen).toMatchObject({ state: 'retrying', code: 'CRASHED', attempts: 1, crashes: 1 });
    expect(seen.error).toMatch(/died while running it; requeued/);
    expect(seen.outputs).toBeUndefined();
    expect(reaper.stderr()).toMatch(/took back 1 job/);

    rig.daemon();
    const done = await view(id, 30);
    expect(done).toMatchObject({ state: 'done', attempts: 2, crashes: 1 });
    expect(done.code).toBeUndefined();
    expect(done.outputs.thumb.width).toBe(24);
    expect((await fetch(`${url}${done.outputs.thumb.url}`)).status).toBe(200);
    reaper.child.kill('SIGKILL');
    await reaper.exited;
  });

  it('200 concurrent uploads all reach done', async () => {
    const images = await Promise.all(Array.from({ length: 200 }, (_, i) => tinyPng(i)));
    const ids = await Promise.all(images.map((png) => upload(png)));
    expect(new Set(ids).size).toBe(200);
    const views = await Promise.all(ids.map((id) => view(id, 60)));
    const states = views.map((v) => v.state);
    expect(states.filter((s) => s !== 'done')).toEqual([]);
    for (const v of views) expect(v.outputs.thumb.bytes).toBeGreaterThan(0);
    const health = (await (await fetch(`${url}/health`)).json()) as Json;
    expect(health.workers).toBeGreaterThanOrEqual(1);
  });
});
