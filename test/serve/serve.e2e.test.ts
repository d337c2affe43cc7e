import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedisServer } from '../queue/redis-server.js';
import { serveRig, type ServeRig } from './helpers.js';

const PHOTOS = resolve('fixtures/photos');
const BAD = resolve('fixtures/bad');
const BIN = resolve('bin/imgproc.cjs');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// The built CLI as `serve` and as a daemon, against a real redis-server: what a backend sees.
describe.skipIf(!haveRedisServer())('imgproc serve: upload, follow, download', () => {
  let rig: ServeRig;
  let url: string;

  beforeAll(async () => {
    rig = await serveRig();
    ({ url } = await rig.serve(['--max-upload', '300KiB']));
    rig.daemon();
  });
  afterAll(async () => {
    await rig?.destroy();
  });

  const post = (body: BodyInit, type: string, query = '') =>
    fetch(`${url}/v1/jobs${query}`, { method: 'POST', body, headers: { 'content-type': type } });
  const json = async (res: Response) => (await res.json()) as Json;
  const finished = async (id: string) => {
    const res = await fetch(`${url}/v1/jobs/${id}?wait=30`);
    expect(res.status).toBe(200);
    return json(res);
  };

  it('a raw upload is queued, done, and its outputs are those of a batch run of the file', async () => {
    const file = join(PHOTOS, 'harbour.jpg');
    const res = await post(readFileSync(file), 'image/jpeg');
    expect(res.status).toBe(202);
    const accepted = await json(res);
    expect(accepted).toMatchObject({ state: 'queued', upload: { format: 'jpeg' } });
    expect(accepted.id).toMatch(/^j[0-9a-f]{20}$/);
    expect(res.headers.get('location')).toBe(`/v1/jobs/${accepted.id}`);
    expect(accepted.input).toMatch(/^uploads\/[0-9a-f]{2}\/[0-9a-f]{64}\.jpg$/);

    const view = await finished(accepted.id);
    expect(view).toMatchObject({ id: accepted.id, state: 'done', attempts: 1 });
    expect(Object.keys(view.outputs).sort()).toEqual(['blur', 'lq', 'sidecar', 'thumb']);
    expect(view.outputs.thumb).toMatchObject({
      width: 256,
      url: `/v1/jobs/${accepted.id}/outputs/thumb`,
    });
    expect(view.gradient.blurDataUrl).toMatch(/^data:image\/webp;base64,/);

    const batchOut = join(rig.dir, 'batch');
    const batch = spawnSync(process.execPath, [BIN, file, '--out', batchOut, '--cpu'], {
      encoding: 'utf8',
    });
    expect(batch.status, batch.stderr).toBe(0);
    for (const name of ['thumb', 'blur', 'lq']) {
      const got = await fetch(`${url}${view.outputs[name].url}`);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe('image/webp');
      expect(got.headers.get('cache-control')).toBe('public, max-age=3600');
      const bytes = Buffer.from(await got.arrayBuffer());
      expect(Number(got.headers.get('content-length'))).toBe(bytes.length);
      expect(bytes.length).toBe(view.outputs[name].bytes);
      expect(bytes.equals(readFileSync(join(batchOut, `harbour_${name}.webp`))), name).toBe(true);
      // Revalidation: the same ETag is a 304 without a body.
      const again = await fetch(`${url}${view.outputs[name].url}`, {
        headers: { 'if-none-match': got.headers.get('etag')! },
      });
      expect(again.status).toBe(304);
    }
    const sidecar = await fetch(`${url}${view.outputs.sidecar.url}`);
    expect(sidecar.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await sidecar.json()) as Json).gradient).toEqual(
      JSON.parse(readFileSync(join(batchOut, 'harbour.json'), 'utf8')).gradient,
    );
  });

  it('a multipart upload takes id, ops and options as form fields', async () => {
    const form = new FormData();
    form.set('id', 'form-1');
    form.set('ops', 'thumb,gradient');
    form.set('image', new Blob([readFileSync(join(PHOTOS, 'small-200x150.jpg'))]), 'x.jpg');
    form.set('options', '{"thumbWidth":64}');
    const res = await fetch(`${url}/v1/jobs`, { method: 'POST', body: form });
    expect(res.status).toBe(202);
    expect((await json(res)).id).toBe('form-1');
    const view = await finished('form-1');
    expect(view.state).toBe('done');
    expect(Object.keys(view.outputs).sort()).toEqual(['sidecar', 'thumb']);
    expect(view.outputs.thumb).toMatchObject({ width: 64, height: 48 });
    const lq = await fetch(`${url}/v1/jobs/form-1/outputs/lq`);
    expect(lq.status).toBe(404);
    expect(await json(lq)).toMatchObject({ code: 'NO_SUCH_OUTPUT' });
  });

  it('a non-image is queued, and its job fails with the reason and writes nothing', async () => {
    const res = await post(readFileSync(join(BAD, 'text.jpg')), 'image/jpeg', '?id=not-image');
    expect(res.status).toBe(202);
    expect((await json(res)).upload.format).toBe('unknown');
    const view = await finished('not-image');
    expect(view).toMatchObject({ state: 'failed', code: 'NOT_AN_IMAGE' });
    expect(view.error).toMatch(/not an image/);
    expect(view.outputs).toBeUndefined();
    const out = await fetch(`${url}/v1/jobs/not-image/outputs/thumb`);
    expect(out.status).toBe(404);
    expect(await json(out)).toMatchObject({ code: 'NOT_READY' });
    expect(existsSync(join(rig.data, 'processed', 'not-image'))).toBe(false);
  });

  it('an oversized upload is refused with 413 and nothing is stored', async () => {
    const before = rig.uploads();
    const big = Buffer.alloc(400 * 1024, 7);
    const res = await post(big, 'image/jpeg');
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ code: 'UPLOAD_TOO_LARGE' });
    // Without a Content-Length the limit is found while streaming; the partial file is removed.
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 40; i++) c.enqueue(new Uint8Array(10 * 1024));
        c.close();
      },
    });
    const chunked = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      body: stream,
      headers: { 'content-type': 'image/png' },
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(rig.uploads()).toEqual(before);
  });

  it('an id belongs to one input: another image under it is 409, the same one runs again', async () => {
    const a = readFileSync(join(PHOTOS, 'grey.jpg'));
    const b = readFileSync(join(PHOTOS, 'palette.png'));
    expect((await post(a, 'image/jpeg', '?id=owned')).status).toBe(202);
    expect((await finished('owned')).state).toBe('done');
    const before = rig.uploads().length;
    const conflict = await post(b, 'image/png', '?id=owned');
    expect(conflict.status).toBe(409);
    expect(await json(conflict)).toMatchObject({ code: 'ID_CONFLICT' });
    expect(rig.uploads().length).toBe(before);
    expect((await post(a, 'image/jpeg', '?id=owned')).status).toBe(202);
    expect((await finished('owned')).state).toBe('done');
  });

  it('a JSON job names an input in the data folder, never one outside it', async () => {
    const up = await post(readFileSync(join(PHOTOS, 'orientation-6.jpg')), 'image/jpeg');
    const { input } = await json(up);
    const named = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input, id: 'named-1', ops: ['thumb'] }),
    });
    expect(named.status).toBe(202);
    expect((await finished('named-1')).state).toBe('done');
    const refuse = async (job: Json, status: number, code: string) => {
      const res = await fetch(`${url}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(job),
      });
      expect(res.status, JSON.stringify(job)).toBe(status);
      expect(await json(res)).toMatchObject({ code });
    };
    await refuse({ input: '../outside.jpg' }, 403, 'UNSAFE_PATH');
    await refuse({ input: '/etc/passwd' }, 403, 'UNSAFE_PATH');
    await refuse({ input: 's3://bucket/a.jpg' }, 403, 'UNSAFE_PATH');
    await refuse({ input: 'uploads/missing.jpg' }, 400, 'INPUT_NOT_FOUND');
    await refuse({ input, opts: ['thumb'] }, 400, 'BAD_JOB');
    await refuse({ input, out: 'elsewhere' }, 400, 'BAD_JOB');
    await refuse({ input, id: '../x' }, 400, 'BAD_JOB');
  });

  it('every error is JSON with a code', async () => {
    const cases: Array<[Promise<Response>, number, string]> = [
      [fetch(`${url}/v1/jobs/nope`), 404, 'JOB_NOT_FOUND'],
      [fetch(`${url}/v1/jobs/a..b`), 400, 'BAD_ID'],
      [fetch(`${url}/v1/jobs/x?wait=abc`), 400, 'BAD_QUERY'],
      [fetch(`${url}/v1/jobs/x?wait=3600`), 400, 'BAD_QUERY'],
      [fetch(`${url}/v1/nothing`), 404, 'NOT_FOUND'],
      [post('hello', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [post('', 'image/png'), 400, 'EMPTY_UPLOAD'],
      [post('x', 'image/png', '?opts=thumb'), 400, 'BAD_JOB'],
      [post('x', 'image/png', '?options={bad'), 400, 'BAD_JOB'],
      [post('{"input":', 'application/json'), 400, 'BAD_JSON'],
      [fetch(`${url}/v1/jobs`, { method: 'POST', body: new FormData() }), 400, 'NO_FILE'],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      expect(res.status, code).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const body = await json(res);
      expect(body.code).toBe(code);
      expect(typeof body.error).toBe('string');
    }
  });

  it('health names the live workers; metrics count requests and upload bytes', async () => {
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await json(health)).toEqual({ status: 'ok', redis: true, workers: 1 });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(
      /imgproc_http_requests_total\{[^}]*route="\/v1\/jobs"[^}]*status="202"/,
    );
    expect(metrics).toMatch(/imgproc_upload_bytes_total [1-9]\d*/);
    expect(metrics).toMatch(/imgproc_http_request_duration_seconds_bucket/);
  });
});
