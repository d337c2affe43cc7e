import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PHOTOS, ROOT, listFiles, makeTempDir, outputsOf } from './helpers.js';

const run = promisify(execFile);

describe('the packed tarball', () => {
  it('installs into an empty prefix and processes an image (the `files` list is complete)', async () => {
    const dir = await makeTempDir('imgproc-install-');
    // dist/ is already built by `npm test`; the install needs no script of ours to work (the
    // addon is optional) and sharp's prebuilt binaries come as its optional dependencies.
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const prefix = join(dir, 'prefix');
    await run(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        join(dir, tarball!),
      ],
      { cwd: dir, timeout: 280_000 },
    );
    const out = join(dir, 'out');
    // From a folder outside the clone, by the installed command's name.
    const r = await run(
      join(prefix, 'bin', 'imgproc'),
      [join(PHOTOS, 'harbour.jpg'), '--out', out, '--cpu'],
      {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(r.stderr).toMatch(/1 processed, 0 skipped, 0 failed/);
    expect(await listFiles(out)).toEqual(outputsOf('harbour'));
  }, 300_000);
});
