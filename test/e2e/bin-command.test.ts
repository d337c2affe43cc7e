import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, test } from 'vitest';

const { kernelMode } = createRequire(import.meta.url)('../../bin/huge-pages.cjs') as {
  kernelMode(): string | undefined;
};

// bin/imgproc, the command npm links: sets huge pages for glibc's malloc, then starts
// bin/imgproc.cjs with the `node` on PATH.
const COMMAND = resolve('bin/imgproc');
const work = mkdtempSync(join(tmpdir(), 'imgproc-bin-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const asks = kernelMode() === 'madvise';

/** A `node` that prints what it was started with instead of running it. */
function fakeNode(): string {
  const dir = join(work, 'fake-node');
  mkdirSync(dir, { recursive: true });
  const node = join(dir, 'node');
  writeFileSync(
    node,
    '#!/bin/sh\nprintf "GLIBC_TUNABLES=%s\\n" "${GLIBC_TUNABLES-unset}"\nfor a in "$@"; do printf "arg=%s\\n" "$a"; done\n',
  );
  chmodSync(node, 0o755);
  return dir;
}

function run(command: string, args: string[], env: Record<string, string | undefined>) {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('IMGPROC_') && k !== 'GLIBC_TUNABLES') clean[k] = v;
  }
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  return spawnSync(command, args, { env: clean, encoding: 'utf8' });
}

describe('the imgproc command (bin/imgproc)', () => {
  const fake = fakeNode();
  const PATH = `${fake}:${process.env.PATH}`;

  test('found through npm-style links, it starts bin/imgproc.cjs with every argument as given', () => {
    // node_modules/.bin/imgproc -> ../imgproc/bin/imgproc, relative, as npm links it.
    const pkg = join(work, 'node_modules', 'imgproc', 'bin');
    mkdirSync(pkg, { recursive: true });
    symlinkSync(COMMAND, join(pkg, 'imgproc'));
    const dotBin = join(work, 'node_modules', '.bin');
    mkdirSync(dotBin, { recursive: true });
    symlinkSync('../imgproc/bin/imgproc', join(dotBin, 'imgproc'));
    const r = run(join(dotBin, 'imgproc'), ['a b', '--out', "it's"], { PATH });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('arg='))).toEqual([
      `arg=${join(dirname(COMMAND), 'imgproc.cjs')}`,
      'arg=a b',
      'arg=--out',
      "arg=it's",
    ]);
  });

  test('asks for huge pages where the kernel gives them on request, keeping the user’s tunables', () => {
    const tunables = (env: Record<string, string | undefined>) =>
      /^GLIBC_TUNABLES=(.*)$/m.exec(run(COMMAND, [], { PATH, ...env }).stdout)?.[1];
    expect(tunables({})).toBe(asks ? 'glibc.malloc.hugetlb=1' : 'unset');
    expect(tunables({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=3' })).toBe(
      asks ? 'glibc.malloc.arena_max=3:glibc.malloc.hugetlb=1' : 'glibc.malloc.arena_max=3',
    );
    // The user's own setting, or IMGPROC_HUGE_PAGES=0, stands.
    expect(tunables({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' })).toBe('glibc.malloc.hugetlb=0');
    expect(tunables({ IMGPROC_HUGE_PAGES: '0' })).toBe('unset');
    expect(tunables({ IMGPROC_HUGE_PAGES: 'off' })).toBe('unset');
  });

  test('runs imgproc itself, which sees the huge pages without starting again', () => {
    const r = run(COMMAND, ['doctor', '--json'], { IMGPROC_NATIVE: '0' });
    expect(r.status).toBe(0);
    // Without the addon, bin/imgproc.cjs could not have started again: the command set them.
    expect(JSON.parse(r.stdout).hugePages).toEqual(
      asks
        ? { state: 'on', why: 'GLIBC_TUNABLES glibc.malloc.hugetlb=1' }
        : { state: 'off', why: expect.any(String) },
    );
    expect(run(COMMAND, ['--version'], {}).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
