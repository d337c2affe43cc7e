import { Storages, isObjectUrl, locate, type Storage } from '../storage/index.js';
import { optionsHash, readCurrentSidecar } from './sidecar.js';
import { sha256Hex } from './source.js';
import type { ImageTask, Sidecar } from './types.js';

const localOnly = new Storages();

/** ETags as servers send them, quotes and all; the sidecar keeps them bare. */
export function bareEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, '').replace(/"/g, '');
}

/**
 * An object's outputs are current when its sidecar records the same ETag and size: a listing or
 * a HEAD decides, and the source is not downloaded.
 */
export async function currentByEtag(
  task: ImageTask,
  storage: Storage,
  sidecarPath: string,
  options: string,
): Promise<Sidecar | undefined> {
  if (!isObjectUrl(task.input)) return undefined;
  const known = task.source ?? (await storage.statSource(task.input));
  const etag = bareEtag(known.etag);
  if (etag === undefined) return undefined;
  return readCurrentSidecar(
    storage,
    sidecarPath,
    task.outDir,
    (s) => s.etag === etag && s.bytes === known.bytes,
    options,
  );
}

/**
 * An object input's current sidecar, decided from its listing (or a HEAD) and its sidecar alone:
 * I/O only, which a batch runs many at once ahead of the images to process. Undefined for a file,
 * under --force, and whenever the outputs are not current.
 */
export async function currentObjectOutputs(
  task: ImageTask,
  storage: Storage,
): Promise<{ sidecar: Sidecar; sidecarPath: string } | undefined> {
  if (task.force || !isObjectUrl(task.input)) return undefined;
  const sidecarPath = locate(task.outDir, `${task.outputStem}.json`);
  const options = optionsHash(task.ops, task.options);
  const sidecar = await currentByEtag(task, storage, sidecarPath, options);
  return sidecar && { sidecar, sidecarPath };
}

/** Whether a run would skip this task: its sidecar records the same source and options. */
export async function isUpToDate(task: ImageTask, storage: Storage = localOnly): Promise<boolean> {
  if (task.force) return false;
  const sidecarPath = locate(task.outDir, `${task.outputStem}.json`);
  const options = optionsHash(task.ops, task.options);
  if (isObjectUrl(task.input)) {
    const current = await currentByEtag(task, storage, sidecarPath, options).catch(() => undefined);
    return current !== undefined;
  }
  const read = await storage.readSource(task.input, async () => {}).catch(() => undefined);
  if (!read) return false;
  const sha256 = await sha256Hex(read.data);
  return (
    (await readCurrentSidecar(
      storage,
      sidecarPath,
      task.outDir,
      (s) => s.sha256 === sha256,
      options,
    )) !== undefined
  );
}
