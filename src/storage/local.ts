import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { ImageInputError } from '../errors.js';
import { realInside } from '../paths.js';
import { writeAtomic } from './atomic-write.js';
import type { HeadCheck, SourceInfo, Storage } from './storage.js';

/** Files up to this size are read whole at once; larger ones have their first bytes checked first. */
const CHECK_ABOVE = 1 << 20;
const HEAD_BYTES = 4096;

async function readPrefix(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** File system errors a user can act on, as one clear input error; others pass through. */
function inputError(err: unknown): unknown {
  if (err instanceof ImageInputError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_FS_FILE_TOO_LARGE') {
    return new ImageInputError('UNREADABLE', 'file too large to read (2 GiB or more)');
  }
  if (code === 'ELOOP') {
    return new ImageInputError('UNREADABLE', 'symbolic link loop', 'fix or remove the link');
  }
  if (code === 'EISDIR') {
    return new ImageInputError('NOT_A_FILE', 'is a folder, not an image file');
  }
  if (code === 'ENOENT') {
    return new ImageInputError('UNREADABLE', 'file not found', 'check the path');
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new ImageInputError('UNREADABLE', 'permission denied', 'check the file permissions');
  }
  return err;
}

/** Local files: atomic writes by temporary name and rename, symbolic links checked. */
export class LocalStorage implements Storage {
  async statSource(path: string): Promise<SourceInfo> {
    try {
      return { bytes: (await stat(path)).size };
    } catch (err) {
      throw inputError(err);
    }
  }

  async readSource(path: string, check: HeadCheck): Promise<{ data: Buffer; info: SourceInfo }> {
    try {
      // Reading a FIFO or a device would block forever: only regular files are read.
      const st = await stat(path);
      if (!st.isFile() && !st.isDirectory()) {
        throw new ImageInputError('NOT_A_FILE', 'not a regular file (a FIFO, socket or device)');
      }
      if (st.isFile() && st.size > CHECK_ABOVE) await check(await readPrefix(path, HEAD_BYTES));
      const data = await readFile(path);
      return { data, info: { bytes: data.length } };
    } catch (err) {
      throw inputError(err);
    }
  }

  async readText(path: string): Promise<string | undefined> {
    return readFile(path, 'utf8').catch(() => undefined);
  }

  async sizeOf(path: string): Promise<number | undefined> {
    return stat(path).then(
      (st) => st.size,
      () => undefined,
    );
  }

  async prepareFolder(root: string, folder: string): Promise<void> {
    await mkdir(root, { recursive: true });
    // A link planted under the output root must not carry writes elsewhere.
    if (!(await realInside(root, folder))) {
      throw new ImageInputError(
        'UNSAFE_PATH',
        `output folder ${folder} leads outside the output folder (symbolic link)`,
        'remove the link from the output folder',
      );
    }
    await mkdir(folder, { recursive: true });
  }

  async write(path: string, data: Buffer | string): Promise<void> {
    await writeAtomic(path, data, { ensureDir: false });
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}
