import type { RawImage } from '../types.js';
import { toHex } from './colour.js';
import type { MedianCutSteps } from './median-cut.js';
import { distinctPalette } from './palette.js';
import { colourRoles, gradientCss, NEUTRAL_GREY } from './roles.js';

/** The sidecar's `gradient` object; its field names are read by gallery front ends. */
export interface GradientRecord {
  palette: string[];
  primary: string;
  secondary: string;
  foreground: string;
  css: string;
  blurDataUrl: string;
  thumbHash: string;
  blurHash: string;
  /** Source width / height, 4 decimals: BlurHash does not carry it. */
  aspectRatio: number;
}

export { contrastRatio, relativeLuminance, toHex, type Rgb } from './colour.js';
export {
  medianCut,
  medianCutSteps,
  OPAQUE_ALPHA,
  stepsFromFlat,
  type MedianCutSteps,
  type PaletteEntry,
} from './median-cut.js';
export { distinctPalette, MIN_PALETTE_DELTA_E } from './palette.js';
export {
  placeholders,
  placeholderSet,
  type PlaceholderSet,
  type Placeholders,
} from './placeholders.js';
export { colourRoles, gradientCss, type ColourRoles } from './roles.js';

/** The sidecar's palette and colour roles, from a small decoded sample. */
export type PaletteRecord = Pick<
  GradientRecord,
  'palette' | 'primary' | 'secondary' | 'foreground' | 'css'
>;

/**
 * The sidecar's palette, colour roles and CSS from a small decoded sample: no two colours closer
 * than MIN_PALETTE_DELTA_E. An image with no opaque pixel gets the one-colour palette `["#808080"]`.
 */
export function computeGradient(
  sample: RawImage,
  paletteSize: number,
  steps?: MedianCutSteps,
): PaletteRecord {
  const expected = sample.width * sample.height * sample.channels;
  if (sample.data.length !== expected) {
    throw new RangeError(
      `Expected ${expected} bytes for a ${sample.width}x${sample.height}x${sample.channels} sample but received ${sample.data.length}`,
    );
  }
  const entries = distinctPalette(sample.data, sample.channels, paletteSize, undefined, steps);
  const { primary, secondary, foreground } = colourRoles(entries);
  return {
    palette: entries.length > 0 ? entries.map(toHex) : [toHex(NEUTRAL_GREY)],
    primary: toHex(primary),
    secondary: toHex(secondary),
    foreground: toHex(foreground),
    css: gradientCss(primary, secondary),
  };
}
