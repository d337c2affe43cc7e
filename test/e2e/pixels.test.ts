import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  PHOTOS,
  channelStats,
  colourDistance,
  dimensionsOf,
  makeTempDir,
  meanColour,
  runCli,
  writePattern,
  type RunResult,
} from './helpers.js';

let out: string;
let run: RunResult;

// sRGB colour stored in a Display P3 file: a decoder that ignores the profile reads P3 numbers.
const P3_SOURCE_SRGB = [200, 100, 50];

beforeAll(async () => {
  const dir = await makeTempDir();
  const input = join(dir, 'in');
  out = join(dir, 'out');
  await mkdir(input);
  await Promise.all([
    // 1-px checkerboard, 2048 px wide: the thumbnail is an exact 8x downscale.
    writePattern(join(input, 'checker.png'), 2048, 512, (x, y) => (x + y) % 2 === 0),
    // 1-px vertical lines, 2000 px wide: a 7.8x downscale, where point sampling beats into stripes.
    writePattern(join(input, 'lines.png'), 2000, 400, (x) => x % 2 === 0),
    copyFile(join(PHOTOS, 'gps.jpg'), join(input, 'gps.jpg')),
    copyFile(join(PHOTOS, 'orientation-6.jpg'), join(input, 'orientation-6.jpg')),
    sharp({
      create: {
        width: 64,
        height: 64,
        channels: 3,
        background: { r: P3_SOURCE_SRGB[0]!, g: P3_SOURCE_SRGB[1]!, b: P3_SOURCE_SRGB[2]! },
      },
    })
      .withIccProfile('p3')
      .jpeg({ quality: 95 })
      .toFile(join(input, 'p3.jpg')),
  ]);
  run = await runCli([input, '--out', out, '--keep-metadata', '--no-progress', '--cpu']);
});

describe('pixel pipeline', () => {
  it('runs', () => {
    expect(run.stderr).toContain('5 processed, 0 skipped, 0 failed');
    expect(run.code).toBe(0);
  });

  it('antialiases an 8x downscale of a 1-px checkerboard into flat grey', async () => {
    const thumb = join(out, 'checker_thumb.webp');
    expect(await dimensionsOf(thumb)).toEqual({ width: 256, height: 64 });
    const s = await channelStats(thumb);
    for (let c = 0; c < 3; c++) {
      expect(s.mean[c]).toBeGreaterThan(100);
      expect(s.mean[c]).toBeLessThan(155);
      expect(s.stdev[c]).toBeLessThan(12);
    }
    const lq = await channelStats(join(out, 'checker_lq.webp'));
    expect(lq.mean[0]).toBeGreaterThan(100);
    expect(lq.mean[0]).toBeLessThan(155);
    expect(lq.stdev[0]).toBeLessThan(12);
  });

  it('antialiases a 7.8x downscale of 1-px lines into flat grey, not beat stripes', async () => {
    const thumb = join(out, 'lines_thumb.webp');
    expect(await dimensionsOf(thumb)).toEqual({ width: 256, height: 51 });
    const s = await channelStats(thumb);
    expect(s.mean[0]).toBeGreaterThan(100);
    expect(s.mean[0]).toBeLessThan(155);
    expect(s.stdev[0]).toBeLessThan(12);
  });

  it('converts an embedded Display P3 profile to sRGB', async () => {
    const mean = await meanColour(join(out, 'p3_thumb.webp'));
    expect(colourDistance(mean, P3_SOURCE_SRGB)).toBeLessThan(5);
  });

  it('--keep-metadata keeps EXIF in every output', async () => {
    for (const name of ['thumb', 'blur', 'lq']) {
      const file = join(out, `gps_${name}.webp`);
      const m = await sharp(file).metadata();
      expect(m.exif, file).toBeDefined();
      expect(m.exif!.includes('imgproc fixtures')).toBe(true);
      expect(m.exif!.includes('synthetic')).toBe(true);
      // Still a valid image after the EXIF chunk was added.
      expect((await sharp(file).raw().toBuffer({ resolveWithObject: true })).info.width).toBe(
        (await dimensionsOf(file)).width,
      );
    }
  });

  it('--keep-metadata resets the orientation to 1, since the pixels are already upright', async () => {
    for (const name of ['thumb', 'blur', 'lq']) {
      const file = join(out, `orientation-6_${name}.webp`);
      const m = await sharp(file).metadata();
      expect(m.exif, file).toBeDefined();
      expect(m.orientation ?? 1).toBe(1);
    }
    expect(await dimensionsOf(join(out, 'orientation-6_thumb.webp'))).toEqual({
      width: 200,
      height: 300,
    });
    // A viewer that honours EXIF still shows it upright: sharp's auto-rotate keeps it 200x300.
    const rotated = await sharp(join(out, 'orientation-6_thumb.webp'))
      .rotate()
      .toBuffer({ resolveWithObject: true });
    expect([rotated.info.width, rotated.info.height]).toEqual([200, 300]);
  });
});
