import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { makeTempDir, PHOTOS, runCli, type RunResult } from '../e2e/helpers.js';

/** A few fixtures that cover a photo, alpha, EXIF orientation and a small image. */
export const SAMPLE = [
  'meadow.jpg',
  'rgba-hard-edges.png',
  'orientation-6.jpg',
  'small-200x150.jpg',
];

/** The default encoder settings of each output, so an edited file is encoded as imgproc would. */
const SETTINGS: Record<string, { quality: number; effort: number }> = {
  thumb: { quality: 80, effort: 4 },
  blur: { quality: 60, effort: 4 },
  lq: { quality: 50, effort: 2 },
};

export async function sampleInputs(): Promise<string> {
  const dir = await makeTempDir('imgproc-verify-in-');
  await Promise.all(SAMPLE.map((f) => copyFile(join(PHOTOS, f), join(dir, f))));
  return dir;
}

/** Inputs and an expected folder made from them by a plain CPU run. */
export async function expectedRun(): Promise<{ inputs: string; expected: string; root: string }> {
  const inputs = await sampleInputs();
  const root = await makeTempDir('imgproc-verify-');
  const expected = join(root, 'expected');
  const run = await runCli([inputs, '--out', expected, '--cpu', '--quiet']);
  if (run.code !== 0) throw new Error(`the expected run failed: ${run.stderr}`);
  return { inputs, expected, root };
}

export async function copyOf(dir: string, name: string): Promise<string> {
  const copy = join(await makeTempDir('imgproc-verify-copy-'), name);
  await mkdir(copy, { recursive: true });
  await cp(dir, copy, { recursive: true });
  return copy;
}

export type Edit = (
  data: Buffer,
  info: { width: number; height: number; channels: number },
) => { data: Buffer; width: number; height: number; channels: number; flatten?: boolean };

/** Decodes an output, changes its pixels, and encodes it again with that output's settings. */
export async function editOutput(file: string, edit: Edit): Promise<void> {
  const output = /_(thumb|blur|lq)\.webp$/.exec(file)?.[1] ?? 'thumb';
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  const r = edit(data, info);
  let pipeline = sharp(r.data, {
    raw: { width: r.width, height: r.height, channels: r.channels as 3 | 4 },
  });
  if (r.flatten) pipeline = pipeline.flatten({ background: '#000000' });
  await writeFile(file, await pipeline.webp({ ...SETTINGS[output], alphaQuality: 100 }).toBuffer());
}

export const shiftColour =
  (levels: number): Edit =>
  (data, info) => {
    const out = Buffer.from(data);
    for (let i = 0; i < out.length; i++) {
      if (i % info.channels < 3) out[i] = Math.min(255, (out[i] as number) + levels);
    }
    return { ...info, data: out };
  };

export const moveRightOnePixel: Edit = (data, info) => {
  const out = Buffer.from(data);
  const row = info.width * info.channels;
  for (let y = 0; y < info.height; y++)
    out.copyWithin(y * row + info.channels, y * row, (y + 1) * row - info.channels);
  return { ...info, data: out };
};

export const cropOneColumn: Edit = (data, info) => {
  const width = info.width - 1;
  const out = Buffer.alloc(width * info.height * info.channels);
  for (let y = 0; y < info.height; y++) {
    data.copy(
      out,
      y * width * info.channels,
      y * info.width * info.channels,
      (y * info.width + width) * info.channels,
    );
  }
  return { ...info, width, data: out };
};

export const turn180: Edit = (data, info) => {
  const out = Buffer.alloc(data.length);
  const n = info.width * info.height;
  const c = info.channels;
  for (let p = 0; p < n; p++) data.copy(out, (n - 1 - p) * c, p * c, p * c + c);
  return { ...info, data: out };
};

export const loseAlpha: Edit = (data, info) => ({ ...info, data, flatten: true });

export async function editJson(
  file: string,
  edit: (json: Record<string, unknown>) => void,
): Promise<void> {
  const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(json);
  await writeFile(file, JSON.stringify(json, null, 2) + '\n');
}

/** `imgproc verify …` with a longer time limit: it processes and compares. */
export function verify(args: string[]): Promise<RunResult> {
  return runCli(['verify', ...args], { timeoutMs: 120_000 });
}
