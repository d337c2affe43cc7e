import { contrastRatio, deltaE2000, mix, relativeLuminance, toHex, type Rgb } from './colour.js';
import type { PaletteEntry } from './median-cut.js';

export interface ColourRoles {
  primary: Rgb;
  secondary: Rgb;
  foreground: Rgb;
}

const WHITE: Rgb = { r: 255, g: 255, b: 255 };
const BLACK: Rgb = { r: 0, g: 0, b: 0 };

/** Stands in for the palette of an image with no opaque pixel. */
export const NEUTRAL_GREY: Rgb = { r: 128, g: 128, b: 128 };

/** A palette entry needs this share of the primary's pixels to be considered for secondary. */
const SECONDARY_MIN_SHARE = 0.05;

/** How far a one-colour image's secondary moves from its primary towards black or white. */
const DERIVED_SHIFT = 0.25;

/** Luminance at which black and white text contrast equally: sqrt(1.05 × 0.05) − 0.05. */
const MID_LUMINANCE = Math.sqrt(1.05 * 0.05) - 0.05;

/** The primary moved a quarter of the way to black when it is light, to white when it is dark. */
function derivedSecondary(primary: Rgb): Rgb {
  return mix(primary, relativeLuminance(primary) > MID_LUMINANCE ? BLACK : WHITE, DERIVED_SHIFT);
}

function pickSecondary(primary: PaletteEntry, others: readonly PaletteEntry[]): Rgb {
  let best: PaletteEntry | undefined;
  let bestScore = -1;
  for (const entry of others) {
    const share = entry.count / primary.count;
    if (share < SECONDARY_MIN_SHARE) continue;
    // Distance matters most; the square root lets a colour twice as far beat one four times as common.
    const score = deltaE2000(primary, entry) * Math.sqrt(share);
    if (score > bestScore || (score === bestScore && best && toHex(entry) < toHex(best))) {
      best = entry;
      bestScore = score;
    }
  }
  return best ?? derivedSecondary(primary);
}

/**
 * The colour roles of a palette sorted most populous first (as `medianCut` returns it):
 * - primary: the most populous entry; an empty palette (no opaque pixel) counts as one neutral grey.
 * - secondary: among the other entries with at least 5% of the primary's pixels, the one that
 *   maximises CIEDE2000 ΔE from the primary × √(its count / the primary's count); when there is none,
 *   the primary moved 25% towards black (if light) or white (if dark).
 * - foreground: #FFFFFF or #000000, whichever has the higher minimum WCAG contrast against primary
 *   and secondary (white on a tie); one of the two is always the best choice of any colour.
 */
export function colourRoles(palette: readonly PaletteEntry[]): ColourRoles {
  const [primary = { ...NEUTRAL_GREY, count: 0 }, ...others] = palette;
  const secondary = pickSecondary(primary, others);
  // For black against white text, the lower contrast over two colours and the higher pick the same
  // winner (both compare (L1 + 0.05)(L2 + 0.05) with 0.0525), so Math.max here would change nothing.
  const contrastOf = (text: Rgb): number =>
    // Stryker disable next-line MethodExpression: equivalent, see above
    Math.min(contrastRatio(text, primary), contrastRatio(text, secondary));
  const foreground = contrastOf(BLACK) > contrastOf(WHITE) ? BLACK : WHITE;
  return { primary: { r: primary.r, g: primary.g, b: primary.b }, secondary, foreground };
}

/** The sidecar's CSS: `linear-gradient(135deg, #AABBCC 0%, #DDEEFF 100%)`. */
export function gradientCss(primary: Rgb, secondary: Rgb): string {
  return `linear-gradient(135deg, ${toHex(primary)} 0%, ${toHex(secondary)} 100%)`;
}
