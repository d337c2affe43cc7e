import { describe, expect, test } from 'vitest';
import { areaSample, areaSampleJs } from '../../src/pipeline/sample.js';
import type { RawImage } from '../../src/types.js';
import { addonFunction } from './helpers.js';

const native = addonFunction('areaSample');

function image(width: number, height: number, channels: 3 | 4, seed: number): RawImage {
  const data = Buffer.alloc(width * height * channels);
  let x = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    data[i] = x >>> 24;
  }
  // Some fully transparent and some fully opaque pixels, where alpha lets the colours count or not.
  if (channels === 4) for (let p = 3; p < data.length; p += 16) data[p] = p % 32 === 3 ? 0 : 255;
  return { data, width, height, channels };
}

/** A one-pixel-high image of `channels` channels. */
const row = (channels: 3 | 4, ...values: number[]): RawImage => ({
  data: Buffer.from(values),
  width: values.length / channels,
  height: 1,
  channels,
});

describe('the palette sample’s area mean', () => {
  test('gives the same bytes in the addon and in JavaScript, at any size and ratio', () => {
    let compared = 0;
    for (let seed = 1; seed <= 80; seed++) {
      const channels = seed % 2 === 0 ? 4 : 3;
      const width = 1 + ((seed * 37) % 300);
      const height = 1 + ((seed * 53) % 200);
      const src = image(width, height, channels, seed);
      const size = { width: 1 + ((seed * 7) % width), height: 1 + ((seed * 11) % height) };
      const js = areaSampleJs(src, size);
      expect(
        native(src, size).equals(js),
        `${width}x${height}x${channels} to ${size.width}x${size.height}`,
      ).toBe(true);
      compared += js.length;
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  test('averages whole and partly covered pixels by their share, rounding half up', () => {
    // 2x1 to 1x1: the mean of 10 and 21 is 15.5, which rounds to 16.
    const two = row(3, 10, 0, 0, 21, 0, 255);
    expect([...areaSample(two, { width: 1, height: 1 }).data]).toEqual([16, 0, 128]);
    // 3x1 to 2x1: the middle pixel is split half and half.
    const three = row(3, 0, 0, 0, 90, 90, 90, 180, 180, 180);
    expect([...areaSample(three, { width: 2, height: 1 }).data]).toEqual([
      30, 30, 30, 150, 150, 150,
    ]);
  });

  test('weights colours by alpha, so a transparent pixel’s colour does not bleed', () => {
    const rgba = row(4, 255, 0, 0, 0, 0, 0, 255, 255);
    expect([...areaSample(rgba, { width: 1, height: 1 }).data]).toEqual([0, 0, 255, 128]);
    const clear = row(4, 255, 9, 9, 0, 9, 255, 9, 0);
    expect([...areaSample(clear, { width: 1, height: 1 }).data]).toEqual([0, 0, 0, 0]);
  });

  test('returns the image itself at its own size, and refuses to enlarge', () => {
    const src = image(4, 4, 3, 7);
    expect(areaSample(src, { width: 4, height: 4 })).toBe(src);
    expect(() => areaSampleJs(src, { width: 5, height: 4 })).toThrow(RangeError);
    expect(() => native(src, { width: 5, height: 4 })).toThrow(TypeError);
    expect(() => native({ ...src, channels: 2 as 3 }, { width: 2, height: 2 })).toThrow(/channels/);
  });
});
