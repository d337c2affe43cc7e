import type { Size } from '../types.js';

/** Size of the 256-px-wide thumbnail: aspect kept, never enlarged, never below 1 px. */
export function thumbSize(source: Size, targetWidth: number): Size {
  if (source.width <= targetWidth) return { width: source.width, height: source.height };
  const height = Math.max(1, Math.round((source.height * targetWidth) / source.width));
  return { width: targetWidth, height };
}

/** Size of the low-quality copy: each side scaled and rounded, at least 1 px, never enlarged. */
export function scaledSize(source: Size, scale: number): Size {
  if (scale >= 1) return { width: source.width, height: source.height };
  return {
    width: Math.max(1, Math.round(source.width * scale)),
    height: Math.max(1, Math.round(source.height * scale)),
  };
}

/** Size of the low-quality copy: `scale` of the source, then at most `maxWidth` wide, aspect kept. */
export function lqSize(source: Size, scale: number, maxWidth: number): Size {
  const scaled = scaledSize(source, scale);
  return scaled.width > maxWidth ? thumbSize(source, maxWidth) : scaled;
}

/**
 * Sizes of the responsive widths, narrowest first: each width below the source's as asked (aspect
 * kept); all widths at or above the source's width give one copy at the source's size, never
 * enlarged.
 */
export function responsiveSizes(source: Size, widths: readonly number[]): Size[] {
  const sorted = [...new Set(widths)].sort((a, b) => a - b);
  const sizes = sorted.filter((w) => w < source.width).map((w) => thumbSize(source, w));
  if (sorted.some((w) => w >= source.width)) {
    sizes.push({ width: source.width, height: source.height });
  }
  return sizes;
}

/** Fit inside a box of `max` px on the longer side, aspect kept, never enlarged. */
export function fitInside(source: Size, max: number): Size {
  const longer = Math.max(source.width, source.height);
  if (longer <= max) return { width: source.width, height: source.height };
  const k = max / longer;
  return {
    width: Math.max(1, Math.round(source.width * k)),
    height: Math.max(1, Math.round(source.height * k)),
  };
}

/** WebP stores each side in 14 bits. */
export const WEBP_MAX_SIDE = 16383;

/** Scaled down, aspect kept, until both sides fit the format; never below 1 px. */
export function fitFormat(size: Size, maxSide = WEBP_MAX_SIDE): Size {
  return Math.max(size.width, size.height) > maxSide ? fitInside(size, maxSide) : size;
}
