import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, parse, sep } from 'node:path';
import { writeError } from '../errors.js';

/** Marks temporary files so that a re-run can sweep the ones a killed run left behind. */
export const TEMP_MARKER = '.imgproc-tmp-';

/** A file written under a temporary name beside its target, not yet in place. */
export interface StagedFile {
  readonly path: string;
  /** Renames it onto its target. */
  commit(): Promise<void>;
  /** Removes the temporary file; harmless after a commit. */
  discard(): Promise<void>;
}

/** Writes `data` to a temporary name in the target's folder; errors name the folder. */
export async function stageFile(path: string, data: Buffer | string): Promise<StagedFile> {
  const folder = dirname(path);
  // A short name of its own: appending to a long output name could pass the 255-byte limit.
  const tmp = join(folder, `${TEMP_MARKER}${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(tmp, data);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw writeError(err, folder);
  }
  let committed = false;
  return {
    path,
    async commit() {
      try {
        await rename(tmp, path);
        committed = true;
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => undefined);
        throw writeError(err, folder);
      }
    },
    async discard() {
      if (!committed) await rm(tmp, { force: true }).catch(() => undefined);
    },
  };
}

/**
 * mkdir -p that reports the true cause: Node's recursive mkdir says ENOENT where a parent could
 * not be created on a read-only file system, so each missing level is created on its own.
 */
export async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const { root } = parse(path);
  let at = root;
  for (const part of path.slice(root.length).split(sep).filter(Boolean)) {
    at = join(at, part);
    await mkdir(at).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    });
  }
}

/** Writes to a temporary name in the same folder, then renames: readers never see half a file. */
export async function writeAtomic(
  path: string,
  data: Buffer | string,
  { ensureDir = true } = {},
): Promise<void> {
  if (ensureDir) {
    await makeFolder(dirname(path)).catch((err: unknown) => {
      throw writeError(err, dirname(path));
    });
  }
  const staged = await stageFile(path, data);
  await staged.commit();
}

/** Removes temporary files that a killed run left behind under `dir`; returns how many. */
export async function sweepTempFiles(dir: string): Promise<number> {
  const stale: string[] = [];
  // Hidden folders too; links are never followed, so no one else's files are reached through one.
  const visit = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    const below: Promise<void>[] = [];
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) below.push(visit(path));
      else if (entry.isFile() && entry.name.includes(TEMP_MARKER)) stale.push(path);
    }
    await Promise.all(below);
  };
  await visit(dir);
  await Promise.all(stale.map((f) => rm(f, { force: true })));
  return stale.length;
}
