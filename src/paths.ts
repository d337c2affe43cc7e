import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, sep } from 'node:path';

/**
 * `path` relative to `root`, '/'-separated, when `path` is `root` itself ('') or lies under it;
 * undefined when it lies outside. Lexical: symbolic links are not followed (see `realInside`).
 */
export function relativeInside(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/** Whether `path` is `root` or lies under it, by name alone (symbolic links not followed). */
export function isInside(root: string, path: string): boolean {
  return relativeInside(root, path) !== undefined;
}

/** Whether `path` lies strictly under `root`: `root` itself is not inside. */
export function isStrictlyInside(root: string, path: string): boolean {
  const rel = relativeInside(root, path);
  return rel !== undefined && rel !== '';
}

/**
 * The real path of `path`'s deepest part that exists: where a file or folder created at `path`
 * would really land once every symbolic link on the way is followed.
 */
export async function realExistingPart(path: string): Promise<string> {
  for (let p = path; ;) {
    try {
      return await realpath(p);
    } catch {
      const parent = dirname(p);
      if (parent === p) return p;
      p = parent;
    }
  }
}

/**
 * Whether `path` stays inside `root` once symbolic links are followed, for paths that may not
 * exist yet: a link planted on the way must not carry reads or writes outside.
 */
export async function realInside(root: string, path: string): Promise<boolean> {
  const [realRoot, real] = await Promise.all([realExistingPart(root), realExistingPart(path)]);
  return isInside(realRoot, real);
}
