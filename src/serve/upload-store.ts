import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TEMP_MARKER, sweepTempFiles } from '../storage/atomic-write.js';
import { receiveMetered, type UploadLimits } from './upload-meter.js';
import type { Sniffed } from './sniff.js';

/** An upload received whole, still under this request's own temporary name. */
export interface ReceivedUpload {
  /** Where it goes by its content's name, and the job's input: data-folder path or s3:// URL. */
  input: string;
  bytes: number;
  sha256: string;
  format: Sniffed['format'];
  /** Its media type, by content. */
  type: string;
  /** This request's temporary file or object: the one thing a refusal removes. */
  temp: string;
}

/**
 * Where uploads go: `<2 hex>/<sha256>.<ext>` under the upload folder or prefix, named by their
 * content. Receiving streams the body to a temporary name; keeping gives it its content's name
 * (the same bytes when that name exists: it is then only marked as used now, so that its age is
 * the time since it was last uploaded); releasing removes the temporary name only. A content-named
 * upload is never removed by the server: any request with the same bytes, now or later, may be
 * using it.
 */
export interface UploadStore {
  /** Prepares the location; returns how many partial uploads of a killed server it removed. */
  prepare(): Promise<number>;
  receive(body: Readable, limits: UploadLimits): Promise<ReceivedUpload>;
  keep(upload: ReceivedUpload): Promise<void>;
  release(upload: ReceivedUpload): Promise<void>;
}

/** `<upload dir>/<first 2 hex>/<sha256>.<ext>`, '/'-separated. */
export function contentName(root: string, sha256: string, ext: string): string {
  return `${root}/${sha256.slice(0, 2)}/${sha256}.${ext}`;
}

/** A unique temporary name of this process, put beside the shards. */
export function tempName(): string {
  return `${TEMP_MARKER}${process.pid}-${randomBytes(8).toString('hex')}`;
}

/** Uploads in `<data-dir>/<upload-dir>`: a temporary file, then a hard link named by content. */
export class LocalUploads implements UploadStore {
  /** Shard folders known to exist: one mkdir each, not one per upload. */
  private readonly shards = new Set<string>();

  constructor(
    /** Real path of the data folder. */
    private readonly dataDir: string,
    /** Upload folder relative to it ('/'-separated). */
    private readonly uploadDir: string,
  ) {}

  private get root(): string {
    return join(this.dataDir, this.uploadDir);
  }

  /** Creates the folder and removes temporary files a killed server left. */
  async prepare(): Promise<number> {
    await mkdir(this.root, { recursive: true });
    return sweepTempFiles(this.root);
  }

  async receive(body: Readable, limits: UploadLimits): Promise<ReceivedUpload> {
    const temp = join(this.root, tempName());
    try {
      const m = await receiveMetered(body, limits, (data) =>
        pipeline(data, createWriteStream(temp, { flags: 'wx', mode: 0o644 })),
      );
      const { format, ext, type } = m.sniffed;
      const input = contentName(this.uploadDir, m.sha256, ext);
      return { input, bytes: m.bytes, sha256: m.sha256, format, type, temp };
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async keep(upload: ReceivedUpload): Promise<void> {
    const path = join(this.dataDir, upload.input);
    const shard = upload.sha256.slice(0, 2);
    for (let tries = 0; ; tries++) {
      if (await this.place(upload.temp, shard, path)) return;
      // The same bytes are there already: mark them used now, unless removed meanwhile.
      const now = new Date();
      try {
        await utimes(path, now, now);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || tries > 0) throw err;
      }
    }
  }

  async release(upload: ReceivedUpload): Promise<void> {
    await rm(upload.temp, { force: true });
  }

  /**
   * Links the temporary file to its content's name; false when that name exists already (the
   * same bytes: link() never replaces). A shard folder removed meanwhile is made again.
   */
  private async place(tmp: string, shard: string, path: string): Promise<boolean> {
    for (let tries = 0; ; tries++) {
      if (!this.shards.has(shard)) {
        await mkdir(join(this.root, shard), { recursive: true });
        this.shards.add(shard);
      }
      try {
        await link(tmp, path);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        if (code !== 'ENOENT' || tries > 0) throw err;
        this.shards.delete(shard);
      }
    }
  }
}
