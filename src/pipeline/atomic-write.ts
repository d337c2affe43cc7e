import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Marks temporary files so that a re-run can sweep the ones a killed run left behind. */
export const TEMP_MARKER = '.imgproc-tmp-';

/** Writes to a temporary name in the same folder, then renames: readers never see half a file. */
export async function writeAtomic(
  path: string,
  data: Buffer | string,
  { ensureDir = true } = {},
): Promise<void> {
  if (ensureDir) await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`;
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
  });
  await Promise.all(stale.map((f) => rm(f, { force: true })));
  return stale.length;
}
