import { constants } from 'node:fs';
import { access, mkdir, realpath, rmdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FatalError, UsageError, errorMessage, resourceCode } from '../errors.js';

/** Why a folder cannot be made, in words instead of an errno. */
function cannotCreate(err: unknown, parent: string): string {
  switch (resourceCode(err) ?? (err as NodeJS.ErrnoException).code) {
    case 'EACCES':
    case 'EPERM':
      return `permission denied in ${parent}`;
    case 'EROFS':
      return `${parent} is on a read-only file system`;
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return `disk quota exceeded in ${parent}`;
    case 'ENOENT':
      // An existing folder that refuses new entries: /proc, /sys and the like.
      return `${parent} does not take new folders`;
    default:
      return errorMessage(err);
  }
}

/**
 * Checks --out before anything slow (discovery, the GPU probe), and creates it unless `create` is
 * false (dry run); returns the folders it made. Folders are made one level at a time: Node's recursive mkdir loops forever on
 * a file system such as /proc that refuses them.
 */
export async function prepareOutputFolder(outDir: string, create: boolean): Promise<string[]> {
  const missing: string[] = [];
  let existing = outDir;
  for (;;) {
    const st = await stat(existing).catch((err: NodeJS.ErrnoException) => err);
    if (!(st instanceof Error)) {
      if (st.isDirectory()) break;
      throw new FatalError(
        existing === outDir
          ? `cannot create output folder ${outDir}: it is a file, not a folder`
          : `cannot create output folder ${outDir}: ${existing} is a file, not a folder`,
      );
    }
    const parent = dirname(existing);
    if ((st.code !== 'ENOENT' && st.code !== 'ENOTDIR') || parent === existing) {
      throw new FatalError(`cannot use output folder ${outDir}: ${errorMessage(st)}`);
    }
    missing.unshift(existing);
    existing = parent;
  }
  if (!create) {
    await access(existing, constants.W_OK).catch(() => {
      throw new FatalError(`output folder ${outDir} is not writable: permission denied`);
    });
    return [];
  }
  const created: string[] = [];
  for (const dir of missing) {
    await mkdir(dir).then(
      () => created.push(dir),
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') return;
        throw new FatalError(
          `cannot create output folder ${outDir}: ${cannotCreate(err, dirname(dir))}`,
        );
      },
    );
  }
  return created;
}

/** Undoes `prepareOutputFolder` when the run stops before its first write. */
export async function removeCreatedFolders(created: string[]): Promise<void> {
  for (const dir of [...created].reverse()) await rmdir(dir).catch(() => undefined);
}

/** An input folder that is --out itself would yield nothing: its outputs are never inputs. */
export async function refuseOutputAsInput(inputs: string[], outDir: string): Promise<void> {
  const realOut = await realpath(outDir).catch(() => outDir);
  for (const input of inputs) {
    const abs = resolve(input);
    const st = await stat(abs).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    if (abs === outDir || (await realpath(abs).catch(() => abs)) === realOut) {
      throw new UsageError(
        `--out ${outDir} is also the input folder ${input}: outputs are never taken as inputs, ` +
          'so nothing would be processed; give another --out (a subfolder of the input is fine)',
      );
    }
  }
}
