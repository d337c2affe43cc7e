import { resolve } from 'node:path';
import sharp from 'sharp';
import type { RawImage } from '../../src/types.js';
import { loadNativeAddon, NativeBinding, type NativeAddon } from '../../src/native/index.js';

export const FIXTURES = resolve('fixtures/photos');
export const fixture = (name: string) => resolve(FIXTURES, name);

/** One of the built addon's functions, bound to it; throws when the addon or the function is missing. */
export function addonFunction<K extends keyof NativeAddon>(name: K): NonNullable<NativeAddon[K]> {
  const load = loadNativeAddon({});
  if (!load.ok) throw new Error(load.details);
  const fn = load.addon[name];
  if (typeof fn !== 'function') {
    throw new Error(`the built addon has no ${name}: rebuild it (npm run build:native)`);
  }
  return fn.bind(load.addon) as NonNullable<NativeAddon[K]>;
}

/** The built addon, or a reason why there is none. */
export function openBinding(env: NodeJS.ProcessEnv = {}): NativeBinding {
  const load = loadNativeAddon(env);
  if (!load.ok) throw new Error(load.details);
  return new NativeBinding(load.addon);
}

/** Decoded like the pipeline decodes: orientation applied, 8-bit sRGB, alpha kept. */
export async function decodeFixture(name: string): Promise<RawImage> {
  const { data, info } = await sharp(fixture(name))
    .rotate()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

export async function sharpResize(
  image: RawImage,
  width: number,
  height: number,
): Promise<RawImage> {
  const { data, info } = await sharp(image.data, { raw: image })
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

export async function sharpBlur(image: RawImage, sigma: number): Promise<RawImage> {
  const { data, info } = await sharp(image.data, { raw: image })
    .blur(sigma)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

function sameShape(a: RawImage, b: RawImage): void {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new Error(
      `shape ${a.width}x${a.height}x${a.channels} differs from ${b.width}x${b.height}x${b.channels}`,
    );
  }
}

/** Peak signal-to-noise ratio in dB over every channel (Infinity when identical). */
export function psnr(a: RawImage, b: RawImage): number {
  sameShape(a, b);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = (a.data[i] as number) - (b.data[i] as number);
    sum += d * d;
  }
  if (sum === 0) return Infinity;
  return 10 * Math.log10((255 * 255) / (sum / a.data.length));
}

export function maxAbsDiff(a: RawImage, b: RawImage): number {
  sameShape(a, b);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) {
    worst = Math.max(worst, Math.abs((a.data[i] as number) - (b.data[i] as number)));
  }
  return worst;
}

/** Premultiplied copy: colour under transparent pixels carries no information and is compared as 0. */
export function premultiplied(image: RawImage): RawImage {
  if (image.channels !== 4) return image;
  const data = Buffer.from(image.data);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3] as number;
    for (let c = 0; c < 3; c++) data[i + c] = Math.round(((data[i + c] as number) * a) / 255);
  }
  return { ...image, data };
}
