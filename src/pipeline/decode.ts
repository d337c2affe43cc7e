import sharp, { type Metadata } from '../sharp.js';
import type { DecodePolicy } from '../backends/backend.js';
import { stableVipsErrors, withWarnings } from '../backends/vips-errors.js';
import { ImageInputError } from '../errors.js';
import type { RawImage, Size } from '../types.js';
import { decodesAtEighthScale, pruneScansForEighthScale } from './jpeg-scans.js';
import type { DeclaredPixels } from './memory-budget.js';
import { tiffMarksAlpha } from './tiff-extra-samples.js';

export interface SourceInfo {
  /** Format as a user names it: jpeg, png, webp, gif, tiff, avif, heif, … */
  format: string;
  /** Displayed size, EXIF orientation applied. */
  width: number;
  height: number;
  hasAlpha: boolean;
  /** EXIF orientation, 1 when absent. */
  orientation: number;
  /** Progressive JPEG. */
  progressive: boolean;
  /** Raw EXIF and XMP blocks, for --keep-metadata. */
  exif?: Buffer;
  xmp?: Buffer;
  /** The stored pixels as the header declares them: what the memory estimate is made from. */
  declared: DeclaredPixels;
}

/** Raster formats imgproc takes; libvips' other loaders (SVG, raw pixels, …) are refused. */
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

// libvips reads these at a fraction of full size for free (JPEG DCT scaling, WebP scaled decode).
const CHEAP_SHRINK_FORMATS = new Set(['jpeg', 'webp']);

/** Magic numbers of image formats that are real images but that this build cannot decode. */
const KNOWN_UNSUPPORTED: ReadonlyArray<[string, (b: Buffer) => boolean]> = [
  ['BMP', (b) => b.subarray(0, 2).toString('latin1') === 'BM'],
  ['PSD', (b) => b.subarray(0, 4).toString('latin1') === '8BPS'],
  ['ICO', (b) => b.readUInt32BE(0) === 0x00000100],
  ['JPEG 2000', (b) => b.subarray(4, 8).toString('latin1') === 'jP  '],
  [
    'JPEG XL',
    (b) => b.readUInt16BE(0) === 0xff0a || b.subarray(4, 8).toString('latin1') === 'JXL ',
  ],
];

/** Whether the first bytes are those of a format imgproc decodes (the list in RASTER_FORMATS). */
export function hasDecodableSignature(head: Buffer): boolean {
  const ascii = (from: number, to: number) => head.subarray(from, to).toString('latin1');
  if (head.length < 12) return false;
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return true; // JPEG
  if (head.readUInt32BE(0) === 0x89504e47) return true; // PNG
  if (ascii(0, 4) === 'GIF8') return true;
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return true;
  if (['II*\0', 'MM\0*', 'II+\0', 'MM\0+'].includes(ascii(0, 4))) return true; // TIFF, BigTIFF
  return ascii(4, 8) === 'ftyp'; // HEIF, AVIF
}

/**
 * `limitInputChannels: false`: admission already counts every band of an image against
 * --max-memory (memory-budget.ts), and sharp's own default (5 since 0.35) would refuse the TIFFs
 * with extra samples that decode() reduces to their colour bands and alpha.
 */
const SHARP_OPTIONS = { failOn: 'error', sequentialRead: true, limitInputChannels: false } as const;

function classifyUnreadable(buf: Buffer, err: unknown): ImageInputError {
  const msg = err instanceof Error ? err.message : String(err);
  if (buf.length >= 8) {
    for (const [name, test] of KNOWN_UNSUPPORTED) {
      if (test(buf)) {
        return new ImageInputError(
          'UNSUPPORTED_FORMAT',
          `unsupported format (${name})`,
          'convert it to JPEG, PNG, WebP, AVIF or TIFF',
        );
      }
    }
  }
  if (/unsupported image format/i.test(msg)) {
    return new ImageInputError(
      'NOT_AN_IMAGE',
      'not an image (no known image signature)',
      'check that the file is really an image and not mislabelled',
    );
  }
  return corrupt(msg);
}

function corrupt(msg: string): ImageInputError {
  return new ImageInputError(
    'CORRUPT',
    `corrupt or truncated image: ${msg.split('\n')[0]}`,
    're-export or re-upload the original',
  );
}

function formatName(meta: Metadata): string {
  if (meta.format === 'heif') return meta.compression === 'av1' ? 'avif' : 'heif';
  return meta.format ?? 'unknown';
}

/** Bytes per band of each libvips band format. */
const SAMPLE_BYTES: Record<string, number> = {
  uchar: 1,
  char: 1,
  ushort: 2,
  short: 2,
  uint: 4,
  int: 4,
  float: 4,
  complex: 8,
  double: 8,
  dpcomplex: 16,
};

/**
 * Reads the header only: format, size, alpha. Refuses bombs before a single pixel is decoded.
 * `input` is the file's bytes, or a path libvips reads the header from; `head` is the file's first
 * bytes, for naming formats libvips does not know.
 */
