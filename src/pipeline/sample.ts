import sharp from '../sharp.js';
import { vipsOperation } from '../backends/vips-errors.js';
import type { RawImage, Size } from '../types.js';

/**
 * The palette's and placeholders' sample: the decoded image reduced to `size` on the CPU (libvips
 * Lanczos-3, premultiplied), whichever backend made the other outputs, by way of the thumbnail
 * size where that is not smaller than the sample. A decode larger than `via` (the size the CPU
 * backend decodes to) is first brought to `via` by the same resize the CPU decode makes, so both
 * backends sample the same pixels (bit for bit from 8-bit sources), whatever outputs were asked.
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
  return lanczos(step, size);
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
