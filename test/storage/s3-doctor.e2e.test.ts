import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Settings } from '../../src/cli/doctor-s3.js';
import { freePort } from '../queue/redis-server.js';
import { makeTempDir, runCli } from '../e2e/helpers.js';
import { startS3, type TestS3 } from './s3-server.js';

let s3: TestS3;

beforeAll(async () => {
  s3 = await startS3();
});

afterAll(async () => {
  await s3?.destroy();
});

/** `imgproc doctor --json`'s s3 section and the text report's s3 lines, from the built CLI. */
async function doctor(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ json: S3Settings; text: string }> {
  const json = await runCli(['doctor', '--json', '--cpu', ...args], { env });
  expect(json.code).toBe(0);
  const text = await runCli(['doctor', '--cpu', ...args], { env });
  expect(text.code).toBe(0);
  for (const out of [json.stdout, text.stdout, json.stderr, text.stderr]) {
    // s3rver's secret: it must never be printed, whatever the credentials' source.
    expect(out).not.toContain('S3RVER');
  }
  const lines = text.stdout.split('\n');
  const from = lines.findIndex((l) => l.startsWith('s3 '));
  return {
    json: (JSON.parse(json.stdout) as { s3: S3Settings }).s3,
    text: lines.slice(from).join('\n'),
  };
}

/** s3.env without its credentials. */
function withoutKeys(): Record<string, string> {
  const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...env } = s3.env;
  return env;
}

describe('imgproc doctor: object storage', () => {
  it('names the endpoint, region, addressing and credentials from the environment; the endpoint accepts them', async () => {
    const { json, text } = await doctor(s3.env);
    expect(json).toMatchObject({
      endpoint: s3.endpoint,
      endpointFrom: 'IMGPROC_S3_ENDPOINT',
      region: 'us-east-1',
      regionFrom: 'AWS_REGION',
      pathStyle: true,
      credentials: { kind: 'environment', accessKeyId: '**RVER' },
      check: { reachable: true, credentialsAccepted: true },
    });
    expect(text).toContain(`s3        endpoint ${s3.endpoint} (IMGPROC_S3_ENDPOINT)`);
    expect(text).toContain('path-style');
    expect(text).toContain('credentials: environment variables (AWS_ACCESS_KEY_ID');
    expect(text).toContain('endpoint: reachable, credentials accepted');
  });

  it('takes a profile of the shared credentials file, the endpoint from AWS_ENDPOINT_URL_S3 and the region from --s3-region', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'credentials');
    await writeFile(
      file,
      '[default]\naws_access_key_id = NOT-THIS-ONE\naws_secret_access_key = nope\n' +
        '[gallery]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n',
    );
    const { IMGPROC_S3_ENDPOINT: _endpoint, ...env } = withoutKeys();
    const { json, text } = await doctor(
      {
        ...env,
        AWS_SHARED_CREDENTIALS_FILE: file,
        AWS_PROFILE: 'gallery',
        AWS_ENDPOINT_URL_S3: s3.endpoint,
      },
      ['--s3-region', 'eu-west-3'],
    );
    expect(json).toMatchObject({
      endpoint: s3.endpoint,
      endpointFrom: 'AWS_ENDPOINT_URL_S3',
      region: 'eu-west-3',
      regionFrom: '--s3-region',
      credentials: { kind: 'profile', accessKeyId: '**RVER' },
      check: { reachable: true, credentialsAccepted: true },
    });
    expect(json.credentials.description).toBe(`shared config files, profile "gallery" (${file})`);
    expect(text).toContain(`credentials: shared config files, profile "gallery" (${file})`);
  });

  it('says when the endpoint refuses the credentials', async () => {
    const { json, text } = await doctor({ ...s3.env, AWS_ACCESS_KEY_ID: 'WRONGKEY' });
    expect(json.check).toMatchObject({ reachable: true, credentialsAccepted: false });
    expect(text).toContain(
      'endpoint: reachable, but it refused the credentials (InvalidAccessKeyId)',
    );
  });

  it('says when the endpoint cannot be reached, and when no credentials are found', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const { json, text } = await doctor({ ...withoutKeys(), IMGPROC_S3_ENDPOINT: nobody });
    expect(json.credentials.kind).toBeNull();
    expect(json.credentials.accessKeyId).toBeUndefined();
    expect(text).toContain('credentials: none found');
    expect(json.check).toMatchObject({ reachable: false, credentialsAccepted: null });
    expect(text).toContain(`endpoint: cannot reach ${nobody} (ECONNREFUSED)`);

    const signed = await doctor({ ...s3.env, IMGPROC_S3_ENDPOINT: nobody });
    expect(signed.text).toContain(`endpoint: cannot reach ${nobody} (ECONNREFUSED)`);
  });

  it('contacts nothing when no endpoint is configured', async () => {
    const { IMGPROC_S3_ENDPOINT: _e, IMGPROC_S3_PATH_STYLE: _p, ...env } = s3.env;
    s3.requests.length = 0;
    const { json, text } = await doctor(env);
    expect(json).toMatchObject({ endpoint: 'AWS S3', endpointFrom: 'default', pathStyle: false });
    expect(json.check).toBeNull();
    expect(text).toContain('endpoint: AWS, not contacted');
    expect(s3.requests).toEqual([]);
  });

  it('reports a bad setting instead of failing', async () => {
    const res = await runCli(['doctor', '--cpu'], {
      env: { ...s3.env, IMGPROC_S3_ENDPOINT: 'ftp://files.example' },
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(
      's3        invalid setting: Expected an http:// or https:// URL for s3-endpoint but received "ftp://files.example"',
    );
    expect(res.stdout).toMatch(/^memory {4}max-memory/m);
  });
});
