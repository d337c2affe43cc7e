import { describe, expect, it } from 'vitest';
import type { RawImage } from '../../src/types.js';
import {
  colourRoles,
  computeGradient,
  gradientCss,
  toHex,
  type PaletteEntry,
} from '../../src/gradient/index.js';

const HEX = /^#[0-9A-F]{6}$/;

function solid(channels: 3 | 4, width: number, height: number, pixel: number[]): RawImage {
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i += channels) data.set(pixel.slice(0, channels), i);
  return { data, width, height, channels };
}

function entry(hex: string, count: number): PaletteEntry {
  const v = parseInt(hex.slice(1), 16);
  return { r: v >> 16, g: (v >> 8) & 0xff, b: v & 0xff, count };
}

function rolesHex(palette: PaletteEntry[]): Record<string, string> {
  const roles = colourRoles(palette);
  return {
    primary: toHex(roles.primary),
    secondary: toHex(roles.secondary),
    foreground: toHex(roles.foreground),
  };
}

describe('gradientCss', () => {
  it('writes the exact sidecar format', () => {
    expect(gradientCss({ r: 0xaa, g: 0xbb, b: 0xcc }, { r: 0xdd, g: 0xee, b: 0xff })).toBe(
      'linear-gradient(135deg, #AABBCC 0%, #DDEEFF 100%)',
    );
    expect(gradientCss({ r: 0, g: 1, b: 2 }, { r: 255, g: 255, b: 255 })).toBe(
      'linear-gradient(135deg, #000102 0%, #FFFFFF 100%)',
    );
  });
});

describe('colourRoles', () => {
  it('takes the most populous entry as primary', () => {
    expect(rolesHex([entry('#112233', 50), entry('#EEDDCC', 40)]).primary).toBe('#112233');
  });

  it('picks the most distinct well-populated colour as secondary', () => {
    const palette = [
      entry('#2040C0', 1000),
      entry('#2848B8', 600), // close to primary
      entry('#F0E020', 200), // far and well populated
      entry('#FF0000', 40), // far but under 5% of the primary
    ];
    expect(rolesHex(palette).secondary).toBe('#F0E020');
  });

  it('lets population outweigh a small gain in distance', () => {
    const palette = [entry('#000000', 1000), entry('#F0F0F0', 900), entry('#FFFFFF', 60)];
    expect(rolesHex(palette).secondary).toBe('#F0F0F0');
  });

  it('weighs distance by the square root of the share: twice as far beats four times as common', () => {
    // ΔE00 from black: #606060 28.3, #FFFFFF 100. Scores 28.3 × √0.8 = 25.3 and 100 × √0.2 = 44.7;
    // weighed by the share itself, #606060 would win (22.6 against 20).
    expect(
      rolesHex([entry('#000000', 1000), entry('#606060', 800), entry('#FFFFFF', 200)]).secondary,
    ).toBe('#FFFFFF');
    // ΔE00 of #A0A0A0 is 52.8: 52.8 × √0.8 = 47.2 beats 44.7, so distance alone does not decide.
    expect(
      rolesHex([entry('#000000', 1000), entry('#A0A0A0', 800), entry('#FFFFFF', 200)]).secondary,
    ).toBe('#A0A0A0');
  });

  it("considers a colour with exactly 5% of the primary's pixels", () => {
    expect(rolesHex([entry('#204080', 1000), entry('#FF0000', 50)]).secondary).toBe('#FF0000');
    expect(rolesHex([entry('#204080', 20), entry('#FF0000', 1)]).secondary).toBe('#FF0000');
    expect(rolesHex([entry('#204080', 21), entry('#FF0000', 1)]).secondary).toBe('#5870A0');
  });

  it('takes a qualifying colour as secondary however close it is', () => {
    // ΔE is about 0.4: any entry with enough pixels beats a derived colour.
    expect(rolesHex([entry('#808080', 100), entry('#818181', 100)]).secondary).toBe('#818181');
  });

  it('chooses black text on a light palette and white on a dark one', () => {
    expect(rolesHex([entry('#F5F0E6', 10), entry('#FFE9A0', 5)]).foreground).toBe('#000000');
    expect(rolesHex([entry('#101828', 10), entry('#3A1F5C', 5)]).foreground).toBe('#FFFFFF');
  });

  it('maximises the minimum contrast over both gradient stops', () => {
    // Black contrasts far better with the primary, but white's worst case over both stops is better.
    expect(rolesHex([entry('#C0C0C0', 10), entry('#202020', 9)]).foreground).toBe('#FFFFFF');
  });

  it('derives a secondary for a one-colour palette', () => {
    expect(rolesHex([entry('#FFFFFF', 10)])).toEqual({
      primary: '#FFFFFF',
      secondary: '#BFBFBF',
      foreground: '#000000',
    });
    expect(rolesHex([entry('#000000', 10)])).toEqual({
      primary: '#000000',
      secondary: '#404040',
      foreground: '#FFFFFF',
    });
  });

  it('derives a secondary when every other colour is too rare', () => {
    expect(rolesHex([entry('#204080', 1000), entry('#FF0000', 49)]).secondary).toBe('#5870A0');
  });

  it('falls back to neutral grey for an empty palette', () => {
    expect(rolesHex([])).toEqual({
      primary: '#808080',
      secondary: '#606060',
      foreground: '#FFFFFF',
    });
  });
});

