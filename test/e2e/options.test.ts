import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/pipeline/types.js';
import {
  BAD,
  PHOTOS,
  channelStats,
  dimensionsOf,
  listFiles,
  makeTempDir,
  outputsOf,
  readJson,
  runCli,
  writeSolid,
  type RunResult,
} from './helpers.js';

let dir: string;
let input: string;

beforeAll(async () => {
  dir = await makeTempDir();
  input = join(dir, 'in');
  await mkdir(input);
  await copyFile(join(PHOTOS, 'harbour.jpg'), join(input, 'harbour.jpg'));
  await copyFile(join(PHOTOS, 'palette.png'), join(input, 'palette.png'));
});

describe('invalid values exit 2 and name the valid values or range', () => {
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    [
      '--ops foo',
      ['--ops', 'foo'],
      {},
      /Expected one of thumb, blur, lq, gradient for ops but received "foo"/,
    ],
    [
      '--quality 0',
      ['--quality', '0'],
      {},
      /Expected an integer between 1 and 100 for quality but received "0"/,
    ],
    [
      '--quality thumb=101',
      ['--quality', 'thumb=101'],
      {},
      /Expected an integer between 1 and 100 for quality of thumb but received "101"/,
    ],
    [
      '--quality big=5',
      ['--quality', 'big=5'],
      {},
      /Expected one of thumb, blur, lq for quality output but received "big"/,
    ],
    [
      '--effort 9',
      ['--effort', '9'],
      {},
      /Expected an integer between 0 and 6 for effort but received "9"/,
    ],
    [
      '--backend gpu',
      ['--backend', 'gpu'],
      {},
      /Expected one of auto, cuda, cpu for backend but received "gpu"/,
    ],
    [
      '--thumb-width 0',
      ['--thumb-width', '0'],
      {},
      /Expected an integer between 1 and 16383 for thumb-width but received "0"/,
    ],
    ['--thumb-width wide', ['--thumb-width', 'wide'], {}, /for thumb-width but received "wide"/],
    [
      '--blur-sigma 0',
      ['--blur-sigma', '0'],
      {},
      /Expected a number between 0.3 and 100 for blur-sigma but received "0"/,
    ],
    [
      '--lq-scale 1.5',
      ['--lq-scale', '1.5'],
      {},
      /Expected a number greater than 0 and at most 1 for lq-scale but received "1.5"/,
    ],
    ['--lq-scale 0', ['--lq-scale', '0'], {}, /for lq-scale but received "0"/],
    [
      '--concurrency 0',
      ['--concurrency', '0'],
      {},
      /Expected an integer between 1 and 256 for concurrency but received "0"/,
    ],
    ['--max-pixels lots', ['--max-pixels', 'lots'], {}, /for max-pixels but received "lots"/],
    [
      '--palette-size 99',
      ['--palette-size', '99'],
      {},
      /Expected an integer between 1 and 32 for palette-size but received "99"/,
    ],
    [
      '--cpu with --backend cuda',
      ['--cpu', '--backend', 'cuda'],
      {},
      /--cpu contradicts --backend cuda/,
    ],
    [
      'IMGPROC_EFFORT=9',
      [],
      { IMGPROC_EFFORT: '9' },
      /Expected an integer between 0 and 6 for effort but received "9"/,
    ],
    [
      'IMGPROC_BACKEND=gpu',
      [],
      { IMGPROC_BACKEND: 'gpu' },
      /Expected one of auto, cuda, cpu for backend but received "gpu"/,
    ],
    ['IMGPROC_OPS=foo', [], { IMGPROC_OPS: 'foo' }, /for ops but received "foo"/],
    ['IMGPROC_QUALITY=0', [], { IMGPROC_QUALITY: '0' }, /for quality but received "0"/],
    [
      'IMGPROC_CONCURRENCY=0',
      [],
      { IMGPROC_CONCURRENCY: '0' },
      /Expected an integer between 1 and 256 for concurrency but received "0"/,
    ],
    [
      'IMGPROC_MAX_PIXELS=lots',
      [],
      { IMGPROC_MAX_PIXELS: 'lots' },
      /for max-pixels but received "lots"/,
    ],
    [
      'IMGPROC_QUIET=maybe',
      [],
      { IMGPROC_QUIET: 'maybe' },
      /for IMGPROC_QUIET but received "maybe"/,
    ],
    ['an unknown flag', ['--thumbwidth', '9'], {}, /unknown option '--thumbwidth'/],
  ];
  for (const [name, args, env, message] of cases) {
    it(name, async () => {
      const out = join(dir, 'usage-out');
      const r = await runCli([join(input, 'palette.png'), '--out', out, ...args], { env });
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('no inputs', async () => {
    const r = await runCli(['--out', join(dir, 'usage-out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no inputs: give files, folders or globs, or --manifest FILE/);
  });

  it('no --out', async () => {
    const r = await runCli([join(input, 'palette.png')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing --out DIR/);
  });

  it('--help exits 0 and lists every option', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--out',
      '--manifest',
      '--ops',
      '--thumb-width',
      '--blur-sigma',
      '--lq-scale',
      '--quality',
      '--effort',
      '--palette-size',
      '--keep-metadata',
      '--concurrency',
      '--max-pixels',
      '--force',
      '--dry-run',
      '--json',
      '--quiet',
      '--no-progress',
      '--fail-fast',
      '--report',
      '--backend',
      '--cpu',
      'IMGPROC_',
    ]) {
      expect(r.stdout, flag).toContain(flag);
    }
  });
});

describe('output options, as flags and as IMGPROC_* environment', () => {
  const FLAGS = [
    '--thumb-width',
    '100',
    '--lq-scale',
    '0.25',
    '--blur-sigma',
    '2',
    '--quality',
    'thumb=30,blur=90,lq=95',
    '--effort',
    '6',
    '--palette-size',
    '3',
    '--concurrency',
    '1',
    '--backend',
    'cpu',
  ];
  const ENV = {
    IMGPROC_THUMB_WIDTH: '100',
    IMGPROC_LQ_SCALE: '0.25',
    IMGPROC_BLUR_SIGMA: '2',
    IMGPROC_QUALITY: 'thumb=30,blur=90,lq=95',
    IMGPROC_EFFORT: '6',
    IMGPROC_PALETTE_SIZE: '3',
    IMGPROC_CONCURRENCY: '1',
    IMGPROC_BACKEND: 'cpu',
  };
  let defaults: RunResult;
  let flags: RunResult;
  let env: RunResult;
  const o = (name: string) => join(dir, name);

  beforeAll(async () => {
    defaults = await runCli([input, '--out', o('defaults'), '--cpu']);
    flags = await runCli([input, '--out', o('flags'), ...FLAGS]);
    env = await runCli([input, '--out', o('env')], { env: ENV });
  });

  const detail = async (file: string) => {
    const edges = join(dir, `edges-${file.split('/').slice(-2).join('-')}.png`);
    await sharp(file)
      .greyscale()
      .convolve({ width: 3, height: 3, kernel: [0, -1, 0, -1, 4, -1, 0, -1, 0], offset: 128 })
      .png()
      .toFile(edges);
    return (await channelStats(edges)).stdev[0]!;
  };

  it('all runs succeed', () => {
    for (const r of [defaults, flags, env]) {
      expect(r.stderr).toContain('2 processed, 0 skipped, 0 failed');
      expect(r.code).toBe(0);
    }
    // IMGPROC_BACKEND=cpu was read: the backend was asked for, not picked for want of a GPU.
    expect(env.stderr).toMatch(/^backend: cpu \(asked for\)$/m);
  });

  it('--thumb-width and --lq-scale set the sizes', async () => {
    expect(await dimensionsOf(join(o('flags'), 'harbour_thumb.webp'))).toEqual({
      width: 100,
      height: 75,
    });
    expect(await dimensionsOf(join(o('flags'), 'harbour_blur.webp'))).toEqual({
      width: 100,
      height: 75,
    });
    expect(await dimensionsOf(join(o('flags'), 'harbour_lq.webp'))).toEqual({
      width: 320,
      height: 240,
    });
    expect(await dimensionsOf(join(o('defaults'), 'harbour_lq.webp'))).toEqual({
      width: 640,
      height: 480,
    });
  });

  it('--palette-size caps the palette', async () => {
    const few = await readJson<Sidecar>(join(o('flags'), 'palette.json'));
    const many = await readJson<Sidecar>(join(o('defaults'), 'palette.json'));
    expect(few.gradient!.palette).toHaveLength(3);
    expect(many.gradient!.palette).toHaveLength(6);
  });

  it('--quality per output changes the bytes spent, output by output', async () => {
    const out = o('quality');
    const r = await runCli([
      join(input, 'harbour.jpg'),
      '--out',
      out,
      '--quality',
      'thumb=30,lq=95',
      '--cpu',
    ]);
    expect(r.code).toBe(0);
    const size = async (dirName: string, n: string) =>
      (await stat(join(dirName, `harbour_${n}.webp`))).size;
    expect(await size(out, 'thumb')).toBeLessThan(await size(o('defaults'), 'thumb')); // 30 < 80
    expect(await size(out, 'lq')).toBeGreaterThan(await size(o('defaults'), 'lq')); // 95 > 50
    expect(await size(out, 'blur')).toBe(await size(o('defaults'), 'blur')); // 60 both
  });

  it('--blur-sigma sets the strength of the blur', async () => {
    const ratio = async (out: string) =>
      (await detail(join(out, 'harbour_blur.webp'))) /
      (await detail(join(out, 'harbour_thumb.webp')));
    // sigma 2 on a 100 px thumb keeps relatively more detail than sigma 6 on a 256 px one.
    expect(await ratio(o('flags'))).toBeGreaterThan(await ratio(o('defaults')));
  });

  it('IMGPROC_* variables give byte-identical outputs and sidecars to the same flags', async () => {
    const files = await listFiles(o('flags'));
    expect(await listFiles(o('env'))).toEqual(files);
    for (const f of files) {
      const [a, b] = await Promise.all([
        readFile(join(o('flags'), f)),
        readFile(join(o('env'), f)),
      ]);
      expect(a.equals(b), f).toBe(true);
    }
    // The options hash covers every output option, so equal sidecars mean every variable was read.
    const d = await readJson<Sidecar>(join(o('defaults'), 'harbour.json'));
    const e = await readJson<Sidecar>(join(o('env'), 'harbour.json'));
    expect(e.options).not.toBe(d.options);
  });

  it('--ops, --max-pixels and a single --quality, as flags and as variables', async () => {
    const [fr, er] = await Promise.all([
      runCli([
        input,
        '--out',
        o('ops-flags'),
        '--ops',
        'thumb',
        '--max-pixels',
        '1000000',
        '--quality',
        '90',
        '--cpu',
      ]),
      runCli([input, '--out', o('ops-env'), '--cpu'], {
        env: { IMGPROC_OPS: 'thumb', IMGPROC_MAX_PIXELS: '1000000', IMGPROC_QUALITY: '90' },
      }),
    ]);
    for (const [r, out] of [
      [fr, o('ops-flags')],
      [er, o('ops-env')],
    ] as const) {
      // harbour.jpg is 1280x960 = 1228800 pixels.
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        /harbour\.jpg: too many pixels: 1280x960 = 1228800 > --max-pixels 1000000/,
      );
      expect(await listFiles(out)).toEqual(['palette.json', 'palette_thumb.webp']);
      const sc = await readJson<Sidecar>(join(out, 'palette.json'));
      expect(Object.keys(sc.outputs)).toEqual(['thumb']);
      expect(sc.gradient).toBeUndefined();
    }
    const a = await readFile(join(o('ops-flags'), 'palette_thumb.webp'));
    expect(a.equals(await readFile(join(o('ops-env'), 'palette_thumb.webp')))).toBe(true);
  });

  it('a flag beats its environment variable', async () => {
    const out = o('precedence');
    const r = await runCli(
      [join(input, 'harbour.jpg'), '--out', out, '--thumb-width', '50', '--ops', 'thumb'],
      {
        env: { IMGPROC_THUMB_WIDTH: '100', IMGPROC_OPS: 'lq' },
      },
    );
    expect(r.code).toBe(0);
    expect(await listFiles(out)).toEqual(['harbour.json', 'harbour_thumb.webp']);
    expect(await dimensionsOf(join(out, 'harbour_thumb.webp'))).toEqual({ width: 50, height: 38 });
  });
});

describe('run-control options, as flags and as IMGPROC_* environment', () => {
  const tiny = () => join(PHOTOS, 'tiny-1x1.png');

  for (const [how, args, env] of [
    ['--dry-run', ['--dry-run'], {}],
    ['IMGPROC_DRY_RUN=1', [], { IMGPROC_DRY_RUN: '1' }],
  ] as const) {
    it(`${how} lists the work and writes nothing`, async () => {
      const out = join(dir, `dry-${args.length}`);
      const r = await runCli([input, join(BAD, 'empty.jpg'), '--out', out, ...args], {
        env,
        cwd: dir,
      });
      expect(existsSync(out)).toBe(false);
      expect(r.stdout).toContain('in/harbour.jpg -> harbour [thumb,blur,lq,gradient]');
      expect(r.stdout).toContain('in/palette.png -> palette [thumb,blur,lq,gradient]');
      expect(r.code).toBe(0);
    });
  }

  it('--dry-run --json prints the plan as JSON', async () => {
    const out = join(dir, 'dry-json');
    const r = await runCli([input, '--out', out, '--dry-run', '--json', '--ops', 'lq']);
    expect(existsSync(out)).toBe(false);
    const plan = JSON.parse(r.stdout) as {
      dryRun: boolean;
      tasks: Array<{ outputStem: string; ops: string[] }>;
    };
    expect(plan.dryRun).toBe(true);
    expect(plan.tasks.map((t) => [t.outputStem, t.ops])).toEqual([
      ['harbour', ['lq']],
      ['palette', ['lq']],
    ]);
  });

  for (const [how, args, env] of [
    ['--json', ['--json'], {}],
    ['IMGPROC_JSON=1', [], { IMGPROC_JSON: '1' }],
  ] as const) {
    it(`${how} prints the summary as JSON on stdout`, async () => {
      const r = await runCli(
        [tiny(), join(BAD, 'text.jpg'), '--out', join(dir, `json-${args.length}`), ...args],
        { env },
      );
      expect(r.code).toBe(3);
      const summary = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(summary).toMatchObject({
        processed: 1,
        skipped: 0,
        failed: 1,
        notStarted: 0,
        interrupted: false,
      });
      expect(typeof summary.backend).toBe('string');
      expect(r.stderr).not.toMatch(/\d+ processed/);
      expect(r.stderr).toMatch(/✗ .*text\.jpg: not an image/);
    });
  }

  for (const [how, args, env] of [
    ['--quiet', ['--quiet'], {}],
    ['IMGPROC_QUIET=1', [], { IMGPROC_QUIET: '1' }],
  ] as const) {
    it(`${how} prints only failures`, async () => {
      const ok = await runCli([tiny(), '--out', join(dir, `quiet-${args.length}`), ...args], {
        env,
      });
      expect(ok.code).toBe(0);
      expect(ok.stderr).toBe('');
      expect(ok.stdout).toBe('');
      const bad = await runCli(
        [tiny(), join(BAD, 'empty.jpg'), '--out', join(dir, `quiet-bad-${args.length}`), ...args],
        { env },
      );
      expect(bad.code).toBe(3);
      expect(bad.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^✗ .*empty\.jpg: empty file/),
      ]);
    });
  }

  for (const [how, args, env] of [
    ['--no-progress', ['--no-progress'], {}],
    ['IMGPROC_NO_PROGRESS=1', [], { IMGPROC_NO_PROGRESS: '1' }],
  ] as const) {
    it(`${how} drops the progress lines, keeps the summary`, async () => {
      const r = await runCli([tiny(), '--out', join(dir, `np-${args.length}`), ...args], { env });
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('progress:');
      expect(r.stderr).toContain('1 processed, 0 skipped, 0 failed');
    });
  }

  it('without --no-progress a plain progress line is printed (stderr is not a TTY)', async () => {
    const r = await runCli([tiny(), '--out', join(dir, 'progress')]);
    expect(r.stderr).toMatch(/^progress: 1\/1 \(100%\)/m);
    expect(r.stderr).toMatch(/1 processed, 0 skipped, 0 failed in [\d.]+ s/);
  });

  for (const [how, args, env] of [
    ['--fail-fast', ['--fail-fast'], {}],
    ['IMGPROC_FAIL_FAST=1', [], { IMGPROC_FAIL_FAST: '1' }],
  ] as const) {
    it(`${how} starts no new image after the first failure`, async () => {
      const folder = join(dir, `ff-in-${args.length}`);
      await mkdir(folder, { recursive: true });
      await copyFile(join(BAD, 'empty.jpg'), join(folder, 'a-empty.jpg'));
      for (const n of ['b', 'c', 'd'])
        await writeSolid(join(folder, `${n}.png`), 32, 32, [1, 2, 3]);
      const out = join(dir, `ff-${args.length}`);
      const r = await runCli([folder, '--out', out, '--concurrency', '1', '--json', ...args], {
        env,
      });
      expect(r.code).toBe(3);
      expect(JSON.parse(r.stdout)).toMatchObject({ processed: 0, failed: 1, notStarted: 3 });
      expect((await listFiles(out)).filter((f) => !f.startsWith('.'))).toEqual([]);
    });
  }

  it('--report lists the inputs that --fail-fast left unstarted', async () => {
    const folder = join(dir, 'ff-in-0');
    const report = join(dir, 'ff-report.json');
    const r = await runCli([
      folder,
      '--out',
      join(dir, 'ff-report-out'),
      '--concurrency',
      '1',
      '--fail-fast',
      '--report',
      report,
    ]);
    expect(r.code).toBe(3);
    const items = (
      await readJson<{ items: Array<{ input: string; status: string; reason?: string }> }>(report)
    ).items;
    expect(items.map((i) => [i.input.split('/').pop(), i.status])).toEqual([
      ['a-empty.jpg', 'failed'],
      ['b.png', 'not-started'],
      ['c.png', 'not-started'],
      ['d.png', 'not-started'],
    ]);
    expect(items[1]!.reason).toBe('stopped by --fail-fast');
  });

  it('without --fail-fast the run goes on after a failure', async () => {
    const folder = join(dir, 'ff-in-0');
    const r = await runCli([folder, '--out', join(dir, 'no-ff'), '--concurrency', '1', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ processed: 3, failed: 1, notStarted: 0 });
  });

  for (const [how, args, env] of [
    ['--report', ['--report', 'REPORT'], {}],
    ['IMGPROC_REPORT', [], { IMGPROC_REPORT: 'REPORT' }],
  ] as const) {
    it(`${how} writes a JSON report of every input`, async () => {
      const out = join(dir, `report-out-${args.length}`);
      const report = join(dir, `report-${args.length}.json`);
      const fill = (s: string) => (s === 'REPORT' ? report : s);
      const first = await runCli([tiny(), join(BAD, 'text.jpg'), '--out', out, ...args.map(fill)], {
        env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, fill(v)])),
      });
      expect(first.code).toBe(3);
      const again = await runCli([tiny(), join(BAD, 'text.jpg'), '--out', out, ...args.map(fill)], {
        env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, fill(v)])),
      });
      expect(again.code).toBe(3);
      const r = await readJson<{
        summary: Record<string, number>;
        items: Array<{
          input: string;
          status: string;
          code?: string;
          reason?: string;
          sidecar?: string;
        }>;
      }>(report);
      expect(r.summary).toMatchObject({ processed: 0, skipped: 1, failed: 1 });
      expect(r.items).toEqual([
        expect.objectContaining({
          input: join(BAD, 'text.jpg'),
          status: 'failed',
          code: 'NOT_AN_IMAGE',
          reason: expect.stringMatching(/not an image/),
        }),
        expect.objectContaining({
          input: tiny(),
          status: 'skipped',
          // Like every path of what is written under --out: relative to it.
          sidecar: 'tiny-1x1.json',
        }),
      ]);
    });
  }

  for (const [how, args, env, why] of [
    ['--cpu', ['--cpu'], {}, /backend: cpu \(asked for\)/],
    ['--backend cpu', ['--backend', 'cpu'], {}, /backend: cpu \(asked for\)/],
    ['IMGPROC_CPU=1', [], { IMGPROC_CPU: '1' }, /backend: cpu \(asked for\)/],
    ['--backend auto', ['--backend', 'auto'], {}, /backend: (cpu|cuda)/],
  ] as const) {
    it(`${how} picks the backend and says which, once`, async () => {
      const out = join(dir, `backend-${how.replace(/\W/g, '')}`);
      const r = await runCli([tiny(), '--out', out, ...args], { env });
      expect(r.code).toBe(0);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('backend:'))).toEqual([
        expect.stringMatching(why),
      ]);
      const sc = await readJson<Sidecar>(join(out, 'tiny-1x1.json'));
      expect(sc.backend).toBe(
        how === '--backend auto' ? r.stderr.match(/backend: (\w+)/)![1] : 'cpu',
      );
      expect(await listFiles(out)).toEqual(outputsOf('tiny-1x1'));
    });
  }
});
