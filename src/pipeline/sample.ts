import sharp from 'sharp';
import { vipsOperation } from '../backends/vips-errors.js';
import type { RawImage, Size } from '../types.js';

/**
 * The palette's and placeholders' sample: the decoded image reduced to `size` on the CPU (libvips
 * Lanczos-3, premultiplied), whichever backend made the other outputs, so both give the same pixels.
 */
export async function paletteSample(decoded: RawImage, size: Size): Promise<RawImage> {
  const { width, height, channels } = decoded;
  if (size.width === width && size.height === height) return decoded;
  const { data, info } = await vipsOperation(() =>
    sharp(decoded.data, { raw: { width, height, channels } })
      .resize(size.width, size.height, { kernel: 'lanczos3', fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  return { data, width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}
