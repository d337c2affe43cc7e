import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/pipeline/types.js';
import { waitFor } from '../queue/redis-server.js';
import { PHOTOS, listFiles, makeTempDir, outputsOf, runCli, spawnCli } from '../e2e/helpers.js';
import { startS3, type TestS3 } from './s3-server.js';

let s3: TestS3;
/** A few photos of the fixtures, uploaded under `photos/in/` with their folder layout. */
const PICKED = ['small-200x150.jpg', 'transparent.png', 'trips/coast.jpg', 'trips/summit.webp'];
const stem = (rel: string) => rel.replace(/\.[^./]+$/, '');

async function upload(bucket: string, prefix: string, rels: string[]): Promise<void> {
  await Promise.all(
    rels.map(async (rel) => s3.put(bucket, `${prefix}${rel}`, await readFile(join(PHOTOS, rel)))),
  );
}

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket('photos');
  await upload('photos', 'in/', PICKED);
});

afterAll(async () => {
  await s3?.destroy();
});

const sourceGets = () =>
  s3.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/photos/in/'));

describe('s3:// in and out', () => {
  it('walks a prefix, writes outputs that mirror its layout with their content types, sidecar last', async () => {
    const res = await runCli(
      ['s3://photos/in/', '--out', 's3://photos/web/', '--cpu', '--cache-control', 'max-age=60'],
      { env: s3.env },
    );
    expect(res.stderr).toContain(`${PICKED.length} processed, 0 skipped, 0 failed`);
    expect(res.code).toBe(0);
    const expected = PICKED.flatMap((rel) => outputsOf(`web/${stem(rel)}`)).sort();
    expect(await s3.keys('photos', 'web/')).toEqual(expected);

    const thumb = await s3.head('photos', 'web/trips/coast_thumb.webp');
    expect(thumb).toEqual({ contentType: 'image/webp', cacheControl: 'max-age=60' });
    expect((await s3.head('photos', 'web/trips/coast.json')).contentType).toBe('application/json');
    const webp = await sharp(await s3.get('photos', 'web/trips/coast_thumb.webp')).metadata();
    expect(webp.format).toBe('webp');
    expect(webp.width).toBe(256);

    const sidecar = JSON.parse(
      (await s3.get('photos', 'web/trips/coast.json')).toString(),
    ) as Sidecar;
    const source = await readFile(join(PHOTOS, 'trips/coast.jpg'));
    expect(sidecar.source.path).toBe('trips/coast.jpg');
    expect(sidecar.source.bytes).toBe(source.length);
    // s3rver's ETag of a single PUT is the MD5 of the bytes, as AWS's is.
    const { createHash } = await import('node:crypto');
    expect(sidecar.source.etag).toBe(createHash('md5').update(source).digest('hex'));
    expect(sidecar.outputs.thumb?.path).toBe('trips/coast_thumb.webp');

    // The sidecar is the last object of its image to be written.
    const puts = s3.requests.filter(
      (r) => r.method === 'PUT' && r.path.includes('/web/trips/coast'),
    );
    expect(puts.at(-1)?.path).toBe('/photos/web/trips/coast.json');
  });

  it('a re-run over the unchanged bucket downloads no source and skips every image', async () => {
    s3.requests.length = 0;
    const res = await runCli(['s3://photos/in/', '--out', 's3://photos/web', '--cpu'], {
      env: s3.env,
    });
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(`0 processed, ${PICKED.length} skipped, 0 failed`);
    expect(sourceGets()).toEqual([]);
    expect(s3.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    // One listing of the outputs stands for a HEAD of each; each sidecar is read once.
    expect(s3.requests.filter((r) => r.method === 'HEAD')).toEqual([]);
    const sidecarGets = s3.requests.filter((r) => r.method === 'GET' && r.path.endsWith('.json'));
    expect(sidecarGets.length).toBe(PICKED.length);
  });

  it('redoes an object whose bytes changed, and only that one', async () => {
    await s3.put('photos', 'in/trips/coast.jpg', await readFile(join(PHOTOS, 'grey.jpg')));
    s3.requests.length = 0;
    const res = await runCli(['s3://photos/in/', '--out', 's3://photos/web', '--cpu'], {
      env: s3.env,
    });
    expect(res.stderr).toContain(`1 processed, ${PICKED.length - 1} skipped, 0 failed`);
    expect(sourceGets().map((r) => r.path)).toEqual(['/photos/in/trips/coast.jpg']);
    await upload('photos', 'in/', ['trips/coast.jpg']);
  });

  it('mixes local and s3 both ways, and takes single objects and globs', async () => {
    const tmp = await makeTempDir();
    const local = await runCli(
      ['s3://photos/in/trips/*.jpg', 's3://photos/in/transparent.png', '--out', tmp, '--cpu'],
      { env: s3.env },
    );
    expect(local.code).toBe(0);
    expect(await listFiles(tmp)).toEqual(
      [...outputsOf('coast'), ...outputsOf('transparent')].sort(),
    );

    const up = await runCli([join(PHOTOS, 'trips'), '--out', 's3://photos/from-disk', '--cpu'], {
      env: s3.env,
    });
    expect(up.code).toBe(0);
    const disk = (await listFiles(join(PHOTOS, 'trips'))).map((rel) => `from-disk/${stem(rel)}`);
    expect(await s3.keys('photos', 'from-disk/')).toEqual(disk.flatMap(outputsOf).sort());
  });

  it('takes s3:// entries in a manifest', async () => {
    const tmp = await makeTempDir();
    const manifest = join(tmp, 'jobs.ndjson');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      manifest,
      [
        JSON.stringify({ id: 'a1', input: 's3://photos/in/small-200x150.jpg' }),
        JSON.stringify({ input: 's3://photos/in/trips/summit.webp' }),
      ].join('\n'),
    );
    const res = await runCli(['--manifest', manifest, '--out', 's3://photos/jobs', '--cpu'], {
      env: s3.env,
    });
    expect(res.code).toBe(0);
    expect(await s3.keys('photos', 'jobs/')).toEqual(
      [...outputsOf('jobs/a1/a1'), ...outputsOf('jobs/in/trips/summit')].sort(),
    );
  });
});