describe('computeGradient', () => {
  it('builds the sidecar record of a two-colour image', () => {
    const data = Buffer.alloc(10 * 10 * 3);
    for (let i = 0; i < 100; i++) data.set(i < 70 ? [0x20, 0x30, 0x60] : [0xf0, 0xc0, 0x40], i * 3);
    const gradient = computeGradient({ data, width: 10, height: 10, channels: 3 }, 8);
    expect(gradient).toEqual({
      palette: ['#203060', '#F0C040'],
      primary: '#203060',
      secondary: '#F0C040',
      foreground: '#FFFFFF',
      css: 'linear-gradient(135deg, #203060 0%, #F0C040 100%)',
    });
    expect(Object.keys(gradient)).toEqual(['palette', 'primary', 'secondary', 'foreground', 'css']);
  });

  it('honours the palette size', () => {
    const data = Buffer.alloc(32 * 32 * 4);
    for (let i = 0; i < 32 * 32; i++)
      data.set([i % 256, (i * 7) % 256, (i >> 2) % 256, 255], i * 4);
    const gradient = computeGradient({ data, width: 32, height: 32, channels: 4 }, 5);
    expect(gradient.palette).toHaveLength(5);
    expect(new Set(gradient.palette).size).toBe(5);
    for (const hex of [...gradient.palette, gradient.primary, gradient.secondary]) {
      expect(hex).toMatch(HEX);
    }
    expect(gradient.primary).toBe(gradient.palette[0]);
    expect(gradient.palette).toContain(gradient.secondary);
  });

  it('gives valid roles for a one-colour image', () => {
    const gradient = computeGradient(solid(3, 8, 8, [0x33, 0x99, 0xcc]), 8);
    expect(gradient.palette).toEqual(['#3399CC']);
    expect(gradient.primary).toBe('#3399CC');
    expect(gradient.secondary).toMatch(HEX);
    expect(gradient.secondary).not.toBe(gradient.primary);
    expect(gradient.foreground).toMatch(/^#(000000|FFFFFF)$/);
  });

  it('gives valid roles for a fully transparent image', () => {
    expect(computeGradient(solid(4, 8, 8, [255, 0, 0, 0]), 8)).toEqual({
      palette: ['#808080'],
      primary: '#808080',
      secondary: '#606060',
      foreground: '#FFFFFF',
      css: 'linear-gradient(135deg, #808080 0%, #606060 100%)',
    });
  });

  it('serialises the same record whatever the pixel order', () => {
    // 256 pixels in four colours: the palette, its order and every role follow from the counts.
    const runs: Array<[number[], number]> = [
      [[0x20, 0x30, 0x60], 128],
      [[0xf0, 0xc0, 0x40], 64],
      [[0x30, 0x48, 0x78], 48], // close to the primary (ΔE00 7.8): not the secondary despite its count
      [[0xff, 0x00, 0x00], 16],
    ];
    const pixels = runs.flatMap(([rgb, n]) => Array.from({ length: n }, () => rgb));
    const sample = (order: number[][]): RawImage => ({
      data: Buffer.from(order.flat()),
      width: 16,
      height: 16,
      channels: 3,
    });
    const expected = JSON.stringify({
      palette: ['#203060', '#F0C040', '#304878', '#FF0000'],
      primary: '#203060',
      secondary: '#F0C040',
      foreground: '#FFFFFF',
      css: 'linear-gradient(135deg, #203060 0%, #F0C040 100%)',
    });
    expect(JSON.stringify(computeGradient(sample(pixels), 6))).toBe(expected);
    const interleaved = pixels.map((p, i) => pixels[(i * 97) % pixels.length]!);
    expect(JSON.stringify(computeGradient(sample(interleaved), 6))).toBe(expected);
    expect(JSON.stringify(computeGradient(sample([...pixels].reverse()), 6))).toBe(expected);
  });

  it('rejects a buffer that does not match the declared size', () => {
    const sample: RawImage = { data: Buffer.alloc(10), width: 2, height: 2, channels: 3 };
    expect(() => computeGradient(sample, 8)).toThrow('Expected 12 bytes for a 2x2x3 sample');
  });
});
