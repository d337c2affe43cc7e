import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../queue/daemon-helpers.js';
import { haveRedisServer } from '../queue/redis-server.js';
import { serveRig, TOKEN, type ServeRig } from './helpers.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

// Bearer tokens: who may queue, read and download, and what happens to the others' uploads.
describe.skipIf(!haveRedisServer())('imgproc serve: tokens', () => {
  let rig: ServeRig;
  let url: string;

  beforeAll(async () => {
    rig = await serveRig('auth:');
    const file = join(rig.dir, 'tokens');
    writeFileSync(file, `# clients\n${TOKEN}-file\n\n`);
    // IMGPROC_TOKEN holds several, comma-separated; the file adds its own.
    ({ url } = await rig.serve(['--token-file', file], { IMGPROC_TOKEN: `${TOKEN},${TOKEN}-env` }));
  });
  afterAll(async () => {
    await rig?.destroy();
  });

  const upload = (authorization?: string) =>
    fetch(`${url}/v1/jobs?id=a1`, {
      method: 'POST',
      body: PNG,
      headers: { 'content-type': 'image/png', ...(authorization ? { authorization } : {}) },
    });

  it('a missing or wrong token is 401 with a code, and the upload is not stored', async () => {
    for (const [auth, code] of [
      [undefined, 'UNAUTHORIZED'],
      ['Basic dXNlcjpwYXNz', 'UNAUTHORIZED'],
      [`Bearer ${TOKEN}x`, 'INVALID_TOKEN'],
      [`Bearer ${TOKEN.slice(0, -1)}`, 'INVALID_TOKEN'],
    ] as const) {
      const res = await upload(auth);
      expect(res.status, auth).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="imgproc"/);
      expect(await res.json()).toMatchObject({ code });
    }
    for (const path of ['/v1/jobs/a1', '/v1/jobs/a1/outputs/thumb', '/metrics', '/v1/other']) {
      expect((await fetch(`${url}${path}`)).status, path).toBe(401);
    }
    expect(rig.uploads()).toEqual([]);
    expect(await rig.redis.client().exists('auth:image_job:a1')).toBe(0);
  });

  it('each configured token works: environment and file', async () => {
    for (const token of [TOKEN, `${TOKEN}-file`, `${TOKEN}-env`]) {
      const res = await upload(`Bearer ${token}`);
      expect(res.status, token).toBe(202);
      const status = await fetch(`${url}/v1/jobs/a1`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(((await status.json()) as { state: string }).state).toBe('queued');
    }
  });

  it('the page and the health check answer without a token', async () => {
    expect((await fetch(`${url}/`)).status).toBe(200);
    expect((await fetch(`${url}/app.js`)).status).toBe(200);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('--token is repeatable (and beats IMGPROC_TOKEN, as every flag beats its variable)', async () => {
    const other = await rig.serve(['--token', `${TOKEN}-1`, '--token', `${TOKEN}-2`], {
      IMGPROC_TOKEN: TOKEN,
    });
    const status = (token: string) =>
      fetch(`${other.url}/v1/jobs/a1`, { headers: { authorization: `Bearer ${token}` } });
    expect((await status(`${TOKEN}-1`)).status).toBe(200);
    expect((await status(`${TOKEN}-2`)).status).toBe(200);
    expect((await status(TOKEN)).status).toBe(401);
  });

  it('binding beyond loopback without a token is refused at start; short tokens too', async () => {
    const run = async (args: string[]) => {
      const p = cli(['serve', '--redis', rig.redis.url, ...args], rig.dir, rig.started);
      return { code: await p.exited, stderr: p.stderr() };
    };
    const open = await run(['--host', '0.0.0.0', '--port', '0']);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/beyond this machine: give clients a token with --token/);
    const short = await run(['--token', 'short', '--port', '0']);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/at least 16 characters/);
  });
});
