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

/** CIE L*a*b* under D65 (L 0-100). */
export interface Lab {
  l: number;
  a: number;
  b: number;
}

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116;
}

/** CIE L*a*b* under D65, for perceptual distances. */
export function toLab(colour: Rgb): Lab {
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

const DEG = Math.PI / 180;
const POW25_7 = 25 ** 7;

/** Hue angle in degrees, 0-360; 0 for a neutral colour. */
function hueDegrees(b: number, a: number): number {
  if (a === 0 && b === 0) return 0;
  const h = Math.atan2(b, a) / DEG;
  return h < 0 ? h + 360 : h;
}

/**
 * CIEDE2000 colour difference (kL = kC = kH = 1), as Sharma, Wu and Dalal (2005) formulate it;
 * checked against all 34 pairs of their test data. Written out rather than taken from a colour
 * library: importing one costs more CPU at start-up than every palette of a batch.
 */
export function ciede2000(p: Lab, q: Lab): number {
  const cMean = (Math.hypot(p.a, p.b) + Math.hypot(q.a, q.b)) / 2;
  const g = 0.5 * (1 - Math.sqrt(cMean ** 7 / (cMean ** 7 + POW25_7)));
  const a1 = (1 + g) * p.a;
  const a2 = (1 + g) * q.a;
  const c1 = Math.hypot(a1, p.b);
  const c2 = Math.hypot(a2, q.b);
  const h1 = hueDegrees(p.b, a1);
  const h2 = hueDegrees(q.b, a2);

  const dL = q.l - p.l;
  const dC = c2 - c1;
  let dh = 0;
  if (c1 * c2 !== 0) {
    dh = h2 - h1;
    if (dh > 180) dh -= 360;
    else if (dh < -180) dh += 360;
  }
  const dH = 2 * Math.sqrt(c1 * c2) * Math.sin((dh / 2) * DEG);

  const lMean = (p.l + q.l) / 2;
  const cMean2 = (c1 + c2) / 2;
  let hMean = h1 + h2;
  if (c1 * c2 !== 0) {
    if (Math.abs(h1 - h2) > 180) hMean += hMean < 360 ? 360 : -360;
    hMean /= 2;
  }
  const t =
    1 -
    0.17 * Math.cos((hMean - 30) * DEG) +
    0.24 * Math.cos(2 * hMean * DEG) +
    0.32 * Math.cos((3 * hMean + 6) * DEG) -
    0.2 * Math.cos((4 * hMean - 63) * DEG);
  const dTheta = 30 * Math.exp(-(((hMean - 275) / 25) ** 2));
  const rC = 2 * Math.sqrt(cMean2 ** 7 / (cMean2 ** 7 + POW25_7));
  const l50 = (lMean - 50) ** 2;
  const sL = 1 + (0.015 * l50) / Math.sqrt(20 + l50);
  const sC = 1 + 0.045 * cMean2;
  const sH = 1 + 0.015 * cMean2 * t;
  const rT = -Math.sin(2 * dTheta * DEG) * rC;
  const l = dL / sL;
  const c = dC / sC;
  const h = dH / sH;
  return Math.sqrt(l * l + c * c + h * h + rT * c * h);
}

/** CIEDE2000 difference of two sRGB colours; about 1 is just noticeable side by side. */
export function deltaE2000(p: Rgb, q: Rgb): number {
  return ciede2000(toLab(p), toLab(q));
}

/** `colour` moved `amount` (0..1) of the way towards `target`, rounded to 8 bits. */
export function mix(colour: Rgb, target: Rgb, amount: number): Rgb {
  return {
    r: Math.round(colour.r + (target.r - colour.r) * amount),
    g: Math.round(colour.g + (target.g - colour.g) * amount),
    b: Math.round(colour.b + (target.b - colour.b) * amount),
  };
}
