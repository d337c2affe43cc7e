import { readdirSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import {
  distinctPalette,
  medianCutSteps,
  stepsFromFlat,
  type PaletteEntry,
} from '../../src/gradient/index.js';
import { paletteMedianCut } from '../../src/pipeline/palette.js';
import { FIXTURES, addonFunction, fixture } from './helpers.js';

const native = addonFunction('medianCutSteps');

function bothWays(pixels: Uint8Array, channels: 3 | 4, fewest: number, most: number) {
  return {
    js: [...medianCutSteps(pixels, channels, fewest, most)],
    native: [...stepsFromFlat(native(pixels, channels, fewest, most))],
  };
}

/** Deterministic pseudo-random bytes (a linear congruential generator). */
function noise(length: number, seed: number, levels = 256): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = Math.floor(((x >>> 8) / 0x1000000) * levels) * Math.floor(255 / (levels - 1 || 1));
  }
  return out;
}

describe('the native median cut', () => {
  test('gives the JavaScript palettes, step for step, on random pixels of every kind', () => {
    let compared = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const channels = seed % 2 === 0 ? 4 : 3;
      const pixels = 1 + ((seed * 97) % 4000);
      // Few levels make ties in counts and colours; 256 levels make wide boxes.
      const levels = [2, 3, 5, 17, 256][seed % 5]!;
      const data = noise(pixels * channels, seed, levels);
      const { js, native } = bothWays(data, channels, 1 + (seed % 8), 4 + (seed % 30));
      expect(native).toEqual(js);
      compared += js.length;
    }
    expect(compared).toBeGreaterThan(500);
  });

  test('gives the JavaScript palettes on the samples of every fixture', async () => {
    const names = readdirSync(FIXTURES).filter((n) => /\.(jpe?g|png|webp|gif|tiff?)$/i.test(n));
    expect(names.length).toBeGreaterThan(8);
    for (const name of names) {
      const { data, info } = await sharp(fixture(name))
        .rotate()
        .resize(64, 64, { fit: 'inside' })
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      const channels = info.channels as 3 | 4;
      const { js, native } = bothWays(data, channels, 6, 24);
      expect(native, name).toEqual(js);
      expect(distinctPalette(data, channels, 6, undefined, paletteMedianCut()), name).toEqual(
        distinctPalette(data, channels, 6),
      );
    }
  });

  test('handles no opaque pixel, one colour, and one pixel as the JavaScript does', () => {
    const transparent = new Uint8Array([10, 20, 30, 0, 40, 50, 60, 127]);
    expect(bothWays(transparent, 4, 3, 8).native).toEqual([[]]);
    const flat = new Uint8Array(300).fill(200);
    const expected: PaletteEntry[][] = [[{ r: 200, g: 200, b: 200, count: 100 }]];
    expect(bothWays(flat, 3, 3, 8)).toEqual({ js: expected, native: expected });
    const one = new Uint8Array([1, 2, 3]);
    expect(bothWays(one, 3, 1, 1).native).toEqual([[{ r: 1, g: 2, b: 3, count: 1 }]]);
  });

  test('is the one the pipeline uses, and refuses what the JavaScript refuses', () => {
    expect(paletteMedianCut()).not.toBe(medianCutSteps);
    expect(() => native(new Uint8Array(5), 3, 1, 4)).toThrow(TypeError);
    expect(() => native(new Uint8Array(6), 2, 1, 4)).toThrow(/3- or 4-channel/);
    expect(() => native([1, 2, 3] as unknown as Uint8Array, 3, 1, 4)).toThrow(/Uint8Array/);
  });
});
