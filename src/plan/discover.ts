import type FastGlob from 'fast-glob';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import sharp from '../sharp.js';
import { errnoReason } from '../errors.js';
import { isInside } from '../paths.js';
import { compareText } from './order.js';
import { walkFolder } from './walk-folder.js';

/** One input found on disk: its path, and the relative path its outputs mirror under --out. */
export interface FoundInput {
  path: string;
  relPath: string;
}

export interface InputProblem {
  input: string;
  reason: string;
}

const BASE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'avif', 'tif', 'tiff'];

/** heic/heif only when this sharp can decode HEVC (the prebuilt binaries decode AV1 only). */
export function imageExtensions(): string[] {
  const versions = sharp.versions as Record<string, string | undefined>;
  return versions.de265 ? [...BASE_EXTENSIONS, 'heic', 'heif'] : BASE_EXTENSIONS;
}

/** fast-glob, for glob arguments only: a run over folders never loads it. */
function fastGlob(): typeof FastGlob {
  return createRequire(import.meta.url)('fast-glob') as typeof FastGlob;
}

function isGlob(pattern: string): boolean {
  return fastGlob().isDynamicPattern(pattern.replace(/\\/g, '/'));
}

/** The static folder in front of the first wildcard: `photos/**\/*.jpg` → `photos`. */
function globBase(pattern: string): string {
  const parts = pattern.replace(/\\/g, '/').split('/');
  const base: string[] = [];
  for (const part of parts) {
    // An absolute pattern starts with an empty part, which fast-glob refuses to look at.
    if (part !== '' && isGlob(part)) break;
    base.push(part);
  }
  return base.join('/') || '.';
}

/**
 * fast-glob follows folder links without a cycle check, and two links back up a tree make its walk
 * exponential. Following links stops at a link whose target is the real path of one of the folders
 * it was reached through: the link is then reported to fast-glob as broken, so it is not entered.
 */
function loopSafeFs(root: string): Partial<typeof fs> {
  const realCache = new Map<string, string | null>();
  const real = (p: string): string | null => {
    let r = realCache.get(p);
    if (r === undefined) {
      try {
        r = fs.realpathSync(p);
      } catch {
        r = null;
      }
      realCache.set(p, r);
    }
    return r;
  };
  const loops = (entry: string): boolean => {
    const path = resolve(root, entry);
    const target = real(path);
    // stat has just found a folder there, so it has a real path: this only guards a race.
    // Stryker disable next-line BooleanLiteral: unreachable but in a race
    if (target === null) return false;
    const rel = relative(root, dirname(path));
    let dir = root;
    if (real(dir) === target) return true;
    // Stryker disable next-line ArrayDeclaration: a folder that does not exist never matches
    for (const part of rel ? rel.split(sep) : []) {
      dir = join(dir, part);
      if (real(dir) === target) return true;
    }
    return false;
  };
  // fast-glob (suppressErrors) takes any stat error as "not a folder to enter": what the error says
  // is never read.
  // Stryker disable ArrowFunction,StringLiteral,ObjectLiteral
  const loopError = (path: string) =>
    Object.assign(new Error(`symbolic link loop: ${path}`), { code: 'ELOOP' });
  // Stryker restore ArrowFunction,StringLiteral,ObjectLiteral
  const statAsync = ((path: fs.PathLike, ...rest: unknown[]) => {
    const cb = rest[rest.length - 1] as (err: Error | null, st?: fs.Stats) => void;
    fs.stat(path, (err, st) => {
      if (!err && st.isDirectory() && loops(String(path))) cb(loopError(String(path)));
      else cb(err, st);
    });
  }) as typeof fs.stat;
  const statSync = ((path: fs.PathLike) => {
    const st = fs.statSync(path);
    if (st.isDirectory() && loops(String(path))) throw loopError(String(path));
    return st;
  }) as typeof fs.statSync;
  return { stat: statAsync, statSync };
}

function imageNamePattern(): RegExp {
  return new RegExp(`\\.(${imageExtensions().join('|')})$`, 'i');
}

