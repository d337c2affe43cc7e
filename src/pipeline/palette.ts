import {
  computeGradient,
  medianCutSteps,
  stepsFromFlat,
  type MedianCutSteps,
  type PaletteRecord,
} from '../gradient/index.js';
import { nativeAddon } from '../native/index.js';
import type { RawImage } from '../types.js';

let chosen: MedianCutSteps | undefined;

/**
 * Median cut in the native addon where it is loaded (IMGPROC_NATIVE=0 turns it off), else in
 * JavaScript: the same palettes, integer for integer (test/native/median-cut.test.ts), and
 * the addon's costs next to nothing on the first images of a run, before V8 has compiled the
 * JavaScript.
 */
export function paletteMedianCut(): MedianCutSteps {
  if (!chosen) {
    const load = nativeAddon();
    const native = load.ok ? load.addon.medianCutSteps?.bind(load.addon) : undefined;
    chosen = native
      ? (pixels, channels, fewest, most) => stepsFromFlat(native(pixels, channels, fewest, most))
      : medianCutSteps;
  }
  return chosen;
}

/** The sidecar's palette, colour roles and CSS of the palette's sample. */
export function paletteOf(sample: RawImage, paletteSize: number): PaletteRecord {
  return computeGradient(sample, paletteSize, paletteMedianCut());
}
