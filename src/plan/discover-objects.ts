import { posix } from 'node:path';
import picomatch from 'picomatch';
import { errorMessage } from '../errors.js';
import { isObjectUrl, objectUrl, parseObjectUrl } from '../storage/location.js';
import type { ObjectStore } from '../storage/s3.js';
import type { SourceInfo } from '../storage/storage.js';

/** One object found under an `s3://` argument, and the relative path its outputs mirror. */
export interface FoundObject {
  path: string;
  relPath: string;
  info: SourceInfo;
}

/** The static prefix in front of the first wildcard: `photos/**\/*.jpg` → `photos/`. */
function staticPrefix(key: string): string {
  const parts = key.split('/');
  const fixed: string[] = [];
  for (const part of parts.slice(0, -1)) {
    if (picomatch.scan(part).isGlob) break;
    fixed.push(part);
  }
  return fixed.length ? fixed.join('/') + '/' : '';
}

/** Keys with a segment that starts with '.' are hidden, as dot files are in a folder walk. */
function hidden(rel: string): boolean {
  return rel.split('/').some((p) => p.startsWith('.'));
}

/**
 * `s3://bucket/prefix/` (every image under it, listed page by page), `s3://bucket/key.jpg` (that
 * object, whatever its name) and `s3://bucket/photos/**\/*.jpg` (keys matching the glob).
 * Objects under `exclude` (an output prefix inside the input) are left out.
 */
export async function discoverObjects(
  arg: string,
  store: ObjectStore,
  imageName: RegExp,
  exclude?: string,
): Promise<{ inputs: FoundObject[]; problem?: string }> {
  let bucket: string;
  let key: string;
  try {
    ({ bucket, key } = parseObjectUrl(arg));
  } catch (err) {
    return { inputs: [], problem: errorMessage(err) };
  }
  const skip =
    exclude && isObjectUrl(exclude) && parseObjectUrl(exclude).bucket === bucket
      ? parseObjectUrl(exclude).key.replace(/\/?$/, '/')
      : undefined;
  const keep = (k: string) => !(skip && k.startsWith(skip));
  try {
    const glob = picomatch.scan(key).isGlob;
    if (!glob && key !== '' && !key.endsWith('/')) {
      // An object by its full key; if there is none, the same name as a folder-like prefix.
      const info = await store.stat(arg).catch((err: unknown) => err as Error);
      if (!(info instanceof Error)) {
        return { inputs: [{ path: arg, relPath: posix.basename(key), info }] };
      }
      const under = await listUnder(store, bucket, key + '/', (rel) => imageName.test(rel), keep);
      if (under.length > 0) return { inputs: under };
      return { inputs: [], problem: info.message };
    }
    const prefix = glob ? staticPrefix(key) : key;
    const match = glob
      ? picomatch(key.slice(prefix.length), { nocase: true, dot: false })
      : (rel: string) => imageName.test(rel);
    const found = await listUnder(store, bucket, prefix, match, keep);
    if (found.length === 0) {
      return {
        inputs: [],
        problem: glob ? 'no object matches this pattern' : 'no images under this prefix',
      };
    }
    return { inputs: found };
  } catch (err) {
    return { inputs: [], problem: errorMessage(err) };
  }
}

async function listUnder(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  match: (rel: string) => boolean,
  keep: (key: string) => boolean,
): Promise<FoundObject[]> {
  const found: FoundObject[] = [];
  for await (const o of store.list(objectUrl({ bucket, key: prefix }))) {
    const rel = o.key.slice(prefix.length);
    // Keys ending in '/' are folder markers that consoles create, not images.
    if (rel === '' || rel.endsWith('/') || hidden(rel) || !keep(o.key) || !match(rel)) continue;
    found.push({ path: o.location, relPath: rel, info: o.info });
  }
  return found;
}
