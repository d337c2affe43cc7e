import { createHash } from 'node:crypto';
import { ImageInputError } from '../errors.js';
import { hasDecodableSignature, readHeader, type SourceInfo } from './decode.js';
import { formatBytes, maxPlausibleFileBytes } from './memory-budget.js';

/** Hashed in pieces this size, with a turn of the event loop between them. */
const HASH_CHUNK = 8 << 20;

/** SHA-256 without a second copy of the file, and without stalling the event loop on a big one. */
export async function sha256Hex(buf: Buffer): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < buf.length; at += HASH_CHUNK) {
    if (at > 0) await new Promise((r) => setImmediate(r));
    hash.update(buf.subarray(at, at + HASH_CHUNK));
  }
  return hash.digest('hex');
}

/** Vector images are refused whatever their size: no need to parse a large one to say so. */
function looksLikeSvg(head: Buffer): boolean {
  return /^(\uFEFF)?\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg|<svg)/i.test(
    head.toString('utf8', 0, 4096),
  );
}

/**
 * The header of a source of `bytes` bytes, from its first bytes (`head`), or, where a format keeps
 * it further on (a TIFF's directory often comes last), by libvips seeking in `localPath` when
 * there is one. Undefined when only the whole file can tell. A file larger than any genuine image
 * of its declared size is refused here, before it is read.
 */
export async function probeSource(
  head: Buffer,
  bytes: number,
  localPath: string | undefined,
  maxPixels: number,
): Promise<SourceInfo | undefined> {
  let info: SourceInfo | undefined;
  if (head.length >= bytes) {
    info = await readHeader(head, maxPixels);
  } else {
    try {
      info = await readHeader(head, maxPixels);
    } catch (err) {
      const cutShort =
        err instanceof ImageInputError && ['CORRUPT', 'NOT_AN_IMAGE'].includes(err.code);
      if (cutShort && looksLikeSvg(head)) {
        throw new ImageInputError(
          'UNSUPPORTED_FORMAT',
          'unsupported format (SVG)',
          'convert it to JPEG, PNG, WebP, AVIF or TIFF',
        );
      }
      // Cut short by the prefix: a signature we decode deserves a look at the whole file.
      if (!cutShort || !hasDecodableSignature(head)) throw err;
      if (localPath === undefined) return undefined;
      info = await readHeader(localPath, maxPixels, head);
    }
  }
  const plausible = maxPlausibleFileBytes(info.declared);
  if (bytes > plausible) {
    const { width, height } = info.declared;
    throw new ImageInputError(
      'IMPLAUSIBLE_SIZE',
      `file is ${formatBytes(bytes)}, far more than a ${width}x${height} ${info.format.toUpperCase()} can take (at most ${formatBytes(plausible)}): padded or damaged`,
      're-export the image from the original',
    );
  }
  return info;
}
