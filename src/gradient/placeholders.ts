import { encode as encodeBlurHash } from 'blurhash';
import { rgbaToThumbHash } from 'thumbhash';
import type { RawImage } from '../types.js';

/** ThumbHash takes at most 100 px a side. */
const THUMBHASH_MAX_SIDE = 100;

/**
 * Longer side of ThumbHash's input. It keeps at most 7 cosine terms a side, which 16 samples
 * resolve: drawn back, the hashes of the 42 benchmark-corpus images differ from those of a 32 px
 * input by at most 9 levels of 255 (mean at most 3.1), and its encoder, the largest part of what
 * a short run spends in cold JavaScript, does a quarter of the work.
 */
const THUMBHASH_SIZE = 16;

/**
 * Longer side of BlurHash's input: 16 samples resolve its 4 components; its encoder costs ~3 ms
 * per image here against ~20 ms at 64 px, in a batch whose code the JIT has not yet warmed.
 */
const BLURHASH_SIZE = 16;

/** BlurHash components along the image's longer side (the shorter side gets its share of 4). */
const BLURHASH_COMPONENTS = 4;

export interface Placeholders {
  /** ThumbHash bytes, base64 (with alpha when the image has any). */
  thumbHash: string;
  /** BlurHash string (no alpha: transparent pixels are flattened onto white). */
  blurHash: string;
}

/** Straight-alpha RGBA of an RGB or RGBA image; RGB gets alpha 255. */
function toRgba(image: RawImage): Uint8ClampedArray {
  const n = image.width * image.height;
  if (image.channels === 4) {
    return new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, n * 4);
  }
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0, o = 0; i < n * 3; i += 3, o += 4) {
    out[o] = image.data[i]!;
    out[o + 1] = image.data[i + 1]!;
    out[o + 2] = image.data[i + 2]!;
    out[o + 3] = 255;
  }
  return out;
}

interface Rgba {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * Half size (rounded up), each pixel the alpha-weighted mean of its 2x2 block, so hidden colours do
 * not bleed. A block cut short by an odd edge repeats its pixels, which leaves each mean as it is.
 * Branch-free and integer-only in the loop: it runs cold, once or twice an image.
 */
function halve(image: Rgba): Rgba {
  const { width: sw, height: sh, data: src } = image;
  const width = (sw + 1) >> 1;
  const height = (sh + 1) >> 1;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row0 = 2 * y * sw * 4;
    const row1 = (2 * y + 1 < sh ? 2 * y + 1 : 2 * y) * sw * 4;
    for (let x = 0; x < width; x++) {
      const c0 = 2 * x * 4;
      const c1 = (2 * x + 1 < sw ? 2 * x + 1 : 2 * x) * 4;
      const i0 = row0 + c0;
      const i1 = row0 + c1;
      const i2 = row1 + c0;
      const i3 = row1 + c1;
      const a0 = src[i0 + 3]!;
      const a1 = src[i1 + 3]!;
      const a2 = src[i2 + 3]!;
      const a3 = src[i3 + 3]!;
      const a = a0 + a1 + a2 + a3;
      const o = (y * width + x) * 4;
      if (a > 0) {
        const r = src[i0]! * a0 + src[i1]! * a1 + src[i2]! * a2 + src[i3]! * a3;
        const g = src[i0 + 1]! * a0 + src[i1 + 1]! * a1 + src[i2 + 1]! * a2 + src[i3 + 1]! * a3;
        const b = src[i0 + 2]! * a0 + src[i1 + 2]! * a1 + src[i2 + 2]! * a2 + src[i3 + 2]! * a3;
        // Rounded half up, as Math.round would, in integers: floor((2v + a) / 2a).
        data[o] = Math.floor((2 * r + a) / (2 * a));
        data[o + 1] = Math.floor((2 * g + a) / (2 * a));
        data[o + 2] = Math.floor((2 * b + a) / (2 * a));
      }
      data[o + 3] = (a + 2) >> 2;
    }
  }
  return { data, width, height };
}

