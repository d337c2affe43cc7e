import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, readdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BAD,
  PHOTOS,
  isRoot,
  listFiles,
  makeTempDir,
  outputsOf,
  readJson,
  runCli,
  writeSolid,
  type RunResult,
} from './helpers.js';

/** The conventional unprivileged user id on Linux. */
const NOBODY = 65534;

interface ReportItem {
  input: string;
  status: 'processed' | 'skipped' | 'failed';
  code?: string;
  reason?: string;
}

/** File name → what its one failure line must say, and the report's error code. */
const EXPECTED: Record<string, { reason: RegExp; code: string }> = {
  'empty.jpg': { reason: /empty file/, code: 'EMPTY' },
  // The decoder's own reason follows: libvips words it, and an upgrade that loses it fails here.
  'truncated.jpg': { reason: /corrupt or truncated image: .*premature end/, code: 'CORRUPT' },
  'truncated.png': { reason: /corrupt or truncated image: .*not enough data/, code: 'CORRUPT' },
  'truncated.webp': { reason: /corrupt or truncated image: .*unable to parse/, code: 'CORRUPT' },
  'badcrc.png': { reason: /corrupt or truncated image: .*CRC error/, code: 'CORRUPT' },
  'header-only.jpg': { reason: /corrupt or truncated image: .*contains no image/, code: 'CORRUPT' },
  'zero-width.png': { reason: /corrupt or truncated image: .*width is zero/, code: 'CORRUPT' },
  'text.jpg': { reason: /not an image/, code: 'NOT_AN_IMAGE' },
  'bomb.png': {
    reason: /too many pixels: 100000x100000 = 10000000000 > --max-pixels 150000/,
    code: 'TOO_MANY_PIXELS',
  },
  'unsupported.tif': { reason: /unsupported format \(BMP\)/, code: 'UNSUPPORTED_FORMAT' },
  'big.png': {
    reason: /too many pixels: 500x400 = 200000 > --max-pixels 150000/,
    code: 'TOO_MANY_PIXELS',
  },
  // Over 1 MiB: refused from their first bytes, with the reason a full read would give.
  'lorem-3mb.jpg': { reason: /not an image/, code: 'NOT_AN_IMAGE' },
  'large-bmp.png': { reason: /unsupported format \(BMP\)/, code: 'UNSUPPORTED_FORMAT' },
  'large-svg.webp': { reason: /unsupported format \(SVG\)/, code: 'UNSUPPORTED_FORMAT' },
  'sparse-2gib.jpg': { reason: /file too large to read \(2 GiB or more\)/, code: 'UNREADABLE' },
  'folder.jpg': { reason: /folder/, code: 'NOT_A_FILE' },
  'dangling.jpg': { reason: /not found|broken|symbolic link/i, code: 'UNREADABLE' },
  'fifo.jpg': { reason: /not a regular file/, code: 'NOT_A_FILE' },
  'selfloop.jpg': { reason: /symbolic link/i, code: 'UNREADABLE' },
};

let input: string;
let out: string;
let reportPath: string;
let run: RunResult;
let report: { items: ReportItem[]; summary: Record<string, number> };

