import pixelmatch from 'pixelmatch';
import sharp from '../sharp.js';
import { ssim } from 'ssim.js';
import type { ImageTolerance } from './tolerances.js';

/** Decoded RGBA pixels of an output file, and whether the file itself carries alpha. */
export interface Rgba {
  data: Buffer;
  width: number;
  height: number;
  hasAlpha: boolean;
}

export async function decodeRgba(input: Buffer | string): Promise<Rgba> {
  const image = sharp(input, { failOn: 'error' });
  const { data, info } = await image
    .ensureAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const meta = await sharp(input).metadata();
  return { data, width: info.width, height: info.height, hasAlpha: meta.hasAlpha === true };
}

/** The measures of one comparison; a measure the tolerance turned off is absent. */
export interface PixelMeasures {
  /** Share of pixels pixelmatch finds different. */
  mismatch?: number;
  ssim?: number;
  /** Largest |mean difference| of a channel (R, G, B premultiplied by alpha, then A), in levels. */
  shift?: number;
}

/**
 * Mean signed difference per channel: a uniform colour shift moves it by its size, while the
 * noise of another encoder or resampler averages out. Colour is weighted by alpha, since colour
 * under transparent pixels is never seen.
 */
export function channelShift(expected: Rgba, actual: Rgba): number {
  const sums = [0, 0, 0, 0];
  const e = expected.data;
  const a = actual.data;
  for (let i = 0; i < e.length; i += 4) {
    const ea = e[i + 3] as number;
    const aa = a[i + 3] as number;
    for (let c = 0; c < 3; c++) {
      sums[c]! += ((a[i + c] as number) * aa - (e[i + c] as number) * ea) / 255;
    }
    sums[3]! += aa - ea;
  }
  const n = e.length / 4;
  return Math.max(...sums.map((s) => Math.abs(s / n)));
}

export function mismatchShare(
  expected: Rgba,
  actual: Rgba,
  threshold: number,
  diff?: Uint8Array,
): number {
  const count = pixelmatch(expected.data, actual.data, diff, expected.width, expected.height, {
    threshold,
    includeAA: true,
  });
  return count / (expected.width * expected.height);
}

/** Composited over white: colour under transparent pixels is never seen and must not count. */
function overWhite(img: Rgba): { data: Uint8ClampedArray; width: number; height: number } {
  const data = new Uint8ClampedArray(img.data.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = (img.data[i + 3] as number) / 255;
    for (let c = 0; c < 3; c++) data[i + c] = (img.data[i + c] as number) * a + 255 * (1 - a);
    data[i + 3] = 255;
  }
  return { data, width: img.width, height: img.height };
}

export function meanSsim(expected: Rgba, actual: Rgba): number {
  const asImage = (img: Rgba) =>
    img.hasAlpha
      ? overWhite(img)
      : {
          data: new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.length),
          width: img.width,
          height: img.height,
        };
  // An image smaller than SSIM's 11 px window has no structure to compare: equal by this measure.
  if (expected.width < 11 || expected.height < 11) return 1;
  return ssim(asImage(expected), asImage(actual)).mssim;
}

/** Outputs narrower than this on either side are not judged by their mean colour shift. */
export const MIN_SHIFT_SIDE = 16;

/** Every measure the tolerance asks for. The two images have the same size. */
export function measurePixels(expected: Rgba, actual: Rgba, tol: ImageTolerance): PixelMeasures {
  const m: PixelMeasures = {};
  if (tol.mismatch !== null) m.mismatch = mismatchShare(expected, actual, tol.threshold);
  if (tol.ssim !== null) m.ssim = meanSsim(expected, actual);
  // A mean over a strip a few pixels thin is dominated by how each resampler treats the border.
  const wide = expected.width >= MIN_SHIFT_SIDE && expected.height >= MIN_SHIFT_SIDE;
  if (tol.shift !== null && wide) m.shift = channelShift(expected, actual);
  return m;
}

/** Mean absolute difference over every channel, in levels: for tiny placeholders. */
export function meanAbsDifference(expected: Rgba, actual: Rgba): number {
  let sum = 0;
  for (let i = 0; i < expected.data.length; i++) {
    sum += Math.abs((expected.data[i] as number) - (actual.data[i] as number));
  }
  return sum / expected.data.length;
}

/**
 * A heat map of where two images differ: black where equal, through red and yellow to white
 * where the largest channel difference reaches 64 levels or more. PNG bytes.
 */
export async function heatMap(expected: Rgba, actual: Rgba): Promise<Buffer> {
  const n = expected.width * expected.height;
  const out = Buffer.alloc(n * 3);
  for (let p = 0; p < n; p++) {
    let d = 0;
    for (let c = 0; c < 4; c++) {
      d = Math.max(
        d,
        Math.abs((expected.data[p * 4 + c] as number) - (actual.data[p * 4 + c] as number)),
      );
    }
    const t = Math.min(1, d / 64);
    out[p * 3] = Math.round(255 * Math.min(1, t * 3));
    out[p * 3 + 1] = Math.round(255 * Math.min(1, Math.max(0, t * 3 - 1)));
    out[p * 3 + 2] = Math.round(255 * Math.max(0, t * 3 - 2));
  }
  return sharp(out, { raw: { width: expected.width, height: expected.height, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}
