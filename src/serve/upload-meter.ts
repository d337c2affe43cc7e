import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { formatBytes } from '../pipeline/memory-budget.js';
import { HttpError } from './errors.js';
import { SNIFF_BYTES, sniff, type Sniffed } from './sniff.js';

export interface UploadLimits {
  maxBytes: number;
  timeoutMs: number;
  /** The body's length when declared (a raw upload's Content-Length): known before it arrives. */
  declaredBytes?: number;
}

/** What an upload turned out to be, once it has passed through whole. */
export interface Metered {
  bytes: number;
  sha256: string;
  sniffed: Sniffed;
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
 * Streams a request body through `write` (to a file, to an object) while it is counted, hashed,
 * sniffed and held to the size and time limits; never held in memory whole. Throws an HttpError
 * for a refused, empty or cut-off upload; `write` leaves its partial result for the caller to
 * remove.
 */
export async function receiveMetered(
  body: Readable,
  limits: UploadLimits,
  write: (data: Readable) => Promise<unknown>,
): Promise<Metered> {
  const meter = new Meter(limits.maxBytes);
  // Its failure is the writer's to report (through `write`): never an unhandled 'error'.
  meter.on('error', () => undefined);
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
  const written = write(meter);
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
    throw aborted(err);
  } finally {
    clearTimeout(timer);
    body.off('error', onBodyError);
    // A client gone after the refusal is no crash.
    body.on('error', () => undefined);
  }
  if (meter.bytes === 0) throw new HttpError(400, 'EMPTY_UPLOAD', 'the upload is empty (0 bytes)');
  return { bytes: meter.bytes, sha256: meter.hash.digest('hex'), sniffed: sniff(meter.head) };
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
