/** An 8-bit sRGB colour. */
export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** Uppercase `#RRGGBB`, the form every sidecar colour takes. */
export function toHex(colour: Rgb): string {
  const packed = (colour.r << 16) | (colour.g << 8) | colour.b;
  return `#${packed.toString(16).toUpperCase().padStart(6, '0')}`;
}

function srgbToLinear(channel: number): number {
  const c = channel / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** WCAG 2.x relative luminance, 0 (black) to 1 (white). */
export function relativeLuminance(colour: Rgb): number {
  return (
    0.2126 * srgbToLinear(colour.r) +
    0.7152 * srgbToLinear(colour.g) +
    0.0722 * srgbToLinear(colour.b)
  );
}

/** WCAG 2.x contrast ratio, 1 (same luminance) to 21 (black on white); symmetric. */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

interface Lab {
  l: number;
  a: number;
  b: number;
}

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116;
}

/** CIE L*a*b* under D65, for perceptual distances. */
function toLab(colour: Rgb): Lab {
  const r = srgbToLinear(colour.r);
  const g = srgbToLinear(colour.g);
  const b = srgbToLinear(colour.b);
  const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
  const fx = labF(x);
  const fy = labF(y);
  const fz = labF(z);
  return { l: 116 * fy - 16, a: 500 * (fx - fy), b: 200 * (fy - fz) };
}

/** CIE76 colour difference (Euclidean distance in L*a*b*); about 2.3 is just noticeable. */
export function deltaE76(p: Rgb, q: Rgb): number {
  const a = toLab(p);
  const b = toLab(q);
  return Math.hypot(a.l - b.l, a.a - b.a, a.b - b.b);
}

/** `colour` moved `amount` (0..1) of the way towards `target`, rounded to 8 bits. */
export function mix(colour: Rgb, target: Rgb, amount: number): Rgb {
  return {
    r: Math.round(colour.r + (target.r - colour.r) * amount),
    g: Math.round(colour.g + (target.g - colour.g) * amount),
    b: Math.round(colour.b + (target.b - colour.b) * amount),
  };
}
