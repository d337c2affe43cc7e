import { constants as fsConstants, existsSync } from 'node:fs';
import { open, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { ImageInputError, errnoReason, writeError } from '../errors.js';
import { realInside } from '../paths.js';
import { makeFolder, writeAtomic } from './atomic-write.js';
import type { HeadCheck, SourceInfo, Storage } from './storage.js';

/** What `check` sees of a source: enough for the header of nearly every format. */
const HEAD_BYTES = 64 * 1024;
/** Node's Buffer cannot hold a file this large, and no image within --max-pixels needs it. */
const MAX_FILE_BYTES = 2 ** 31;
/** Read in pieces this size, so no single read holds the thread pool for long. */
const READ_CHUNK = 8 << 20;

/** Linux names an open descriptor as a path: libvips then reads the very file that was opened. */
const FD_PATHS = existsSync('/proc/self/fd');

async function readAt(
  handle: FileHandle,
  buf: Buffer,
  at: number,
  length: number,
): Promise<number> {
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(
      buf,
      at + filled,
      Math.min(READ_CHUNK, length - filled),
      at + filled,
    );
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
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
  if (code === 'ENAMETOOLONG' || code === 'EIO' || code === 'ENOTDIR') {
    return new ImageInputError('UNREADABLE', errnoReason(err)!);
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
    let handle: FileHandle | undefined;
    try {
      // Opened once, and every read is of that file. O_NONBLOCK: a FIFO must not wait for a writer.
      handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      const st = await handle.stat();
      if (st.isDirectory())
        throw new ImageInputError('NOT_A_FILE', 'is a folder, not an image file');
      if (!st.isFile()) {
        throw new ImageInputError('NOT_A_FILE', 'not a regular file (a FIFO, socket or device)');
      }
      if (st.size === 0) {
        throw new ImageInputError(
          'EMPTY',
          'empty file (0 bytes)',
          'the upload or copy did not finish',
        );
      }
      if (st.size >= MAX_FILE_BYTES) {
        throw new ImageInputError('UNREADABLE', 'file too large to read (2 GiB or more)');
      }
      const head = Buffer.allocUnsafe(Math.min(st.size, HEAD_BYTES));
      await readAt(handle, head, 0, head.length);
      await check(head, st.size, FD_PATHS ? `/proc/self/fd/${handle.fd}` : path);
      const data = Buffer.allocUnsafe(st.size);
      head.copy(data);
      const bytes = head.length + (await readAt(handle, data, head.length, st.size - head.length));
      return { data: data.subarray(0, bytes), info: { bytes } };
    } catch (err) {
      throw inputError(err);
    } finally {
      await handle?.close();
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
    await makeFolder(root).catch((err: unknown) => {
      throw writeError(err, root);
    });
    // A link planted under the output root must not carry writes elsewhere.
    if (!(await realInside(root, folder))) {
      throw new ImageInputError(
        'UNSAFE_PATH',
        `output folder ${folder} leads outside the output folder (symbolic link)`,
        'remove the link from the output folder',
      );
    }
    await makeFolder(folder).catch((err: unknown) => {
      throw writeError(err, folder);
    });
  }

  /** The batch command writes over what is in --out; the daemon checks a job's folder itself. */
  async checkOwnership(): Promise<void> {}

  /** A stat is as cheap as a look in an index. */
  async indexOutputs(): Promise<void> {}

  async write(path: string, data: Buffer | string): Promise<void> {
    await writeAtomic(path, data, { ensureDir: false });
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}
