import { describe, expect, it } from 'vitest';
import {
  MemoryBudget,
  defaultMaxMemory,
  estimatePeakBytes,
  formatBytes,
  maxPlausibleFileBytes,
  parseByteSize,
  type DeclaredPixels,
} from '../../src/pipeline/memory-budget.js';

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

const png = (width: number, height: number): DeclaredPixels => ({
  format: 'png',
  width,
  height,
  bands: 3,
  sampleBytes: 1,
  frames: 1,
});

describe('MemoryBudget', () => {
  it('admits images while their estimates fit, and makes the next one wait for a release', async () => {
    const budget = new MemoryBudget(100);
    const releaseA = await budget.admit(60);
    const releaseB = await budget.admit(40);
    expect(budget.used).toBe(100);
    let admittedC = false;
    const c = budget.admit(30).then((release) => {
      admittedC = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(admittedC).toBe(false);
    releaseB();
    const releaseC = await c;
    expect(admittedC).toBe(true);
    expect(budget.used).toBe(90);
    releaseA();
    releaseC();
    releaseC(); // a second release gives nothing back twice
    expect(budget.used).toBe(0);
  });

  it('serves waiting images in order: a large one is not starved by small ones', async () => {
    const budget = new MemoryBudget(100);
    const first = await budget.admit(50);
    const order: string[] = [];
    const big = budget.admit(100).then((r) => (order.push('big'), r));
    const small = budget.admit(10).then((r) => (order.push('small'), r));
    first();
    (await big)();
    (await small)();
    expect(order).toEqual(['big', 'small']);
  });

  it('tells which estimates can never fit, and refuses to queue them', async () => {
    const budget = new MemoryBudget(100);
    expect(budget.fits(100)).toBe(true);
    expect(budget.fits(101)).toBe(false);
    await expect(budget.admit(101)).rejects.toThrow(/can never fit/);
  });
});

describe('estimatePeakBytes', () => {
  it('counts the file, the full-size copies a format forces, and the decoded copies', () => {
    const small = estimatePeakBytes(png(6000, 4000), 5 * MIB, { width: 3000, height: 2000 }, 1);
    // 72 MB of stored RGB, held twice, and the half-size decode three times over.
    expect(small).toBeGreaterThan(2 * 72e6 + 3 * 24e6);
    expect(small).toBeLessThan(400 * MIB);
  });

  it('charges AVIF for libheif’s copies: 9999x9999 needs gigabytes, not megabytes', () => {
    const avif = { ...png(9999, 9999), format: 'avif' };
    expect(estimatePeakBytes(avif, 2081, { width: 5000, height: 5000 }, 1)).toBeGreaterThan(
      1.8 * GIB,
    );
  });

  it('charges very wide images for libvips’ full-width line buffers', () => {
    // Measured: a 1048576x16 PNG peaks at 670 MB although its pixels are 50 MB.
    expect(
      estimatePeakBytes(png(1048576, 16), 200_000, { width: 16383, height: 1 }, 1),
    ).toBeGreaterThan(670e6);
  });
});

describe('maxPlausibleFileBytes', () => {
  it('allows a genuine image with metadata and refuses a padded one', () => {
    const tiny = png(64, 64);
    expect(maxPlausibleFileBytes(tiny)).toBeGreaterThan(64 * 64 * 3 * 2 + 10 * MIB);
    expect(maxPlausibleFileBytes(tiny)).toBeLessThan(1.9e9);
  });

  it('grows with frames, bands and depth', () => {
    const one = maxPlausibleFileBytes(png(4000, 3000));
    expect(maxPlausibleFileBytes({ ...png(4000, 3000), frames: 10 })).toBeGreaterThan(one);
    expect(maxPlausibleFileBytes({ ...png(4000, 3000), sampleBytes: 2 })).toBeGreaterThan(one);
  });
});

describe('sizes', () => {
  it('parses byte counts with binary units', () => {
    expect(parseByteSize('4G')).toBe(4 * GIB);
    expect(parseByteSize('512MiB')).toBe(512 * MIB);
    expect(parseByteSize('1.5 GB')).toBe(1.5 * GIB);
    expect(parseByteSize('1048576')).toBe(MIB);
    expect(parseByteSize('lots')).toBeUndefined();
    expect(parseByteSize('-1G')).toBeUndefined();
    expect(parseByteSize('0')).toBeUndefined();
  });

  it('formats them for people', () => {
    expect(formatBytes(1.5 * GIB)).toBe('1.5 GiB');
    expect(formatBytes(300 * MIB)).toBe('300 MiB');
  });

  it('defaults to half the machine, never below 512 MiB', () => {
    expect(defaultMaxMemory(16 * GIB)).toBe(8 * GIB);
    expect(defaultMaxMemory(256 * MIB)).toBe(512 * MIB);
  });
});
