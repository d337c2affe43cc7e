import sharp from '../sharp.js';
import { vipsOperation } from '../backends/vips-errors.js';
import type { RawImage } from '../types.js';

export interface WebpSettings {
  quality: number;
  effort: number;
}

/** Raw pixels to WebP. Raw input carries no metadata, so nothing leaks into the output. */
export function encodeWebp(image: RawImage, settings: WebpSettings): Promise<Buffer> {
  const { width, height, channels } = image;
  return vipsOperation(() =>
    sharp(image.data, { raw: { width, height, channels } })
      .webp({ quality: settings.quality, effort: settings.effort, alphaQuality: 100 })
      .toBuffer(),
  );
}

/** A data URL small enough to inline in HTML: fits in 16 px, low quality. */
export async function blurDataUrl(sample: RawImage): Promise<string> {
  const { width, height, channels } = sample;
  const longer = Math.max(width, height);
  const k = Math.min(1, 16 / longer);
  const w = Math.max(1, Math.round(width * k));
  const h = Math.max(1, Math.round(height * k));
  const webp = await vipsOperation(() =>
    sharp(sample.data, { raw: { width, height, channels } })
      .resize(w, h, { kernel: 'lanczos3', fit: 'fill' })
      .webp({ quality: 40, effort: 4, alphaQuality: 50 })
      .toBuffer(),
  );
  return `data:image/webp;base64,${webp.toString('base64')}`;
}
