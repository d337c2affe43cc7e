// s3rver's file store does every file operation through Node's thread pool: about a dozen for a
// PUT (the object, its MD5 and its metadata, each opened, written and closed) and as many for a
// GET, each a hand-off to another thread and back, which cost the server about a third of its CPU.
// syncFileStore does the same operations on the same files, in the same layout, synchronously: the
// server answers one client's requests, and a file operation then costs one system call.
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';

const require = createRequire(import.meta.url);
const S3Object = require('s3rver/lib/models/object.js');
const { pick, pickBy } = createRequire(require.resolve('s3rver'))('lodash');

const CHUNK = 64 * 1024;

/** Bytes `start` to `end` (inclusive) of a file, read as the connection takes them. */
class FileRange extends Readable {
  constructor(fd, { start, end }) {
    super({ highWaterMark: CHUNK });
    this.fd = fd;
    this.position = start;
    this.end = end;
  }

  _read() {
    const length = Math.min(CHUNK, this.end - this.position + 1);
    const chunk = Buffer.allocUnsafe(Math.max(length, 0));
    const got = length > 0 ? readSync(this.fd, chunk, 0, length, this.position) : 0;
    if (got === 0) {
      this.push(null);
      return;
    }
    this.position += got;
    this.push(got < length ? chunk.subarray(0, got) : chunk);
  }

  _destroy(err, done) {
    closeSync(this.fd);
    done(err);
  }
}

/** `read()`, or undefined where the file is missing. */
function unlessMissing(read) {
  try {
    return read();
  } catch (err) {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Replaces the file operations of s3rver's FilesystemStore (lib/stores/filesystem.js, 3.7) with
 * synchronous ones, each method as it is there: what a request answers does not change. Only
 * `putObject` of a whole Buffer: a streamed body must be gathered first (s3rver-process.mjs).
 */
export function syncFileStore(store) {
  const putMetadata = (bucket, key, metadata, md5) => {
    const json = {
      ...pick(metadata, S3Object.ALLOWED_METADATA),
      ...pickBy(metadata, (_, name) => name.startsWith('x-amz-meta-')),
    };
    if (md5) writeFileSync(store.getResourcePath(bucket, key, 'object.md5'), md5);
    writeFileSync(
      store.getResourcePath(bucket, key, 'metadata.json'),
      JSON.stringify(json, null, 2),
    );
  };

  store.putMetadata = async (bucket, key, metadata, md5) => putMetadata(bucket, key, metadata, md5);

  store.getMetadata = async (bucket, key) => {
    const objectPath = store.getResourcePath(bucket, key, 'object');
    // ENOENT where there is no object, which callers expect.
    const stat = statSync(objectPath);
    const stored = unlessMissing(() =>
      JSON.parse(readFileSync(store.getResourcePath(bucket, key, 'metadata.json'), 'utf8')),
    );
    let md5 = unlessMissing(() => readFileSync(`${objectPath}.md5`, 'utf8'));
    if (md5 === undefined) {
      md5 = createHash('md5').update(readFileSync(objectPath)).digest('hex');
      writeFileSync(`${objectPath}.md5`, md5);
    }
    return {
      ...stored,
      etag: JSON.stringify(md5),
      'last-modified': stat.mtime.toUTCString(),
      'content-length': stat.size,
    };
  };

  store.putObject = async (object) => {
    if (!Buffer.isBuffer(object.content)) throw new TypeError('putObject takes a Buffer');
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    mkdirSync(dirname(objectPath), { recursive: true });
    writeFileSync(objectPath, object.content);
    const md5 = createHash('md5').update(object.content).digest('hex');
    putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: object.content.length, md5 };
  };

  store.getObject = async (bucket, key, options) => {
    try {
      const metadata = await store.getMetadata(bucket, key);
      const lastByte = Math.max(0, Number(metadata['content-length']) - 1);
      const range = {
        start: options?.start || 0,
        end: Math.min(options?.end || Infinity, lastByte),
      };
      const ranged = Boolean(options && (options.start !== undefined || options.end));
      const satisfiable = range.start >= 0 && Math.min(range.end, lastByte) >= range.start;
      const content = satisfiable
        ? new FileRange(openSync(store.getResourcePath(bucket, key, 'object'), 'r'), range)
        : null;
      const found = new S3Object(bucket, key, content, metadata);
      if (ranged) found.range = range;
      return found;
    } catch (err) {
      if (err.code === 'ENOENT') return null;
      throw err;
    }
  };
}
