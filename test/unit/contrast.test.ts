import { describe, expect, it } from 'vitest';
import { deltaE76, mix } from '../../src/gradient/colour.js';
import { contrastRatio, relativeLuminance, toHex } from '../../src/gradient/index.js';

const WHITE = { r: 255, g: 255, b: 255 };
const BLACK = { r: 0, g: 0, b: 0 };
const GREY_77 = { r: 0x77, g: 0x77, b: 0x77 };

describe('WCAG contrast', () => {
  it('gives white a luminance of 1 and black 0', () => {
    expect(relativeLuminance(WHITE)).toBeCloseTo(1, 10);
    expect(relativeLuminance(BLACK)).toBe(0);
    expect(relativeLuminance({ r: 128, g: 128, b: 128 })).toBeCloseTo(0.2159, 4);
    expect(relativeLuminance({ r: 255, g: 0, b: 0 })).toBeCloseTo(0.2126, 4);
  });

  it('uses the linear segment of the sRGB curve up to 0.04045', () => {
    // 10/255 = 0.0392 is on the linear part (c / 12.92), 11/255 = 0.0431 on the power curve.
    expect(relativeLuminance({ r: 10, g: 10, b: 10 })).toBeCloseTo(10 / 255 / 12.92, 12);
    expect(relativeLuminance({ r: 11, g: 11, b: 11 })).toBeCloseTo(
      ((11 / 255 + 0.055) / 1.055) ** 2.4,
      12,
    );
    expect(relativeLuminance({ r: 0, g: 255, b: 0 })).toBeCloseTo(0.7152, 4);
    expect(relativeLuminance({ r: 0, g: 0, b: 255 })).toBeCloseTo(0.0722, 4);
  });

  it('gives 21 for black on white, symmetric, and 1 for a colour on itself', () => {
    expect(contrastRatio(BLACK, WHITE)).toBeCloseTo(21, 10);
    expect(contrastRatio(WHITE, BLACK)).toBeCloseTo(21, 10);
    expect(contrastRatio(GREY_77, GREY_77)).toBe(1);
  });

  it('matches known WCAG values', () => {
    expect(contrastRatio(GREY_77, WHITE)).toBeCloseTo(4.48, 2);
    expect(contrastRatio({ r: 0x76, g: 0x76, b: 0x76 }, WHITE)).toBeGreaterThan(4.5);
    expect(contrastRatio({ r: 0, g: 0, b: 255 }, WHITE)).toBeCloseTo(8.59, 2);
  });
});

describe('toHex', () => {
  it('formats uppercase #RRGGBB with leading zeros', () => {
    expect(toHex({ r: 1, g: 2, b: 3 })).toBe('#010203');
    expect(toHex({ r: 0xab, g: 0xcd, b: 0xef })).toBe('#ABCDEF');
    expect(toHex(BLACK)).toBe('#000000');
    expect(toHex(WHITE)).toBe('#FFFFFF');
  });
});

describe('deltaE76', () => {
  // CIE L*a*b* (D65) of the sRGB primaries, as published (e.g. by Bruce Lindbloom).
  const RED = { r: 255, g: 0, b: 0 };
  const GREEN = { r: 0, g: 255, b: 0 };
  const BLUE = { r: 0, g: 0, b: 255 };

  it("is the Euclidean distance in L*a*b*: from black, the length of the colour's Lab vector", () => {
    expect(deltaE76(BLACK, WHITE)).toBeCloseTo(100, 3);
    expect(deltaE76(BLACK, RED)).toBeCloseTo(Math.hypot(53.2408, 80.0925, 67.2032), 2);
    expect(deltaE76(BLACK, GREEN)).toBeCloseTo(Math.hypot(87.7347, -86.1827, 83.1793), 2);
    expect(deltaE76(BLACK, BLUE)).toBeCloseTo(Math.hypot(32.297, 79.1875, -107.8602), 2);
  });

  it('measures between two colours, symmetric, 0 for a colour and itself', () => {
    const redToBlue = Math.hypot(53.2408 - 32.297, 80.0925 - 79.1875, 67.2032 + 107.8602);
    expect(deltaE76(RED, BLUE)).toBeCloseTo(redToBlue, 2);
    expect(deltaE76(BLUE, RED)).toBeCloseTo(redToBlue, 2);
    expect(deltaE76(RED, GREEN)).toBeCloseTo(
      Math.hypot(53.2408 - 87.7347, 80.0925 + 86.1827, 67.2032 - 83.1793),
      2,
    );
    expect(deltaE76(GREY_77, GREY_77)).toBe(0);
    // A mixed colour involves every matrix coefficient: #336699 is Lab(42.01, -0.15, -32.85),
    // #C86432 is Lab(53.63, 36.31, 45.38).
    expect(deltaE76({ r: 0x33, g: 0x66, b: 0x99 }, { r: 0xc8, g: 0x64, b: 0x32 })).toBeCloseTo(
      Math.hypot(53.6295 - 42.0081, 36.3058 + 0.1517, 45.3795 + 32.846),
      2,
    );
  });

  it('uses the linear segment of L* for very dark colours (Y below 216/24389)', () => {
    // L* = 24389/27 × Y there: #101010 has Y = 0.005182, so L* = 4.680.
    expect(deltaE76(BLACK, { r: 16, g: 16, b: 16 })).toBeCloseTo(4.6804, 3);
    expect(deltaE76({ r: 16, g: 16, b: 16 }, { r: 10, g: 10, b: 20 })).toBeCloseTo(5.5224, 3);
  });
});

describe('mix', () => {
  it('moves each channel the given share of the way, rounded', () => {
    expect(mix({ r: 0, g: 100, b: 200 }, WHITE, 0.25)).toEqual({ r: 64, g: 139, b: 214 });
    expect(mix({ r: 0, g: 100, b: 200 }, BLACK, 0.5)).toEqual({ r: 0, g: 50, b: 100 });
    expect(mix(GREY_77, WHITE, 0)).toEqual(GREY_77);
    expect(mix(GREY_77, WHITE, 1)).toEqual(WHITE);
  });
});
