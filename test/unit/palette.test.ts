import { describe, expect, it } from 'vitest';
import { ciede2000, deltaE2000 } from '../../src/gradient/colour.js';
import {
  computeGradient,
  distinctPalette,
  medianCut,
  MIN_PALETTE_DELTA_E,
  toHex,
  type PaletteEntry,
} from '../../src/gradient/index.js';
import { medianCutSteps } from '../../src/gradient/median-cut.js';
import { mergeNearColours } from '../../src/gradient/palette.js';

/** Sharma, Wu and Dalal (2005), "The CIEDE2000 colour-difference formula", Table 1: all 34 pairs. */
const SHARMA: [number, number, number, number, number, number, number][] = [
  [50.0, 2.6772, -79.7751, 50.0, 0.0, -82.7485, 2.0425],
  [50.0, 3.1571, -77.2803, 50.0, 0.0, -82.7485, 2.8615],
  [50.0, 2.8361, -74.02, 50.0, 0.0, -82.7485, 3.4412],
  [50.0, -1.3802, -84.2814, 50.0, 0.0, -82.7485, 1.0],
  [50.0, -1.1848, -84.8006, 50.0, 0.0, -82.7485, 1.0],
  [50.0, -0.9009, -85.5211, 50.0, 0.0, -82.7485, 1.0],
  [50.0, 0.0, 0.0, 50.0, -1.0, 2.0, 2.3669],
  [50.0, -1.0, 2.0, 50.0, 0.0, 0.0, 2.3669],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.0009, 7.1792],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.001, 7.1792],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.0011, 7.2195],
  [50.0, 2.49, -0.001, 50.0, -2.49, 0.0012, 7.2195],
  [50.0, -0.001, 2.49, 50.0, 0.0009, -2.49, 4.8045],
  [50.0, -0.001, 2.49, 50.0, 0.001, -2.49, 4.8045],
  [50.0, -0.001, 2.49, 50.0, 0.0011, -2.49, 4.7461],
  [50.0, 2.5, 0.0, 50.0, 0.0, -2.5, 4.3065],
  [50.0, 2.5, 0.0, 73.0, 25.0, -18.0, 27.1492],
  [50.0, 2.5, 0.0, 61.0, -5.0, 29.0, 22.8977],
  [50.0, 2.5, 0.0, 56.0, -27.0, -3.0, 31.903],
  [50.0, 2.5, 0.0, 58.0, 24.0, 15.0, 19.4535],
  [50.0, 2.5, 0.0, 50.0, 3.1736, 0.5854, 1.0],
  [50.0, 2.5, 0.0, 50.0, 3.2972, 0.0, 1.0],
  [50.0, 2.5, 0.0, 50.0, 1.8634, 0.5757, 1.0],
  [50.0, 2.5, 0.0, 50.0, 3.2592, 0.335, 1.0],
  [60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644],
  [63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.263],
  [61.2901, 3.7196, -5.3901, 61.4292, 2.248, -4.962, 1.8731],
  [35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645],
  [22.7233, 20.0904, -46.694, 23.0331, 14.973, -42.5619, 2.0373],
  [36.4612, 47.858, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146],
  [90.8027, -2.0831, 1.441, 91.1528, -1.6435, 0.0447, 1.4441],
  [90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381],
  [6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377],
  [2.0776, 0.0795, -1.135, 0.9033, -0.0636, -0.5514, 0.9082],
];

const rgb = (hex: string) => {
  const v = parseInt(hex.slice(1), 16);
  return { r: v >> 16, g: (v >> 8) & 0xff, b: v & 0xff };
};
const entry = (hex: string, count: number): PaletteEntry => ({ ...rgb(hex), count });

/** Pixels of `hex` colours, each repeated its count, as interleaved RGB(A). */
function pixels(colours: [string, number, number?][], channels: 3 | 4 = 3): Uint8Array {
  const out: number[] = [];
  for (const [hex, count, alpha = 255] of colours) {
    const { r, g, b } = rgb(hex);
    for (let i = 0; i < count; i++) out.push(...(channels === 4 ? [r, g, b, alpha] : [r, g, b]));
  }
  return Uint8Array.from(out);
}

function minDistance(hexes: string[]): number {
  let min = Infinity;
  for (let i = 0; i < hexes.length; i++) {
    for (let j = i + 1; j < hexes.length; j++) {
      min = Math.min(min, deltaE2000(rgb(hexes[i]!), rgb(hexes[j]!)));
    }
  }
  return min;
}

describe('ciede2000', () => {
  it.each(SHARMA.map((row, i) => [i + 1, row] as const))(
    'matches Sharma et al. pair %i both ways to 4 decimals',
    (_pair, [l1, a1, b1, l2, a2, b2, expected]) => {
      const p = { l: l1, a: a1, b: b1 };
      const q = { l: l2, a: a2, b: b2 };
      expect(ciede2000(p, q)).toBeCloseTo(expected, 4);
      expect(ciede2000(q, p)).toBeCloseTo(expected, 4);
    },
  );

  it('measures sRGB colours: the issue near-duplicates are under the threshold', () => {
    expect(deltaE2000(rgb('#FFFFFF'), rgb('#FFFFFF'))).toBe(0);
    for (const [a, b] of [
      ['#FFDC00', '#FFE300'],
      ['#FF0000', '#FF0404'],
      ['#FFFFFF', '#FFFBFB'],
      ['#FFFFFF', '#FDFDFD'],
    ] as const) {
      expect(deltaE2000(rgb(a), rgb(b))).toBeLessThan(MIN_PALETTE_DELTA_E);
    }
    expect(deltaE2000(rgb('#FFDC00'), rgb('#003DFF'))).toBeGreaterThan(50);
  });
});