describe('what goes wrong, one clear line each', () => {
  it('a missing bucket, a missing key and an object that is not an image; the run goes on', async () => {
    await s3.put('photos', 'odd/fake.jpg', 'this is text, not a JPEG');
    await s3.put('photos', 'odd/good.jpg', await readFile(join(PHOTOS, 'grey.jpg')));
    const tmp = await makeTempDir();
    const res = await runCli(
      [
        's3://nosuchbucket/in/',
        's3://photos/missing.jpg',
        's3://photos/odd/',
        '--out',
        tmp,
        '--cpu',
      ],
      { env: s3.env },
    );
    expect(res.code).toBe(3);
    // One ✗ line per input; the summary's 'failed, in order:' line names them all again.
    const lines = res.stderr.split('\n').filter((l) => l.startsWith('✗ '));
    expect(lines.filter((l) => l.includes('s3://nosuchbucket/in/'))).toEqual([
      expect.stringMatching(/bucket "nosuchbucket" does not exist/),
    ]);
    expect(lines.filter((l) => l.includes('s3://photos/missing.jpg'))).toEqual([
      expect.stringMatching(/object not found/),
    ]);
    expect(lines.filter((l) => l.includes('s3://photos/odd/fake.jpg'))).toEqual([
      expect.stringMatching(/not an image/),
    ]);
    expect(await listFiles(tmp)).toEqual(outputsOf('good'));
  });

  it('wrong credentials are named as such', async () => {
    const tmp = await makeTempDir();
    const res = await runCli(['s3://photos/in/', '--out', tmp, '--cpu'], {
      env: { ...s3.env, AWS_ACCESS_KEY_ID: 'NOT-A-KEY' },
    });
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/s3:\/\/photos\/in\/.*wrong credentials.*InvalidAccessKeyId/);
    expect(res.stderr).not.toContain('S3RVER');
    expect(await listFiles(tmp)).toEqual([]);
  });

  it('lists a prefix of more than 1,000 keys page by page', async () => {
    const bulk = Array.from({ length: 1010 }, (_, i) => `bulk/n${String(i).padStart(4, '0')}.txt`);
    await s3.seed('photos', bulk, 'x');
    // Sorted after every text key: only the second page holds them.
    await upload('photos', 'bulk/', ['tiny-1x1.png', 'wide-2000x8.png']);
    s3.requests.length = 0;
    const res = await runCli(['s3://photos/bulk/', '--out', 's3://photos/bulk-out', '--cpu'], {
      env: s3.env,
    });
    expect(res.stderr).toContain('2 processed, 0 skipped, 0 failed');
    const lists = s3.requests.filter(
      (r) => r.method === 'GET' && r.path === '/photos/' && /prefix=bulk%2F(&|$)/.test(r.query!),
    );
    expect(lists.length).toBe(2);
  });

  it('checks outputs with HEADs where the output prefix holds far more than the run writes', async () => {
    const crowd = Array.from({ length: 1500 }, (_, i) => `crowded/k${String(i).padStart(4, '0')}`);
    await s3.seed('photos', crowd, 'x');
    s3.requests.length = 0;
    const args = ['s3://photos/in/trips/', '--out', 's3://photos/crowded', '--cpu'];
    const first = await runCli(args, { env: s3.env });
    expect(first.stderr).toContain('2 processed, 0 skipped, 0 failed');
    const listed = s3.requests.filter((r) => /prefix=crowded%2F(&|$)/.test(r.query ?? ''));
    // The listing stops once it holds more keys than the run could use (2 pages, not 2 full ones).
    expect(listed.length).toBe(2);
    expect(s3.requests.filter((r) => r.method === 'HEAD').length).toBeGreaterThan(0);
    s3.requests.length = 0;
    const again = await runCli(args, { env: s3.env });
    expect(again.stderr).toContain('0 processed, 2 skipped, 0 failed');
    expect(s3.requests.filter((r) => r.method === 'HEAD').length).toBe(6);
  });

  it('the server stopped mid-run: clear failures, nothing half written, a re-run completes', async () => {
    const many = Array.from({ length: 16 }, (_, i) => `many/p${String(i).padStart(2, '0')}.jpg`);
    const body = await readFile(join(PHOTOS, 'trips/coast.jpg'));
    await Promise.all(many.map((k) => s3.put('photos', k, body)));
    s3.requests.length = 0;
    const run = spawnCli(
      ['s3://photos/many/', '--out', 's3://photos/many-out', '--cpu', '--concurrency', '1'],
      { env: s3.env },
    );
    await waitFor('a first sidecar', () =>
      s3.requests.some((r) => r.method === 'PUT' && r.path.endsWith('.json')),
    );
    await s3.stop();
    const res = await run.result;
    await s3.start();
    expect(res.code).toBe(3);
    const failures = res.stderr
      .split('\n')
      .filter((l) => l.startsWith('✗ ') && l.includes('s3://photos/many/'));
    expect(failures.length).toBeGreaterThan(0);
    for (const line of failures) {
      expect(line).toMatch(
        /cannot reach object storage at http:\/\/127\.0\.0\.1:\d+ \((ECONNREFUSED|ECONNRESET|EPIPE)\)/,
      );
    }
    await expectComplete('many-out/');

    const again = await runCli(['s3://photos/many/', '--out', 's3://photos/many-out', '--cpu'], {
      env: s3.env,
    });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/(\d+) processed, (\d+) skipped, 0 failed/);
    const keys = await s3.keys('photos', 'many-out/');
    expect(keys).toEqual(
      many
        .map((k) => `many-out/${stem(k.slice('many/'.length))}`)
        .flatMap(outputsOf)
        .sort(),
    );
    await expectComplete('many-out/');
  });
});

/** Every sidecar under the prefix lists outputs that are all there, whole, with its sizes. */
async function expectComplete(prefix: string): Promise<void> {
  const keys = await s3.keys('photos', prefix);
  for (const key of keys.filter((k) => k.endsWith('.json'))) {
    const sidecar = JSON.parse((await s3.get('photos', key)).toString()) as Sidecar;
    const dir = key.slice(0, key.lastIndexOf('/') + 1);
    for (const out of Object.values(sidecar.outputs)) {
      const bytes = await s3.get('photos', `${prefix}${out!.path}`);
      expect(bytes.length).toBe(out!.bytes);
      expect((await sharp(bytes).metadata()).format).toBe('webp');
    }
    expect(dir.startsWith(prefix)).toBe(true);
  }
  for (const key of keys.filter((k) => k.endsWith('.webp'))) {
    expect((await sharp(await s3.get('photos', key)).metadata()).format).toBe('webp');
  }
}
