import { constants } from 'node:fs';
import { lstat, open, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ImageInputError } from '../errors.js';
import { isInside } from '../paths.js';
import type { ImageTask } from '../pipeline/types.js';
import { locate, type Storage } from '../storage/index.js';
import { inputKey } from './job.js';

/** An input opened once: `path` names the opened file itself, whatever happens to its name. */
export interface OpenedInput {
  path: string;
  close(): Promise<void>;
}

function openFailed(err: unknown): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    throw new ImageInputError('UNREADABLE', 'file not found', 'check the path');
  }
  if (code === 'EACCES' || code === 'EPERM') {
    throw new ImageInputError('UNREADABLE', 'permission denied', 'check the file permissions');
  }
  if (code === 'ELOOP') {
    throw new ImageInputError('UNREADABLE', 'symbolic link loop', 'fix or remove the link');
  }
  throw err;
}

/**
 * Opens a job's input once and checks the opened file, not its name: its real path (through the
 * descriptor) must lie inside the data folder, so a file swapped for a link to outside after the
 * job was checked is never read. The pipeline then reads the same open file through `path`.
 */
export async function openJobInput(dataDir: string, input: string, label: string) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  const handle = await open(input, constants.O_RDONLY | constants.O_NONBLOCK).catch(openFailed);
  try {
    const opened = await handle.stat();
    const linux = process.platform === 'linux';
    const viaFd = linux ? `/proc/self/fd/${handle.fd}` : `/dev/fd/${handle.fd}`;
    // Where /proc is missing, the name's real path must still lead to the very file opened.
    const real = await realpath(linux ? viaFd : input);
    const same =
      linux || (await stat(real).then((s) => s.ino === opened.ino && s.dev === opened.dev));
    if (!isInside(dataDir, real) || !same) {
      throw new ImageInputError(
        'UNSAFE_PATH',
        `input "${label}" is outside the data folder`,
        'jobs may only name paths inside --data-dir',
      );
    }
    if (opened.isDirectory()) {
      throw new ImageInputError('NOT_A_FILE', 'is a folder, not an image file');
    }
    if (!opened.isFile()) {
      throw new ImageInputError('NOT_A_FILE', 'not a regular file (a FIFO, socket or device)');
    }
    return { path: viaFd, close: () => handle.close() } satisfies OpenedInput;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The source path a sidecar's text records; 'foreign' for text that is no imgproc sidecar. */
function recordedSource(text: string): string | 'foreign' {
  try {
    const sidecar = JSON.parse(text) as { version?: unknown; source?: { path?: unknown } };
    const source = sidecar.source?.path;
    return sidecar.version === 1 && typeof source === 'string' ? source : 'foreign';
  } catch {
    return 'foreign';
  }
}

/** The source path an existing sidecar records; 'foreign' for a file that is no imgproc sidecar. */
async function sidecarSource(path: string): Promise<string | 'foreign' | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return 'foreign';
  }
  return recordedSource(text);
}

function idConflict(jobId: string, source: string): ImageInputError {
  return new ImageInputError(
    'ID_CONFLICT',
    `id "${jobId}" belongs to another input ("${source}")`,
    'give each input its own id, or leave "id" out to have one derived from the job',
  );
}

/**
 * An `s3://` output's id belongs to the input its sidecar names (ID_CONFLICT otherwise); whether
 * imgproc wrote the objects at its keys is the pipeline's check, by their metadata.
 */
export async function checkObjectIdOwner(
  task: ImageTask,
  storage: Storage,
  jobId: string,
): Promise<void> {
  const text = await storage.readText(locate(task.outDir, `${task.outputStem}.json`));
  if (text === undefined) return;
  const source = recordedSource(text);
  if (source !== 'foreign' && inputKey(source) !== inputKey(task.sourceLabel)) {
    throw idConflict(jobId, source);
  }
}

const IMAGE_OUTPUT_NAMES = ['thumb', 'blur', 'lq'] as const;

/**
 * A job may write into `<out>/<id>/` only where imgproc wrote before for the same input: a
 * sidecar name that holds no imgproc sidecar, or an output name that holds no WebP file, is
 * never replaced; an id whose sidecar names another input belongs to that input (ID_CONFLICT).
 */
export async function checkOutputOwnership(
  task: ImageTask,
  dataDir: string,
  jobId: string,
): Promise<void> {
  const sidecarPath = join(task.outDir, `${task.outputStem}.json`);
  const source = await sidecarSource(sidecarPath);
  const foreign = (path: string) =>
    new ImageInputError(
      'OUTPUT_CONFLICT',
      `${relative(dataDir, path)} exists and was not written by imgproc`,
      'imgproc never replaces files it did not write: move it, or give the job another id',
    );
  if (source === 'foreign') throw foreign(sidecarPath);
  if (source !== undefined) {
    if (inputKey(source) !== inputKey(task.sourceLabel)) throw idConflict(jobId, source);
    return;
  }
  // Outputs without a sidecar are a run cut short, if they are WebP files as imgproc writes them.
  for (const name of IMAGE_OUTPUT_NAMES) {
    const path = join(task.outDir, `${task.outputStem}_${name}.webp`);
    const head = await readHead(path, 12);
    if (head === undefined) continue;
    const webp =
      head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP';
    if (!webp) throw foreign(path);
  }
}

/** The first bytes of a file; undefined when there is none (or no regular file) at `path`. */
async function readHead(path: string, length: number): Promise<Buffer | undefined> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return undefined;
  if (!st.isFile()) return Buffer.alloc(0);
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
