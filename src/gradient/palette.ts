import { ciede2000, toLab, type Lab } from './colour.js';
import { medianCutSteps, type MedianCutSteps, type PaletteEntry } from './median-cut.js';

/**
 * No two palette colours are closer than this CIEDE2000 difference. Side by side, about 1 is just
 * noticeable and 2 is a shade no one names differently; at 6 two swatches read as two colours.
 */
export const MIN_PALETTE_DELTA_E = 6;

/** At most this many median-cut boxes per palette colour are tried while looking for distinct ones. */
const MAX_BOXES_PER_COLOUR = 4;

/**
 * Folds each entry (most populous first) into the nearest kept one closer than `minDistance`,
 * adding its pixels there; kept colours are unchanged, so every pair kept is at least that far
 * apart. Sorted most populous first (ties: lower hex first), as medianCut sorts.
 */
export function mergeNearColours(
  entries: readonly PaletteEntry[],
  minDistance: number,
  labCache = new Map<number, Lab>(),
  distanceCache = new Map<number, number>(),
): PaletteEntry[] {
  const packed = (e: PaletteEntry) => (e.r << 16) | (e.g << 8) | e.b;
  const kept: PaletteEntry[] = [];
  const keptLab: Lab[] = [];
  for (const entry of entries) {
    let lab = labCache.get(packed(entry));
    if (!lab) {
      lab = toLab(entry);
      labCache.set(packed(entry), lab);
    }
    let nearest = -1;
    let nearestDistance = minDistance;
    for (let k = 0; k < kept.length; k++) {
      const pair = packed(kept[k]!) * 0x1000000 + packed(entry);
      let d = distanceCache.get(pair);
      if (d === undefined) {
        d = ciede2000(keptLab[k]!, lab);
        distanceCache.set(pair, d);
      }
      if (d < nearestDistance) {
        nearest = k;
        nearestDistance = d;
      }
    }
    if (nearest >= 0) kept[nearest]!.count += entry.count;
    else {
      kept.push({ ...entry });
      keptLab.push(lab);
    }
  }
  return kept.sort((p, q) => q.count - p.count || packed(p) - packed(q));
}

/**
 * Up to `size` colours of interleaved 8-bit RGB or RGBA pixels, no two closer than `minDistance`
 * (CIEDE2000), with the pixels of the near-duplicates they absorbed. Median cut runs with one more
 * box at a time until `size` distinct colours remain or the pixels hold no more (at most
 * 4 × `size` boxes), so a few large near-identical regions do not crowd out a distinct colour.
 * `steps` is the median cut to use: the native addon's gives the same palettes in less CPU.
 */
export function distinctPalette(
  pixels: Uint8Array,
  channels: 3 | 4,
  size: number,
  minDistance = MIN_PALETTE_DELTA_E,
  steps: MedianCutSteps = medianCutSteps,
): PaletteEntry[] {
  let best: PaletteEntry[] = [];
  // Most boxes survive from one step to the next: convert each colour to L*a*b*, and measure each
  // pair of colours, once.
  const labCache = new Map<number, Lab>();
  const distanceCache = new Map<number, number>();
  for (const entries of steps(pixels, channels, size, size * MAX_BOXES_PER_COLOUR)) {
    const merged = mergeNearColours(entries, minDistance, labCache, distanceCache);
    if (merged.length > best.length) best = merged;
    if (best.length >= size) break;
  }
  return best.slice(0, size);
}
