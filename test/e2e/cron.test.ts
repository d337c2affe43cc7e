import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/pipeline/types.js';
import {
  listFiles,
  makeTempDir,
  meanColour,
  outputsOf,
  readJson,
  runCli,
  spawnCli,
  writeSolid,
  type RunResult,
} from './helpers.js';

interface Summary {
  processed: number;
  skipped: number;
  failed: number;
  notStarted: number;
  interrupted: boolean;
}

const summaryOf = (r: RunResult) => JSON.parse(r.stdout.trim().split('\n').pop()!) as Summary;

async function mtimes(dir: string): Promise<Record<string, number>> {
  const files = await listFiles(dir);
  const entries = await Promise.all(
    files.map(async (f) => [f, (await stat(join(dir, f))).mtimeMs] as const),
  );
  return Object.fromEntries(entries);
}

describe('re-runs only redo what changed', () => {
  let input: string;
  let out: string;

  beforeAll(async () => {
    const dir = await makeTempDir();
    input = join(dir, 'in');
    out = join(dir, 'out');
    await mkdir(join(input, 'sub'), { recursive: true });
    await writeSolid(join(input, 'a.png'), 300, 200, [255, 0, 0]);
    await writeSolid(join(input, 'b.jpg'), 400, 300, [0, 255, 0]);
    await writeSolid(join(input, 'sub', 'c.webp'), 320, 240, [0, 0, 255]);
  });

  const run = (...extra: string[]) =>
    runCli([input, '--out', out, '--cpu', '--json', '--no-progress', ...extra]);

  it('skips unchanged inputs and leaves their files untouched', async () => {
    const first = await run();
    expect(first.code).toBe(0);
    expect(summaryOf(first)).toMatchObject({ processed: 3, skipped: 0, failed: 0 });
    const before = await mtimes(out);
    expect(Object.keys(before).sort()).toEqual(
      [...outputsOf('a'), ...outputsOf('b'), ...outputsOf('sub/c')].sort(),
    );

    const second = await run();
    expect(second.code).toBe(0);
    expect(summaryOf(second)).toMatchObject({ processed: 0, skipped: 3, failed: 0 });
    expect(await mtimes(out)).toEqual(before);

    const human = await runCli([input, '--out', out, '--cpu']);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain('0 processed, 3 skipped, 0 failed');
  });

  it('redoes an input whose source changed, and only that one', async () => {
    const before = await mtimes(out);
    await writeSolid(join(input, 'a.png'), 300, 200, [255, 255, 0]);
    const r = await run();
    expect(r.code).toBe(0);
    expect(summaryOf(r)).toMatchObject({ processed: 1, skipped: 2 });
    const after = await mtimes(out);
    for (const f of outputsOf('a')) expect(after[f], f).not.toBe(before[f]);
    for (const f of [...outputsOf('b'), ...outputsOf('sub/c')]) expect(after[f], f).toBe(before[f]);
    const yellow = await meanColour(join(out, 'a_thumb.webp'));
    expect(yellow[0]).toBeGreaterThan(200);
    expect(yellow[1]).toBeGreaterThan(200);
    expect(yellow[2]).toBeLessThan(50);
  });

  it('redoes an input whose recorded output went missing', async () => {
    await rm(join(out, 'b_lq.webp'));
    const r = await run();
    expect(summaryOf(r)).toMatchObject({ processed: 1, skipped: 2 });
    expect(existsSync(join(out, 'b_lq.webp'))).toBe(true);
  });

  it('redoes everything when an output option changes', async () => {
    const r = await run('--thumb-width', '100');
    expect(r.code).toBe(0);
    expect(summaryOf(r)).toMatchObject({ processed: 3, skipped: 0 });
    const sc = await readJson<Sidecar>(join(out, 'a.json'));
    expect(sc.outputs.thumb).toMatchObject({ width: 100, height: 67 });
    const again = await run('--thumb-width', '100');
    expect(summaryOf(again)).toMatchObject({ processed: 0, skipped: 3 });
  });

  it('--force redoes current outputs, and so does IMGPROC_FORCE=1', async () => {
    const r = await run('--thumb-width', '100', '--force');
    expect(summaryOf(r)).toMatchObject({ processed: 3, skipped: 0 });
    const env = await runCli([input, '--out', out, '--cpu', '--json', '--thumb-width', '100'], {
      env: { IMGPROC_FORCE: '1' },
    });
    expect(summaryOf(env)).toMatchObject({ processed: 3, skipped: 0 });
  });
});

