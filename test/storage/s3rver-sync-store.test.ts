// The test server's synchronous file store against s3rver's own, on one folder: each reads what
// the other wrote, with the same metadata, ETag and bytes, whole and in ranges.
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../e2e/helpers.js';
import { syncFileStore } from './s3rver-sync-store.mjs';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any */
const FilesystemStore = require('s3rver/lib/stores/filesystem.js') as any;
const S3Object = require('s3rver/lib/models/object.js') as any;

let theirs: any;
let ours: any;

async function bytesOf(content: Readable | null): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of content ?? []) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** 200 KiB: several chunks of a GET. */
const body = Buffer.from(Array.from({ length: 200 * 1024 }, (_, i) => i % 251));
const metadata = {
  'content-type': 'image/webp',
  'cache-control': 'max-age=60',
  'x-amz-meta-imgproc': '1.2.3',
  'x-not-kept': 'dropped',
};

beforeAll(async () => {
  const dir = await makeTempDir('imgproc-s3rver-store-');
  theirs = new FilesystemStore(dir);
  ours = new FilesystemStore(dir);
  syncFileStore(ours);
  await theirs.putBucket('pics');
});

describe('the synchronous file store', () => {
  it('writes what s3rver reads: metadata, ETag, length and bytes', async () => {
    const put = await ours.putObject(new S3Object('pics', 'a/b c.webp', body, metadata));
    const got = await theirs.getObject('pics', 'a/b c.webp');
    expect(put.size).toBe(body.length);
    expect(got.metadata['content-type']).toBe('image/webp');
    expect(got.metadata['cache-control']).toBe('max-age=60');
    expect(got.metadata['x-amz-meta-imgproc']).toBe('1.2.3');
    expect(got.metadata['x-not-kept']).toBeUndefined();
    expect(got.metadata.etag).toBe(JSON.stringify(put.md5));
    expect(Number(got.metadata['content-length'])).toBe(body.length);
    expect((await bytesOf(got.content)).equals(body)).toBe(true);
  });

  it('reads what s3rver wrote, whole and in ranges, as s3rver does', async () => {
    await theirs.putObject(new S3Object('pics', 'x.bin', Readable.from([body]), metadata));
    for (const options of [undefined, { start: 10, end: 99_999 }, { start: 150_000 }]) {
      const want = await theirs.getObject('pics', 'x.bin', options);
      const got = await ours.getObject('pics', 'x.bin', options);
      expect(got.metadata).toEqual(want.metadata);
      expect(got.range).toEqual(want.range);
      expect((await bytesOf(got.content)).equals(await bytesOf(want.content))).toBe(true);
    }
    const unsatisfiable = await ours.getObject('pics', 'x.bin', { start: body.length + 5 });
    expect(unsatisfiable.content).toBeNull();
    expect(unsatisfiable.range).toEqual(
      (await theirs.getObject('pics', 'x.bin', { start: body.length + 5 })).range,
    );
  });

  it('answers a missing object as s3rver does', async () => {
    expect(await ours.getObject('pics', 'nothing-here')).toBeNull();
    await expect(ours.getMetadata('pics', 'nothing-here')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('lists through s3rver with the metadata it wrote', async () => {
    const listed = await ours.listObjects('pics', { prefix: 'a/' });
    expect(listed.objects.map((o: any) => o.key)).toEqual(['a/b c.webp']);
    expect(Number(listed.objects[0].metadata['content-length'])).toBe(body.length);
  });
});