export async function readHeader(
  input: Buffer | string,
  maxPixels: number,
  head: Buffer = typeof input === 'string' ? Buffer.alloc(0) : input,
): Promise<SourceInfo> {
  if (Buffer.isBuffer(input) && input.length === 0) {
    throw new ImageInputError('EMPTY', 'empty file (0 bytes)', 'the upload or copy did not finish');
  }
  let meta: Metadata;
  try {
    // The header is read without sharp's own pixel limit: ours is checked next, with a clear reason.
    meta = await stableVipsErrors(() =>
      withWarnings(sharp(input, { ...SHARP_OPTIONS, limitInputPixels: false }), (image) =>
        image.metadata(),
      ),
    );
  } catch (err) {
    throw classifyUnreadable(head, err);
  }
  if (!RASTER_FORMATS.has(meta.format ?? '')) {
    // Whatever the name says: an SVG called photo.png is not rasterised from untrusted uploads.
    throw new ImageInputError(
      'UNSUPPORTED_FORMAT',
      `unsupported format (${String(meta.format ?? 'unknown').toUpperCase()})`,
      'convert it to JPEG, PNG, WebP, AVIF or TIFF',
    );
  }
  if (!meta.width || !meta.height) throw corrupt('no image size in the header');
  // Only the first frame is decoded, so that is what counts towards the limit.
  const declared = meta.width * (meta.pageHeight ?? meta.height);
  if (declared > maxPixels) {
    throw new ImageInputError(
      'TOO_MANY_PIXELS',
      `too many pixels: ${meta.width}x${meta.pageHeight ?? meta.height} = ${declared} > --max-pixels ${maxPixels}`,
      'raise --max-pixels if the image is genuine',
    );
  }
  const swap = (meta.orientation ?? 1) >= 5;
  const height = meta.pageHeight ?? meta.height;
  const format = formatName(meta);
  return {
    format,
    width: swap ? height : meta.width,
    height: swap ? meta.width : height,
    hasAlpha: meta.hasAlpha ?? false,
    orientation: meta.orientation ?? 1,
    progressive: meta.isProgressive ?? false,
    exif: meta.exif,
    xmp: meta.xmp,
    declared: {
      format,
      width: meta.width,
      height,
      bands: meta.channels ?? 4,
      sampleBytes: SAMPLE_BYTES[meta.depth ?? ''] ?? 4,
      frames: meta.pages ?? 1,
    },
  };
}

/** The size to decode to: the largest output, or full size where shrinking on load is not free. */
export function decodeSize(info: SourceInfo, largestOutput: Size, policy: DecodePolicy): Size {
  if (policy === 'full-unless-cheap-shrink' && !CHEAP_SHRINK_FORMATS.has(info.format)) {
    return { width: info.width, height: info.height };
  }
  return largestOutput;
}

/**
 * The bytes handed to libvips for a decode to `size`: the file itself, or, for a progressive JPEG
 * that libvips will read at 1/8 scale, the same JPEG without the scans that scale never reads
 * (same pixels, a fraction of the entropy decoding; see jpeg-scans.ts).
 */
export function bytesToDecode(buf: Buffer, info: SourceInfo, size: Size): Buffer {
  if (info.format !== 'jpeg' || !info.progressive) return buf;
  const swap = info.orientation >= 5;
  const stored = swap ? { width: info.height, height: info.width } : info;
  const target = swap ? { width: size.height, height: size.width } : size;
  return decodesAtEighthScale(stored, target) ? (pruneScansForEighthScale(buf) ?? buf) : buf;
}

/** Colour bands, then alpha where the file marks one: TIFF extra samples beyond them are dropped. */
function keepBands(
  image: RawImage | { data: Buffer; width: number; height: number; channels: number },
  keep: 3 | 4,
): RawImage {
  const { data, width, height, channels } = image;
  if (channels === keep) return { data, width, height, channels: keep };
  const out = Buffer.allocUnsafe(width * height * keep);
  for (let src = 0, dst = 0; dst < out.length; src += channels, dst += keep) {
    for (let b = 0; b < keep; b++) out[dst + b] = data[src + b]!;
  }
  return { data: out, width, height, channels: keep };
}

/**
 * Decodes once, to 8-bit sRGB (ICC, CMYK, 16-bit, grey handled), EXIF orientation applied, alpha
 * kept, first frame only, resized on load to `size` (antialiased, premultiplied).
 */
export async function decode(
  buf: Buffer,
  info: SourceInfo,
  size: Size,
  maxPixels: number,
): Promise<RawImage> {
  const input = bytesToDecode(buf, info, size);
  const resized = size.width !== info.width || size.height !== info.height;
  const extraBands = info.declared.bands > 4 && info.format === 'tiff';
  try {
    return await stableVipsErrors(async () => {
      let pipeline = sharp(input, { ...SHARP_OPTIONS, limitInputPixels: maxPixels }).rotate();
      if (extraBands) {
        // libvips would take the last extra band for alpha: drop the extras before any resampling.
        const full = await withWarnings(pipeline, (image) =>
          image.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }),
        );
        const image = keepBands(
          {
            data: full.data,
            width: full.info.width,
            height: full.info.height,
            channels: full.info.channels,
          },
          tiffMarksAlpha(buf) ? 4 : 3,
        );
        pipeline = sharp(image.data, { raw: image });
      }
      if (resized) {
        pipeline = pipeline.resize(size.width, size.height, { kernel: 'lanczos3', fit: 'fill' });
      }
      pipeline = pipeline.toColourspace('srgb');
      const alpha = extraBands ? tiffMarksAlpha(buf) : info.hasAlpha;
      pipeline = alpha ? pipeline.ensureAlpha() : pipeline.removeAlpha();
      const { data, info: out } = await withWarnings(pipeline, (image) =>
        image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }),
      );
      const channels = out.channels;
      if (channels !== 3 && channels !== 4) throw new Error(`unexpected ${channels} channels`);
      return { data, width: out.width, height: out.height, channels };
    });
  } catch (err) {
    throw corrupt(err instanceof Error ? err.message : String(err));
  }
}
