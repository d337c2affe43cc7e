import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BAD,
  BIN,
  PHOTOS,
  listFiles,
  makeTempDir,
  outputsOf,
  runCli,
  writeSolid,
} from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir();
});

describe('never writes outside --out', () => {
  it('refuses an output folder that a symbolic link inside --out leads elsewhere', async () => {
    const root = join(dir, 'link-escape');
    await mkdir(join(root, 'in', 'sub'), { recursive: true });
    await mkdir(join(root, 'outside'));
    await mkdir(join(root, 'out'));
    await copyFile(join(PHOTOS, 'harbour.jpg'), join(root, 'in', 'sub', 'a.jpg'));
    await copyFile(join(PHOTOS, 'harbour.jpg'), join(root, 'in', 'b.jpg'));
    await symlink('../outside', join(root, 'out', 'sub'));
    // Looks like a leftover temporary file: the start-of-run sweep must not reach it either.
    await writeFile(join(root, 'outside', 'victim.imgproc-tmp-1'), 'keep me');
    const r = await runCli([join(root, 'in'), '--out', join(root, 'out'), '--cpu']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/a\.jpg: output folder .*sub leads outside the output folder/);
    expect(await listFiles(join(root, 'outside'))).toEqual(['victim.imgproc-tmp-1']);
    expect(existsSync(join(root, 'out', 'b_thumb.webp'))).toBe(true);
  });

  it('does not take its own outputs as inputs when --out is inside the input folder', async () => {
    const root = join(dir, 'nested-out');
    await mkdir(join(root, 'photos'), { recursive: true });
    await copyFile(join(PHOTOS, 'harbour.jpg'), join(root, 'harbour.jpg'));
    await copyFile(join(PHOTOS, 'palette.png'), join(root, 'photos', 'palette.png'));
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['.', '--out', 'processed', '--cpu', '--json'], { cwd: root });
      expect(r.code).toBe(0);
    }
    expect((await listFiles(join(root, 'processed'))).sort()).toEqual(
      [...outputsOf('harbour'), ...outputsOf('photos/palette')].sort(),
    );
  });
});

describe('inputs', () => {
  it('a glob that matches ordinary folders skips them; a folder named like an image is reported', async () => {
    const root = join(dir, 'glob-dirs');
    await mkdir(join(root, 'photos', '2019'), { recursive: true });
    await mkdir(join(root, 'photos', 'album.jpg'));
    await writeSolid(join(root, 'photos', 'a.png'), 40, 30, [10, 20, 30]);
    const r = await runCli(['photos/*', '--out', 'o', '--cpu'], { cwd: root });
    expect(r.code).toBe(3);
    expect(r.stderr).not.toContain('2019');
    expect(r.stderr).toMatch(/photos\/album\.jpg: is a folder, not an image file/);
    expect(r.stderr).toContain('1 processed, 0 skipped, 1 failed');
  });

  it('refuses SVG content whatever its name', async () => {
    const svg = join(dir, 'drawing.png');
    await writeFile(
      svg,
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    const r = await runCli([svg, '--out', join(dir, 'svg-out'), '--cpu']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/drawing\.png: unsupported format \(SVG\)/);
    expect(existsSync(join(dir, 'svg-out', 'drawing.json'))).toBe(false);
  });

  it('a file name too long for its outputs gets one clear line', async () => {
    const root = join(dir, 'long');
    await mkdir(root);
    const name = 'x'.repeat(250) + '.png';
    await writeSolid(join(root, name), 20, 20, [1, 2, 3]);
    const r = await runCli([root, '--out', join(dir, 'long-out'), '--cpu']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /output file name would be longer than 255 bytes \(shorten the file name\)/,
    );
    expect(r.stderr).not.toContain('ENAMETOOLONG');
  });

  it('keeps a backslash in a file name as part of the name', async () => {
    const root = join(dir, 'backslash');
    await mkdir(root);
    await writeSolid(join(root, 'a\\b.png'), 20, 20, [1, 2, 3]);
    const r = await runCli([root, '--out', join(dir, 'backslash-out'), '--cpu']);
    expect(r.code).toBe(0);
    const out = join(dir, 'backslash-out');
    expect(existsSync(join(out, 'a\\b_thumb.webp'))).toBe(true);
    expect(existsSync(join(out, 'a'))).toBe(false);
  });
});

describe('the command line', () => {
  it('takes --out and --manifest from IMGPROC_OUT and IMGPROC_MANIFEST', async () => {
    const root = join(dir, 'env');
    await mkdir(root);
    await writeSolid(join(root, 'a.png'), 20, 20, [1, 2, 3]);
    await writeFile(join(root, 'jobs.ndjson'), '{"input": "a.png", "id": "one"}\n');
    const r = await runCli(['--cpu'], {
      env: { IMGPROC_OUT: join(root, 'out'), IMGPROC_MANIFEST: join(root, 'jobs.ndjson') },
    });
    expect(r.code).toBe(0);
    expect(await listFiles(join(root, 'out'))).toEqual(outputsOf('one/one'));
  });

  it('--dry-run says which images a run would skip', async () => {
    const root = join(dir, 'dry');
    await mkdir(root);
    await writeSolid(join(root, 'old.png'), 20, 20, [1, 2, 3]);
    const out = join(root, 'out');
    expect((await runCli([root, '--out', out, '--cpu'])).code).toBe(0);
    await writeSolid(join(root, 'new.png'), 20, 20, [3, 2, 1]);
    const r = await runCli([root, '--out', out, '--dry-run', '--json']);
    const plan = JSON.parse(r.stdout) as { tasks: Array<{ outputStem: string; action: string }> };
    expect(plan.tasks.map((t) => [t.outputStem, t.action])).toEqual([
      ['new', 'process'],
      ['old', 'skip'],
    ]);
  });

  it('stops quietly when the reader of its output goes away (| head)', () => {
    const r = spawnSync(
      'bash',
      ['-c', `node ${BIN} ${PHOTOS} --out /nonexistent-out -n | head -1`],
      {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
  });

  it.skipIf(spawnSync('script', ['--version']).status !== 0)(
    'on a terminal, every failure line is printed before the bar goes (needs util-linux script)',
    async () => {
      const log = join(dir, 'tty.log');
      const out = join(dir, 'tty-out');
      // -e: script exits with the CLI's status, not its own.
      const r = spawnSync('script', ['-qec', `node ${BIN} ${BAD} --out ${out} --cpu`, log], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      expect(r.status).toBe(3);
      const text = await readFile(log, 'utf8');
      expect(text.match(/✗ /g) ?? []).toHaveLength(10);
      expect(text).toContain('0 processed, 0 skipped, 10 failed');
    },
  );
});
