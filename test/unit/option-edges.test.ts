import { describe, expect, it } from 'vitest';
import {
  DEFAULT_OUTPUT_OPTIONS,
  jobOptionOverrides,
  parseQuality,
  parseWidths,
  resolveOutputOptions,
  resolveProcessingOptions,
} from '../../src/config/options.js';
import { UsageError } from '../../src/errors.js';

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('per-output values at their edges', () => {
  it('quotes the value trimmed, in the single and the per-output form alike', () => {
    expect(usageError(() => parseQuality(' 101 '))).toBe(
      'Expected an integer between 1 and 100 for quality but received "101"',
    );
    expect(usageError(() => parseQuality('thumb= 101 '))).toBe(
      'Expected an integer between 1 and 100 for quality of thumb but received "101"',
    );
  });

  it('refuses an output named without a value', () => {
    expect(usageError(() => parseQuality('thumb=80,lq'))).toBe(
      'Expected an integer between 1 and 100 for quality of lq but received ""',
    );
  });

  it('drops blank items between commas in --widths', () => {
    expect(parseWidths('320, ,640,')).toEqual([320, 640]);
  });
});

describe('output options on top of a base', () => {
  it("keeps the base's widths when none are given, as a copy", () => {
    const base = { ...DEFAULT_OUTPUT_OPTIONS, widths: [320, 640] };
    const out = resolveOutputOptions({}, base, {});
    expect(out.widths).toEqual([320, 640]);
    expect(out.widths).not.toBe(base.widths);
  });
});

describe('--max-memory', () => {
  const MIB = 1024 * 1024;

  it('takes sizes with binary units or a byte count, from 16 MiB up', () => {
    expect(resolveProcessingOptions({ maxMemory: '16MiB' }, {}).maxMemory).toBe(16 * MIB);
    expect(resolveProcessingOptions({ maxMemory: String(16 * MIB) }, {}).maxMemory).toBe(16 * MIB);
    expect(resolveProcessingOptions({}, { IMGPROC_MAX_MEMORY: '4GiB' }).maxMemory).toBe(4096 * MIB);
  });

  it('refuses less than 16 MiB (a unit forgotten) and what is no size', () => {
    for (const value of ['512', String(16 * MIB - 1), '15MiB', 'lots', '']) {
      expect(usageError(() => resolveProcessingOptions({ maxMemory: value }, {}))).toBe(
        `Expected a size of at least 16 MiB (like 4GiB or 512MiB) for max-memory but received "${value}"`,
      );
    }
  });
});

describe("a job's per-output options", () => {
  it('takes quality and effort as objects, naming the outputs', () => {
    expect(jobOptionOverrides({ effort: { lq: 3, thumb: 6 } })).toEqual({ effort: 'lq=3,thumb=6' });
    expect(
      resolveOutputOptions(jobOptionOverrides({ effort: { lq: 3 } }), DEFAULT_OUTPUT_OPTIONS, {})
        .effort,
    ).toEqual({ thumb: 4, blur: 4, lq: 3 });
  });

  it('refuses a null quality or effort like any other value that is not simple', () => {
    for (const key of ['quality', 'effort']) {
      expect(usageError(() => jobOptionOverrides({ [key]: null }))).toBe(
        `option "${key}" must be a number, a string or a boolean`,
      );
    }
  });
});
