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
