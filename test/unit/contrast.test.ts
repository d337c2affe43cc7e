import { describe, expect, it } from 'vitest';
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
