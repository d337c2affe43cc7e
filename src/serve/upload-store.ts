import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatBytes } from '../pipeline/memory-budget.js';
import { TEMP_MARKER, sweepTempFiles } from '../storage/atomic-write.js';
import { HttpError } from './errors.js';
import { SNIFF_BYTES, sniff, type Sniffed } from './sniff.js';

/** An upload stored whole under its content's name. */
export interface StoredUpload {
  /** Path relative to the data folder, '/'-separated: the job's input. */
  input: string;
  bytes: number;
  sha256: string;
  format: Sniffed['format'];
  /** False when the same bytes were stored already (by an earlier upload). */
  created: boolean;
}

export interface UploadLimits {
  maxBytes: number;
  timeoutMs: number;
}

/** Counts, hashes and keeps the first bytes of what flows through; refuses past the cap. */
class Meter extends Transform {
  bytes = 0;
  readonly hash = createHash('sha256');
  head = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _enc: BufferEncoding,
    done: (err?: Error | null, data?: Buffer) => void,
  ) {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(tooLarge(this.maxBytes));
      return;
    }
    if (this.head.length < SNIFF_BYTES) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, SNIFF_BYTES - this.head.length)]);
    }
    this.hash.update(chunk);
    done(null, chunk);
  }
}

export function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    413,
    'UPLOAD_TOO_LARGE',
    `the upload is larger than this server takes (${formatBytes(maxBytes)}, --max-upload)`,
    { connection: 'close' },
  );
}

/**
 * Uploads in `<data-dir>/<upload-dir>/<first 2 hex>/<sha256>.<ext>`: streamed to a temporary file
 * (never held in memory whole), then linked under the name of their content. The same bytes
 * uploaded twice are one file, so an id keeps naming one input; a partial upload leaves nothing.
 */
export class UploadStore {
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

  async save(body: Readable, limits: UploadLimits): Promise<StoredUpload> {
    const tmp = join(this.root, `${TEMP_MARKER}${process.pid}-${randomBytes(8).toString('hex')}`);
    const meter = new Meter(limits.maxBytes);
    const timer = setTimeout(() => {
      meter.destroy(
        new HttpError(
          408,
          'UPLOAD_TIMEOUT',
          `the upload did not arrive whole within ${limits.timeoutMs / 1000} s (--upload-timeout)`,
          { connection: 'close' },
        ),
      );
    }, limits.timeoutMs);
    // The body is piped by hand: on a refusal it is only let go of, never destroyed, since
    // destroying a request resets the connection before the client can read the 413.
    const written = pipeline(meter, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    const onBodyError = (err: Error) => meter.destroy(err);
    body.on('error', onBodyError);
    body.pipe(meter);
    try {
      await written;
      // A multipart file cut at the plugin's own limit ends early instead of failing.
      if ((body as { truncated?: boolean }).truncated) throw tooLarge(limits.maxBytes);
    } catch (err) {
      body.unpipe(meter);
      body.pause();
      await rm(tmp, { force: true });
      throw aborted(err);
    } finally {
      clearTimeout(timer);
      body.off('error', onBodyError);
      // A client gone after the refusal is no crash.
      body.on('error', () => undefined);
    }
    try {
      if (meter.bytes === 0) {
        throw new HttpError(400, 'EMPTY_UPLOAD', 'the upload is empty (0 bytes)');
      }
      const sha256 = meter.hash.digest('hex');
      const { format, ext } = sniff(meter.head);
      const shard = sha256.slice(0, 2);
      const rel = `${this.uploadDir}/${shard}/${sha256}.${ext}`;
      const created = await this.place(tmp, shard, join(this.dataDir, rel));
      return { input: rel, bytes: meter.bytes, sha256, format, created };
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
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

  /** Takes back an upload this request created, when its job was refused. */
  async discard(upload: StoredUpload): Promise<void> {
    if (upload.created) await rm(join(this.dataDir, upload.input), { force: true });
  }
}

/** A client that went away mid-upload is a 400 nobody reads; keep our own errors as they are. */
function aborted(err: unknown): unknown {
  if (err instanceof HttpError) return err;
  const code = (err as { code?: unknown }).code;
  if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'ECONNABORTED') {
    return new HttpError(400, 'UPLOAD_ABORTED', 'the upload was cut off before its end');
  }
  return err;
}
