import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../queue/daemon-helpers.js';
import { haveRedisServer, waitFor } from '../queue/redis-server.js';
import { startS3, type TestS3 } from '../storage/s3-server.js';
import { partialUpload, serveRig, tinyPng, type ServeRig } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

/** A PNG of noise a little over 5 MiB: more than one part of a multipart upload. */
const noisePng = () => {
  const side = 1400;
  const pixels = randomBytes(side * side * 3);
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
};

// serve on one machine, daemons on others: uploads go straight into object storage, where any
// daemon allowed the prefix reads them, and the outputs come back through serve.
describe.skipIf(!haveRedisServer())('imgproc serve --upload-dir s3://', () => {
  let rig: ServeRig;
  let s3: TestS3;
  let url: string;

  beforeAll(async () => {
    s3 = await startS3();
    await s3.createBucket('media');
    rig = await serveRig('s3up:');
    const allow = ['--allow', 's3://media'];
    ({ url } = await rig.serve(
      ['--upload-dir', 's3://media/up/', '--max-upload', '8MiB', ...allow],
      s3.env,
    ));
    rig.daemon([...allow, '--output-roots', 's3://media/web'], s3.env);
  });
  afterAll(async () => {
    await rig?.destroy();
    await s3?.destroy();
  });
  beforeEach(() => {
    s3.requests.length = 0;
  });

  const post = (body: Buffer | ReadableStream, type: string, query = '') =>
    fetch(`${url}/v1/jobs${query}`, {
      method: 'POST',
      body: body instanceof Buffer ? new Uint8Array(body) : body,
      headers: { 'content-type': type },
      duplex: 'half',
    } as RequestInit);
  const json = async (res: Response) => (await res.json()) as Json;
  const finished = async (id: string) => json(await fetch(`${url}/v1/jobs/${id}?wait=60`));
  const uploadKeys = () => s3.keys('media', 'up/');
  /** Requests of a method whose query names `param` (the SDK adds `x-id=…` of its own). */
  const sent = (method: string, param: string) =>
    s3.requests.filter((r) => r.method === method && new URLSearchParams(r.query ?? '').has(param));
  const key = (b: Buffer, ext: string) => `up/${sha256(b).slice(0, 2)}/${sha256(b)}.${ext}`;

  it('a raw upload lands in the bucket by its content, is processed there and served', async () => {
    const photo = readFileSync(resolve('fixtures/photos/harbour.jpg'));
    const res = await post(photo, 'image/jpeg', '?id=s3-raw');
    expect(res.status).toBe(202);
    const accepted = await json(res);
    expect(accepted.input).toBe(`s3://media/${key(photo, 'jpg')}`);
    // Its length declared, it flowed through in one PutObject as it arrived: no parts gathered.
    expect(sent('POST', 'uploads')).toEqual([]);
    expect(s3.requests.filter((r) => r.method === 'PUT').map((r) => r.path)).toEqual([
      expect.stringMatching(/^\/media\/up\/\.imgproc-tmp-\d+-[0-9a-f]{16}$/),
      `/media/${key(photo, 'jpg')}`,
    ]);
    expect(await uploadKeys()).toEqual([key(photo, 'jpg')]);
    expect((await s3.get('media', key(photo, 'jpg'))).equals(photo)).toBe(true);
    expect((await s3.head('media', key(photo, 'jpg'))).contentType).toBe('image/jpeg');
    // Nothing on the serve machine's disk.
    expect(rig.uploads()).toEqual([]);

    const view = await finished('s3-raw');
    expect(view).toMatchObject({ state: 'done', attempts: 1 });
    const thumb = await fetch(`${url}${view.outputs.thumb.url}`);
    expect(thumb.status).toBe(200);
    const bytes = Buffer.from(await thumb.arrayBuffer());
    expect(bytes.equals(await s3.get('media', 'web/s3-raw/s3-raw_thumb.webp'))).toBe(true);
  });

  it('a multipart upload of more than one part streams in parts and is processed', async () => {
    const big = await noisePng();
    expect(big.length).toBeGreaterThan(5 * MiB);
    const form = new FormData();
    form.set('id', 's3-form');
    form.set('ops', 'thumb,gradient');
    form.set('image', new Blob([new Uint8Array(big)]), 'noise.png');
    const res = await fetch(`${url}/v1/jobs`, { method: 'POST', body: form });
    expect(res.status).toBe(202);
    expect((await json(res)).upload).toMatchObject({ bytes: big.length, format: 'png' });
    // Sent as a multipart upload (create, parts, complete), then copied to its content's name.
    expect(sent('POST', 'uploads')).toHaveLength(1);
    expect(sent('PUT', 'partNumber')).toHaveLength(2);
    expect(sent('POST', 'uploadId')).toHaveLength(1);
    expect(await uploadKeys()).toContain(key(big, 'png'));
    expect((await s3.get('media', key(big, 'png'))).equals(big)).toBe(true);

    const view = await finished('s3-form');
    expect(view.state).toBe('done');
    expect(Object.keys(view.outputs).sort()).toEqual(['sidecar', 'thumb']);
    expect(view.outputs.thumb).toMatchObject({ width: 256, height: 256 });
    expect((await fetch(`${url}${view.outputs.sidecar.url}`)).status).toBe(200);
  });

  it('an oversized upload is 413, its multipart upload aborted, and nothing is left', async () => {
    const before = await uploadKeys();
    // No Content-Length: the limit is found while the parts stream out.
    const chunk = new Uint8Array(256 * 1024).fill(7);
    let streamed = 0;
    const stream = new ReadableStream({
      pull(c) {
        if (streamed >= 10 * MiB) return c.close();
        streamed += chunk.length;
        c.enqueue(chunk);
      },
    });
    const res = await post(stream, 'image/png');
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ code: 'UPLOAD_TOO_LARGE' });
    expect(sent('PUT', 'partNumber').length).toBeGreaterThan(0);
    expect(sent('DELETE', 'uploadId')).toHaveLength(1);
    expect(sent('POST', 'uploadId')).toEqual([]);
    expect(await uploadKeys()).toEqual(before);
    expect(s3.openMultipartUploads('media')).toEqual([]);
    // Declared too large: refused before a byte reaches the bucket.
    s3.requests.length = 0;
    const declared = partialUpload(url, 9 * MiB, 0);
    expect((await declared.answer).status).toBe(413);
    declared.abort();
    expect(s3.requests).toEqual([]);
  });

  it('an upload cut off by the client leaves no object', async () => {
    const before = await uploadKeys();
    const { answer, abort } = partialUpload(url, 100_000, 50_000);
    answer.catch(() => undefined);
    const put = await waitFor('the upload to reach the bucket', () =>
      s3.requests.find((r) => r.method === 'PUT'),
    );
    abort();
    await waitFor('the temporary object to be removed', () =>
      s3.requests.some((r) => r.method === 'DELETE' && r.path === put.path),
    );
    expect(await uploadKeys()).toEqual(before);
  });

  it('an upload prefix outside --allow is refused at start: the daemons would not read it', async () => {
    const p = cli(
      [
        'serve',
        '--redis',
        rig.redis.url,
        '--upload-dir',
        's3://media/up',
        '--allow',
        's3://media/web',
      ],
      rig.dir,
      rig.started,
    );
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/--upload-dir s3:\/\/media\/up is outside --allow/);
  });

  it('identical uploads at once, one refused: the accepted job still finds its object', async () => {
    expect((await post(await tinyPng(1), 'image/png', '?id=s3-taken')).status).toBe(202);
    const images = await Promise.all([2, 3, 4, 5].map((seed) => tinyPng(seed)));
    for (const [i, png] of images.entries()) {
      const [refused, accepted] = await Promise.all([
        post(png, 'image/png', '?id=s3-taken'),
        post(png, 'image/png', `?id=s3-race-${i}`),
      ]);
      expect(refused.status).toBe(409);
      expect(accepted.status).toBe(202);
    }
    const views = await Promise.all(images.map((_, i) => finished(`s3-race-${i}`)));
    expect(views.map((v) => v.state)).toEqual(images.map(() => 'done'));
    const keys = await uploadKeys();
    for (const png of images) expect(keys).toContain(key(png, 'png'));
    // No temporary object is left behind.
    expect(keys.filter((k) => k.includes('.imgproc-tmp-'))).toEqual([]);
    // The same bytes once more: copied onto the same key again, so its Last-Modified says when
    // it was last uploaded (what an expiry rule goes by).
    s3.requests.length = 0;
    expect((await post(images[0]!, 'image/png', '?id=s3-again')).status).toBe(202);
    expect(s3.requests.filter((r) => r.method === 'PUT').map((r) => r.path)).toContain(
      `/media/${key(images[0]!, 'png')}`,
    );
  });
});