describe('medianCutSteps', () => {
  it('yields, one split at a time, what medianCut gives for each box count', () => {
    const data = new Uint8Array(24 * 24 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 53 + (i >> 4) * 7) % 256;
    const steps = [...medianCutSteps(data, 3, 2, 9)];
    expect(steps).toHaveLength(8);
    steps.forEach((entries, i) => expect(entries).toEqual(medianCut(data, 3, i + 2)));
  });

  it('stops at the last box count the pixels allow', () => {
    const data = pixels([
      ['#FF0000', 5],
      ['#00FF00', 5],
    ]);
    expect([...medianCutSteps(data, 3, 1, 6)].map((e) => e.map(toHex))).toEqual([
      ['#808000'],
      ['#00FF00', '#FF0000'],
    ]);
  });
});

describe('mergeNearColours', () => {
  it('folds near-duplicates into the more populous colour, adding their pixels', () => {
    const merged = mergeNearColours(
      [entry('#FFDC00', 500), entry('#003DFF', 400), entry('#FFE300', 50), entry('#FEDC00', 30)],
      MIN_PALETTE_DELTA_E,
    );
    expect(merged.map((e) => [toHex(e), e.count])).toEqual([
      ['#FFDC00', 580],
      ['#003DFF', 400],
    ]);
  });

  it('re-sorts by the merged counts and keeps colours at least the distance apart', () => {
    const merged = mergeNearColours(
      [entry('#000000', 100), entry('#FFFFFF', 90), entry('#FCFCFC', 20)],
      MIN_PALETTE_DELTA_E,
    );
    expect(merged.map(toHex)).toEqual(['#FFFFFF', '#000000']);
    expect(merged[0]!.count).toBe(110);
  });

  it('orders equal counts as medianCut does, lower hex first', () => {
    const merged = mergeNearColours(
      [entry('#FF0000', 50), entry('#00FF00', 50), entry('#0000FF', 50)],
      MIN_PALETTE_DELTA_E,
    );
    expect(merged.map(toHex)).toEqual(['#0000FF', '#00FF00', '#FF0000']);
  });
});

describe('distinctPalette', () => {
  it('gives an image of two flat colours with soft edges two colours', () => {
    // Two flat colours and the few in-between shades an antialiased edge or JPEG noise adds.
    const data = pixels([
      ['#FFDC00', 2000],
      ['#003DFF', 1500],
      ['#FFE300', 300],
      ['#FEDC00', 200],
      ['#FDDE00', 150],
      ['#0440FC', 120],
    ]);
    const palette = distinctPalette(data, 3, 6).map(toHex);
    expect(palette).toEqual(['#FFDC00', '#003DFF']);
  });

  it('looks past near-duplicates for a distinct colour that median cut alone would miss', () => {
    const data = pixels([
      ['#FF0000', 3100],
      ['#FA0000', 2900],
      ['#00FF00', 40],
      ['#0000FF', 40],
    ]);
    // Three median-cut boxes: two reds (one muddied by the blue) and the green.
    const boxes = medianCut(data, 3, 3).map(toHex);
    expect(boxes).toEqual(['#FF0000', '#F70003', '#00FF00']);
    expect(deltaE2000(rgb(boxes[0]!), rgb(boxes[1]!))).toBeLessThan(MIN_PALETTE_DELTA_E);
    expect(distinctPalette(data, 3, 3).map(toHex)).toEqual(['#FF0000', '#0000FF', '#00FF00']);
  });

  it('never returns two colours closer than the threshold, at any palette size', () => {
    const data = new Uint8Array(48 * 48 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 97 + (i >> 5) * 13) % 256;
    for (const size of [1, 2, 6, 12, 32]) {
      const palette = distinctPalette(data, 3, size).map(toHex);
      expect(palette.length).toBeGreaterThan(0);
      expect(palette.length).toBeLessThanOrEqual(size);
      if (palette.length > 1) {
        expect(minDistance(palette)).toBeGreaterThanOrEqual(MIN_PALETTE_DELTA_E);
      }
    }
  });

  it('ignores transparent pixels', () => {
    const data = pixels(
      [
        ['#204080', 100],
        ['#FF0000', 900, 0],
      ],
      4,
    );
    expect(distinctPalette(data, 4, 6).map(toHex)).toEqual(['#204080']);
  });
});

describe('computeGradient: the one-colour rule covers near-identical colours', () => {
  it('a white image with varying alpha is one colour, with a visible derived secondary', () => {
    const data = pixels(
      [
        ['#FFFFFF', 600, 255],
        ['#FDFDFD', 300, 200],
        ['#FEFEFE', 100, 140],
      ],
      4,
    );
    const gradient = computeGradient(
      { data: Buffer.from(data), width: 100, height: 10, channels: 4 },
      6,
    );
    expect(gradient.palette).toEqual(['#FFFFFF']);
    expect(gradient.secondary).toBe('#BFBFBF');
    expect(gradient.css).toBe('linear-gradient(135deg, #FFFFFF 0%, #BFBFBF 100%)');
  });

  it('a red frame with white and near-red pixels keeps red and white only', () => {
    const data = pixels([
      ['#FF0000', 700],
      ['#FFFFFF', 200],
      ['#FF0404', 60],
      ['#FFFBFB', 40],
    ]);
    const gradient = computeGradient(
      { data: Buffer.from(data), width: 100, height: 10, channels: 3 },
      6,
    );
    expect(gradient.palette).toEqual(['#FF0000', '#FFFFFF']);
    expect(gradient.secondary).toBe('#FFFFFF');
  });
});
