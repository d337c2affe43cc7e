import { resolve } from 'node:path';
import { ImageInputError, UsageError } from '../errors.js';
import { isStrictlyInside } from '../paths.js';

/** One object in a bucket: `s3://bucket/key`. */
export interface ObjectAddress {
  bucket: string;
  key: string;
}

const SCHEME = /^s3:\/\//i;

/** Whether a path names an object or an object prefix (`s3://…`) rather than a local file. */
export function isObjectUrl(location: string): boolean {
  return SCHEME.test(location);
}

/** `s3://photos/u/a.jpg` → { bucket: 'photos', key: 'u/a.jpg' }; the key may be empty. */
export function parseObjectUrl(url: string): ObjectAddress {
  const rest = url.replace(SCHEME, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UsageError(
      `"${url}" does not name a bucket: expected s3://bucket/key with a valid bucket name`,
    );
  }
  return { bucket, key };
}

export function objectUrl({ bucket, key }: ObjectAddress): string {
  return `s3://${bucket}/${key}`;
}

/** An output root in canonical form: an absolute local path, or `s3://bucket/prefix` (no trailing '/'). */
export function outputRoot(location: string): string {
  if (!isObjectUrl(location)) return resolve(location);
  const { bucket, key } = parseObjectUrl(location);
  return objectUrl({ bucket, key: key.replace(/\/+$/, '') }).replace(/\/$/, '');
}

/**
 * Where `rel` ('/'-separated, built from checked parts) lands under an output root. The last line
 * of defence: a path that would leave the root is refused.
 */
export function locate(root: string, rel: string): string {
  if (isObjectUrl(root)) {
    if (rel.split('/').some((p) => p === '' || p === '.' || p === '..')) throw unsafe(rel);
    return `${root}/${rel}`;
  }
  const abs = resolve(root, rel);
  if (!isStrictlyInside(root, abs)) throw unsafe(rel);
  return abs;
}

function unsafe(rel: string): ImageInputError {
  return new ImageInputError('UNSAFE_PATH', `output path ${rel} would leave the output folder`);
}

/**
 * Whether an `s3://` location lies under one of the allowed prefixes (`s3://bucket` or
 * `s3://bucket/prefix`, canonical). Keys with empty, `.` or `..` parts are never allowed: a server
 * or proxy that normalises paths could take them elsewhere.
 */
export function objectAllowed(location: string, allow: readonly string[]): boolean {
  let at: ObjectAddress;
  try {
    at = parseObjectUrl(location);
  } catch {
    return false;
  }
  if (at.key.split('/').some((p) => p === '.' || p === '..') || at.key.includes('//')) {
    return false;
  }
  return allow.some((root) => {
    const { bucket, key } = parseObjectUrl(root);
    return bucket === at.bucket && (key === '' || at.key.startsWith(key + '/'));
  });
}
