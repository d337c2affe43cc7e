import type { RawImage } from '../types.js';
import { toHex } from './colour.js';
import { medianCut } from './median-cut.js';
import { colourRoles, gradientCss, NEUTRAL_GREY } from './roles.js';

/** The sidecar's `gradient` object; its field names are read by gallery front ends. */
export interface GradientRecord {
  palette: string[];
  primary: string;
  secondary: string;
  foreground: string;
  css: string;
  blurDataUrl: string;
}

export { contrastRatio, relativeLuminance, toHex, type Rgb } from './colour.js';
export { medianCut, OPAQUE_ALPHA, type PaletteEntry } from './median-cut.js';
export { colourRoles, gradientCss, type ColourRoles } from './roles.js';

/**
 * The sidecar's `gradient` record, less the placeholder data URL, from a small decoded sample.
 * An image with no opaque pixel gets the one-colour palette `["#808080"]`.
 */
export function computeGradient(
  sample: RawImage,
  paletteSize: number,
): Omit<GradientRecord, 'blurDataUrl'> {
  const expected = sample.width * sample.height * sample.channels;
  if (sample.data.length !== expected) {
    throw new RangeError(
      `Expected ${expected} bytes for a ${sample.width}x${sample.height}x${sample.channels} sample but received ${sample.data.length}`,
    );
  }
  const entries = medianCut(sample.data, sample.channels, paletteSize);
  const { primary, secondary, foreground } = colourRoles(entries);
  return {
    palette: entries.length > 0 ? entries.map(toHex) : [toHex(NEUTRAL_GREY)],
    primary: toHex(primary),
    secondary: toHex(secondary),
    foreground: toHex(foreground),
    css: gradientCss(primary, secondary),
  };
}
