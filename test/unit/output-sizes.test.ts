import { describe, expect, it } from 'vitest';
import { DEFAULT_OUTPUT_OPTIONS } from '../../src/config/options.js';
import { SAMPLE_SIZE, decodeTarget, planOutputSizes } from '../../src/pipeline/output-sizes.js';
import { ALL_OPS, type OpName, type OutputOptions } from '../../src/pipeline/types.js';

const size = (width: number, height: number) => ({ width, height });
const task = (ops: readonly OpName[], options: Partial<OutputOptions> = {}) => ({
  ops: [...ops],
  options: { ...DEFAULT_OUTPUT_OPTIONS, ...options },
});

describe('planOutputSizes', () => {
  it('sizes every output of a photo with the documented defaults', () => {
    expect(planOutputSizes(size(4032, 3024), task(ALL_OPS))).toEqual({
      thumb: size(256, 192),
      // A thumbnail-sized placeholder.
      blur: size(256, 192),
      // Half of 4032 is over the 1280 px cap: capped, aspect kept.
      lq: size(1280, 960),
      // The palette's sample: 64 px on the longer side.
      sample: size(SAMPLE_SIZE, 48),
      widths: [],
    });
    expect(SAMPLE_SIZE).toBe(64);
  });

  it('sizes only the outputs asked for; the responsive widths follow the options', () => {
    expect(planOutputSizes(size(4032, 3024), task(['thumb'], { widths: [320] }))).toEqual({
      thumb: size(256, 192),
      blur: undefined,
      lq: undefined,
      sample: undefined,
      widths: [{ name: 'w320', size: size(320, 240) }],
    });
    expect(planOutputSizes(size(4032, 3024), task(['blur', 'lq']))).toMatchObject({
      thumb: undefined,
      blur: size(256, 192),
      lq: size(1280, 960),
    });
    expect(planOutputSizes(size(40, 30), task(['gradient']))).toMatchObject({
      thumb: undefined,
      sample: size(40, 30),
    });
  });

  it('names each width by the width it really has: never enlarged, fitted to WebP', () => {
    const wide = planOutputSizes(size(40000, 100), task(['thumb'], { widths: [20000, 640] }));
    expect(wide.widths).toEqual([
      { name: 'w640', size: size(640, 2) },
      { name: 'w16383', size: size(16383, 41) },
    ]);
    const small = planOutputSizes(size(1000, 500), task(['thumb'], { widths: [320, 1000, 2000] }));
    expect(small.widths).toEqual([
      { name: 'w320', size: size(320, 160) },
      { name: 'w1000', size: size(1000, 500) },
    ]);
  });

  it('fits a thumbnail that is too tall for WebP', () => {
    expect(planOutputSizes(size(100, 40000), task(['thumb', 'blur']))).toMatchObject({
      thumb: size(41, 16383),
      blur: size(41, 16383),
    });
  });
});

describe('decodeTarget', () => {
  const photo = size(4032, 3024);

  it('is the largest output asked for', () => {
    expect(decodeTarget(photo, task(['thumb']))).toEqual(size(256, 192));
    expect(decodeTarget(photo, task(['thumb', 'lq']))).toEqual(size(1280, 960));
    expect(decodeTarget(photo, task(['blur'], { widths: [2000, 320] }))).toEqual(size(2000, 1500));
    expect(decodeTarget(photo, task(['lq'], { lqScale: 0.1 }))).toEqual(size(403, 302));
  });

  it('with a palette, the largest output the options define, whatever ops asks for', () => {
    // The sample then comes from the same pixels as in a run with every output.
    expect(decodeTarget(photo, task(['gradient']))).toEqual(size(1280, 960));
    expect(decodeTarget(photo, task(['thumb', 'gradient'], { lqMaxWidth: 640 }))).toEqual(
      size(640, 480),
    );
  });

  it('never exceeds the source', () => {
    expect(decodeTarget(size(50, 40), task(ALL_OPS, { widths: [4000] }))).toEqual(size(50, 40));
  });
});
