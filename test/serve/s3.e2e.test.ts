import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedisServer } from '../queue/redis-server.js';
import { startS3, type TestS3 } from '../storage/s3-server.js';
import { serveRig, type ServeRig } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// A JSON job naming an object, done by a daemon that writes to object storage, its outputs
// served from there: only under the prefixes the operator allows.
describe.skipIf(!haveRedisServer())('imgproc serve with s3:// storage', () => {
  let rig: ServeRig;
  let s3: TestS3;
  let url: string;
  const photo = readFileSync(resolve('fixtures/photos/small-200x150.jpg'));

  beforeAll(async () => {
    s3 = await startS3();
    await s3.createBucket('photos');
    await s3.put('photos', 'in/a.jpg', photo);
    rig = await serveRig('s3:');
    ({ url } = await rig.serve(['--allow', 's3://photos'], s3.env));
    rig.daemon(['--allow', 's3://photos', '--output-roots', 's3://photos/web'], s3.env);
  });
  afterAll(async () => {
    await rig?.destroy();
    await s3?.destroy();
  });

  const submit = (job: Json) =>
    fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(job),
    });

  it('an allowed object is queued, processed into the bucket, and its outputs served', async () => {
    const res = await submit({ input: 's3://photos/in/a.jpg', id: 'obj-1' });
    expect(res.status).toBe(202);
    const view = (await (await fetch(`${url}/v1/jobs/obj-1?wait=30`)).json()) as Json;
    expect(view).toMatchObject({ state: 'done' });
    expect(view.outputs.thumb).toMatchObject({ width: 200, height: 150 });
    expect(await s3.keys('photos', 'web/')).toContain('web/obj-1/obj-1_thumb.webp');
    const thumb = await fetch(`${url}${view.outputs.thumb.url}`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('etag')).toBeTruthy();
    const bytes = Buffer.from(await thumb.arrayBuffer());
    expect(bytes.equals(await s3.get('photos', 'web/obj-1/obj-1_thumb.webp'))).toBe(true);
  });

  it('an object outside --allow is 403, a missing one 400, and nothing is queued', async () => {
    const outside = await submit({ input: 's3://other-bucket/a.jpg', id: 'obj-2' });
    expect(outside.status).toBe(403);
    expect(await outside.json()).toMatchObject({ code: 'UNSAFE_PATH' });
    const missing = await submit({ input: 's3://photos/in/none.jpg', id: 'obj-3' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'INPUT_NOT_FOUND' });
    expect((await fetch(`${url}/v1/jobs/obj-2`)).status).toBe(404);
    expect((await fetch(`${url}/v1/jobs/obj-3`)).status).toBe(404);
  });
});
