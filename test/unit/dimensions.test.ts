import { describe, expect, it } from 'vitest';
import { DEFAULT_OUTPUT_OPTIONS } from '../../src/config/options.js';
import {
  WEBP_MAX_SIDE,
  fitFormat,
  fitInside,
  lqSize,
  responsiveSizes,
  scaledSize,
  thumbSize,
} from '../../src/pipeline/dimensions.js';
import { planOutputSizes } from '../../src/pipeline/output-sizes.js';
import type { OpName } from '../../src/pipeline/types.js';

const size = (width: number, height: number) => ({ width, height });

describe('thumbSize', () => {
  it('scales to the target width and keeps the aspect ratio', () => {
    expect(thumbSize(size(4032, 3024), 256)).toEqual(size(256, 192));
    expect(thumbSize(size(1920, 1080), 256)).toEqual(size(256, 144));
    expect(thumbSize(size(900, 1200), 256)).toEqual(size(256, 341));
  });

  it('rounds the height to the nearest pixel', () => {
    expect(thumbSize(size(480, 320), 256)).toEqual(size(256, 171)); // 170.67
    expect(thumbSize(size(300, 200), 100)).toEqual(size(100, 67)); // 66.67
    expect(thumbSize(size(1000, 333), 256)).toEqual(size(256, 85)); // 85.25
  });

  it('never enlarges: narrower or equal sources keep their size', () => {
    expect(thumbSize(size(200, 150), 256)).toEqual(size(200, 150));
    expect(thumbSize(size(256, 4000), 256)).toEqual(size(256, 4000));
    expect(thumbSize(size(8, 2000), 256)).toEqual(size(8, 2000));
    expect(thumbSize(size(1, 1), 256)).toEqual(size(1, 1));
  });

  it('never goes below 1 px, even for extreme ratios', () => {
    expect(thumbSize(size(2000, 8), 256)).toEqual(size(256, 1));
    expect(thumbSize(size(100000, 1), 256)).toEqual(size(256, 1));
    expect(thumbSize(size(16383, 2), 1)).toEqual(size(1, 1));
  });

  it('returns a fresh object, not the source', () => {
    const src = size(100, 100);
    const out = thumbSize(src, 256);
    expect(out).not.toBe(src);
  });
});

describe('scaledSize', () => {
  it('halves each side for the default low-quality scale', () => {
    expect(scaledSize(size(1600, 1200), 0.5)).toEqual(size(800, 600));
    expect(scaledSize(size(201, 151), 0.5)).toEqual(size(101, 76)); // .5 rounds up
  });

  it('keeps at least 1 px on each side', () => {
    expect(scaledSize(size(1, 1), 0.5)).toEqual(size(1, 1));
    expect(scaledSize(size(2000, 1), 0.5)).toEqual(size(1000, 1));
    expect(scaledSize(size(3, 3), 0.01)).toEqual(size(1, 1));
  });

  it('never enlarges: a scale of 1 or more keeps the size', () => {
    expect(scaledSize(size(640, 480), 1)).toEqual(size(640, 480));
    expect(scaledSize(size(640, 480), 2)).toEqual(size(640, 480));
  });

  it('scales both sides by the same factor', () => {
    expect(scaledSize(size(1000, 10), 0.25)).toEqual(size(250, 3)); // 2.5 rounds to 3
    expect(scaledSize(size(10, 1000), 0.1)).toEqual(size(1, 100));
  });
});

describe('fitInside', () => {
  it('fits the longer side in the box, aspect kept', () => {
    expect(fitInside(size(1600, 1200), 64)).toEqual(size(64, 48));
    expect(fitInside(size(1200, 1600), 64)).toEqual(size(48, 64));
    expect(fitInside(size(1000, 1000), 64)).toEqual(size(64, 64));
  });

  it('rounds each side to the nearest pixel', () => {
    expect(fitInside(size(3000, 2000), 64)).toEqual(size(64, 43)); // 42.67
    expect(fitInside(size(2000, 3000), 64)).toEqual(size(43, 64));
    expect(fitInside(size(1000, 999), 64)).toEqual(size(64, 64)); // 63.94
    expect(fitInside(size(4032, 3024), 16)).toEqual(size(16, 12));
    expect(fitInside(size(128, 33), 64)).toEqual(size(64, 17)); // 16.5 rounds up
    expect(fitInside(size(1000, 332), 64)).toEqual(size(64, 21)); // 21.25 rounds down
  });

  it('never enlarges', () => {
    expect(fitInside(size(40, 30), 64)).toEqual(size(40, 30));
    expect(fitInside(size(64, 10), 64)).toEqual(size(64, 10));
  });

  it('keeps at least 1 px for extreme ratios', () => {
    expect(fitInside(size(2000, 8), 64)).toEqual(size(64, 1));
    expect(fitInside(size(8, 2000), 64)).toEqual(size(1, 64));
    expect(fitInside(size(100000, 1), 16)).toEqual(size(16, 1));
  });
});

