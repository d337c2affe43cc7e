/** What an upload's first bytes say it is, whatever its name or Content-Type claims. */
export interface Sniffed {
  format: 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'avif' | 'heif' | 'unknown';
  /** The extension the stored upload gets. */
  ext: string;
  /** Its media type, for an upload stored as an object. */
  type: string;
}

/** Bytes enough for every signature below. */
export const SNIFF_BYTES = 32;

const ascii = (b: Buffer, from: number, to: number) => b.toString('latin1', from, to);

/** ISO-BMFF brands (an `ftyp` box) of AVIF and HEIF files. */
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/**
 * The format by magic bytes. Unknown content is still stored and queued (as `.bin`): the daemon
 * is the one judge of what it can decode, and fails the job with its reason.
 */
export function sniff(head: Buffer): Sniffed {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    return { format: 'jpeg', ext: 'jpg', type: 'image/jpeg' };
  }
  if (
    head.length >= 8 &&
    head.readUInt32BE(0) === 0x89504e47 &&
    head.readUInt32BE(4) === 0x0d0a1a0a
  ) {
    return { format: 'png', ext: 'png', type: 'image/png' };
  }
  if (head.length >= 6 && /^GIF8[79]a$/.test(ascii(head, 0, 6)))
    return { format: 'gif', ext: 'gif', type: 'image/gif' };
  if (head.length >= 12 && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') {
    return { format: 'webp', ext: 'webp', type: 'image/webp' };
  }
  if (head.length >= 4) {
    const tiff = ascii(head, 0, 4);
    if (tiff === 'II*\0' || tiff === 'MM\0*')
      return { format: 'tiff', ext: 'tif', type: 'image/tiff' };
  }
  if (head.length >= 12 && ascii(head, 4, 8) === 'ftyp') {
    const brand = ascii(head, 8, 12);
    if (AVIF_BRANDS.has(brand)) return { format: 'avif', ext: 'avif', type: 'image/avif' };
    if (HEIF_BRANDS.has(brand)) return { format: 'heif', ext: 'heic', type: 'image/heic' };
  }
  return { format: 'unknown', ext: 'bin', type: 'application/octet-stream' };
}