describe('one run per output folder', () => {
  let input: string;

  beforeAll(async () => {
    input = join(await makeTempDir(), 'one.png');
    await writeSolid(input, 64, 48, [10, 20, 30]);
  });

  it('refuses to run while a live process holds the lock: exit 1, a clear message, nothing written', async () => {
    const out = await makeTempDir();
    const lock = join(out, '.imgproc.lock');
    const text = JSON.stringify({ pid: process.pid, host: hostname(), started: 'x' }) + '\n';
    await writeFile(lock, text);
    const r = await runCli([input, '--out', out, '--cpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('another imgproc run');
    expect(r.stderr).toContain(lock);
    expect(r.stderr).toContain(String(process.pid));
    expect(await readdir(out)).toEqual(['.imgproc.lock']);
    expect(await readFile(lock, 'utf8')).toBe(text);
  });

  it('takes over a stale lock whose process is gone, and releases it at the end', async () => {
    const out = await makeTempDir();
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(
      join(out, '.imgproc.lock'),
      JSON.stringify({ pid: gone, host: hostname(), started: 'x' }) + '\n',
    );
    const r = await runCli([input, '--out', out, '--cpu']);
    expect(r.stderr).toContain('1 processed');
    expect(r.code).toBe(0);
    expect(await listFiles(out)).toEqual(outputsOf('one'));
  });
});

describe('SIGINT and SIGTERM', () => {
  let input: string;
  const COUNT = 40;

  beforeAll(async () => {
    input = join(await makeTempDir(), 'in');
    await mkdir(input);
    // Noise makes every image cost real encoding time, so a run is still busy when signalled.
    const noise = await sharp({
      create: {
        width: 800,
        height: 600,
        channels: 3,
        background: { r: 40, g: 90, b: 160 },
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .jpeg({ quality: 70 })
      .toBuffer();
    for (let i = 0; i < COUNT; i++) {
      await writeFile(join(input, `img${String(i).padStart(3, '0')}.jpg`), noise);
    }
  });

  async function firstSidecar(out: string, deadline: number): Promise<void> {
    while (Date.now() < deadline) {
      const names = await readdir(out).catch(() => [] as string[]);
      if (names.some((n) => n.endsWith('.json'))) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no sidecar appeared in ${out}`);
  }

  /** Every sidecar's outputs exist with their recorded sizes; no output without its sidecar. */
  async function expectConsistent(out: string): Promise<number> {
    const files = await listFiles(out);
    expect(files.filter((f) => f.includes('.imgproc-tmp-'))).toEqual([]);
    const sidecars = files.filter((f) => f.endsWith('.json'));
    for (const s of sidecars) {
      const sc = await readJson<Sidecar>(join(out, s));
      for (const o of Object.values(sc.outputs)) {
        expect((await stat(join(out, o!.path))).size, o!.path).toBe(o!.bytes);
      }
    }
    const stems = new Set(sidecars.map((s) => s.replace(/\.json$/, '')));
    for (const f of files.filter((f) => f.endsWith('.webp'))) {
      expect(stems.has(f.replace(/_(thumb|blur|lq)\.webp$/, '')), f).toBe(true);
    }
    return sidecars.length;
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: finishes the images in flight, leaves no partial file, exits 130`, async () => {
      const out = join(await makeTempDir(), 'out');
      const { child, result } = spawnCli([
        input,
        '--out',
        out,
        '--cpu',
        '--concurrency',
        '2',
        '--json',
      ]);
      await firstSidecar(out, Date.now() + 30_000);
      // The lock names the running process while it works.
      const lock = await readJson<{ pid: number }>(join(out, '.imgproc.lock'));
      expect(lock.pid).toBe(child.pid);
      child.kill(signal);
      const r = await result;
      expect(r.code).toBe(130);
      expect(r.stderr).toContain(`${signal}: finishing the images in flight`);
      const summary = summaryOf(r);
      expect(summary.interrupted).toBe(true);
      expect(summary.notStarted).toBeGreaterThan(0);
      const done = await expectConsistent(out);
      expect(done).toBe(summary.processed);
      expect(done).toBeLessThan(COUNT);
      expect(existsSync(join(out, '.imgproc.lock'))).toBe(false);

      if (signal === 'SIGTERM') {
        // A killed run's leftovers: the next run sweeps them and does only the rest.
        await mkdir(join(out, 'deep', 'er'), { recursive: true });
        const leftovers = [
          join(out, 'img999_thumb.webp.imgproc-tmp-4242-deadbeef'),
          join(out, 'deep', 'er', 'x.json.imgproc-tmp-1-00000000'),
        ];
        for (const f of leftovers) await writeFile(f, 'half a file');
        const rest = await runCli([input, '--out', out, '--cpu', '--json']);
        expect(rest.code).toBe(0);
        expect(summaryOf(rest)).toMatchObject({ processed: COUNT - done, skipped: done });
        for (const f of leftovers) expect(existsSync(f), f).toBe(false);
        expect(await expectConsistent(out)).toBe(COUNT);
      }
    });
  }
});
