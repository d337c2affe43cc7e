import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { hasDecodableSignature } from '../../src/pipeline/decode.js';

const PHOTOS = resolve('fixtures/photos');

describe('hasDecodableSignature', () => {
  it('recognises every bundled photo from its first 4 KiB', async () => {
    const names = (await readdir(PHOTOS, { withFileTypes: true })).filter((e) => e.isFile());
    expect(names.length).toBeGreaterThan(10);
    for (const { name } of names) {
      const head = (await readFile(join(PHOTOS, name))).subarray(0, 4096);
      expect(hasDecodableSignature(head), name).toBe(true);
    }
  });

  it('recognises WebP and big-endian TIFF too', async () => {
    const img = sharp({ create: { width: 4, height: 4, channels: 3, background: '#123456' } });
    expect(hasDecodableSignature(await img.clone().webp().toBuffer())).toBe(true);
    const tiff = await img.clone().tiff().toBuffer();
    expect(hasDecodableSignature(tiff)).toBe(true);
    expect(hasDecodableSignature(Buffer.concat([Buffer.from('MM\0*'), tiff.subarray(4)]))).toBe(
      true,
    );
  });

  it('refuses text, SVG, BMP, PDF and short buffers', () => {
    for (const text of [
      'just some text here',
      '<svg xmlns="http://www.w3.org/2000/svg"/>',
      'BM' + 'x'.repeat(40),
      '%PDF-1.7 ' + 'x'.repeat(20),
      'GIF',
    ]) {
      expect(hasDecodableSignature(Buffer.from(text)), text).toBe(false);
    }
    expect(hasDecodableSignature(Buffer.from([0xff, 0xd8]))).toBe(false);
  });
});
