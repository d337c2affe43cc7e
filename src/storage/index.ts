import { LocalStorage } from './local.js';
import { isObjectUrl } from './location.js';
import { ObjectStorage } from './object-storage.js';
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
export { copyObject, streamToObject } from './s3-upload.js';
export { StorageError } from './s3-errors.js';
export type { HeadCheck, ListedObject, SourceInfo, Storage } from './storage.js';

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

  indexOutputs(root: string, maxKeys: number): Promise<void> {
    return this.at(root).indexOutputs(root, maxKeys);
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
