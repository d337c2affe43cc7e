import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decode, readHeader } from '../../src/pipeline/decode.js';
import { NativeError } from '../../src/native/index.js';
import { openBinding } from './helpers.js';

const binding = openBinding();
const webpVersion = binding.buildInfo().webpDecoder;
if (!webpVersion) {
  // CI installs libwebp-dev, so there the direct decoder must exist.
  if (process.env.CI)
    throw new Error('imgproc_native was built without libwebp (apt-get install libwebp-dev)');
  console.warn('WebP decoder tests skipped: imgproc_native was built without libwebp headers');
}

/** A busy opaque picture, saved as lossy WebP. */
async function photoWebp(
  width: number,
  height: number,
  options: sharp.WebpOptions = {},
): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  let seed = 7;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    const x = (i / 3) % width;
    const y = Math.floor(i / 3 / width);
    data[i] = Math.max(
      0,
      Math.min(
        255,
        128 + Math.sin(x / 23 + (i % 3)) * 90 + Math.cos(y / 31) * 20 + ((seed >>> 26) - 32),
      ),
    );
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .webp({ quality: 80, ...options })
    .toBuffer();
}

/** What libvips gives for the same request (it scales with libwebp too). */
async function viaSharp(file: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(file)
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer();
}

describe.skipIf(!webpVersion)(`decodeWebp (libwebp ${webpVersion ?? 'absent'})`, () => {
  it('decodes at full size and scaled, to the same pixels as libvips', async () => {
    const file = await photoWebp(1024, 768);
    for (const [w, h] of [
      [1024, 768],
      [512, 384],
      [256, 192],
      [100, 75],
    ] as const) {
      const ours = await binding.decodeWebp(file, { width: w, height: h });
      expect([ours.width, ours.height, ours.channels]).toEqual([w, h, 3]);
      expect(ours.data.length).toBe(w * h * 3);
      expect(ours.data.equals(await viaSharp(file, w, h))).toBe(true);
    }
  });

  it('refuses what it does not handle, with a code the pipeline falls back on', async () => {
    const file = await photoWebp(64, 48);
    const alpha = await sharp({
      create: { width: 32, height: 32, channels: 4, background: { r: 9, g: 9, b: 9, alpha: 0.5 } },
    })
      .webp()
      .toBuffer();
    const cases: Array<[Uint8Array, { width: number; height: number }, string]> = [
      [file.subarray(0, 40), { width: 64, height: 48 }, 'ERR_DECODE'],
      [Buffer.from('not a webp at all, just text'), { width: 8, height: 8 }, 'ERR_DECODE'],
      [alpha, { width: 32, height: 32 }, 'ERR_DECODE'],
      [file, { width: 128, height: 96 }, 'ERR_INVALID_ARG'], // no enlarging
    ];
    for (const [bytes, size, code] of cases) {
      const err = await binding.decodeWebp(bytes, size).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NativeError);
      expect((err as NativeError).code).toBe(code);
    }
    await expect(binding.decodeWebp(file, { width: 0, height: 5 })).rejects.toThrow(/size/);
  });

  it('serves the pipeline: same decode as sharp, and sharp still handles WebP with alpha', async () => {
    const file = await photoWebp(800, 600);
    const info = await readHeader(file, 1e8);
    const ours = await decode(file, info, { width: 200, height: 150 }, 1e8);
    expect(ours.data.equals(await viaSharp(file, 200, 150))).toBe(true);

    const alpha = await sharp({
      create: {
        width: 40,
        height: 30,
        channels: 4,
        background: { r: 200, g: 10, b: 10, alpha: 0.5 },
      },
    })
      .webp({ lossless: true })
      .toBuffer();
    const decoded = await decode(
      alpha,
      await readHeader(alpha, 1e8),
      { width: 20, height: 15 },
      1e8,
    );
    expect(decoded.channels).toBe(4);
    expect(decoded.data[3]).toBeGreaterThan(100);
    expect(decoded.data[3]).toBeLessThan(156);
  });
});
