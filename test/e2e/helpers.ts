import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll } from 'vitest';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'imgproc.cjs');
export const FIXTURES = join(ROOT, 'fixtures');
export const PHOTOS = join(FIXTURES, 'photos');
export const BAD = join(FIXTURES, 'bad');
export const COLLISIONS = join(FIXTURES, 'collisions');

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  throw new Error('dist/cli/main.js is missing: run `npm run build` before the end-to-end tests');
}

const tempDirs: string[] = [];

// Registered at import, while the test file is being collected: hooks added later are ignored.
afterAll(async () => {
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh folder under the OS temp dir, removed after the calling test file. */
export async function makeTempDir(prefix = 'imgproc-e2e-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export interface RunOptions {
  cwd?: string;
  /** Added to a clean environment (no IMGPROC_* from the caller's shell, no colour). */
  env?: Record<string, string>;
  /** The run is killed after this long, so a hang fails the test instead of stalling the suite. */
  timeoutMs?: number;
  /** Run as this user and group id (the test runner must be root to switch). */
  uid?: number;
  gid?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('IMGPROC_') && k !== 'FORCE_COLOR') env[k] = v;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

export interface SpawnedCli {
  child: ChildProcess;
  result: Promise<RunResult>;
}

/** Starts `node bin/imgproc.cjs ...args` with pipes (so stderr is not a TTY). */
export function spawnCli(args: string[], opts: RunOptions = {}): SpawnedCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: cleanEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid ?? opts.uid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 45_000);
  const result = new Promise<RunResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
  return { child, result };
}

export function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return spawnCli(args, opts).result;
}

/** Every file under `dir`, as sorted '/'-separated relative paths (hidden files included). */
export async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

export async function readJson<T = unknown>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The four files one input produces under `out` for a stem like `trips/coast`. */
export function outputsOf(stem: string): string[] {
  return [`${stem}.json`, `${stem}_blur.webp`, `${stem}_lq.webp`, `${stem}_thumb.webp`];
}

/** Lines of stderr that mention `needle` (a file name). */
export function linesAbout(stderr: string, needle: string): string[] {
  return stderr.split('\n').filter((l) => l.includes(needle));
}

// ---- perceptual helpers (sharp) -------------------------------------------------------------

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export async function dimensionsOf(path: string): Promise<{ width: number; height: number }> {
  const m = await sharp(path).metadata();
  return { width: m.width!, height: m.height! };
}

/** Mean and standard deviation per channel (R, G, B[, A]) of an image or a region of it. */
export async function channelStats(
  path: string,
  region?: Rect,
): Promise<{ mean: number[]; stdev: number[] }> {
  // stats() looks at the input, not the pipeline: compute from the extracted raw pixels instead.
  const img = region ? sharp(path).extract(region) : sharp(path);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const mean: number[] = [];
  const stdev: number[] = [];
  for (let c = 0; c < info.channels; c++) {
    let sum = 0;
    let sq = 0;
    for (let i = c; i < data.length; i += info.channels) {
      sum += data[i]!;
      sq += data[i]! * data[i]!;
    }
    mean.push(sum / n);
    stdev.push(Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2)));
  }
  return { mean, stdev };
}

/** Largest per-channel difference between an actual mean colour and an expected [r, g, b]. */
export function colourDistance(actual: number[], expected: number[]): number {
  return Math.max(...expected.map((v, i) => Math.abs((actual[i] ?? 0) - v)));
}

export async function meanColour(path: string, region?: Rect): Promise<number[]> {
  return (await channelStats(path, region)).mean;
}

/** Decoded RGBA pixels, for checks that look at single pixels. */
export async function rgbaPixels(
  path: string,
): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(path)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Writes a flat-colour image; the format follows the extension. */
export async function writeSolid(
  path: string,
  width: number,
  height: number,
  rgb: [number, number, number],
): Promise<void> {
  await sharp({
    create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  }).toFile(path);
}

/** Writes a black/white pattern as a lossless PNG: `pixel(x, y)` says whether a pixel is white. */
export async function writePattern(
  path: string,
  width: number,
  height: number,
  pixel: (x: number, y: number) => boolean,
): Promise<void> {
  const data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = pixel(x, y) ? 255 : 0;
  }
  await sharp(data, { raw: { width, height, channels: 1 } })
    .png({ compressionLevel: 1 })
    .toFile(path);
}
