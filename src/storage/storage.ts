/** What a source is, learnt without reading its bytes. */
export interface SourceInfo {
  bytes: number;
  /** An object's ETag as the server reports it (quotes kept); local files have none. */
  etag?: string;
}

/** One object found under a listed prefix. */
export interface ListedObject {
  /** `s3://bucket/key`. */
  location: string;
  key: string;
  info: SourceInfo;
}

/**
 * Runs on a source's first bytes (all of them for a small one) and its size, before the source is
 * read whole: it may refuse the source (throw) or wait (the memory budget). `localPath` names
 * the very file being read, for a reader that needs to seek in it.
 */
export type HeadCheck = (head: Buffer, bytes: number, localPath?: string) => Promise<void>;

/**
 * Where bytes live. Locations are absolute local paths or `s3://bucket/key` URLs; every read and
 * write of the pipeline goes through here. Missing or unreadable sources throw ImageInputError;
 * anything else (a storage outage) may be retried.
 */
export interface Storage {
  /** Size (and ETag) of a source without reading it. */
  statSource(location: string): Promise<SourceInfo>;
  /**
   * A source's bytes, whole, and what was read (its size and ETag); every one passes `check` on
   * its first bytes first. `known` is what a listing or `statSource` already said about it.
   */
  readSource(
    location: string,
    check: HeadCheck,
    known?: SourceInfo,
  ): Promise<{ data: Buffer; info: SourceInfo }>;
  /** A small text file or object (a sidecar), or undefined when it is absent or unreadable. */
  readText(location: string): Promise<string | undefined>;
  /** Size of an output, or undefined when it is absent. */
  sizeOf(location: string): Promise<number | undefined>;
  /** Makes `folder` ready to hold outputs and checks that it stays inside `root`. */
  prepareFolder(root: string, folder: string): Promise<void>;
  /**
   * Refuses (OUTPUT_CONFLICT) when any of these outputs exists and was not written by imgproc:
   * imgproc never replaces what it did not write. Objects carry imgproc's mark; local files are
   * not checked here (the daemon checks a job's folder before the job, queue/job-files.ts).
   */
  checkOwnership(locations: readonly string[]): Promise<void>;
  /**
   * Learns the sizes of what lies under an output root in one go, where that is cheaper than a
   * request per output (an object prefix holding at most `maxKeys`); files: nothing to do.
   */
  indexOutputs(root: string, maxKeys: number): Promise<void>;
  /** Writes all of `data` or nothing: readers never see half of it. */
  write(location: string, data: Buffer | string, contentType: string): Promise<void>;
  /** Removes an output; absent is fine. */
  remove(location: string): Promise<void>;
}
