import { decode as decodeBlurHash, isBlurhashValid } from 'blurhash';
import sharp from '../sharp.js';
import { thumbHashToRGBA } from 'thumbhash';
import { decodeRgba, type Rgba } from './pixels.js';

/** BlurHash has no size of its own: both sides are drawn at this one for comparing and showing. */
const BLURHASH_SIZE = 32;

function fromDataUrl(url: string): Buffer | undefined {
  const m = /^data:image\/[a-z]+;base64,([A-Za-z0-9+/=]+)$/.exec(url);
  return m ? Buffer.from(m[1] as string, 'base64') : undefined;
}

/**
 * A sidecar placeholder (`blurDataUrl`, `thumbHash` in base64, `blurHash`) drawn as RGBA pixels,
 * or undefined when the field is absent or cannot be decoded.
 */
export async function decodePlaceholder(
  field: string,
  gradient: Record<string, unknown>,
): Promise<Rgba | undefined> {
  const value = gradient[field];
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    if (field === 'blurDataUrl') {
      const bytes = fromDataUrl(value);
      return bytes ? await decodeRgba(bytes) : undefined;
    }
    if (field === 'thumbHash') {
      const { w, h, rgba } = thumbHashToRGBA(Buffer.from(value, 'base64'));
      return { data: Buffer.from(rgba), width: w, height: h, hasAlpha: true };
    }
    if (field === 'blurHash') {
      if (!isBlurhashValid(value).result) return undefined;
      const rgba = decodeBlurHash(value, BLURHASH_SIZE, BLURHASH_SIZE);
      return {
        data: Buffer.from(rgba),
        width: BLURHASH_SIZE,
        height: BLURHASH_SIZE,
        hasAlpha: false,
      };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** A placeholder as a PNG data URL, for pages that show it without any script. */
export async function placeholderDataUrl(
  field: string,
  gradient: Record<string, unknown>,
): Promise<string | undefined> {
  if (field === 'blurDataUrl') {
    const v = gradient[field];
    return typeof v === 'string' && v.startsWith('data:image/') ? v : undefined;
  }
  const image = await decodePlaceholder(field, gradient);
  if (!image) return undefined;
  const png = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: 4 },
  })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}
