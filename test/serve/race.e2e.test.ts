import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedisServer } from '../queue/redis-server.js';
import { serveRig, tinyPng, type ServeRig } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Uploads are content-addressed: two requests with the same bytes share one stored upload, so a
// refused one must never take away what the accepted one's job is about to read.
describe.skipIf(!haveRedisServer())('imgproc serve: identical uploads at once', () => {
  let rig: ServeRig;
  let url: string;

  beforeAll(async () => {
    rig = await serveRig('race:');
    ({ url } = await rig.serve());
    rig.daemon();
  });
  afterAll(async () => {
    await rig?.destroy();
  });

  const post = (body: Buffer, query: string) =>
    fetch(`${url}/v1/jobs${query}`, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: { 'content-type': 'image/png' },
    });
  const view = async (id: string) =>
    (await (await fetch(`${url}/v1/jobs/${id}?wait=30`)).json()) as Json;

  it('one refused (409) beside one accepted: the stored upload stays and the job is done', async () => {
    expect((await post(await tinyPng(1), '?id=taken')).status).toBe(202);
    const rounds = 16;
    const images = await Promise.all(Array.from({ length: rounds }, (_, i) => tinyPng(100 + i)));
    for (let i = 0; i < rounds; i++) {
      // Either may be first to store the bytes; the refused one must leave them in place.
      const [refused, accepted] = await Promise.all([
        post(images[i]!, '?id=taken'),
        post(images[i]!, `?id=race-${i}`),
      ]);
      expect(refused.status).toBe(409);
      expect(accepted.status).toBe(202);
    }
    const stored = rig.uploads();
    for (const png of images) expect(stored).toContain(`${sha256(png)}.png`);
    const views = await Promise.all(images.map((_, i) => view(`race-${i}`)));
    expect(views.map((v) => `${v.id}: ${v.state} ${v.code ?? ''}`)).toEqual(
      images.map((_, i) => `race-${i}: done `),
    );
  });

  it('a refusal after the bytes were stored by an earlier upload leaves them too', async () => {
    const png = await tinyPng(50);
    expect((await post(png, '?id=first')).status).toBe(202);
    expect((await view('first')).state).toBe('done');
    expect((await post(png, '?id=taken')).status).toBe(409);
    expect(rig.uploads()).toContain(`${sha256(png)}.png`);
    expect((await post(png, '?id=first')).status).toBe(202);
    expect((await view('first')).state).toBe('done');
  });

  it('the same bytes again mark the stored upload used now; one deleted meanwhile comes back', async () => {
    const png = await tinyPng(60);
    const first = await post(png, '?id=again-1');
    expect(first.status).toBe(202);
    const path = join(rig.data, ((await first.json()) as Json).input as string);
    const old = new Date('2001-01-01T00:00:00Z');
    utimesSync(path, old, old);
    expect((await post(png, '?id=again-2')).status).toBe(202);
    expect(statSync(path).mtime.getFullYear()).toBeGreaterThan(2001);
    expect((await view('again-2')).state).toBe('done');

    rmSync(path);
    expect((await post(png, '?id=again-3')).status).toBe(202);
    expect(readFileSync(path).equals(png)).toBe(true);
    expect((await view('again-3')).state).toBe('done');
  });
});
