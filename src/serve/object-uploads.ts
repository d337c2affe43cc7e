import type { Readable } from 'node:stream';
import { errorMessage } from '../errors.js';
import { copyObject, streamToObject, type ObjectStore } from '../storage/index.js';
import { HttpError } from './errors.js';
import { receiveMetered, type UploadLimits } from './upload-meter.js';
import { contentName, tempName, type ReceivedUpload, type UploadStore } from './upload-store.js';

/** A storage failure while an upload is stored: the client may try again. */
function unavailable(url: string, err: unknown): unknown {
  if (err instanceof HttpError) return err;
  return new HttpError(
    502,
    'STORAGE_UNAVAILABLE',
    `cannot store the upload at ${url}: ${errorMessage(err)}`,
  );
}

/**
 * Uploads under `s3://bucket/prefix` (--upload-dir), for daemons on any machine: streamed into a
 * temporary object beside the shards (as it arrives when its length is declared, else in 5 MiB
 * parts, one in flight), then copied by the server to `<2 hex>/<sha256>.<ext>` and the temporary
 * one removed. A refused upload is aborted and leaves no object.
 */
export class ObjectUploads implements UploadStore {
  constructor(
    private readonly store: ObjectStore,
    /** `s3://bucket/prefix`, canonical (no trailing '/'). */
    private readonly root: string,
  ) {}

  /** Nothing to make; partial uploads of a killed server are the bucket's lifecycle rules' job. */
  async prepare(): Promise<number> {
    return 0;
  }

  async receive(body: Readable, limits: UploadLimits): Promise<ReceivedUpload> {
    const temp = `${this.root}/${tempName()}`;
    try {
      const m = await receiveMetered(body, limits, (data) =>
        streamToObject(this.store, temp, data, { bytes: limits.declaredBytes }),
      );
      const { format, ext, type } = m.sniffed;
      const input = contentName(this.root, m.sha256, ext);
      return { input, bytes: m.bytes, sha256: m.sha256, format, type, temp };
    } catch (err) {
      // Stored whole before it was refused (empty, or cut at the form's limit): take it back.
      await this.store.remove(temp).catch(() => undefined);
      throw unavailable(temp, err);
    }
  }

  /**
   * Copied whether or not the object exists: the same bytes by their name, and its Last-Modified
   * then says when it was last uploaded (what an expiry rule goes by).
   */
  async keep(upload: ReceivedUpload): Promise<void> {
    try {
      await copyObject(this.store, upload.temp, upload.input, upload.type);
    } catch (err) {
      throw unavailable(upload.input, err);
    }
  }

  /** A temporary object that cannot be removed now is left to the bucket's lifecycle rules. */
  async release(upload: ReceivedUpload): Promise<void> {
    await this.store.remove(upload.temp).catch(() => undefined);
  }
}
