import { copyFile, mkdir, open, truncate } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { PHOTOS, listFiles, makeTempDir, outputsOf, runCli } from './helpers.js';
import { runCliMeasured, writeBlackPng } from './heavy.js';

const MIB = 1024 ** 2;

describe('memory budget', () => {
  let heavy: string;
  let baseRss: number;

  beforeAll(async () => {
    heavy = join(await makeTempDir(), 'heavy');
    await mkdir(heavy);
    // Four 48 KB PNGs that each decode to a 262144x64 strip: about 300 MB apiece at their peak.
    await writeBlackPng(join(heavy, 'strip-0.png'), 262144, 64);
    for (const i of [1, 2, 3])
      await copyFile(join(heavy, 'strip-0.png'), join(heavy, `strip-${i}.png`));
    const base = await runCliMeasured([
      join(PHOTOS, 'tiny-1x1.png'),
      '--out',
      await makeTempDir(),
      '--cpu',
    ]);
    expect(base.code).toBe(0);
    baseRss = base.peakRss;
  });

  it('keeps peak RSS under --max-memory plus the process base: images wait for room', async () => {
    const budget = 600 * MIB;
    const out = await makeTempDir();
    const r = await runCliMeasured([
      heavy,
      '--out',
      out,
      '--cpu',
      '--concurrency',
      '4',
      '--max-memory',
      '600MiB',
    ]);
    expect(r.stderr).toContain('4 processed');
    expect(r.code).toBe(0);
    expect(r.peakRss, `peak ${r.peakRss / MIB} MiB, base ${baseRss / MIB} MiB`).toBeLessThan(
      budget + baseRss,
    );
  });

  it('keeps a long run near its largest image: freed image memory goes back to the system', async (ctx) => {
    const doctor = JSON.parse((await runCli(['doctor', '--json'])).stdout) as {
      allocator: { tuned: boolean; why?: string };
    };
    if (!doctor.allocator.tuned) {
      process.stderr.write(`long-run memory test skipped: ${doctor.allocator.why}\n`);
      ctx.skip();
    }
    // One after another (two never fit the budget together), each alone within it: glibc's
    // defaults kept every one's blocks (8 strips: about 850 MiB) where one strip peaks near
    // 280 MiB. As many images in flight as cores gives each one libvips thread, so the estimate
    // (about 280 MiB) is the same on any machine.
    const long = join(await makeTempDir(), 'long');
    await mkdir(long);
    for (let i = 0; i < 8; i++)
      await copyFile(join(heavy, 'strip-0.png'), join(long, `strip-${i}.png`));
    const budget = 300 * MIB;
    const r = await runCliMeasured([
      long,
      '--out',
      await makeTempDir(),
      '--cpu',
      '--concurrency',
      String(Math.max(2, availableParallelism())),
      '--max-memory',
      '300MiB',
    ]);
    expect(r.stderr).toContain('8 processed');
    expect(r.peakRss, `peak ${r.peakRss / MIB} MiB, base ${baseRss / MIB} MiB`).toBeLessThan(
      budget + baseRss,
    );
  });

  it('refuses, with one line and a hint, an image that alone needs more than the budget', async () => {
    const out = await makeTempDir();
    const r = await runCli([heavy, '--out', out, '--cpu', '--max-memory', '100MiB']);
    expect(r.code).toBe(3);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('✗'));
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).toMatch(
        /strip-\d\.png: needs about \d+ MiB to process \(262144x64 PNG\), more than --max-memory 100 MiB \(raise --max-memory/,
      );
    }
    expect(await listFiles(out)).toEqual([]);
  });

  it('refuses a file far larger than its declared size allows, without reading it', async () => {
    const dir = await makeTempDir();
    const padded = join(dir, 'padded.jpg');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .jpeg()
      .toFile(padded);
    // Sparse: 1.9 GB long, a few KB on disk.
    await truncate(padded, 1.9e9);
    const out = await makeTempDir();
    const r = await runCliMeasured([padded, '--out', out, '--cpu']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /padded\.jpg: file is 1\.8 GiB, far more than a 64x64 JPEG can take \(at most \d+ MiB\): padded or damaged/,
    );
    expect(r.peakRss).toBeLessThan(baseRss + 100 * MIB);
    expect(await listFiles(out)).toEqual([]);
  });

  it('still takes a genuine file that carries a lot beyond its pixels', async () => {
    const dir = await makeTempDir();
    const photo = join(dir, 'appended.jpg');
    await copyFile(join(PHOTOS, 'small-200x150.jpg'), photo);
    // Like a motion photo: a short video appended after the JPEG's end.
    const fh = await open(photo, 'a');
    await fh.write(Buffer.alloc(8 * MIB, 7));
    await fh.close();
    const out = await makeTempDir();
    const r = await runCli([photo, '--out', out, '--cpu']);
    expect(r.stderr).toContain('1 processed');
    expect(await listFiles(out)).toEqual(outputsOf('appended'));
  });

  it('states the default budget in --help and doctor', async () => {
    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(
      /--max-memory <size>[\s\S]*default: half of this\s+machine's, \d+\.\d GiB/,
    );
    const doctor = await runCli(['doctor']);
    expect(doctor.stdout).toMatch(/memory\s+max-memory \d+\.\d GiB for the images in flight/);
    const json = JSON.parse((await runCli(['doctor', '--json'])).stdout) as {
      defaults: { maxMemory: number; machineMemory: number };
    };
    expect(json.defaults.maxMemory).toBe(
      Math.max(512 * MIB, Math.floor(json.defaults.machineMemory / 2)),
    );
  });

  it('refuses a --max-memory that is not a size', async () => {
    const r = await runCli([
      join(PHOTOS, 'tiny-1x1.png'),
      '--out',
      await makeTempDir(),
      '--max-memory',
      '512',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('for max-memory but received "512"');
  });
});
