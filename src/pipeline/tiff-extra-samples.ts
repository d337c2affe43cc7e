/** TIFF tag ExtraSamples: what each band beyond the colour bands holds. */
const EXTRA_SAMPLES = 338;
/** ExtraSamples values that mark an alpha band: associated (premultiplied) and unassociated. */
const ALPHA_KINDS = new Set([1, 2]);

/**
 * Whether the first extra band of a TIFF's first image is marked as alpha. libvips takes any band
 * beyond the colour ones for alpha; the file says which, if any, really is.
 */
export function tiffMarksAlpha(buf: Buffer): boolean {
  if (buf.length < 8) return false;
  const order = buf.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return false;
  const le = order === 'II';
  const u16 = (at: number) => (le ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const u32 = (at: number) => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  // Classic TIFF only; BigTIFF (43) keeps the same tag in 20-byte entries.
  const big = u16(2) === 43;
  const ifd = big ? Number(le ? buf.readBigUInt64LE(8) : buf.readBigUInt64BE(8)) : u32(4);
  const entrySize = big ? 20 : 12;
  const countSize = big ? 8 : 2;
  if (ifd + countSize > buf.length) return false;
  const entries = big ? Number(le ? buf.readBigUInt64LE(ifd) : buf.readBigUInt64BE(ifd)) : u16(ifd);
  for (let i = 0; i < entries; i++) {
    const at = ifd + countSize + i * entrySize;
    if (at + entrySize > buf.length) return false;
    if (u16(at) !== EXTRA_SAMPLES) continue;
    // SHORT values; the first is inline in the entry's value field whatever the count.
    const valueAt = at + (big ? 12 : 8);
    const count = big
      ? Number(le ? buf.readBigUInt64LE(at + 4) : buf.readBigUInt64BE(at + 4))
      : u32(at + 4);
    const inline = count * 2 <= (big ? 8 : 4);
    const first = inline
      ? valueAt
      : big
        ? Number(le ? buf.readBigUInt64LE(valueAt) : buf.readBigUInt64BE(valueAt))
        : u32(valueAt);
    if (first + 2 > buf.length) return false;
    return ALPHA_KINDS.has(u16(first));
  }
  return false;
}
