/**
 * Adds EXIF and XMP chunks to an encoded WebP (RIFF) file, for --keep-metadata. Pixels were
 * already rotated upright, so the EXIF orientation tag is reset to 1.
 */

function chunk(fourcc: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(fourcc, 0, 'latin1');
  header.writeUInt32LE(payload.length, 4);
  const pad = payload.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0);
  return Buffer.concat([header, payload, pad]);
}

function readChunks(webp: Buffer): Array<{ fourcc: string; payload: Buffer }> {
  const chunks: Array<{ fourcc: string; payload: Buffer }> = [];
  let off = 12;
  while (off + 8 <= webp.length) {
    const fourcc = webp.toString('latin1', off, off + 4);
    const size = webp.readUInt32LE(off + 4);
    chunks.push({ fourcc, payload: webp.subarray(off + 8, off + 8 + size) });
    off += 8 + size + (size % 2);
  }
  return chunks;
}

/** Canvas size and alpha from the image chunk, to build a VP8X header. */
function canvasOf(chunks: Array<{ fourcc: string; payload: Buffer }>): {
  width: number;
  height: number;
  alpha: boolean;
} {
  const vp8x = chunks.find((c) => c.fourcc === 'VP8X');
  if (vp8x) {
    return {
      width: vp8x.payload.readUIntLE(4, 3) + 1,
      height: vp8x.payload.readUIntLE(7, 3) + 1,
      alpha: (vp8x.payload[0]! & 0x10) !== 0,
    };
  }
  const vp8l = chunks.find((c) => c.fourcc === 'VP8L');
  if (vp8l) {
    const bits = vp8l.payload.readUInt32LE(1);
    return {
      width: (bits & 0x3fff) + 1,
      height: ((bits >> 14) & 0x3fff) + 1,
      alpha: ((bits >> 28) & 1) === 1,
    };
  }
  const vp8 = chunks.find((c) => c.fourcc === 'VP8 ');
  if (!vp8) throw new Error('not a WebP image');
  return {
    width: vp8.payload.readUInt16LE(6) & 0x3fff,
    height: vp8.payload.readUInt16LE(8) & 0x3fff,
    alpha: false,
  };
}

/** Strips the "Exif\0\0" prefix and sets IFD0's Orientation (0x0112) to 1. */
function uprightExif(exif: Buffer): Buffer {
  const tiff = Buffer.from(
    exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif,
  );
  if (tiff.length < 8) return tiff;
  const le = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const ifd = le ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4);
  if (ifd + 2 > tiff.length) return tiff;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) break;
    if (u16(entry) === 0x0112) {
      if (le) tiff.writeUInt16LE(1, entry + 8);
      else tiff.writeUInt16BE(1, entry + 8);
    }
  }
  return tiff;
}

export function addWebpMetadata(webp: Buffer, meta: { exif?: Buffer; xmp?: Buffer }): Buffer {
  if (!meta.exif && !meta.xmp) return webp;
  const chunks = readChunks(webp);
  const { width, height, alpha } = canvasOf(chunks);
  const flags = (alpha ? 0x10 : 0) | (meta.exif ? 0x08 : 0) | (meta.xmp ? 0x04 : 0);
  const vp8x = Buffer.alloc(10);
  vp8x[0] = flags;
  vp8x.writeUIntLE(width - 1, 4, 3);
  vp8x.writeUIntLE(height - 1, 7, 3);
  const body = [chunk('VP8X', vp8x)];
  for (const c of chunks) {
    if (c.fourcc !== 'VP8X' && c.fourcc !== 'EXIF' && c.fourcc !== 'XMP ') {
      body.push(chunk(c.fourcc, c.payload));
    }
  }
  if (meta.exif) body.push(chunk('EXIF', uprightExif(meta.exif)));
  if (meta.xmp) body.push(chunk('XMP ', meta.xmp));
  const payload = Buffer.concat(body);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(payload.length + 4, 4);
  riff.write('WEBP', 8, 'latin1');
  return Buffer.concat([riff, payload]);
}
