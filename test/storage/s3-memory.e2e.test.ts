import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHOTOS, linesAbout, makeTempDir, outputsOf, runCli } from '../e2e/helpers.js';
import { runCliMeasured, writeBlackPng } from '../e2e/heavy.js';
import { waitFor } from '../queue/redis-server.js';
import { ObjectStorage } from '../../src/storage/object-storage.js';
import { ObjectStore } from '../../src/storage/s3.js';
import { StorageError } from '../../src/storage/s3-errors.js';
import { startS3, type TestS3 } from './s3-server.js';

const MIB = 1024 ** 2;
let s3: TestS3;
let baseRss: number;

/** The GETs of one key, each with its Range header (undefined for a whole read). */
const getsOf = (key: string) =>
  s3.requests.filter((r) => r.method === 'GET' && r.path === `/heavy/${key}`).map((r) => r.range);
const cutOf = (key: string) => s3.cut.find((c) => c.path === `/heavy/${key}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An ObjectStore on the test server, with the credentials the CLI gets from its environment. */
async function withStore(use: (store: ObjectStore) => Promise<void>): Promise<void> {
  const saved = { ...process.env };
  Object.assign(process.env, s3.env);
  const store = new ObjectStore({ endpoint: s3.endpoint, forcePathStyle: true });
  try {
    await use(store);
  } finally {
    store.close();
    process.env = saved;
  }
}

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket('heavy');
  const dir = await makeTempDir();
  // 48 KB PNGs that each decode to a 262144x64 strip: about 300 MB apiece at their peak.
  await writeBlackPng(join(dir, 'strip.png'), 262144, 64);
  const strip = await readFile(join(dir, 'strip.png'));
  await Promise.all([0, 1, 2, 3].map((i) => s3.put('heavy', `strips/strip-${i}.png`, strip)));
  // The same header with 24 MiB more behind it: more than a connection holds in its buffers.
  await s3.put('heavy', 'big/strip.png', Buffer.concat([strip, Buffer.alloc(24 * MIB)]));
  const jpeg = await sharp({
    create: { width: 64, height: 64, channels: 3, background: '#808080' },
  })
    .jpeg()
    .toBuffer();
  await s3.put('heavy', 'padded/padded.jpg', Buffer.concat([jpeg, Buffer.alloc(48 * MIB)]));
  await s3.put('heavy', 'empty/empty.jpg', Buffer.alloc(0));
  await s3.put('heavy', 'tiny/tiny.png', await readFile(join(PHOTOS, 'tiny-1x1.png')));
  const base = await runCliMeasured(
    ['s3://heavy/tiny/', '--out', await makeTempDir(), '--cpu'],
    s3.env,
  );
  expect(base.code).toBe(0);
  baseRss = base.peakRss;
});

afterAll(async () => {
  await s3?.destroy();
});

describe('s3:// sources share the memory budget as files do', () => {
  it('objects wait for room: peak RSS stays under --max-memory plus the process base', async () => {
    const out = await makeTempDir();
    const r = await runCliMeasured(
      ['s3://heavy/strips/', '--out', out, '--cpu', '--concurrency', '4', '--max-memory', '600MiB'],
      s3.env,
    );
    expect(r.stderr).toContain('4 processed');
    expect(r.code).toBe(0);
    expect(r.peakRss, `peak ${r.peakRss / MIB} MiB, base ${baseRss / MIB} MiB`).toBeLessThan(
      600 * MIB + baseRss,
    );
  });

  it('refuses an object that alone needs more than the budget, from its first bytes', async () => {
    const out = await makeTempDir();
    s3.requests.length = 0;
    const r = await runCli(
      ['s3://heavy/strips/', 's3://heavy/big/', '--out', out, '--cpu', '--max-memory', '100MiB'],
      { env: s3.env },
    );
    expect(r.code).toBe(3);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('✗'));
    expect(lines).toHaveLength(5);
    for (const line of lines) {
      expect(line).toMatch(
        /s3:\/\/heavy\/(strips\/strip-\d|big\/strip)\.png: needs about \d+ MiB to process \(262144x64 PNG\), more than --max-memory 100 MiB/,
      );
    }
    // The larger object: one GET, left once its first bytes were judged.
    expect(getsOf('big/strip.png')).toEqual([undefined]);
    await waitFor('the GET cut', () => cutOf('big/strip.png'));
  });

  it('refuses a padded object from its header and size, without downloading it', async () => {
    s3.requests.length = 0;
    const out = await makeTempDir();
    const r = await runCli(['s3://heavy/padded/', 's3://heavy/empty/', '--out', out, '--cpu'], {
      env: s3.env,
    });
    expect(r.code).toBe(3);
    expect(linesAbout(r.stderr, 'padded.jpg')[0]).toMatch(
      /^✗ s3:\/\/heavy\/padded\/padded\.jpg: file is 49 MiB, far more than a 64x64 JPEG can take \(at most \d+ MiB\): padded or damaged/,
    );
    expect(getsOf('padded/padded.jpg')).toEqual([undefined]);
    const cut = await waitFor('the GET cut', () => cutOf('padded/padded.jpg'));
    // What the connection held when it was closed, not the 48 MiB behind it.
    expect(cut.sent).toBeLessThan(16 * MIB);
    expect(linesAbout(r.stderr, 'empty.jpg')[0]).toBe(
      '✗ s3://heavy/empty/empty.jpg: empty object (0 bytes) (the upload or copy did not finish)',
    );
    expect(getsOf('empty/empty.jpg')).toEqual([]);
  });

  it('reads an object admitted from its first bytes in the same GET', async () => {
    s3.requests.length = 0;
    s3.cut.length = 0;
    const out = await makeTempDir();
    const r = await runCli(['s3://heavy/big/', '--out', out, '--cpu'], { env: s3.env });
    expect(r.stderr).toContain('1 processed');
    expect(getsOf('big/strip.png')).toEqual([undefined]);
    expect(s3.cut).toEqual([]);
    const { listFiles } = await import('../e2e/helpers.js');
    expect(await listFiles(out)).toEqual(outputsOf('strip'));
  });

  it('a GET holds no more than the size that was admitted', async () => {
    await withStore(async (store) => {
      s3.requests.length = 0;
      // As if the object had been replaced by a larger one since it was listed.
      await expect(store.open('s3://heavy/big/strip.png', 1000)).rejects.toThrow(
        /s3:\/\/heavy\/big\/strip\.png changed while it was read \(\d+ bytes, 1000 expected\); run again/,
      );
      // The server reports its requests on a pipe of its own: wait for the line.
      await waitFor('the GET seen', () => getsOf('big/strip.png').length > 0);
      expect(getsOf('big/strip.png')).toEqual([undefined]);
      const whole = await store.open('s3://heavy/tiny/tiny.png', 0).catch((e: unknown) => e);
      expect(whole).toBeInstanceOf(StorageError);
    });
  });

  it('lets go of the GET while the budget holds an object back, and reads it again once admitted', async () => {
    await withStore(async (store) => {
      const objects = new ObjectStorage(store, 50);
      const url = 's3://heavy/big/strip.png';
      s3.requests.length = 0;
      s3.cut.length = 0;
      const waited = await objects.readSource(url, () => sleep(300));
      await waitFor('the first GET cut', () => cutOf('big/strip.png'));
      expect(getsOf('big/strip.png')).toEqual([undefined, undefined]);
      expect(waited.data.equals(await s3.get('heavy', 'big/strip.png'))).toBe(true);

      s3.requests.length = 0;
      s3.cut.length = 0;
      const quick = await objects.readSource(url, async () => {});
      expect(quick.data.length).toBe(waited.data.length);
      await waitFor('the GET seen', () => getsOf('big/strip.png').length > 0);
      expect(getsOf('big/strip.png')).toEqual([undefined]);
      expect(s3.cut).toEqual([]);
    });
  });
});
