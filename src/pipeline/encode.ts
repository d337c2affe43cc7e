import sharp from '../sharp.js';
import { vipsOperation } from '../backends/vips-errors.js';
import type { DeferredBlur } from '../backends/backend.js';
import type { RawImage } from '../types.js';

export interface WebpSettings {
  quality: number;
  effort: number;
}

/**
 * Raw pixels to WebP, blurred first where the backend left the blur to the encoder. Raw input
 * carries no metadata, so nothing leaks into the output.
 */
export function encodeWebp(
  image: RawImage | DeferredBlur,
  settings: WebpSettings,
): Promise<Buffer> {
  const { width, height, channels } = image;
  return vipsOperation(() => {
    let pipeline = sharp(image.data, { raw: { width, height, channels } });
    if ('blurSigma' in image) pipeline = pipeline.blur(image.blurSigma);
    return pipeline
      .webp({ quality: settings.quality, effort: settings.effort, alphaQuality: 100 })
      .toBuffer();
  });
}

/** Longer side of the blur data URL's image. */
const DATA_URL_SIZE = 16;

/**
 * A data URL small enough to inline in HTML: fits in 16 px, low quality. An image already that
 * small (the placeholders' own, see gradient/placeholders.ts) is encoded as it is.
 */
export async function blurDataUrl(image: RawImage): Promise<string> {
  const { width, height, channels } = image;
  const longer = Math.max(width, height);
  let pipeline = sharp(image.data, { raw: { width, height, channels } });
  if (longer > DATA_URL_SIZE) {
    const k = DATA_URL_SIZE / longer;
    const w = Math.max(1, Math.round(width * k));
    const h = Math.max(1, Math.round(height * k));
    pipeline = pipeline.resize(w, h, { kernel: 'lanczos3', fit: 'fill' });
  }
  const webp = await vipsOperation(() =>
    pipeline.webp({ quality: 40, effort: 4, alphaQuality: 50 }).toBuffer(),
  );
  return `data:image/webp;base64,${webp.toString('base64')}`;
}
