import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHOTOS, linesAbout, makeTempDir, outputsOf, runCli } from '../e2e/helpers.js';
import { startS3, type TestS3 } from './s3-server.js';

let s3: TestS3;
const FOREIGN = 'a thumbnail made by another tool';

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket('photos');
  const jpeg = await readFile(join(PHOTOS, 'small-200x150.jpg'));
  await Promise.all(['a', 'b', 'c'].map((n) => s3.put('photos', `in/${n}.jpg`, jpeg)));
});

afterAll(async () => {
  await s3?.destroy();
});

describe('s3:// outputs: imgproc never replaces an object it did not write', () => {
  it('an image whose output or sidecar key holds a foreign object fails, and leaves it and nothing else', async () => {
    await s3.put('photos', 'web/a_thumb.webp', FOREIGN);
    await s3.put('photos', 'web/c.json', '{"someone":"else"}');
    const res = await runCli(['s3://photos/in/', '--out', 's3://photos/web', '--cpu'], {
      env: s3.env,
    });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('1 processed, 0 skipped, 2 failed');
    expect(linesAbout(res.stderr, 's3://photos/in/a.jpg')[0]).toBe(
      '✗ s3://photos/in/a.jpg: s3://photos/web/a_thumb.webp exists and was not written by imgproc ' +
        '(imgproc never replaces objects it did not write: move or delete it, or write to another prefix)',
    );
    expect(linesAbout(res.stderr, 's3://photos/in/c.jpg')[0]).toContain(
      's3://photos/web/c.json exists and was not written by imgproc',
    );
    expect((await s3.get('photos', 'web/a_thumb.webp')).toString()).toBe(FOREIGN);
    expect((await s3.get('photos', 'web/c.json')).toString()).toBe('{"someone":"else"}');
    expect(await s3.keys('photos', 'web/')).toEqual(
      [...outputsOf('web/b'), 'web/a_thumb.webp', 'web/c.json'].sort(),
    );
    // What imgproc wrote carries its mark.
    for (const key of outputsOf('web/b')) {
      expect(await s3.metadata('photos', key)).toHaveProperty('imgproc');
    }
  });

  it('replaces its own objects (--force, a changed source), from local inputs too', async () => {
    s3.requests.length = 0;
    const res = await runCli(['s3://photos/in/b.jpg', '--out', 's3://photos/web', '--cpu', '-f'], {
      env: s3.env,
    });
    expect(res.stderr).toContain('1 processed, 0 skipped, 0 failed');
    expect(res.code).toBe(0);
    const puts = s3.requests.filter((r) => r.method === 'PUT').map((r) => r.path);
    expect(puts.sort()).toEqual(outputsOf('/photos/web/b').sort());

    const tmp = await makeTempDir();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(tmp, 'a.jpg'), await readFile(join(PHOTOS, 'grey.jpg')));
    await writeFile(join(tmp, 'b.jpg'), await readFile(join(PHOTOS, 'grey.jpg')));
    const local = await runCli([tmp, '--out', 's3://photos/web', '--cpu'], { env: s3.env });
    expect(local.code).toBe(3);
    expect(local.stderr).toContain('1 processed, 0 skipped, 1 failed');
    expect(linesAbout(local.stderr, join(tmp, 'a.jpg'))[0]).toContain(
      's3://photos/web/a_thumb.webp exists and was not written by imgproc',
    );
    expect((await s3.get('photos', 'web/a_thumb.webp')).toString()).toBe(FOREIGN);
  });
});
