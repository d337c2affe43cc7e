import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Marks temporary files so that a re-run can sweep the ones a killed run left behind. */
export const TEMP_MARKER = '.imgproc-tmp-';

/** Writes to a temporary name in the same folder, then renames: readers never see half a file. */
export async function writeAtomic(
  path: string,
  data: Buffer | string,
  { ensureDir = true } = {},
): Promise<void> {
  if (ensureDir) await mkdir(dirname(path), { recursive: true });
  // A short name of its own: appending to a long output name could pass the 255-byte limit.
  const tmp = join(dirname(path), `${TEMP_MARKER}${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Removes temporary files that a killed run left behind under `dir`; returns how many. */
export async function sweepTempFiles(dir: string): Promise<number> {
  const { default: fg } = await import('fast-glob');
  const stale = await fg(`**/*${TEMP_MARKER}*`, {
    cwd: dir,
    dot: true,
    absolute: true,
    suppressErrors: true,
    // Never reach through a link inside the output folder into someone else's files.
    followSymbolicLinks: false,
  });
  await Promise.all(stale.map((f) => rm(f, { force: true })));
  return stale.length;
}
