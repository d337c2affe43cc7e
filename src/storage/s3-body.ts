import type { Readable } from 'node:stream';
import { StorageError } from './s3-errors.js';

export function changed(url: string, bytes: number | undefined, expected: number): StorageError {
  return new StorageError(
    `${url} changed while it was read (${bytes ?? 'unknown'} bytes, ${expected} expected)`,
    'run again',
  );
}

/**
 * A GET's body, taken off the connection only as far as it is asked for, into one buffer of the
 * size the server announced and never beyond it: the first bytes can be judged while the rest
 * waits in the connection, and left there.
 */
export class ObjectBody {
  private readonly data: Buffer;
  private filled = 0;
  private readonly chunks: AsyncIterator<Uint8Array>;

  constructor(
    private readonly stream: (Readable & AsyncIterable<Uint8Array>) | undefined,
    readonly size: number,
    private readonly url: string,
    /** Turns a failure of the connection into one clear error. */
    private readonly fail: (err: unknown) => Promise<Error>,
  ) {
    this.data = Buffer.allocUnsafe(size);
    this.chunks = stream?.[Symbol.asyncIterator]() ?? {
      next: async () => ({ done: true, value: undefined }),
    };
  }

  /** The first `length` bytes (all of a shorter object). */
  async head(length: number): Promise<Buffer> {
    await this.fillTo(Math.min(length, this.size));
    return this.data.subarray(0, Math.min(length, this.filled));
  }

  /** Every byte. */
  async whole(): Promise<Buffer> {
    await this.fillTo(Infinity);
    return this.data.subarray(0, this.filled);
  }

  /** Leaves the rest unread: the connection is closed. */
  abort(): void {
    this.stream?.destroy();
  }

  private async fillTo(target: number): Promise<void> {
    try {
      while (this.filled < target) {
        const { value, done } = await this.chunks.next();
        if (done) return;
        if (this.filled + value.length > this.size) {
          this.abort();
          throw changed(this.url, this.filled + value.length, this.size);
        }
        this.data.set(value, this.filled);
        this.filled += value.length;
      }
    } catch (err) {
      throw await this.fail(err);
    }
  }
}