/** The entries a glob matches under `root`, relative to it; folders only when named like an image. */
async function globEntries(root: string, pattern: string, skip?: string): Promise<string[]> {
  const fg = fastGlob();
  const imageName = imageNamePattern();
  const entries = await fg([pattern], {
    cwd: root,
    fs: loopSafeFs(root),
    onlyFiles: false,
    markDirectories: true,
    dot: false,
    followSymbolicLinks: true,
    caseSensitiveMatch: false,
    suppressErrors: true,
    // One pattern a walk, and discoverInputs keeps one entry per real file anyway.
    // Stryker disable next-line BooleanLiteral: equivalent, see above
    unique: true,
    // Stryker disable next-line ArrayDeclaration: only spares work, see skip above
    ignore: skip ? [`${fg.escapePath(skip.split(sep).join('/'))}/**`] : [],
  });
  const rels: string[] = [];
  for (const entry of entries) {
    const isDir = entry.endsWith('/');
    const rel = isDir ? entry.slice(0, -1) : entry;
    // A folder a glob matched is not an input unless it is named like an image.
    if (!isDir || imageName.test(rel)) rels.push(rel);
  }
  return rels;
}

/**
 * A folder's images (folders named like one included: they are reported, not silently dropped),
 * or a glob's matches, under `root`. The output folder may sit inside an input folder: its files
 * are not inputs, nor what a link leads into it from elsewhere in the walk.
 */
async function walk(
  root: string,
  glob: string | undefined,
  exclude?: string,
): Promise<FoundInput[]> {
  // Skipping the output folder only spares walking it: the filter at the end drops its files.
  const skip = exclude && isInside(root, exclude) ? relative(root, exclude) : undefined;
  let rels: string[];
  if (glob === undefined) {
    const imageName = imageNamePattern();
    rels = await walkFolder(root, (name) => imageName.test(name), skip);
  } else {
    rels = await globEntries(root, glob, skip);
  }
  const found = rels.map((rel) => ({ path: resolve(root, rel), relPath: rel }));
  if (!exclude) return found;
  const realExclude = await realpath(exclude).catch(() => exclude);
  const kept: FoundInput[] = [];
  for (const f of found) {
    const real = await realpath(f.path).catch(() => f.path);
    if (!isInside(exclude, f.path) && !isInside(realExclude, real)) kept.push(f);
  }
  return kept;
}

/** Where an entry really is: its real path, or for a broken link its real folder and its name. */
async function identity(path: string): Promise<string | undefined> {
  const real = await realpath(path).catch(() => undefined);
  if (real !== undefined) return real;
  // A folder that does not resolve was only reached by going round a symlink loop: skip it.
  const dir = await realpath(dirname(path)).catch(() => undefined);
  return dir === undefined ? undefined : join(dir, basename(path));
}

/**
 * Files, folders (walked recursively, hidden entries skipped, symlinks followed; a symlink loop
 * yields each file once) and globs, in a stable order. An explicit file is taken whatever its
 * extension; walks take only the image extensions (never SVG).
 */
export async function discoverInputs(
  args: string[],
  cwd = process.cwd(),
  exclude?: string,
): Promise<{ inputs: FoundInput[]; problems: InputProblem[] }> {
  const found: FoundInput[] = [];
  const problems: InputProblem[] = [];

  for (const arg of args) {
    const abs = resolve(cwd, arg);
    let statError: unknown;
    const st = await stat(abs).catch((err: unknown) => {
      statError = err;
      return undefined;
    });
    if (st?.isDirectory()) {
      found.push(...(await walk(abs, undefined, exclude)));
    } else if (st?.isFile()) {
      found.push({ path: abs, relPath: basename(abs) });
    } else if (isGlob(arg)) {
      const base = resolve(cwd, globBase(arg));
      const pattern = relative(base, resolve(cwd, arg)).replace(/\\/g, '/');
      const matches = await walk(base, pattern, exclude);
      if (matches.length === 0)
        problems.push({ input: arg, reason: 'no file matches this pattern' });
      found.push(...matches);
    } else if (st) {
      problems.push({ input: arg, reason: 'not a regular file (a FIFO, socket or device)' });
    } else {
      problems.push({ input: arg, reason: errnoReason(statError) ?? 'no such file or folder' });
    }
  }

  // One entry per real file: symlink loops and overlapping arguments must not process it twice.
  // The shallowest path keeps the name, whatever order the walk returned them in.
  const depth = (p: string) => p.split(sep).length;
  found.sort((a, b) => depth(a.path) - depth(b.path) || compareText(a.path, b.path));
  const seen = new Set<string>();
  const inputs: FoundInput[] = [];
  for (const item of found) {
    const real = await identity(item.path);
    if (real === undefined || seen.has(real)) continue;
    seen.add(real);
    inputs.push(item);
  }
  inputs.sort((a, b) => compareText(a.path, b.path));
  return { inputs, problems };
}