/** RGBA composited over white, alpha set to 255: what BlurHash, which has no alpha, should see. */
function flattenOnWhite(rgba: Uint8ClampedArray): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rgba.length);
  for (let i = 0; i < rgba.length; i += 4) {
    const a = rgba[i + 3]!;
    const keep = a / 255;
    const white = 255 - a;
    out[i] = Math.round(rgba[i]! * keep + white);
    out[i + 1] = Math.round(rgba[i + 1]! * keep + white);
    out[i + 2] = Math.round(rgba[i + 2]! * keep + white);
    out[i + 3] = 255;
  }
  return out;
}

/** BlurHash components for an image: 4 along the longer side, at least 1 along the shorter. */
export function blurHashComponents(width: number, height: number): { x: number; y: number } {
  const shorter = Math.max(
    1,
    Math.round((BLURHASH_COMPONENTS * Math.min(width, height)) / Math.max(width, height)),
  );
  return width >= height
    ? { x: BLURHASH_COMPONENTS, y: shorter }
    : { x: shorter, y: BLURHASH_COMPONENTS };
}

/** The placeholders, and the image BlurHash was made from: what the blur data URL shows. */
export interface PlaceholderSet {
  hashes: Placeholders;
  /** The sample halved to at most 16 px a side, straight alpha, the sample's channels. */
  tiny: RawImage;
}

/**
 * ThumbHash and BlurHash of the palette's sample (at most 100 px a side), halved to at most 16 px
 * a side first. Pure arithmetic on the pixels, so the same sample always gives the same strings.
 */
export function placeholders(sample: RawImage): Placeholders {
  return placeholderSet(sample).hashes;
}

/** Channels 0..channels-1 of each RGBA pixel. */
function fromRgba(image: Rgba, channels: 3 | 4): RawImage {
  const { width, height } = image;
  if (channels === 4) {
    const data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length);
    return { data, width, height, channels };
  }
  const data = Buffer.allocUnsafe(width * height * 3);
  for (let i = 0, o = 0; o < data.length; i += 4, o += 3) {
    data[o] = image.data[i]!;
    data[o + 1] = image.data[i + 1]!;
    data[o + 2] = image.data[i + 2]!;
  }
  return { data, width, height, channels };
}

/** `placeholders`, with the 16 px image BlurHash saw. */
export function placeholderSet(sample: RawImage): PlaceholderSet {
  const { width, height, channels } = sample;
  if (width > THUMBHASH_MAX_SIDE || height > THUMBHASH_MAX_SIDE) {
    throw new RangeError(
      `Expected a sample of at most ${THUMBHASH_MAX_SIDE} px a side but received ${width}x${height}`,
    );
  }
  if (sample.data.length !== width * height * channels) {
    throw new RangeError(
      `Expected ${width * height * channels} bytes for a ${width}x${height}x${channels} sample but received ${sample.data.length}`,
    );
  }
  let forThumbHash: Rgba = { data: toRgba(sample), width, height };
  while (Math.max(forThumbHash.width, forThumbHash.height) > THUMBHASH_SIZE) {
    forThumbHash = halve(forThumbHash);
  }
  let forBlurHash = forThumbHash;
  while (Math.max(forBlurHash.width, forBlurHash.height) > BLURHASH_SIZE) {
    forBlurHash = halve(forBlurHash);
  }
  const { x, y } = blurHashComponents(width, height);
  const opaque = channels === 3 ? forBlurHash.data : flattenOnWhite(forBlurHash.data);
  const thumbHash = rgbaToThumbHash(forThumbHash.width, forThumbHash.height, forThumbHash.data);
  return {
    hashes: {
      thumbHash: Buffer.from(thumbHash).toString('base64'),
      blurHash: encodeBlurHash(opaque, forBlurHash.width, forBlurHash.height, x, y),
    },
    tiny: fromRgba(forBlurHash, channels),
  };
}
