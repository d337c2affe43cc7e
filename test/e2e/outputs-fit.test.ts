import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { listFiles, makeTempDir, outputsOf, readJson, runCli, type RunResult } from './helpers.js';
import { writeBlackPng, writeTiffWithExtraBands } from './heavy.js';

interface Sidecar {
  source: { width: number; height: number; hasAlpha: boolean };
  outputs: Record<string, { path: string; width: number; height: number }>;
}

describe('every output fits WebP (16383 px a side)', () => {
  let out: string;
  let run: RunResult;
  const SHAPES: Array<[string, number, number]> = [
    ['panorama', 34000, 1500],
    ['wide-strip', 34000, 4],
    ['tall-strip', 4, 40000],
  ];

  beforeAll(async () => {
    const input = join(await makeTempDir(), 'in');
    await mkdir(input);
    for (const [name, w, h] of SHAPES) await writeBlackPng(join(input, `${name}.png`), w, h);
    out = await makeTempDir();
    // The lq cap is lifted so the half-size copy meets WebP's own 16383 px limit.
    run = await runCli([input, '--out', out, '--cpu', '--lq-max-width', '16383'], {
      timeoutMs: 60_000,
    });
  });

  it('processes panoramas and strips instead of failing them', async () => {
    expect(run.stderr).toContain('3 processed, 0 skipped, 0 failed');
    expect(run.code).toBe(0);
    expect(await listFiles(out)).toEqual(SHAPES.flatMap(([n]) => outputsOf(n)).sort());
  });

  for (const [name, w, h] of SHAPES) {
    it(`${name} (${w}x${h}): each output scaled to fit, aspect kept, its real size recorded`, async () => {
      const sidecar = await readJson<Sidecar>(join(out, `${name}.json`));
      for (const rec of Object.values(sidecar.outputs)) {
        const meta = await sharp(join(out, rec.path)).metadata();
        expect({ width: meta.width, height: meta.height }).toEqual({
          width: rec.width,
          height: rec.height,
        });
        expect(Math.max(rec.width, rec.height)).toBeLessThanOrEqual(16383);
        // Aspect kept to the pixel: the shorter side is the rounded scale of the source's.
        const k = Math.max(rec.width, rec.height) / Math.max(w, h);
        const shorter = Math.max(1, Math.round(Math.min(w, h) * k));
        expect(Math.abs(Math.min(rec.width, rec.height) - shorter)).toBeLessThanOrEqual(1);
      }
    });
  }

  it('gives the panorama the widest half-size copy WebP can hold', async () => {
    const sidecar = await readJson<Sidecar>(join(out, 'panorama.json'));
    expect(sidecar.outputs.lq).toMatchObject({ width: 16383, height: 723 });
  });
});

describe('TIFF with RGB and extra bands', () => {
  // Three extra bands: six in all, beyond sharp's default limit of five input channels.
  it('takes the colour bands, and alpha only where the file marks one', async () => {
    const input = join(await makeTempDir(), 'in');
    await mkdir(input);
    await writeTiffWithExtraBands(
      join(input, 'unmarked.tif'),
      64,
      48,
      [200, 30, 30],
      [77, 250, 9],
      false,
    );
    await writeTiffWithExtraBands(
      join(input, 'marked.tif'),
      64,
      48,
      [200, 30, 30],
      [77, 250, 9],
      true,
    );
    const out = await makeTempDir();
    const r = await runCli([input, '--out', out, '--cpu']);
    expect(r.stderr).toContain('2 processed, 0 skipped, 0 failed');

    const unmarked = await readJson<Sidecar>(join(out, 'unmarked.json'));
    const plain = await sharp(join(out, 'unmarked_thumb.webp'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(plain.info.channels).toBe(3);
    expect(Math.abs(plain.data[0]! - 200)).toBeLessThanOrEqual(6);
    expect(Math.abs(plain.data[1]! - 30)).toBeLessThanOrEqual(6);
    expect(unmarked.outputs.thumb).toMatchObject({ width: 64, height: 48 });

    const marked = await sharp(join(out, 'marked_thumb.webp'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(marked.info.channels).toBe(4);
    // The marked alpha band (77), not the last extra band (9).
    expect(Math.abs(marked.data[3]! - 77)).toBeLessThanOrEqual(2);
    expect(Math.abs(marked.data[0]! - 200)).toBeLessThanOrEqual(6);
  });
});
