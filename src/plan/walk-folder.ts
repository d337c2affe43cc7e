import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every entry under `root` whose name `wanted` accepts, as '/'-separated paths relative to `root`:
 * files, folders and anything else so named (a folder named like an image is reported, and walked
 * too). Hidden entries (a leading dot) are neither reported nor entered. Folder links are
 * followed, except one that leads back to a folder it was reached through (a loop), which is
 * reported like a broken link: by its name, not entered. `skip` (relative to `root`) is neither
 * reported nor entered. Folders that cannot be read are passed over. No order is promised.
 */
export async function walkFolder(
  root: string,
  wanted: (name: string) => boolean,
  skip?: string,
): Promise<string[]> {
  const found: string[] = [];
  const skipRel = skip?.split(/[\\/]+/).join('/');

  /** `dir` is reached as `rel`; `real` holds the real path of it and of every folder above it. */
  const visit = async (dir: string, rel: string, real: readonly string[]): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const below: Promise<void>[] = [];
    for (const entry of entries) {
      const name = entry.name;
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      const entryRel = rel ? `${rel}/${name}` : name;
      if (entryRel === skipRel) continue;
      let folderReal: string | undefined;
      if (entry.isDirectory()) {
        folderReal = join(real[real.length - 1]!, name);
      } else if (entry.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        if (target?.isDirectory()) {
          const targetReal = await realpath(path).catch(() => undefined);
          if (targetReal !== undefined && !real.includes(targetReal)) folderReal = targetReal;
        }
      }
      if (wanted(name)) found.push(entryRel);
      if (folderReal !== undefined) below.push(visit(path, entryRel, [...real, folderReal]));
    }
    await Promise.all(below);
  };

  const rootReal = await realpath(root).catch(() => undefined);
  if (rootReal !== undefined) await visit(root, '', [rootReal]);
  return found;
}
