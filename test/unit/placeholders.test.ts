import { decode as decodeBlurHash } from 'blurhash';
import { thumbHashToApproximateAspectRatio, thumbHashToRGBA } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import type { RawImage } from '../../src/types.js';
import { placeholders } from '../../src/gradient/index.js';
import { blurHashComponents } from '../../src/gradient/placeholders.js';

/** A left-to-right gradient from `left` to `right`, RGB or RGBA. */
function gradientImage(
  width: number,
  height: number,
  left: number[],
  right: number[],
  channels: 3 | 4,
): RawImage {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = width === 1 ? 0 : x / (width - 1);
      for (let c = 0; c < channels; c++) {
        data[(y * width + x) * channels + c] = Math.round(left[c]! + (right[c]! - left[c]!) * t);
      }
    }
  }
  return { data, width, height, channels };
}

const thumbHashBytes = (s: string) => Uint8Array.from(Buffer.from(s, 'base64'));

/** Mean of each channel over the pixels of an interleaved image. */
function channelMeans(pixels: ArrayLike<number>, channels: number, keep: number): number[] {
  const sums = new Array<number>(channels).fill(0);
  for (let i = 0; i < pixels.length; i++) sums[i % channels]! += pixels[i]!;
  return sums.slice(0, keep).map((v) => v / (pixels.length / channels));
}
const thumbHashMean = (hash: string) =>
  channelMeans(thumbHashToRGBA(thumbHashBytes(hash)).rgba, 4, 4);
const blurHashMean = (hash: string) => channelMeans(decodeBlurHash(hash, 8, 8), 4, 3);
/** Each channel within 12 levels of what is expected: both hashes quantise their colours. */
function expectNear(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  const off = actual.map((v, c) => Math.abs(v - expected[c]!));
  expect(
    Math.max(...off),
    `${actual.map(Math.round).join(',')} vs ${expected.join(',')}`,
  ).toBeLessThanOrEqual(12);
}

describe('placeholders', () => {
  it('is deterministic: the same sample gives the same strings', () => {
    const sample = gradientImage(64, 48, [200, 30, 30], [20, 40, 220], 3);
    const a = placeholders(sample);
    const b = placeholders({ ...sample, data: Buffer.from(sample.data) });
    expect(a).toEqual(b);
    expect(a.thumbHash).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // 4x3 components: size flag, AC maximum, 4 characters of DC, 2 per AC component.
    expect(a.blurHash).toHaveLength(1 + 1 + 4 + 2 * (4 * 3 - 1));
  });

  it('ThumbHash keeps the aspect ratio and the colours, left red and right blue', () => {
    const { thumbHash } = placeholders(gradientImage(64, 32, [220, 20, 20], [20, 20, 220], 3));
    const bytes = thumbHashBytes(thumbHash);
    expect(thumbHashToApproximateAspectRatio(bytes)).toBeCloseTo(2, 0);
    const { w, h, rgba } = thumbHashToRGBA(bytes);
    const at = (x: number) => rgba.subarray((Math.floor(h / 2) * w + x) * 4);
    expect(at(0)[0]!).toBeGreaterThan(at(0)[2]!);
    expect(at(w - 1)[2]!).toBeGreaterThan(at(w - 1)[0]!);
  });

  it('ThumbHash keeps alpha: transparent on the left, opaque on the right', () => {
    const sample = gradientImage(48, 48, [0, 128, 0, 0], [0, 128, 0, 255], 4);
    const { w, h, rgba } = thumbHashToRGBA(thumbHashBytes(placeholders(sample).thumbHash));
    const row = Math.floor(h / 2) * w;
    expect(rgba[row * 4 + 3]!).toBeLessThan(80);
    expect(rgba[(row + w - 1) * 4 + 3]!).toBeGreaterThan(180);
    const opaque = placeholders(gradientImage(48, 48, [0, 128, 0], [0, 128, 0], 3));
    const full = thumbHashToRGBA(thumbHashBytes(opaque.thumbHash));
    expect(Math.min(...full.rgba.filter((_, i) => i % 4 === 3))).toBe(255);
  });

  it('BlurHash flattens transparent pixels onto white', () => {
    // Fully transparent "black" pixels must not paint a black placeholder.
    const sample = gradientImage(32, 32, [0, 0, 0, 0], [0, 0, 0, 0], 4);
    const pixels = decodeBlurHash(placeholders(sample).blurHash, 4, 4);
    expect(Math.min(...pixels.filter((_, i) => i % 4 !== 3))).toBeGreaterThan(245);
  });

  it('takes BlurHash components from the aspect: 4 along the longer side', () => {
    expect(blurHashComponents(64, 48)).toEqual({ x: 4, y: 3 });
    expect(blurHashComponents(48, 64)).toEqual({ x: 3, y: 4 });
    expect(blurHashComponents(64, 1)).toEqual({ x: 4, y: 1 });
    expect(blurHashComponents(10, 10)).toEqual({ x: 4, y: 4 });
  });

  it('keeps every channel of a colour, straight or half transparent (BlurHash: over white)', () => {
    const rgb = placeholders(gradientImage(100, 60, [200, 120, 40], [200, 120, 40], 3));
    expectNear(thumbHashMean(rgb.thumbHash), [200, 120, 40, 255]);
    expectNear(blurHashMean(rgb.blurHash), [200, 120, 40]);
    const half = placeholders(gradientImage(64, 40, [200, 120, 40, 128], [200, 120, 40, 128], 4));
    expectNear(thumbHashMean(half.thumbHash), [200, 120, 40, 128]);
    // 200 × 128/255 + 127 and so on.
    expectNear(blurHashMean(half.blurHash), [227, 187, 147]);
  });

  it('scales down by alpha-weighted means: the colour of transparent pixels does not bleed', () => {
    // Opaque green and transparent red, alternating: the halved image is green, half transparent.
    const data = Buffer.alloc(64 * 64 * 4);
    for (let p = 0; p < 64 * 64; p++) {
      const green = (p + Math.floor(p / 64)) % 2 === 0;
      data.set(green ? [0, 200, 0, 255] : [255, 0, 0, 0], p * 4);
    }
    const { thumbHash, blurHash } = placeholders({ data, width: 64, height: 64, channels: 4 });
    expectNear(thumbHashMean(thumbHash), [0, 200, 0, 128]);
    expectNear(blurHashMean(blurHash), [127, 227, 127]);
  });

  it('refuses samples ThumbHash cannot take or whose buffer does not match', () => {
    expect(() => placeholders(gradientImage(100, 100, [0, 0, 0], [0, 0, 0], 3))).not.toThrow();
    expect(() => placeholders(gradientImage(101, 10, [0, 0, 0], [0, 0, 0], 3))).toThrow(
      'Expected a sample of at most 100 px a side but received 101x10',
    );
    expect(() => placeholders(gradientImage(10, 101, [0, 0, 0], [0, 0, 0], 3))).toThrow(
      'Expected a sample of at most 100 px a side but received 10x101',
    );
    expect(() => placeholders({ data: Buffer.alloc(5), width: 2, height: 2, channels: 3 })).toThrow(
      'Expected 12 bytes for a 2x2x3 sample but received 5',
    );
  });
});
