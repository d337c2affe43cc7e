import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { PHOTOS, listFiles, makeTempDir, runCli } from './helpers.js';

/** file name → reason, from the failure lines of one run. */
function reasons(stderr: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of stderr.split('\n')) {
    const m = /^✗ .*\/([^/]+?): (.*)$/.exec(line);
    if (m) map.set(m[1]!, m[2]!);
  }
  return map;
}

describe('the line for a file is the same at any concurrency', () => {
  let input: string;

  beforeAll(async () => {
    input = join(await makeTempDir(), 'in');
    await mkdir(input);
    const noise = Buffer.alloc(96 * 64 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = ((i * 2654435761) >>> 13) & 255;
    const avif = await sharp(noise, { raw: { width: 96, height: 64, channels: 3 } })
      .avif({ quality: 60, effort: 0 })
      .toBuffer();
    // Cut in half: libvips fails with a seek past the end, then libheif's own message.
    for (let i = 0; i < 12; i++) {
      await writeFile(join(input, `broken-${i}.avif`), avif.subarray(0, avif.length >> 1));
      // Good images in flight beside them: each finished operation clears libvips' shared errors.
      await copyFile(join(PHOTOS, 'small-200x150.jpg'), join(input, `good-${i}.jpg`));
    }
  });

  it('a broken AVIF reads the same at -j 1 and -j 16', async () => {
    const alone = await runCli([input, '--out', await makeTempDir(), '--cpu', '-j', '1']);
    const crowded = await runCli([input, '--out', await makeTempDir(), '--cpu', '-j', '16']);
    const a = reasons(alone.stderr);
    const c = reasons(crowded.stderr);
    expect(a.size).toBe(12);
    expect(c.size).toBe(12);
    const expected = a.get('broken-0.avif')!;
    expect(expected).toMatch(/^corrupt or truncated image: \S/);
    expect(expected).not.toMatch(/Unknown error|corrupt header: *\(/);
    for (let i = 0; i < 12; i++) {
      expect(a.get(`broken-${i}.avif`), `-j 1, broken-${i}`).toBe(expected);
      expect(c.get(`broken-${i}.avif`), `-j 16, broken-${i}`).toBe(expected);
    }
  });
});

describe('file system errors in words, paths kept short', () => {
  it('/dev/zero and a FIFO named on the command line: not regular files, not "no such file"', async () => {
    const dir = await makeTempDir();
    const fifo = join(dir, 'pipe.jpg');
    execFileSync('mkfifo', [fifo]);
    const out = join(dir, 'out');
    const r = await runCli(['/dev/zero', fifo, '--out', out, '--cpu'], { timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(3);
    expect(r.stderr).not.toMatch(/no such file/);
    expect(r.stderr).toMatch(/✗ \/dev\/zero: not a regular file/);
    expect(r.stderr).toMatch(/✗ .*pipe\.jpg: not a regular file/);
    expect(await listFiles(out)).toEqual([]);
  });

  it('a 120 KB path is shortened in the middle, not echoed whole', async () => {
    // The longest single argument Linux passes is 128 KiB.
    const long = '/tmp/' + 'x'.repeat(120_000) + '.jpg';
    const r = await runCli([long, '--out', await makeTempDir(), '--cpu']);
    expect(r.code).not.toBe(0);
    for (const line of r.stderr.split('\n')) expect(line.length).toBeLessThan(1000);
    expect(r.stderr).toMatch(/\/tmp\/x+…x+\.jpg/);
  });
});