beforeAll(async () => {
  const dir = await makeTempDir();
  input = join(dir, 'in');
  out = join(dir, 'out');
  reportPath = join(dir, 'report.json');
  await mkdir(input);
  for (const f of await readdir(BAD)) await copyFile(join(BAD, f), join(input, f));
  await writeSolid(join(input, 'big.png'), 500, 400, [9, 9, 9]);
  await writeSolid(join(input, 'good.png'), 100, 100, [200, 30, 30]);
  await copyFile(join(PHOTOS, 'tiny-1x1.png'), join(input, 'tiny.png'));
  const padding = Buffer.alloc(3 << 20, 'lorem ipsum ');
  await writeFile(join(input, 'lorem-3mb.jpg'), padding);
  await writeFile(join(input, 'large-bmp.png'), Buffer.concat([Buffer.from('BM'), padding]));
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><!-- ';
  await writeFile(
    join(input, 'large-svg.webp'),
    Buffer.concat([Buffer.from(svg), padding, Buffer.from(' --></svg>')]),
  );
  // A sparse file: 2 GiB long, a JPEG signature, and no disk space used.
  await writeFile(join(input, 'sparse-2gib.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
  await truncate(join(input, 'sparse-2gib.jpg'), 2 ** 31);
  await mkdir(join(input, 'folder.jpg'));
  await symlink(join(dir, 'nowhere.jpg'), join(input, 'dangling.jpg'));
  await symlink('selfloop.jpg', join(input, 'selfloop.jpg'));
  execFileSync('mkfifo', [join(input, 'fifo.jpg')]);
  run = await runCli(
    [input, '--out', out, '--cpu', '--max-pixels', '150000', '--report', reportPath],
    { timeoutMs: 30_000 },
  );
  report = await readJson<typeof report>(reportPath).catch(() => ({ items: [], summary: {} }));
});

describe('bad inputs', () => {
  it('finish the run: the good images are processed, the exit code is 3', () => {
    expect(run.signal).toBeNull();
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`2 processed, 0 skipped, ${Object.keys(EXPECTED).length} failed`);
  });

  it('write no output for a bad input, only for the good ones', async () => {
    expect(await listFiles(out)).toEqual([...outputsOf('good'), ...outputsOf('tiny')].sort());
  });

  for (const [file, { reason }] of Object.entries(EXPECTED)) {
    it(`${file}: one line naming the file and the reason`, () => {
      const lines = run.stderr.split('\n').filter((l) => l.startsWith('✗') && l.includes(file));
      expect(lines, run.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(reason);
      // A reason never stops at its colon: `corrupt header: (re-export …)` names nothing.
      expect(lines[0]).not.toMatch(/:\s*(\(|$)/);
    });
  }

  it('are listed in --report with their status, code and reason', () => {
    const byName = new Map(report.items.map((i) => [i.input.split('/').pop()!, i]));
    for (const [file, { code }] of Object.entries(EXPECTED)) {
      expect(byName.get(file), file).toMatchObject({ status: 'failed', code });
      expect(byName.get(file)!.reason, file).toBeTruthy();
    }
    expect(byName.get('good.png')).toMatchObject({ status: 'processed' });
    expect(report.items).toHaveLength(Object.keys(EXPECTED).length + 2);
    expect(report.summary).toMatchObject({ processed: 2, failed: Object.keys(EXPECTED).length });
  });

  it('refuse decompression bombs under the default --max-pixels too', async () => {
    const r = await runCli([join(BAD, 'bomb.png'), '--out', await makeTempDir(), '--cpu']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /bomb\.png: too many pixels: 100000x100000 = 10000000000 > --max-pixels 100000000/,
    );
  });

  it('an unreadable file gets a permission line', async () => {
    const dir = await makeTempDir();
    const locked = join(dir, 'locked.jpg');
    const out = join(dir, 'out');
    await copyFile(join(PHOTOS, 'small-200x150.jpg'), locked);
    await chmod(locked, 0o000);
    // Root reads every file, so as root the CLI runs as `nobody`, for whom the file is unreadable.
    const asNobody = isRoot ? { uid: NOBODY, gid: NOBODY } : {};
    if (isRoot) {
      await chmod(dir, 0o777);
      await mkdir(out, { mode: 0o777 });
      await chmod(out, 0o777);
    }
    const r = await runCli([locked, '--out', out, '--cpu'], asNobody);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/locked\.jpg: permission denied/);
    expect(await listFiles(out)).toEqual([]);
  });
});

describe('fatal conditions exit 1', () => {
  it('--out is an existing regular file', async () => {
    const file = join(await makeTempDir(), 'not-a-folder');
    await writeFile(file, 'x');
    const r = await runCli([join(PHOTOS, 'tiny-1x1.png'), '--out', file, '--cpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot create output folder .*not-a-folder/);
  });

  it('--out lies under a regular file', async () => {
    const file = join(await makeTempDir(), 'plain');
    await writeFile(file, 'x');
    const r = await runCli([join(PHOTOS, 'tiny-1x1.png'), '--out', join(file, 'sub'), '--cpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/plain\/sub/);
  });
});
