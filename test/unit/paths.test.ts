import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isInside, isStrictlyInside, realInside, relativeInside } from '../../src/paths.js';

describe('relativeInside / isInside', () => {
  it('accepts the root and what lies under it, as a /-separated path', () => {
    expect(relativeInside('/data', '/data')).toBe('');
    expect(relativeInside('/data', '/data/a/b.jpg')).toBe('a/b.jpg');
    expect(isInside('/data', '/data/a')).toBe(true);
  });

  it('refuses parents, siblings that share a prefix, and other roots', () => {
    expect(relativeInside('/data', '/')).toBeUndefined();
    expect(relativeInside('/data', '/data2/a.jpg')).toBeUndefined();
    expect(relativeInside('/data', '/data/../etc/passwd')).toBeUndefined();
    expect(isInside('/data/a', '/data')).toBe(false);
  });

  it('takes a name that merely starts with two dots as inside', () => {
    expect(relativeInside('/data', '/data/..hidden')).toBe('..hidden');
  });

  it('does not count the root itself as strictly inside', () => {
    expect(isStrictlyInside('/data', '/data')).toBe(false);
    expect(isStrictlyInside('/data', '/data/x')).toBe(true);
    expect(isStrictlyInside('/data', '/elsewhere')).toBe(false);
  });
});

describe('realInside', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('follows a symbolic link on the way, also to a path that does not exist yet', async () => {
    const base = await mkdtemp(join(tmpdir(), 'imgproc-paths-'));
    dirs.push(base);
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    await mkdir(join(root, 'real'), { recursive: true });
    await mkdir(outside);
    await symlink(outside, join(root, 'escape'));
    await symlink(join(root, 'real'), join(root, 'within'));
    expect(await realInside(root, join(root, 'real', 'new', 'a.webp'))).toBe(true);
    expect(await realInside(root, join(root, 'within', 'new', 'a.webp'))).toBe(true);
    expect(await realInside(root, join(root, 'escape', 'new', 'a.webp'))).toBe(false);
    expect(await realInside(root, join(root, 'escape'))).toBe(false);
  });
});
