import sharp from '../sharp.js';
import { vipsOperation } from '../backends/vips-errors.js';
import { nativeAddon } from '../native/index.js';
import type { RawImage, Size } from '../types.js';

/**
 * The palette's and placeholders' sample: the decoded image brought to the thumbnail size of a run
 * with every output (libvips Lanczos-3, premultiplied), then reduced to `size` by the mean of the
 * area each sample pixel covers (areaSample), whichever backend made the other outputs. A decode
 * larger than `via` (the size the CPU backend decodes to) is first brought to `via` by the same
 * resize the CPU decode makes, so both backends sample the same pixels (bit for bit from 8-bit
 * sources), whatever outputs were asked.
 *
 * `cpuThumb`, when given, is the CPU backend's thumbnail of this very decode: the same pixels the
 * step through the thumbnail size would make, so that step is not made twice.
 */
export async function paletteSample(
  decoded: RawImage,
  size: Size,
  via: Size,
  thumb: Size,
  cpuThumb?: RawImage,
): Promise<RawImage> {
  const larger = decoded.width * decoded.height > via.width * via.height;
  const source = larger ? await lanczos(decoded, via) : decoded;
  if (thumb.width < size.width || thumb.height < size.height) return lanczos(source, size);
  const step =
    !larger && cpuThumb && cpuThumb.width === thumb.width && cpuThumb.height === thumb.height
      ? cpuThumb
      : await lanczos(source, thumb);
  return areaSample(step, size);
}

async function lanczos(image: RawImage, size: Size): Promise<RawImage> {
  const { width, height, channels } = image;
  if (size.width === width && size.height === height) return image;
  const { data, info } = await vipsOperation(() =>
    sharp(image.data, { raw: { width, height, channels } })
      .resize(size.width, size.height, { kernel: 'lanczos3', fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  return { data, width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

/**
 * `image` reduced to `size` (no larger than it) by the mean of the area each output pixel covers,
 * partly covered pixels weighted by their share, colours weighted by alpha (a transparent pixel's
 * colour does not bleed; an area with no alpha at all is transparent black), every mean rounded
 * half up. In the native addon where it is loaded: the same bytes (test/native/area-sample.test.ts)
 * without a libvips pipeline or JavaScript the JIT has not warmed. A box filter suits a palette:
 * colours are averaged, never overshot.
 */
export function areaSample(image: RawImage, size: Size): RawImage {
  if (size.width === image.width && size.height === image.height) return image;
  const load = nativeAddon();
  const data =
    load.ok && load.addon.areaSample
      ? load.addon.areaSample(image, size)
      : areaSampleJs(image, size);
  return { data, width: size.width, height: size.height, channels: image.channels };
}

/** Source pixels covering each output pixel: the first, and each one's share in 1/out units. */
function spans(input: number, output: number): { first: number; weights: number[] }[] {
  const out = [];
  for (let o = 0; o < output; o++) {
    const lo = o * input;
    const hi = lo + input;
    const first = Math.floor(lo / output);
    const weights = [];
    for (let i = first; i * output < hi; i++) {
      weights.push(Math.min((i + 1) * output, hi) - Math.max(i * output, lo));
    }
    out.push({ first, weights });
  }
  return out;
}

/** round(num / den), half up, for non-negative integers below 2^52. */
const rounded = (num: number, den: number) => Math.floor((2 * num + den) / (2 * den));

/** areaSample in JavaScript: the addon's arithmetic, integer for integer. */
export function areaSampleJs(image: RawImage, size: Size): Buffer {
  const { data: src, width, height, channels } = image;
  if (size.width < 1 || size.height < 1 || size.width > width || size.height > height) {
    throw new RangeError(
      `Expected a size from 1x1 to ${width}x${height} but received ${size.width}x${size.height}`,
    );
  }
  const columns = spans(width, size.width);
  const rows = spans(height, size.height);
  const area = width * height;
  const out = Buffer.alloc(size.width * size.height * channels);
  for (let oy = 0, o = 0; oy < size.height; oy++) {
    const row = rows[oy]!;
    for (let ox = 0; ox < size.width; ox++, o += channels) {
      const column = columns[ox]!;
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let ky = 0; ky < row.weights.length; ky++) {
        const line = (row.first + ky) * width;
        for (let kx = 0; kx < column.weights.length; kx++) {
          const p = (line + column.first + kx) * channels;
          const w = row.weights[ky]! * column.weights[kx]!;
          const wa = channels === 4 ? w * src[p + 3]! : w;
          r += wa * src[p]!;
          g += wa * src[p + 1]!;
          b += wa * src[p + 2]!;
          a += wa;
        }
      }
      if (channels === 4) {
        if (a > 0) {
          out[o] = rounded(r, a);
          out[o + 1] = rounded(g, a);
          out[o + 2] = rounded(b, a);
        }
        out[o + 3] = rounded(a, area);
      } else {
        out[o] = rounded(r, area);
        out[o + 1] = rounded(g, area);
        out[o + 2] = rounded(b, area);
      }
    }
  }
  return out;
}
