import { XMLParser } from 'fast-xml-parser';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { BAD, listFiles, makeTempDir } from '../e2e/helpers.js';
import {
  copyOf,
  cropOneColumn,
  editJson,
  editOutput,
  expectedRun,
  loseAlpha,
  moveRightOnePixel,
  shiftColour,
  turn180,
  verify,
  type Edit,
} from './helpers.js';

const OUTPUTS_DIFFER = 4;

let inputs: string;
let expected: string;

beforeAll(async () => {
  ({ inputs, expected } = await expectedRun());
});

/** Lines of stderr that start with the failure mark. */
const failures = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('✗'));

describe('imgproc verify against an expected folder', () => {
  test('the same inputs and options pass, every output byte-identical', async () => {
    const r = await verify([inputs, '--expected', expected, '--cpu']);
    expect(r.stderr).toMatch(/verify pass: 4 items: 4 identical, 0 within tolerance, 0 differ/);
    expect(failures(r.stderr)).toEqual([]);
    expect(r.code).toBe(0);
  });

  test('another WebP effort passes within tolerance and is named as a note', async () => {
    const r = await verify([inputs, '--expected', expected, '--cpu', '--effort', '0', '--json']);
    const json = JSON.parse(r.stdout) as {
      passed: boolean;
      summary: { within: number };
      options: { option: string; fails: boolean }[];
    };
    expect(json.passed).toBe(true);
    expect(json.summary.within).toBeGreaterThan(0);
    expect(json.options).toEqual([expect.objectContaining({ option: 'effort', fails: false })]);
    expect(r.stderr).toContain(
      'note: option effort differs: the expected run used thumb=4,blur=4,lq=2, this run thumb=0,blur=0,lq=0',
    );
    expect(r.code).toBe(0);
  });

  const edits: [string, string, Edit, RegExp][] = [
    [
      'a colour shift of 3 levels',
      'meadow_thumb.webp',
      shiftColour(3),
      /^✗ meadow\.jpg thumb: mean colour shift 3\.\d\d levels > 1\.5$/,
    ],
    [
      'a one-pixel shift',
      'meadow_thumb.webp',
      moveRightOnePixel,
      /^✗ meadow\.jpg thumb: mismatch \d+\.\d\d% of pixels > 2\.00%/,
    ],
    [
      'a one-pixel crop',
      'meadow_lq.webp',
      cropOneColumn,
      /^✗ meadow\.jpg lq: size \d+x\d+, expected \d+x\d+$/,
    ],
    [
      'a wrong orientation',
      'orientation-6_thumb.webp',
      turn180,
      /^✗ orientation-6\.jpg thumb: mismatch \d+\.\d\d% of pixels > 2\.00%/,
    ],
  ];
  test.each(edits)(
    '%s in the expected folder fails, naming file, output and measure',
    async (_what, file, edit, line) => {
      const changed = await copyOf(expected, 'expected');
      await editOutput(join(changed, file), edit);
      const r = await verify([inputs, '--expected', changed, '--cpu']);
      expect(failures(r.stderr)).toEqual([expect.stringMatching(line)]);
      expect(r.stderr).toMatch(/verify FAIL: 4 items: 3 identical, 0 within tolerance, 1 differ/);
      expect(r.code).toBe(OUTPUTS_DIFFER);
    },
  );

  test('lost alpha in this run fails, naming file, output and measure', async () => {
    const actual = await copyOf(expected, 'actual');
    await editOutput(join(actual, 'rgba-hard-edges_thumb.webp'), loseAlpha);
    const r = await verify(['--actual', actual, '--expected', expected]);
    expect(failures(r.stderr)).toEqual(['✗ rgba-hard-edges.png thumb: alpha channel lost']);
    expect(r.code).toBe(OUTPUTS_DIFFER);
  });

  test('a changed palette fails on the palette distance', async () => {
    const changed = await copyOf(expected, 'expected');
    await editJson(join(changed, 'meadow.json'), (j) => {
      const g = j.gradient as { palette: string[] };
      g.palette[1] = '#FF00FF';
    });
    const r = await verify([inputs, '--expected', changed, '--cpu']);
    expect(failures(r.stderr)).toEqual([
      expect.stringMatching(/^✗ meadow\.jpg gradient\.palette: palette ΔE \d+\.\d\d > 10 \(/),
    ]);
    expect(r.code).toBe(OUTPUTS_DIFFER);
  });

  test('a different blur sigma fails: the blur pixels and the option are named', async () => {
    const r = await verify([inputs, '--expected', expected, '--cpu', '--blur-sigma', '2']);
    const lines = failures(r.stderr);
    expect(lines).toContain(
      '✗ options: option blur-sigma differs: the expected run used 6, this run 2 (4 items)',
    );
    expect(lines.some((l) => /^✗ \S+ blur: mismatch/.test(l))).toBe(true);
    expect(r.code).toBe(OUTPUTS_DIFFER);
  });

  test('missing and extra files are named', async () => {
    const changed = await copyOf(expected, 'expected');
    await rm(join(changed, 'meadow_blur.webp'));
    await writeFile(join(changed, 'stray.txt'), 'x');
    const r = await verify([inputs, '--expected', changed, '--cpu']);
    expect(failures(r.stderr).sort()).toEqual([
      '✗ meadow.jpg blur: not in the expected folder (meadow_blur.webp)',
      '✗ stray.txt: missing from this run',
    ]);
    expect(r.code).toBe(OUTPUTS_DIFFER);
  });

  test('tolerances are set by flag and by the config file beside the outputs', async () => {
    const changed = await copyOf(expected, 'expected');
    await editOutput(join(changed, 'meadow_thumb.webp'), shiftColour(3));
    const byFlag = await verify([
      inputs,
      '--expected',
      changed,
      '--cpu',
      '--tolerance',
      'thumb.shift=5',
    ]);
    expect(byFlag.code).toBe(0);
    await writeFile(
      join(changed, 'imgproc-verify.json'),
      JSON.stringify({ tolerances: { thumb: { shift: 5 } } }),
    );
    const byConfig = await verify([inputs, '--expected', changed, '--cpu']);
    expect(byConfig.stderr).toMatch(/verify pass/);
    expect(byConfig.code).toBe(0);
    const tighter = await verify([
      inputs,
      '--expected',
      changed,
      '--cpu',
      '--tolerance',
      'thumb.shift=2',
    ]);
    expect(tighter.code).toBe(OUTPUTS_DIFFER);
    const bad = await verify([inputs, '--expected', changed, '--tolerance', 'thumb.sharpness=1']);
    expect(bad.stderr).toContain('Expected one of thumb.threshold');
    expect(bad.code).toBe(2);
  });

  test('--update rewrites the expected folder, says what changed, keeps its config, then passes', async () => {
    const changed = await copyOf(expected, 'expected');
    await editOutput(join(changed, 'meadow_thumb.webp'), shiftColour(4));
    await rm(join(changed, 'small-200x150_lq.webp'));
    const config = JSON.stringify({ tolerances: { lq: { ssim: 0.8 } } });
    await writeFile(join(changed, 'imgproc-verify.json'), config);
    const r = await verify([inputs, '--expected', changed, '--cpu', '--update']);
    expect(r.stderr).toContain('updated meadow.jpg thumb: mean colour shift');
    expect(r.stderr).toContain('updated small-200x150.jpg lq: not in the expected folder');
    expect(r.stderr).toMatch(/verify updated .*expected: 4 items/);
    expect(r.code).toBe(0);
    expect(await readFile(join(changed, 'imgproc-verify.json'), 'utf8')).toBe(config);
    expect(await listFiles(changed)).toEqual(
      [...(await listFiles(expected)), 'imgproc-verify.json'].sort(),
    );
    const again = await verify([inputs, '--expected', changed, '--cpu']);
    expect(again.stderr).toMatch(/4 identical/);
    expect(again.code).toBe(0);
  });

  test('the JUnit file names each image and carries the failure', async () => {
    const changed = await copyOf(expected, 'expected');
    await editOutput(join(changed, 'meadow_thumb.webp'), shiftColour(3));
    const junit = join(await makeTempDir(), 'reports', 'verify.xml');
    const r = await verify([inputs, '--expected', changed, '--cpu', '--junit', junit]);
    expect(r.code).toBe(OUTPUTS_DIFFER);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
      await readFile(junit, 'utf8'),
    );
    const suite = xml.testsuites.testsuite;
    expect(suite).toMatchObject({ name: 'imgproc verify', tests: '4', failures: '1', errors: '0' });
    const cases = suite.testcase as { name: string; failure?: { message: string; type: string } }[];
    expect(cases.map((c) => c.name).sort()).toEqual([
      'meadow.jpg',
      'orientation-6.jpg',
      'rgba-hard-edges.png',
      'small-200x150.jpg',
    ]);
    const failed = cases.filter((c) => c.failure);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ name: 'meadow.jpg', failure: { type: 'shift' } });
    expect(failed[0]?.failure?.message).toMatch(
      /^meadow\.jpg thumb: mean colour shift 3\.\d\d levels > 1\.5$/,
    );
  });

  test('two existing folders compare with --actual', async () => {
    const changed = await copyOf(expected, 'actual');
    await editOutput(join(changed, 'small-200x150_blur.webp'), turn180);
    const same = await verify(['--actual', expected, '--expected', expected]);
    expect(same.code).toBe(0);
    const r = await verify(['--actual', changed, '--expected', expected, '--json']);
    const json = JSON.parse(r.stdout) as { items: { item: string; status: string }[] };
    expect(json.items.find((i) => i.item === 'small-200x150.jpg')?.status).toBe('differs');
    expect(r.code).toBe(OUTPUTS_DIFFER);
  });

  test('an input that fails to process exits 3', async () => {
    const withBad = await copyOf(inputs, 'inputs');
    await copyFile(join(BAD, 'truncated.jpg'), join(withBad, 'truncated.jpg'));
    const r = await verify([withBad, '--expected', expected, '--cpu']);
    expect(r.stderr).toMatch(/^✗ .*truncated\.jpg: corrupt or truncated image/m);
    expect(r.stderr).toMatch(/1 inputs failed/);
    expect(r.code).toBe(3);
  });

  test('usage errors exit 2', async () => {
    expect((await verify([inputs])).code).toBe(2);
    expect((await verify(['--expected', expected])).code).toBe(2);
    const missing = await verify([inputs, '--expected', join(expected, 'nope')]);
    expect(missing.stderr).toContain('no such folder');
    expect(missing.code).toBe(2);
    expect((await verify([inputs, '--actual', expected, '--expected', expected])).code).toBe(2);
  });
});
