import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/pipeline/types.js';
import {
  PHOTOS,
  channelStats,
  colourDistance,
  dimensionsOf,
  listFiles,
  makeTempDir,
  meanColour,
  outputsOf,
  readJson,
  rgbaPixels,
  runCli,
  type RunResult,
} from './helpers.js';

/** Every good fixture, as a path relative to fixtures/photos, in the order the walk sorts them. */
let inputs: string[];
let out: string;
let scratch: string;
let outAgain: string;
let run: RunResult;
let runAgain: RunResult;

const stemOf = (rel: string) => rel.replace(/\.[^./]+$/, '');
const sidecarOf = (rel: string) => readJson<Sidecar>(join(out, `${stemOf(rel)}.json`));
const outFile = (rel: string, name: 'thumb' | 'blur' | 'lq') =>
  join(out, `${stemOf(rel)}_${name}.webp`);

/** Displayed size: EXIF orientations 5-8 swap width and height. */
async function displayedSize(path: string): Promise<{ width: number; height: number }> {
  const m = await sharp(path).metadata();
  const height = m.pageHeight ?? m.height!;
  return (m.orientation ?? 1) >= 5
    ? { width: height, height: m.width! }
    : { width: m.width!, height };
}

beforeAll(async () => {
  inputs = await listFiles(PHOTOS);
  const tmp = await makeTempDir();
  out = join(tmp, 'out');
  outAgain = join(tmp, 'again');
  scratch = await makeTempDir();
  run = await runCli([PHOTOS, '--out', out, '--cpu']);
  // Same input, options and version, a different schedule: must give the same bytes.
  runAgain = await runCli([PHOTOS, '--out', outAgain, '--cpu', '--force', '--concurrency', '1']);
});

