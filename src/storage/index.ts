import { LocalStorage } from './local.js';
import { isObjectUrl } from './location.js';
import { ImageInputError } from '../errors.js';
import { ObjectStore, type ObjectStoreSettings } from './s3.js';
import type { HeadCheck, SourceInfo, Storage } from './storage.js';

export {
  isObjectUrl,
  locate,
  objectAllowed,
  objectUrl,
  outputRoot,
  parseObjectUrl,
} from './location.js';
export { ObjectStore, type ObjectStoreSettings } from './s3.js';
export { StorageError } from './s3-errors.js';
export type { HeadCheck, ListedObject, SourceInfo, Storage } from './storage.js';

/** What `check` sees of an object: enough for the header of nearly every format. */
const HEAD_BYTES = 64 * 1024;
/** As for files: Node's Buffer cannot hold more, and no image within --max-pixels needs it. */
const MAX_OBJECT_BYTES = 2 ** 31;

/** Objects behind the Storage interface: one PutObject per write is already atomic. */
class ObjectStorage implements Storage {
  constructor(private readonly store: ObjectStore) {}

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
    if (size.bytes <= HEAD_BYTES) {
      const whole = await this.store.read(url, { expected: size.bytes });
      await check(whole.data, whole.data.length);
      return whole;
    }
    // The header and the size decide (refused, or admitted by the budget) before the rest moves.
    await check((await this.store.read(url, { length: HEAD_BYTES })).data, size.bytes);
    return this.store.read(url, { expected: size.bytes });
  }

  readText(url: string): Promise<string | undefined> {
    return this.store.readText(url);
  }

  sizeOf(url: string): Promise<number | undefined> {
    return this.store.sizeOf(url);
  }

  /** Keys need no folders, and an object store has no links to follow. */
  async prepareFolder(): Promise<void> {}

  /** One HEAD per key, all at once; an object without imgproc's mark stops the image. */
  async checkOwnership(urls: readonly string[]): Promise<void> {
    const owners = await Promise.all(urls.map((url) => this.store.ownerOf(url)));
    const foreign = urls.find((_, i) => owners[i] === 'foreign');
    if (foreign !== undefined) {
      throw new ImageInputError(
        'OUTPUT_CONFLICT',
        `${foreign} exists and was not written by imgproc`,
        'imgproc never replaces objects it did not write: move or delete it, or write to another prefix',
      );
    }
  }

  write(url: string, data: Buffer | string, contentType: string): Promise<void> {
    return this.store.write(url, data, contentType);
  }

  remove(url: string): Promise<void> {
    return this.store.remove(url);
  }
}

/** Local paths and `s3://` URLs behind one Storage; the AWS SDK loads only when an URL is used. */
export class Storages implements Storage {
  private readonly local = new LocalStorage();
  private store?: ObjectStore;
  private objectStorage?: ObjectStorage;

  constructor(private readonly settings: ObjectStoreSettings = { forcePathStyle: false }) {}

  /** The object store, for listing prefixes and for `imgproc doctor`. */
  get objects(): ObjectStore {
    return (this.store ??= new ObjectStore(this.settings));
  }

  private at(location: string): Storage {
    if (!isObjectUrl(location)) return this.local;
    return (this.objectStorage ??= new ObjectStorage(this.objects));
  }

  statSource(location: string): Promise<SourceInfo> {
    return this.at(location).statSource(location);
  }

  readSource(location: string, check: HeadCheck, known?: SourceInfo) {
    return this.at(location).readSource(location, check, known);
  }

  readText(location: string): Promise<string | undefined> {
    return this.at(location).readText(location);
  }

  sizeOf(location: string): Promise<number | undefined> {
    return this.at(location).sizeOf(location);
  }

  prepareFolder(root: string, folder: string): Promise<void> {
    return this.at(root).prepareFolder(root, folder);
  }

  /** Every location lies under one output root, hence in one storage. */
  checkOwnership(locations: readonly string[]): Promise<void> {
    if (locations.length === 0) return Promise.resolve();
    return this.at(locations[0]!).checkOwnership(locations);
  }

  write(location: string, data: Buffer | string, contentType: string): Promise<void> {
    return this.at(location).write(location, data, contentType);
  }

  remove(location: string): Promise<void> {
    return this.at(location).remove(location);
  }

  close(): void {
    this.store?.close();
  }
}
