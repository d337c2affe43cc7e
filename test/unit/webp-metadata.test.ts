import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { addWebpMetadata } from '../../src/pipeline/webp-metadata.js';

const PHOTOS = join(import.meta.dirname, '..', '..', 'fixtures', 'photos');

async function exifOf(file: string): Promise<Buffer> {
  const exif = (await sharp(join(PHOTOS, file)).metadata()).exif;
  if (!exif) throw new Error(`${file} has no EXIF`);
  return exif;
}

const pixels = (channels: 3 | 4) =>
  sharp({
    create: {
      width: 33,
      height: 17,
      channels,
      background: channels === 4 ? { r: 10, g: 200, b: 30, alpha: 0.5 } : { r: 10, g: 200, b: 30 },
    },
  });

/** The three WebP layouts an encoder can produce: lossy, lossless, and extended (alpha). */
const ENCODINGS: Array<[string, () => Promise<Buffer>]> = [
  ['lossy VP8', () => pixels(3).webp({ quality: 80 }).toBuffer()],
  ['lossless VP8L', () => pixels(3).webp({ lossless: true }).toBuffer()],
  ['VP8X with alpha', () => pixels(4).webp({ quality: 80, alphaQuality: 100 }).toBuffer()],
];

/** A minimal big-endian TIFF/EXIF block: IFD0 with Orientation = 8 and Make = "BE". */
function bigEndianExif(): Buffer {
  const b = Buffer.alloc(8 + 2 + 2 * 12 + 4);
  b.write('MM', 0, 'latin1');
  b.writeUInt16BE(42, 2);
  b.writeUInt32BE(8, 4);
  b.writeUInt16BE(2, 8);
  // Make (0x010f), ASCII, count 3, value inline "BE\0"
  b.writeUInt16BE(0x010f, 10);
  b.writeUInt16BE(2, 12);
  b.writeUInt32BE(3, 14);
  b.write('BE\0', 18, 'latin1');
  // Orientation (0x0112), SHORT, count 1, value 8
  b.writeUInt16BE(0x0112, 22);
  b.writeUInt16BE(3, 24);
  b.writeUInt32BE(1, 26);
  b.writeUInt16BE(8, 30);
  b.writeUInt32BE(0, 34);
  return b;
}

describe('addWebpMetadata', () => {
  it('returns the same bytes when there is nothing to add', async () => {
    const webp = await ENCODINGS[0]![1]();
    expect(addWebpMetadata(webp, {})).toBe(webp);
  });

  for (const [name, encode] of ENCODINGS) {
    it(`${name}: adds EXIF that sharp reads back, and the image still decodes the same`, async () => {
      const webp = await encode();
      const exif = await exifOf('gps.jpg');
      const out = addWebpMetadata(webp, { exif });
      const before = await sharp(webp).metadata();
      const after = await sharp(out).metadata();
      expect(after.exif).toBeDefined();
      expect(after.exif!.includes('imgproc fixtures')).toBe(true);
      expect(after.exif!.includes('synthetic')).toBe(true);
      expect([after.width, after.height, after.hasAlpha]).toEqual([
        before.width,
        before.height,
        before.hasAlpha,
      ]);
      // RIFF size field matches the file.
      expect(out.toString('latin1', 0, 4)).toBe('RIFF');
      expect(out.readUInt32LE(4)).toBe(out.length - 8);
      expect(out.toString('latin1', 12, 16)).toBe('VP8X');
      const [a, b] = await Promise.all([sharp(webp).raw().toBuffer(), sharp(out).raw().toBuffer()]);
      expect(b.equals(a)).toBe(true);
    });
  }

  it('resets the orientation to 1 (the pixels are already upright)', async () => {
    const exif = await exifOf('orientation-6.jpg');
    expect((await sharp(join(PHOTOS, 'orientation-6.jpg')).metadata()).orientation).toBe(6);
    const out = addWebpMetadata(await ENCODINGS[0]![1](), { exif });
    expect((await sharp(out).metadata()).orientation).toBe(1);
  });

  it('resets the orientation in big-endian EXIF too, with or without the Exif\\0\\0 prefix', async () => {
    const raw = bigEndianExif();
    for (const exif of [raw, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), raw])]) {
      const out = addWebpMetadata(await ENCODINGS[1]![1](), { exif });
      const m = await sharp(out).metadata();
      expect(m.exif).toBeDefined();
      expect(m.orientation).toBe(1);
    }
  });

  it('adds XMP, and replaces metadata already present instead of duplicating it', async () => {
    const xmp = Buffer.from('<x:xmpmeta xmlns:x="adobe:ns:meta/">imgproc-test</x:xmpmeta>');
    const exif = await exifOf('gps.jpg');
    const once = addWebpMetadata(await ENCODINGS[2]![1](), { exif, xmp });
    const twice = addWebpMetadata(once, { exif, xmp });
    const m = await sharp(twice).metadata();
    expect(m.xmp!.toString()).toContain('imgproc-test');
    expect(m.exif!.includes('synthetic')).toBe(true);
    expect(twice.length).toBe(once.length);
    const count = (fourcc: string) => twice.toString('latin1').split(fourcc).length - 1;
    expect(count('VP8X')).toBe(1);
    expect(count('EXIF')).toBe(1);
    expect(count('XMP ')).toBe(1);
  });

  it('pads odd-sized chunks so the RIFF structure stays valid', async () => {
    const exif = Buffer.concat([bigEndianExif(), Buffer.from([0])]); // odd length
    expect(exif.length % 2).toBe(1);
    const out = addWebpMetadata(await ENCODINGS[0]![1](), { exif });
    expect(out.length % 2).toBe(0);
    expect(out.readUInt32LE(4)).toBe(out.length - 8);
    expect((await sharp(out).raw().toBuffer({ resolveWithObject: true })).info.width).toBe(33);
  });

  it('refuses something that is not a WebP', () => {
    const riff = Buffer.alloc(20);
    riff.write('RIFF', 0, 'latin1');
    riff.writeUInt32LE(12, 4);
    riff.write('WEBP', 8, 'latin1');
    riff.write('JUNK', 12, 'latin1');
    expect(() => addWebpMetadata(riff, { exif: bigEndianExif() })).toThrow(/not a WebP/);
  });

  it('works on a WebP from another encoder run: the summit fixture, 900x1200', async () => {
    const webp = readFileSync(join(PHOTOS, 'trips', 'summit.webp'));
    const out = addWebpMetadata(webp, { exif: await exifOf('gps.jpg') });
    const m = await sharp(out).metadata();
    expect([m.width, m.height]).toEqual([900, 1200]);
    expect(m.exif!.includes('imgproc fixtures')).toBe(true);
    const [a, b] = await Promise.all([sharp(webp).raw().toBuffer(), sharp(out).raw().toBuffer()]);
    expect(b.equals(a)).toBe(true);
  });
});
