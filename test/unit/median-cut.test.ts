import { describe, expect, it } from 'vitest';
import { medianCut, type PaletteEntry } from '../../src/gradient/index.js';

type Pixel = readonly [number, number, number] | readonly [number, number, number, number];

function pixels(channels: 3 | 4, ...runs: [Pixel, number][]): Uint8Array {
  const out: number[] = [];
  for (const [pixel, times] of runs) {
    for (let i = 0; i < times; i++) out.push(...pixel.slice(0, channels));
  }
  return Uint8Array.from(out);
}

/** A small seeded generator, so the "random" inputs are the same on every run. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomPixels(count: number, channels: 3 | 4, seed: number): Uint8Array {
  const next = lcg(seed);
  const data = new Uint8Array(count * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(next() * 256);
  return data;
}

function shufflePixels(data: Uint8Array, channels: number, seed: number): Uint8Array {
  const next = lcg(seed);
  const out = Uint8Array.from(data);
  for (let i = out.length / channels - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    for (let c = 0; c < channels; c++) {
      const t = out[i * channels + c]!;
      out[i * channels + c] = out[j * channels + c]!;
      out[j * channels + c] = t;
    }
  }
  return out;
}

const hex = (e: PaletteEntry): string => ((e.r << 16) | (e.g << 8) | e.b).toString(16);

describe('medianCut', () => {
  it('finds both colours of a two-colour image with their counts', () => {
    const data = pixels(3, [[255, 0, 0], 30], [[0, 0, 255], 10]);
    expect(medianCut(data, 3, 8)).toEqual([
      { r: 255, g: 0, b: 0, count: 30 },
      { r: 0, g: 0, b: 255, count: 10 },
    ]);
  });

  it('returns the requested number of distinct colours for a gradient', () => {
    const width = 64;
    const data = new Uint8Array(width * width * 3);
    for (let y = 0; y < width; y++) {
      for (let x = 0; x < width; x++) data.set([x * 4, 255 - x * 4, y * 2], (y * width + x) * 3);
    }
    const palette = medianCut(data, 3, 8);
    expect(palette).toHaveLength(8);
    expect(new Set(palette.map(hex)).size).toBe(8);
    expect(palette.reduce((sum, e) => sum + e.count, 0)).toBe(width * width);
    for (let i = 1; i < palette.length; i++) {
      expect(palette[i]!.count).toBeLessThanOrEqual(palette[i - 1]!.count);
    }
  });

  it('returns fewer entries, without duplicates, when there are fewer colours than asked', () => {
    const data = pixels(3, [[10, 20, 30], 5], [[10, 20, 31], 7], [[200, 0, 0], 1]);
    expect(medianCut(data, 3, 16)).toEqual([
      { r: 10, g: 20, b: 31, count: 7 },
      { r: 10, g: 20, b: 30, count: 5 },
      { r: 200, g: 0, b: 0, count: 1 },
    ]);
  });

  it('gives each box the rounded mean of its pixels', () => {
    const data = pixels(3, [[0, 0, 0], 1], [[255, 255, 255], 1], [[0, 10, 1], 1]);
    expect(medianCut(data, 3, 1)).toEqual([{ r: 85, g: 88, b: 85, count: 3 }]);
  });

  it('breaks count ties by hex, lower first', () => {
    const data = pixels(3, [[0, 0, 255], 4], [[0, 255, 0], 4], [[255, 0, 0], 4]);
    expect(medianCut(data, 3, 3).map(hex)).toEqual(['ff', 'ff00', 'ff0000']);
  });

  it('splits along whichever single channel varies', () => {
    for (const channel of [0, 1, 2]) {
      const at = (v: number): Pixel => {
        const p: [number, number, number] = [50, 50, 50];
        p[channel] = v;
        return p;
      };
      const data = pixels(3, [at(10), 4], [at(90), 3], [at(170), 2], [at(250), 1]);
      expect(medianCut(data, 3, 4), `channel ${channel}`).toEqual(
        [
          [10, 4],
          [90, 3],
          [170, 2],
          [250, 1],
        ].map(([v, count]) => {
          const [r, g, b] = at(v!);
          return { r, g, b, count };
        }),
      );
    }
  });

  it('splits the channel with the widest range first', () => {
    // Red spans 0-40, blue 0-200: a two-colour palette splits blue, keeping red's mean in both.
    const data = pixels(3, [[0, 0, 0], 1], [[40, 0, 0], 1], [[0, 0, 200], 1], [[40, 0, 200], 1]);
    expect(medianCut(data, 3, 2)).toEqual([
      { r: 20, g: 0, b: 0, count: 2 },
      { r: 20, g: 0, b: 200, count: 2 },
    ]);
    const green = pixels(3, [[0, 0, 0], 1], [[0, 40, 0], 1], [[200, 0, 0], 1], [[200, 40, 0], 1]);
    expect(medianCut(green, 3, 2)).toEqual([
      { r: 0, g: 20, b: 0, count: 2 },
      { r: 200, g: 20, b: 0, count: 2 },
    ]);
  });

  it('orders equal counts by the whole hex value, blue and green included', () => {
    const data = pixels(
      3,
      [[0, 1, 0], 2],
      [[0, 0, 16], 2],
      [[1, 0, 0], 2],
      [[0, 0, 1], 2],
      [[0, 16, 0], 2],
    );
    expect(medianCut(data, 3, 8).map(hex)).toEqual(['1', '10', '100', '1000', '10000']);
  });

  it('splits the box with the widest range times population, so stray pixels take no slot', () => {
    // 1000 pixels in two shades of red and 4 stray pixels of two very different greens: the third
    // colour goes to the shades, not to the strays.
    const data = pixels(
      3,
      [[100, 50, 50], 500],
      [[130, 50, 50], 500],
      [[0, 250, 0], 2],
      [[0, 250, 200], 2],
    );
    expect(medianCut(data, 3, 3)).toEqual([
      { r: 100, g: 50, b: 50, count: 500 },
      { r: 130, g: 50, b: 50, count: 500 },
      { r: 0, g: 250, b: 100, count: 4 },
    ]);
  });

  it('ignores pixels with alpha below 128', () => {
    const data = pixels(
      4,
      [[0, 255, 0, 0], 100],
      [[0, 0, 255, 127], 100],
      [[255, 0, 0, 255], 20],
      [[255, 0, 0, 128], 5],
    );
    expect(medianCut(data, 4, 8)).toEqual([{ r: 255, g: 0, b: 0, count: 25 }]);
  });

  it('returns no entries for a fully transparent image', () => {
    expect(medianCut(pixels(4, [[9, 9, 9, 0], 64]), 4, 8)).toEqual([]);
    expect(medianCut(new Uint8Array(0), 3, 8)).toEqual([]);
  });

  it('is deterministic and independent of pixel order', () => {
    const data = randomPixels(4096, 4, 7);
    const first = medianCut(data, 4, 12);
    expect(first).toHaveLength(12);
    expect(medianCut(Uint8Array.from(data), 4, 12)).toEqual(first);
    expect(medianCut(shufflePixels(data, 4, 99), 4, 12)).toEqual(first);
  });

  it('does not modify its input', () => {
    const data = randomPixels(1024, 3, 3);
    const copy = Uint8Array.from(data);
    medianCut(data, 3, 8);
    expect(data).toEqual(copy);
  });

  it('handles a one-megapixel input', () => {
    const data = randomPixels(1024 * 1024, 4, 11);
    let opaque = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! >= 128) opaque++;
    const palette = medianCut(data, 4, 16);
    expect(palette).toHaveLength(16);
    expect(palette.reduce((sum, e) => sum + e.count, 0)).toBe(opaque);
  });

  it('rejects invalid arguments', () => {
    expect(() => medianCut(new Uint8Array(3), 3, 0)).toThrow(
      'Expected positive integer for maxColours but received "0" of type number',
    );
    expect(() => medianCut(new Uint8Array(3), 3, 1.5)).toThrow(/maxColours/);
    expect(() => medianCut(new Uint8Array(5), 4, 4)).toThrow(/whole number of 4-channel pixels/);
    expect(() => medianCut(new Uint8Array(4), 2 as 3, 4)).toThrow(
      'Expected 3 or 4 for channels but received 2',
    );
  });
});