describe('a folder of good photos', () => {
  it('processes every image, exits 0 and says so in a summary line', () => {
    expect(inputs.length).toBeGreaterThanOrEqual(25);
    expect(run.stderr).not.toMatch(/✗|error/i);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`${inputs.length} processed, 0 skipped, 0 failed`);
  });

  it('prints plain progress lines when stderr is not a TTY', () => {
    expect(run.stderr).toMatch(new RegExp(`^progress: ${inputs.length}/${inputs.length} `, 'm'));
    expect(run.stdout).toBe('');
  });

  it('mirrors the input tree under --out: three WebP outputs and a sidecar per input', async () => {
    const expected = inputs.flatMap((rel) => outputsOf(stemOf(rel))).sort();
    expect(await listFiles(out)).toEqual(expected);
    expect(expected).toContain('trips/italy/café-ñ_thumb.webp');
    expect(expected).toContain('日本.json');
    expect(expected).toContain('summer holiday 2019_lq.webp');
  });

  it('sizes the thumb 256 px wide (never enlarged), the blur like the thumb, the lq at half size', async () => {
    for (const rel of inputs) {
      const src = await displayedSize(join(PHOTOS, rel));
      const thumbW = Math.min(256, src.width);
      const thumbH =
        src.width <= 256 ? src.height : Math.max(1, Math.round((src.height * 256) / src.width));
      const lq = {
        width: Math.max(1, Math.round(src.width / 2)),
        height: Math.max(1, Math.round(src.height / 2)),
      };
      expect(await dimensionsOf(outFile(rel, 'thumb')), rel).toEqual({
        width: thumbW,
        height: thumbH,
      });
      expect(await dimensionsOf(outFile(rel, 'blur')), rel).toEqual({
        width: thumbW,
        height: thumbH,
      });
      expect(await dimensionsOf(outFile(rel, 'lq')), rel).toEqual(lq);
    }
    // The cases that the formula above could get wrong in the same way as the code.
    expect(await dimensionsOf(outFile('small-200x150.jpg', 'thumb'))).toEqual({
      width: 200,
      height: 150,
    });
    expect(await dimensionsOf(outFile('wide-2000x8.png', 'thumb'))).toEqual({
      width: 256,
      height: 1,
    });
    expect(await dimensionsOf(outFile('tall-8x2000.jpg', 'thumb'))).toEqual({
      width: 8,
      height: 2000,
    });
    expect(await dimensionsOf(outFile('tiny-1x1.png', 'lq'))).toEqual({ width: 1, height: 1 });
    expect(await dimensionsOf(outFile('meadow.jpg', 'thumb'))).toEqual({ width: 256, height: 192 });
    expect(await dimensionsOf(outFile('meadow.jpg', 'lq'))).toEqual({ width: 800, height: 600 });
  });

  it('writes sidecars of schema version 1 with paths relative to --out and true sizes', async () => {
    for (const rel of inputs) {
      const text = await readFile(join(out, `${stemOf(rel)}.json`), 'utf8');
      const sc = JSON.parse(text) as Sidecar;
      expect(Object.keys(sc), rel).toEqual([
        'version',
        'source',
        'outputs',
        'gradient',
        'backend',
        'options',
      ]);
      expect(sc.version).toBe(1);
      const src = await readFile(join(PHOTOS, rel));
      expect(sc.source.path).toBe(rel);
      expect(sc.source.sha256).toBe(createHash('sha256').update(src).digest('hex'));
      expect(sc.source.bytes).toBe(src.length);
      expect(sc.source).toMatchObject(await displayedSize(join(PHOTOS, rel)));
      expect(sc.backend).toBe('cpu');
      expect(sc.options).toMatch(/^[0-9a-f]{8,}$/);
      expect(Object.keys(sc.outputs)).toEqual(['thumb', 'blur', 'lq']);
      for (const name of ['thumb', 'blur', 'lq'] as const) {
        const o = sc.outputs[name]!;
        expect(o.path).toBe(`${stemOf(rel)}_${name}.webp`);
        expect(await dimensionsOf(join(out, o.path))).toEqual({ width: o.width, height: o.height });
        expect((await stat(join(out, o.path))).size).toBe(o.bytes);
      }
      // No timestamps, absolute paths or machine names: the sidecar must be byte-stable.
      expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
      expect(text).not.toContain(out);
      expect(text).not.toContain(PHOTOS);
    }
    const formats = Object.fromEntries(
      await Promise.all(inputs.map(async (r) => [r, (await sidecarOf(r)).source.format])),
    );
    expect(formats).toMatchObject({
      'meadow.jpg': 'jpeg',
      'trips/summit.webp': 'webp',
      '日本.png': 'png',
      'animated.gif': 'gif',
      'scan.tif': 'tiff',
      'small.avif': 'avif',
    });
  });

  it('records the gradient with its exact field names and formats', async () => {
    const hex = /^#[0-9A-F]{6}$/;
    for (const rel of inputs) {
      const g = (await sidecarOf(rel)).gradient!;
      expect(Object.keys(g), rel).toEqual([
        'palette',
        'primary',
        'secondary',
        'foreground',
        'css',
        'blurDataUrl',
        'thumbHash',
        'blurHash',
        'aspectRatio',
      ]);
      expect(g.palette.length, rel).toBeGreaterThanOrEqual(1);
      expect(g.palette.length, rel).toBeLessThanOrEqual(6);
      for (const c of [...g.palette, g.primary, g.secondary, g.foreground]) {
        expect(c, rel).toMatch(hex);
      }
      expect(g.css).toBe(`linear-gradient(135deg, ${g.primary} 0%, ${g.secondary} 100%)`);
      expect(g.css).toMatch(/^linear-gradient\(135deg, #[0-9A-F]{6} 0%, #[0-9A-F]{6} 100%\)$/);
      expect(g.blurDataUrl.startsWith('data:image/webp;base64,')).toBe(true);
      expect(g.blurDataUrl.length, rel).toBeLessThan(1024);
      const tiny = Buffer.from(g.blurDataUrl.slice('data:image/webp;base64,'.length), 'base64');
      const m = await sharp(tiny).metadata();
      expect(m.format).toBe('webp');
      expect(Math.max(m.width!, m.height!), rel).toBeLessThanOrEqual(16);
      expect(g.thumbHash, rel).toMatch(/^[A-Za-z0-9+/]{5,}={0,2}$/);
      expect(g.blurHash, rel).toMatch(/^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{8,}$/);
      const size = await displayedSize(join(PHOTOS, rel));
      expect(g.aspectRatio, rel).toBeCloseTo(size.width / size.height, 4);
    }
  });

  it('fills a palette of at most 6 colours for a 16-colour image', async () => {
    expect((await sidecarOf('palette.png')).gradient!.palette).toHaveLength(6);
  });

  it('fills every colour role for a one-colour and a fully transparent image', async () => {
    const solid = (await sidecarOf('solid-colour.png')).gradient!;
    expect(solid.palette).toEqual(['#3366CC']);
    expect(solid.primary).toBe('#3366CC');
    expect(solid.secondary).toMatch(/^#[0-9A-F]{6}$/);
    expect(solid.foreground).toMatch(/^#[0-9A-F]{6}$/);
    const clear = (await sidecarOf('transparent.png')).gradient!;
    for (const role of [clear.primary, clear.secondary, clear.foreground]) {
      expect(role).toMatch(/^#[0-9A-F]{6}$/);
    }
  });

  it('applies EXIF orientation 6: 300x200 stored becomes 200x300, content rotated clockwise', async () => {
    const thumb = outFile('orientation-6.jpg', 'thumb');
    expect(await dimensionsOf(thumb)).toEqual({ width: 200, height: 300 });
    const red = await meanColour(thumb, { left: 120, top: 10, width: 60, height: 60 });
    const blue = await meanColour(thumb, { left: 3, top: 120, width: 12, height: 60 });
    const white = await meanColour(thumb, { left: 60, top: 150, width: 100, height: 100 });
    const topLeft = await meanColour(thumb, { left: 30, top: 10, width: 60, height: 60 });
    expect(colourDistance(red, [255, 0, 0])).toBeLessThan(40);
    expect(colourDistance(blue, [0, 0, 255])).toBeLessThan(40);
    expect(colourDistance(white, [255, 255, 255])).toBeLessThan(20);
    expect(colourDistance(topLeft, [255, 255, 255])).toBeLessThan(20);
    expect(await dimensionsOf(outFile('orientation-6.jpg', 'lq'))).toEqual({
      width: 100,
      height: 150,
    });
  });

  it('applies EXIF orientation 3: the picture turned 180 degrees', async () => {
    const thumb = outFile('orientation-3.jpg', 'thumb');
    expect(await dimensionsOf(thumb)).toEqual({ width: 256, height: 171 });
    const red = await meanColour(thumb, { left: 190, top: 100, width: 50, height: 50 });
    const blue = await meanColour(thumb, { left: 20, top: 4, width: 100, height: 8 });
    const topLeftOfStored = await meanColour(thumb, { left: 10, top: 30, width: 50, height: 50 });
    expect(colourDistance(red, [255, 0, 0])).toBeLessThan(40);
    expect(colourDistance(blue, [0, 0, 255])).toBeLessThan(40);
    expect(colourDistance(topLeftOfStored, [255, 255, 255])).toBeLessThan(20);
  });

  it('converts CMYK, 16-bit, grey and palette inputs to ordinary 8-bit sRGB', async () => {
    for (const rel of ['cmyk.jpg', 'rgb16.png', 'grey.jpg', 'palette.png', 'display-p3.jpg']) {
      const thumb = outFile(rel, 'thumb');
      const m = await sharp(thumb).metadata();
      expect(m.space, rel).toBe('srgb');
      expect(m.channels, rel).toBe(3);
      expect(m.icc, rel).toBeUndefined();
      expect((await sidecarOf(rel)).source.hasAlpha, rel).toBe(false);
      // sharp's own colour-managed conversion of the source is the reference.
      const { width, height } = await dimensionsOf(thumb);
      const refFile = join(scratch, `${rel}.png`);
      await sharp(join(PHOTOS, rel))
        .resize(width, height)
        .toColourspace('srgb')
        .png()
        .toFile(refFile);
      const mine = await meanColour(thumb);
      expect(colourDistance(mine, await meanColour(refFile)), rel).toBeLessThan(6);
    }
    const grey = await meanColour(outFile('grey.jpg', 'thumb'));
    expect(Math.max(...grey) - Math.min(...grey)).toBeLessThan(3);
  });

  it('keeps alpha: transparent corners, an opaque disc, a half-transparent square', async () => {
    const thumb = outFile('rgba-hard-edges.png', 'thumb');
    const m = await sharp(thumb).metadata();
    expect(m.hasAlpha).toBe(true);
    expect((await sidecarOf('rgba-hard-edges.png')).source.hasAlpha).toBe(true);
    const { data, width } = await rgbaPixels(thumb);
    const px = (x: number, y: number) => [
      ...data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4),
    ];
    expect(px(3, 3)[3]).toBe(0);
    expect(px(128, 128)[3]).toBe(255);
    expect(colourDistance(px(128, 128), [255, 220, 0])).toBeLessThan(20);
    expect(Math.abs(px(240, 240)[3]! - 128)).toBeLessThan(16);
    // Premultiplied resampling: partly covered pixels on the disc's edge keep its colour.
    const c = 128;
    let edge = 0;
    for (let y = 0; y < width; y++) {
      for (let x = 0; x < width; x++) {
        const [r, g, , a] = px(x, y) as [number, number, number, number];
        const inBlueSquare = x >= 0.7 * width - 4 && y >= 0.7 * width - 4;
        if (inBlueSquare || a < 64 || a > 224 || Math.hypot(x - c, y - c) > 0.35 * width) continue;
        edge++;
        expect(r, `edge pixel ${x},${y} alpha ${a}`).toBeGreaterThan(200);
        expect(g, `edge pixel ${x},${y} alpha ${a}`).toBeGreaterThan(160);
      }
    }
    expect(edge).toBeGreaterThan(20);
    const ga = await rgbaPixels(outFile('grey-alpha.png', 'thumb'));
    expect(ga.data[(100 * ga.width + 10) * 4 + 3]).toBe(255);
    expect(ga.data[(100 * ga.width + ga.width - 1) * 4 + 3]).toBeLessThan(16);
    const clear = await channelStats(outFile('transparent.png', 'thumb'));
    expect(clear.mean[3]).toBe(0);
  });

  it('strips metadata: no EXIF (GPS), XMP or ICC in any output', async () => {
    for (const file of (await listFiles(out)).filter((f) => f.endsWith('.webp'))) {
      const m = await sharp(join(out, file)).metadata();
      expect(m.exif, file).toBeUndefined();
      expect(m.xmp, file).toBeUndefined();
      expect(m.icc, file).toBeUndefined();
    }
    const gps = await readFile(outFile('gps.jpg', 'thumb'));
    expect(gps.includes('imgproc fixtures')).toBe(false);
  });

  it('uses the first frame of an animation: red, with the white square on the left', async () => {
    const thumb = outFile('animated.gif', 'thumb');
    expect(await dimensionsOf(thumb)).toEqual({ width: 120, height: 90 });
    expect((await sharp(thumb).metadata()).pages ?? 1).toBe(1);
    const body = await meanColour(thumb, { left: 60, top: 60, width: 50, height: 25 });
    const square = await meanColour(thumb, { left: 15, top: 25, width: 20, height: 20 });
    const secondFramesSquare = await meanColour(thumb, {
      left: 50,
      top: 25,
      width: 20,
      height: 20,
    });
    expect(colourDistance(body, [255, 0, 0])).toBeLessThan(40);
    expect(colourDistance(square, [255, 255, 255])).toBeLessThan(40);
    expect(colourDistance(secondFramesSquare, [255, 0, 0])).toBeLessThan(40);
  });

  it('blurs the placeholder: less detail than the thumbnail', async () => {
    const laplacian = { width: 3, height: 3, kernel: [0, -1, 0, -1, 4, -1, 0, -1, 0], offset: 128 };
    const sharpness = async (f: string) => {
      const edges = join(scratch, `edges-${f.split('/').pop()}.png`);
      await sharp(f).greyscale().convolve(laplacian).png().toFile(edges);
      return (await channelStats(edges)).stdev[0]!;
    };
    const thumb = await sharpness(outFile('meadow.jpg', 'thumb'));
    const blur = await sharpness(outFile('meadow.jpg', 'blur'));
    expect(blur).toBeLessThan(thumb / 3);
  });

  it('is deterministic: a second run with --force and another concurrency writes the same bytes', async () => {
    expect(runAgain.code).toBe(0);
    const files = await listFiles(out);
    expect(await listFiles(outAgain)).toEqual(files);
    for (const f of files) {
      const [a, b] = await Promise.all([readFile(join(out, f)), readFile(join(outAgain, f))]);
      expect(a.equals(b), f).toBe(true);
    }
  });
});
