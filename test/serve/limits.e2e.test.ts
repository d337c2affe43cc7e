import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedisServer, waitFor } from '../queue/redis-server.js';
import { partialUpload, serveRig, type ServeRig } from './helpers.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

// Time limits, cut-off uploads and a Redis outage: each one a JSON error, and nothing left behind.
describe.skipIf(!haveRedisServer())('imgproc serve: limits and outages', () => {
  let rig: ServeRig;
  let url: string;

  beforeAll(async () => {
    rig = await serveRig('lim:');
    ({ url } = await rig.serve(['--upload-timeout', '1']));
  });
  afterAll(async () => {
    await rig?.destroy();
  });

  it('an upload slower than --upload-timeout is 408 and leaves nothing', async () => {
    const { answer } = partialUpload(url, 100_000, 1000);
    const { status, body } = await answer;
    expect(status).toBe(408);
    expect(body).toMatchObject({ code: 'UPLOAD_TIMEOUT' });
    expect(body.error).toMatch(/within 1 s/);
    expect(rig.uploads()).toEqual([]);
  });

  it('an upload cut off by the client leaves no partial file', async () => {
    const { answer, abort } = partialUpload(url, 100_000, 50_000);
    answer.catch(() => undefined);
    await waitFor('the partial file', () => rig.uploads().length === 1);
    abort();
    await waitFor('the partial file to be removed', () => rig.uploads().length === 0);
    // The server is still well.
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('with Redis down, requests get 503 QUEUE_UNAVAILABLE and uploads are not kept', async () => {
    await rig.redis.stop();
    try {
      const status = await fetch(`${url}/v1/jobs/any`);
      expect(status.status).toBe(503);
      expect(status.headers.get('retry-after')).toBe('5');
      expect(await status.json()).toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
      const up = await fetch(`${url}/v1/jobs`, {
        method: 'POST',
        body: PNG,
        headers: { 'content-type': 'image/png' },
      });
      expect(up.status).toBe(503);
      expect(rig.uploads()).toEqual([]);
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ redis: false, status: 'redis unavailable' });
    } finally {
      await rig.redis.start();
    }
    // Reconnected by itself.
    await waitFor('the server to reach Redis again', async () => {
      const res = await fetch(`${url}/v1/jobs`, {
        method: 'POST',
        body: PNG,
        headers: { 'content-type': 'image/png' },
      });
      return res.status === 202;
    });
  });
});
