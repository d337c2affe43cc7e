import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  COLLISIONS,
  PHOTOS,
  dimensionsOf,
  listFiles,
  makeTempDir,
  meanColour,
  outputsOf,
  readJson,
  runCli,
  writeSolid,
} from './helpers.js';

interface DryRun {
  dryRun: true;
  tasks: Array<{ input: string; outputStem: string; ops: string[] }>;
  problems: Array<{ input: string; reason: string }>;
}

let dir: string;
let tree: string;

/** One small image per default format, with extensions in mixed case. */
const BY_FORMAT: Array<[string, (s: Sharp) => Sharp]> = [
  ['one.jpg', (s) => s.jpeg()],
  ['two.JPEG', (s) => s.jpeg()],
  ['three.Png', (s) => s.png()],
  ['four.WEBP', (s) => s.webp()],
  ['five.gif', (s) => s.gif()],
  ['six.AVIF', (s) => s.avif()],
  ['seven.tif', (s) => s.tiff()],
  ['eight.TIFF', (s) => s.tiff()],
];

const solid = () =>
  sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 90, g: 120, b: 30 } } });

beforeAll(async () => {
  dir = await makeTempDir();
  tree = join(dir, 'tree');
  await mkdir(join(tree, 'sub', 'deeper'), { recursive: true });
  await mkdir(join(tree, '.cache'), { recursive: true });
  await mkdir(join(dir, 'elsewhere'));
  for (const [name, fmt] of BY_FORMAT) await fmt(solid()).toFile(join(tree, name));
  await writeSolid(join(tree, 'sub', 'deeper', 'nested.png'), 40, 30, [1, 2, 3]);
  await writeSolid(join(tree, '.hidden.png'), 40, 30, [1, 2, 3]);
  await writeSolid(join(tree, '.cache', 'cached.png'), 40, 30, [1, 2, 3]);
  await solid().png().toFile(join(tree, 'backup.png.bak'));
  await writeSolid(join(dir, 'elsewhere', 'linked-in.png'), 40, 30, [1, 2, 3]);
  await writeFile(
    join(tree, 'vector.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="red"/></svg>',
  );
  await writeFile(join(tree, 'readme.txt'), 'not an image');
  // A link to a folder outside the tree is followed; a link back up to the tree's root loops.
  await symlink(join(dir, 'elsewhere'), join(tree, 'linked'));
  await symlink('..', join(tree, 'sub', 'up'));
  await symlink(join(dir, 'nowhere.jpg'), join(tree, 'broken.jpg'));
});

describe('input discovery', () => {
  const walked = [
    'eight',
    'five',
    'four',
    'linked/linked-in',
    'one',
    'seven',
    'six',
    'sub/deeper/nested',
    'three',
    'two',
  ];

  it('walks folders recursively: every default format in any case, links followed once, no hidden entries, no SVG', async () => {
    const out = join(dir, 'walk-out');
    const r = await runCli([tree, '--out', out, '--cpu', '--json'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ processed: walked.length, failed: 1 });
    expect(await listFiles(out)).toEqual(walked.flatMap(outputsOf).sort());
    // The broken link is reported once, not once per trip around the loop.
    const broken = r.stderr.split('\n').filter((l) => l.includes('broken.jpg'));
    expect(broken).toEqual([expect.stringMatching(/^✗ .*tree\/broken\.jpg: file not found/)]);
    for (const [name] of BY_FORMAT) {
      const stem = name.replace(/\.[^.]+$/, '');
      expect(await dimensionsOf(join(out, `${stem}_thumb.webp`)), name).toEqual({
        width: 40,
        height: 30,
      });
    }
    const sc = await readJson<{ source: { path: string; format: string } }>(join(out, 'six.json'));
    expect(sc.source).toMatchObject({ path: 'six.AVIF', format: 'avif' });
  });

  it('takes globs: only the matching files, laid out relative to the static part', async () => {
    const r = await runCli(['tree/**/*.png', '--out', 'glob-out', '--dry-run', '--json'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as DryRun;
    expect(plan.tasks.map((t) => t.outputStem).sort()).toEqual([
      'linked/linked-in',
      'sub/deeper/nested',
      'three',
    ]);
  });

  it('takes explicit files, and says which arguments match nothing', async () => {
    const r = await runCli(
      [
        join(tree, 'one.jpg'),
        join(tree, 'sub', 'deeper', 'nested.png'),
        join(tree, 'f*.GIF'),
        join(dir, 'missing.jpg'),
        join(dir, 'nothing-*.png'),
        '--out',
        join(dir, 'explicit-out'),
        '--cpu',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(3);
    expect(await listFiles(join(dir, 'explicit-out'))).toEqual(
      [...outputsOf('five'), ...outputsOf('nested'), ...outputsOf('one')].sort(),
    );
    expect(r.stderr).toMatch(/missing\.jpg: no such file or folder/);
    expect(r.stderr).toMatch(/nothing-\*\.png: no file matches this pattern/);
    expect(r.stderr).toContain('3 processed, 0 skipped, 2 failed');
  });

  it('follows two links back up the tree without an exponential walk (fast-glob does not detect symlink cycles)', async () => {
    const loops = join(dir, 'loops');
    await mkdir(join(loops, 'a'), { recursive: true });
    await writeSolid(join(loops, 'a', 'x.png'), 20, 20, [0, 0, 0]);
    await symlink('..', join(loops, 'a', 'up1'));
    await symlink('..', join(loops, 'a', 'up2'));
    const r = await runCli([loops, '--out', join(dir, 'loops-out'), '--dry-run', '--json'], {
      timeoutMs: 20_000,
    });
    expect(r.signal).toBeNull();
    expect((JSON.parse(r.stdout) as DryRun).tasks.map((t) => t.outputStem)).toEqual(['a/x']);
  });
});

describe('name collisions', () => {
  it('disambiguate same-stem inputs deterministically, whatever the argument order, with a warning', async () => {
    const files = ['a.jpg', 'a.png', 'A.webp'].map((f) => join(COLLISIONS, f));
    const outA = join(dir, 'coll-a');
    const outB = join(dir, 'coll-b');
    const [ra, rb] = await Promise.all([
      runCli([...files, '--out', outA, '--cpu']),
      runCli([...files].reverse().concat(['--out', outB, '--cpu'])),
    ]);
    expect(ra.code).toBe(0);
    expect(rb.code).toBe(0);
    const expected = [...outputsOf('A_webp'), ...outputsOf('a_jpg'), ...outputsOf('a_png')].sort();
    expect(await listFiles(outA)).toEqual(expected);
    expect(await listFiles(outB)).toEqual(expected);
    for (const r of [ra, rb]) {
      const warning = r.stderr.split('\n').find((l) => l.startsWith('warning:'));
      expect(warning).toMatch(/a\.jpg.*a\.png/);
      expect(warning).toMatch(/a_jpg_\*/);
      expect(warning).toMatch(/a_png_\*/);
    }
    // Each name holds its own picture: red JPEG, green PNG, blue WebP.
    expect((await meanColour(join(outA, 'a_jpg_thumb.webp')))[0]).toBeGreaterThan(200);
    expect((await meanColour(join(outA, 'a_png_thumb.webp')))[1]).toBeGreaterThan(100);
    expect((await meanColour(join(outA, 'A_webp_thumb.webp')))[2]).toBeGreaterThan(200);
    const sc = await readJson<{ source: { path: string } }>(join(outA, 'a_png.json'));
    expect(sc.source.path).toBe('a.png');
  });

  it('a folder walk of the collisions fixtures gives the same names', async () => {
    const out = join(dir, 'coll-walk');
    const r = await runCli([COLLISIONS, '--out', out, '--cpu']);
    expect(r.code).toBe(0);
    expect(await listFiles(out)).toEqual(
      [...outputsOf('A_webp'), ...outputsOf('a_jpg'), ...outputsOf('a_png')].sort(),
    );
  });

  it('the same relative path under two input folders: the warning names both full paths', async () => {
    const one = join(dir, 'coll-one');
    const two = join(dir, 'coll-two');
    await mkdir(one, { recursive: true });
    await mkdir(two, { recursive: true });
    await writeSolid(join(one, 'pic.png'), 40, 30, [250, 0, 0]);
    await writeSolid(join(two, 'pic.png'), 40, 30, [0, 0, 250]);
    const r = await runCli([one, two, '--out', join(dir, 'coll-two-out'), '--cpu']);
    expect(r.code).toBe(0);
    const warning = r.stderr.split('\n').find((l) => l.startsWith('warning:'));
    expect(warning).toContain(join(one, 'pic.png'));
    expect(warning).toContain(join(two, 'pic.png'));
    expect(await listFiles(join(dir, 'coll-two-out'))).toEqual(
      [...outputsOf('pic_png'), ...outputsOf('pic_png_2')].sort(),
    );
  });

  it('no collision warning for distinct stems', async () => {
    const r = await runCli([join(PHOTOS, 'tiny-1x1.png'), '--out', join(dir, 'plain'), '--cpu']);
    expect(r.stderr).not.toContain('warning:');
  });
});
