import { ImageInputError } from '../errors.js';
import type { ObjectStore } from './s3.js';
import type { HeadCheck, SourceInfo, Storage } from './storage.js';

/** What `check` sees of an object: enough for the header of nearly every format. */
const HEAD_BYTES = 64 * 1024;
/** As for files: Node's Buffer cannot hold more, and no image within --max-pixels needs it. */
const MAX_OBJECT_BYTES = 2 ** 31;

/**
 * How long a GET waits, its first bytes read, for the image to be admitted: long enough for a
 * header read behind busy decoders, well under the SDK's 60 s socket timeout. A budget wait longer
 * than this lets go of the GET.
 */
const HOLD_MS = 10_000;

/** True when `p` fulfils within `ms`, false when it is still pending then; rejects with it. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const done = p.then(() => true);
  done.catch(() => undefined);
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Objects behind the Storage interface: one PutObject per write is already atomic. */
export class ObjectStorage implements Storage {
  /** Sizes of the objects under one output root, from a listing: see indexOutputs. */
  private index?: { prefix: string; sizes: Map<string, number> };

  constructor(
    private readonly store: ObjectStore,
    /** How long a GET may wait, its first bytes read, for the image to be admitted. */
    private readonly holdMs = HOLD_MS,
  ) {}

  statSource(url: string): Promise<SourceInfo> {
    return this.store.stat(url);
  }

  async readSource(
    url: string,
    check: HeadCheck,
    known?: SourceInfo,
  ): Promise<{ data: Buffer; info: SourceInfo }> {
    // Sized first, so that an object counts against the memory budget as a file does.
    const size = known ?? (await this.store.stat(url));
    if (size.bytes === 0) {
      throw new ImageInputError(
        'EMPTY',
        'empty object (0 bytes)',
        'the upload or copy did not finish',
      );
    }
    if (size.bytes >= MAX_OBJECT_BYTES) {
      throw new ImageInputError('UNREADABLE', 'object too large to read (2 GiB or more)');
    }
    // One GET: the header and the size decide (refused, or admitted by the budget) while the
    // rest of the object waits in the connection.
    const { body, etag } = await this.store.open(url, size.bytes);
    const info = { bytes: size.bytes, etag };
    try {
      const head = await body.head(HEAD_BYTES);
      const judged = check(head, size.bytes);
      if (head.length >= size.bytes) {
        await judged;
        return { data: head, info };
      }
      if (await settlesWithin(judged, this.holdMs)) return { data: await body.whole(), info };
      // Held back by the budget: the connection is not kept waiting, the object is read again.
      body.abort();
      await judged;
      const again = await this.store.open(url, size.bytes);
      return { data: await again.body.whole(), info: { bytes: size.bytes, etag: again.etag } };
    } catch (err) {
      body.abort();
      throw err;
    }
  }

  async readText(url: string): Promise<string | undefined> {
    if (this.indexed(url)?.has(url) === false) return undefined;
    return this.store.readText(url);
  }

  async sizeOf(url: string): Promise<number | undefined> {
    const index = this.indexed(url);
    return index ? index.get(url) : this.store.sizeOf(url);
  }

  /**
   * Lists the root once and keeps every object's size, if it holds at most `maxKeys`: a run then
   * checks its outputs without a HEAD each. Its own writes and removals keep the index true.
   */
  async indexOutputs(root: string, maxKeys: number): Promise<void> {
    const sizes = new Map<string, number>();
    for await (const o of this.store.list(`${root}/`)) {
      // A prefix shared with far more than this run writes: a HEAD per output costs less.
      if (sizes.size >= maxKeys) return;
      sizes.set(o.location, o.info.bytes);
    }
    this.index = { prefix: `${root}/`, sizes };
  }

  private indexed(url: string): Map<string, number> | undefined {
    return this.index && url.startsWith(this.index.prefix) ? this.index.sizes : undefined;
  }

  /** Keys need no folders, and an object store has no links to follow. */
  async prepareFolder(): Promise<void> {}

  /**
   * One HEAD per key, all at once (none for a key the index knows to be free); an object without
   * imgproc's mark stops the image.
   */
  async checkOwnership(urls: readonly string[]): Promise<void> {
    const owners = await Promise.all(
      urls.map((url) =>
        this.indexed(url)?.has(url) === false ? 'absent' : this.store.ownerOf(url),
      ),
    );
    const foreign = urls.find((_, i) => owners[i] === 'foreign');
    if (foreign !== undefined) {
      throw new ImageInputError(
        'OUTPUT_CONFLICT',
        `${foreign} exists and was not written by imgproc`,
        'imgproc never replaces objects it did not write: move or delete it, or write to another prefix',
      );
    }
  }

  async write(url: string, data: Buffer | string, contentType: string): Promise<void> {
    await this.store.write(url, data, contentType);
    this.indexed(url)?.set(url, Buffer.byteLength(data));
  }

  async remove(url: string): Promise<void> {
    await this.store.remove(url);
    this.indexed(url)?.delete(url);
  }
}