describe('planOutputSizes: every WebP output fits 16383 px a side', () => {
  const task = (ops: OpName[] = ['thumb', 'blur', 'lq', 'gradient']) => ({
    ops,
    // The lq cap lifted, so these cases reach WebP's own limit.
    options: { ...DEFAULT_OUTPUT_OPTIONS, lqMaxWidth: WEBP_MAX_SIDE },
  });
  const within = (s: { width: number; height: number } | undefined) =>
    s !== undefined && s.width <= WEBP_MAX_SIDE && s.height <= WEBP_MAX_SIDE;

  it('scales a half-size copy that would be too wide down to fit, aspect kept', () => {
    const sizes = planOutputSizes(size(34000, 1500), task());
    expect(sizes.lq).toEqual(size(16383, 723)); // 17000x750 scaled by 16383/17000
    expect(sizes.thumb).toEqual(size(256, 11));
  });

  it('fits strips in both directions, never below 1 px', () => {
    expect(planOutputSizes(size(34000, 4), task()).lq).toEqual(size(16383, 2));
    const tall = planOutputSizes(size(4, 40000), task());
    expect(tall.thumb).toEqual(size(2, 16383)); // narrower than 256: not resized, but too tall
    expect(tall.blur).toEqual(tall.thumb);
    expect(tall.lq).toEqual(size(2, 16383)); // 2x20000 scaled by 16383/20000: 1.64 rounds to 2
    for (const s of [tall.thumb, tall.blur, tall.lq, tall.sample]) expect(within(s)).toBe(true);
  });

  it('leaves outputs that fit alone', () => {
    expect(fitFormat(size(16383, 16383))).toEqual(size(16383, 16383));
    expect(planOutputSizes(size(4032, 3024), task()).lq).toEqual(size(2016, 1512));
  });
});

describe('lqSize', () => {
  it('is the scaled size while that fits the width cap', () => {
    expect(lqSize(size(1280, 960), 0.5, 1600)).toEqual(size(640, 480));
    expect(lqSize(size(3200, 2000), 0.5, 1600)).toEqual(size(1600, 1000));
    // Exactly as wide as the cap: each side rounded on its own, not re-derived from the width.
    expect(lqSize(size(101, 102), 0.5, 51)).toEqual(size(51, 51));
  });

  it('caps the width, aspect kept from the source', () => {
    expect(lqSize(size(5640, 3172), 0.5, 1600)).toEqual(size(1600, 900));
    expect(lqSize(size(4000, 3000), 1, 1024)).toEqual(size(1024, 768));
    expect(lqSize(size(100000, 1), 0.5, 1600)).toEqual(size(1600, 1));
  });
});

describe('responsiveSizes', () => {
  it('gives each width below the source, narrowest first, aspect kept', () => {
    expect(responsiveSizes(size(4000, 3000), [1280, 320, 640])).toEqual([
      size(320, 240),
      size(640, 480),
      size(1280, 960),
    ]);
  });

  it('never enlarges: widths at or above the source give one copy at the source size', () => {
    expect(responsiveSizes(size(1000, 500), [320, 640, 1280, 1920])).toEqual([
      size(320, 160),
      size(640, 320),
      size(1000, 500),
    ]);
    expect(responsiveSizes(size(640, 480), [640])).toEqual([size(640, 480)]);
    expect(responsiveSizes(size(200, 100), [320, 640])).toEqual([size(200, 100)]);
  });

  it('is empty without widths and ignores repeats', () => {
    expect(responsiveSizes(size(1000, 500), [])).toEqual([]);
    expect(responsiveSizes(size(1000, 500), [320, 320])).toEqual([size(320, 160)]);
  });
});
