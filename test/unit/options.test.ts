import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_PIXELS,
  DEFAULT_OUTPUT_OPTIONS,
  envName,
  jobOptionOverrides,
  parseEffort,
  parseQuality,
  parseWidths,
  pick,
  resolveOutputOptions,
  resolveProcessingOptions,
} from '../../src/config/options.js';
import { UsageError } from '../../src/errors.js';

/** Message shape shared by every validation error. */
const shape = (name: string, value: string) =>
  new RegExp(
    `^Expected .+ for ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} but received "${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"$`,
  );

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseQuality', () => {
  it('sets all three outputs from one number', () => {
    expect(parseQuality('75')).toEqual({ thumb: 75, blur: 75, lq: 75 });
    expect(parseQuality(' 1 ')).toEqual({ thumb: 1, blur: 1, lq: 1 });
    expect(parseQuality('100')).toEqual({ thumb: 100, blur: 100, lq: 100 });
  });

  it('sets only the named outputs, the rest from the base', () => {
    expect(parseQuality('thumb=82,lq=45')).toEqual({ thumb: 82, blur: 60, lq: 45 });
    expect(parseQuality(' blur = 10 ')).toEqual({ thumb: 80, blur: 10, lq: 50 });
    expect(parseQuality('lq=5', { thumb: 1, blur: 2, lq: 3 })).toEqual({
      thumb: 1,
      blur: 2,
      lq: 5,
    });
  });

  it('does not change the base object', () => {
    const base = { thumb: 1, blur: 2, lq: 3 };
    parseQuality('thumb=9', base);
    expect(base).toEqual({ thumb: 1, blur: 2, lq: 3 });
    expect(DEFAULT_OUTPUT_OPTIONS.quality).toEqual({ thumb: 80, blur: 60, lq: 50 });
  });

  it('refuses out-of-range, fractional and unknown values with one message shape', () => {
    expect(usageError(() => parseQuality('0')).message).toBe(
      'Expected an integer between 1 and 100 for quality but received "0"',
    );
    expect(usageError(() => parseQuality('101')).message).toMatch(shape('quality', '101'));
    expect(usageError(() => parseQuality('80.5')).message).toBe(
      'Expected an integer between 1 and 100 for quality but received "80.5"',
    );
    expect(usageError(() => parseQuality('thumb=0')).message).toBe(
      'Expected an integer between 1 and 100 for quality of thumb but received "0"',
    );
    expect(usageError(() => parseQuality('big=5')).message).toBe(
      'Expected one of thumb, blur, lq for quality output but received "big"',
    );
    expect(usageError(() => parseQuality('thumb=')).message).toMatch(shape('quality of thumb', ''));
    expect(usageError(() => parseQuality('')).message).toBe(
      'Expected an integer between 1 and 100 for quality but received ""',
    );
  });
});

describe('envName', () => {
  it('maps camelCase flags to IMGPROC_SNAKE_CASE', () => {
    expect(envName('thumbWidth')).toBe('IMGPROC_THUMB_WIDTH');
    expect(envName('quality')).toBe('IMGPROC_QUALITY');
    expect(envName('maxPixels')).toBe('IMGPROC_MAX_PIXELS');
    expect(envName('dryRun')).toBe('IMGPROC_DRY_RUN');
  });
});

describe('parseEffort', () => {
  it('takes one number for all outputs or per-output pairs, within 0-6', () => {
    expect(parseEffort('6')).toEqual({ thumb: 6, blur: 6, lq: 6 });
    expect(parseEffort('lq=0')).toEqual({ thumb: 4, blur: 4, lq: 0 });
    expect(usageError(() => parseEffort('7')).message).toBe(
      'Expected an integer between 0 and 6 for effort but received "7"',
    );
    expect(usageError(() => parseEffort('thumb=9')).message).toBe(
      'Expected an integer between 0 and 6 for effort of thumb but received "9"',
    );
    expect(usageError(() => parseEffort('huge=1')).message).toMatch(
      /^Expected one of thumb, blur, lq for effort output but received "huge"$/,
    );
  });
});

describe('parseWidths', () => {
  it('takes a comma-separated list, ascending and without repeats; empty means none', () => {
    expect(parseWidths('320,640,1280')).toEqual([320, 640, 1280]);
    expect(parseWidths(' 1280, 320 ,640,320')).toEqual([320, 640, 1280]);
    expect(parseWidths('')).toEqual([]);
  });

  it('refuses widths outside 1-16383 with the usual message', () => {
    expect(usageError(() => parseWidths('320,0')).message).toBe(
      'Expected an integer between 1 and 16383 for widths but received "0"',
    );
    expect(usageError(() => parseWidths('320,wide')).message).toBe(
      'Expected an integer between 1 and 16383 for widths but received "wide"',
    );
    expect(usageError(() => parseWidths('16384')).message).toBe(
      'Expected an integer between 1 and 16383 for widths but received "16384"',
    );
  });
});

describe('widths and lqMaxWidth in a job', () => {
  it('takes widths as an array or a string, and lqMaxWidth as a number', () => {
    const fromArray = resolveOutputOptions(
      jobOptionOverrides({ widths: [640, 320], lqMaxWidth: 800 }),
      DEFAULT_OUTPUT_OPTIONS,
      {},
    );
    expect(fromArray.widths).toEqual([320, 640]);
    expect(fromArray.lqMaxWidth).toBe(800);
    const fromString = resolveOutputOptions(
      jobOptionOverrides({ widths: '1280,320' }),
      DEFAULT_OUTPUT_OPTIONS,
      {},
    );
    expect(fromString.widths).toEqual([320, 1280]);
  });

  it('refuses a bad width or cap', () => {
    expect(
      usageError(() =>
        resolveOutputOptions(jobOptionOverrides({ widths: [320, -1] }), DEFAULT_OUTPUT_OPTIONS, {}),
      ).message,
    ).toBe('Expected an integer between 1 and 16383 for widths but received "-1"');
    expect(
      usageError(() =>
        resolveOutputOptions(jobOptionOverrides({ lqMaxWidth: 0 }), DEFAULT_OUTPUT_OPTIONS, {}),
      ).message,
    ).toBe('Expected an integer between 1 and 16383 for lq-max-width but received "0"');
  });
});

describe('resolveProcessingOptions', () => {
  it('uses the documented defaults when neither flag nor environment is set', () => {
    const o = resolveProcessingOptions({}, {});
    expect(o.ops).toEqual(['thumb', 'blur', 'lq', 'gradient']);
    expect(o.output).toEqual({
      thumbWidth: 256,
      blurSigma: 6,
      lqScale: 0.5,
      lqMaxWidth: 1280,
      widths: [],
      quality: { thumb: 80, blur: 60, lq: 50 },
      effort: { thumb: 4, blur: 4, lq: 2 },
      paletteSize: 6,
      keepMetadata: false,
    });
    expect(o.maxPixels).toBe(DEFAULT_MAX_PIXELS);
    expect(o.concurrency).toBe(2 * availableParallelism());
    expect(o.force).toBe(false);
    expect(o.backend).toBe('auto');
    expect(o.gpu).toBe(0);
    expect(o.gpuTimeoutMs).toBe(30_000);
  });

  it('reads every option from IMGPROC_* when no flag is given', () => {
    const o = resolveProcessingOptions(
      {},
      {
        IMGPROC_OPS: 'thumb,lq',
        IMGPROC_THUMB_WIDTH: '100',
        IMGPROC_BLUR_SIGMA: '2.5',
        IMGPROC_LQ_SCALE: '0.25',
        IMGPROC_LQ_MAX_WIDTH: '800',
        IMGPROC_WIDTHS: '640,320',
        IMGPROC_QUALITY: 'thumb=30',
        IMGPROC_EFFORT: 'lq=6',
        IMGPROC_PALETTE_SIZE: '3',
        IMGPROC_KEEP_METADATA: 'yes',
        IMGPROC_CONCURRENCY: '3',
        IMGPROC_MAX_PIXELS: '1000',
        IMGPROC_MAX_MEMORY: '2GiB',
        IMGPROC_FORCE: '1',
        IMGPROC_BACKEND: 'cpu',
        IMGPROC_GPU: '1',
        IMGPROC_GPU_TIMEOUT: '2.5',
      },
    );
    expect(o).toEqual({
      ops: ['thumb', 'lq'],
      output: {
        thumbWidth: 100,
        blurSigma: 2.5,
        lqScale: 0.25,
        lqMaxWidth: 800,
        widths: [320, 640],
        quality: { thumb: 30, blur: 60, lq: 50 },
        effort: { thumb: 4, blur: 4, lq: 6 },
        paletteSize: 3,
        keepMetadata: true,
      },
      maxPixels: 1000,
      maxMemory: 2 * 1024 ** 3,
      concurrency: 3,
      force: true,
      backend: 'cpu',
      gpu: 1,
      gpuTimeoutMs: 2500,
    });
  });

  it('flag > environment > default', () => {
    const env = { IMGPROC_THUMB_WIDTH: '100', IMGPROC_EFFORT: '1', IMGPROC_OPS: 'lq' };
    const o = resolveProcessingOptions({ thumbWidth: '50', ops: 'thumb' }, env);
    expect(o.output.thumbWidth).toBe(50);
    expect(o.ops).toEqual(['thumb']);
    expect(o.output.effort).toEqual({ thumb: 1, blur: 1, lq: 1 });
    expect(o.output.blurSigma).toBe(6);
  });

  it('a boolean flag beats a false environment value', () => {
    expect(resolveProcessingOptions({ force: true }, { IMGPROC_FORCE: '0' }).force).toBe(true);
    expect(resolveProcessingOptions({}, { IMGPROC_FORCE: 'off' }).force).toBe(false);
  });

  it('--cpu (or IMGPROC_CPU) means backend cpu, and contradicting it is a usage error', () => {
    expect(resolveProcessingOptions({ cpu: true }, {}).backend).toBe('cpu');
    expect(resolveProcessingOptions({}, { IMGPROC_CPU: 'true' }).backend).toBe('cpu');
    expect(resolveProcessingOptions({ cpu: true, backend: 'cpu' }, {}).backend).toBe('cpu');
    expect(
      usageError(() => resolveProcessingOptions({ cpu: true, backend: 'cuda' }, {})).message,
    ).toMatch(/--cpu contradicts --backend cuda/);
  });

  it('deduplicates --ops and keeps their order', () => {
    expect(resolveProcessingOptions({ ops: 'lq, thumb,lq' }, {}).ops).toEqual(['lq', 'thumb']);
  });

  const invalid: Array<[string, Record<string, string>, string, string]> = [
    ['ops', { ops: 'foo' }, 'ops', 'foo'],
    ['empty ops', { ops: ',' }, 'ops', ','],
    ['thumb width 0', { thumbWidth: '0' }, 'thumb-width', '0'],
    ['thumb width too big', { thumbWidth: '16384' }, 'thumb-width', '16384'],
    ['thumb width not a number', { thumbWidth: '12px' }, 'thumb-width', '12px'],
    ['thumb width in exponent form', { thumbWidth: '1e2' }, 'thumb-width', '1e2'],
    ['thumb width in hex', { thumbWidth: '0x10' }, 'thumb-width', '0x10'],
    ['quality in exponent form', { quality: '1e2' }, 'quality', '1e2'],
    ['concurrency in hex', { concurrency: '0x10' }, 'concurrency', '0x10'],
    ['palette size in hex', { paletteSize: '0x10' }, 'palette-size', '0x10'],
    ['blur sigma', { blurSigma: '0.1' }, 'blur-sigma', '0.1'],
    ['lq scale 0', { lqScale: '0' }, 'lq-scale', '0'],
    ['lq scale > 1', { lqScale: '1.01' }, 'lq-scale', '1.01'],
    ['effort', { effort: '9' }, 'effort', '9'],
    ['effort fractional', { effort: '2.5' }, 'effort', '2.5'],
    ['palette size', { paletteSize: '0' }, 'palette-size', '0'],
    ['concurrency', { concurrency: '0' }, 'concurrency', '0'],
    ['max pixels', { maxPixels: '-1' }, 'max-pixels', '-1'],
    ['backend', { backend: 'gpu' }, 'backend', 'gpu'],
    ['keep metadata', { keepMetadata: 'perhaps' }, 'keep-metadata', 'perhaps'],
    ['gpu timeout', { gpuTimeout: '0' }, 'gpu-timeout (seconds)', '0'],
  ];
  for (const [what, raw, name, value] of invalid) {
    it(`refuses an invalid ${what}: "Expected ... for ${name} but received "${value}""`, () => {
      expect(usageError(() => resolveProcessingOptions(raw, {})).message).toMatch(
        shape(name, value),
      );
      // The same value from the environment gets the same message.
      const [key] = Object.keys(raw) as [string];
      expect(
        usageError(() => resolveProcessingOptions({}, { [envName(key)]: value })).message,
      ).toMatch(shape(name, value));
    });
  }

  it('names the valid values or range in the message', () => {
    expect(usageError(() => resolveProcessingOptions({ backend: 'gpu' }, {})).message).toBe(
      'Expected one of auto, cuda, cpu for backend but received "gpu"',
    );
    expect(usageError(() => resolveProcessingOptions({ effort: '9' }, {})).message).toBe(
      'Expected an integer between 0 and 6 for effort but received "9"',
    );
    expect(usageError(() => resolveProcessingOptions({ lqScale: '2' }, {})).message).toBe(
      'Expected a number greater than 0 and at most 1 for lq-scale but received "2"',
    );
    expect(usageError(() => resolveProcessingOptions({ ops: 'foo' }, {})).message).toBe(
      'Expected one of thumb, blur, lq, gradient for ops but received "foo"',
    );
  });
});

describe('resolveOutputOptions', () => {
  it('overrides only what is named, on top of the given base', () => {
    const base = { ...DEFAULT_OUTPUT_OPTIONS, keepMetadata: true, thumbWidth: 99 };
    expect(resolveOutputOptions({}, base, {})).toEqual(base);
    expect(resolveOutputOptions({ keepMetadata: false, paletteSize: '12' }, base, {})).toEqual({
      ...base,
      keepMetadata: false,
      paletteSize: 12,
    });
    expect(
      resolveOutputOptions({ keepMetadata: 'on' }, DEFAULT_OUTPUT_OPTIONS, {}).keepMetadata,
    ).toBe(true);
  });

  it('refuses a palette size above 32 and a thumbnail wider than 16383', () => {
    expect(
      resolveOutputOptions({ paletteSize: '32' }, DEFAULT_OUTPUT_OPTIONS, {}).paletteSize,
    ).toBe(32);
    expect(
      usageError(() => resolveOutputOptions({ paletteSize: '33' }, DEFAULT_OUTPUT_OPTIONS, {}))
        .message,
    ).toBe('Expected an integer between 1 and 32 for palette-size but received "33"');
    expect(
      resolveOutputOptions({ thumbWidth: '16383' }, DEFAULT_OUTPUT_OPTIONS, {}).thumbWidth,
    ).toBe(16383);
    expect(
      usageError(() => resolveOutputOptions({ blurSigma: '100.5' }, DEFAULT_OUTPUT_OPTIONS, {}))
        .message,
    ).toBe('Expected a number between 0.3 and 100 for blur-sigma but received "100.5"');
  });
});

describe('pick', () => {
  it('takes the flag, else IMGPROC_<NAME>, else nothing', () => {
    const env = { IMGPROC_THUMB_WIDTH: '100' };
    expect(pick({ thumbWidth: '50' }, 'thumbWidth', env)).toBe('50');
    expect(pick({ force: false }, 'force', { IMGPROC_FORCE: '1' })).toBe(false);
    expect(pick({}, 'thumbWidth', env)).toBe('100');
    expect(pick({}, 'quality', env)).toBeUndefined();
  });
});

describe('resolveProcessingOptions, messages of the boolean and device flags', () => {
  it('names the flag a bad value came from', () => {
    expect(usageError(() => resolveProcessingOptions({}, { IMGPROC_CPU: 'maybe' })).message).toBe(
      'Expected one of true, false, 1, 0 for cpu but received "maybe"',
    );
    expect(usageError(() => resolveProcessingOptions({}, { IMGPROC_FORCE: 'maybe' })).message).toBe(
      'Expected one of true, false, 1, 0 for force but received "maybe"',
    );
    expect(usageError(() => resolveProcessingOptions({ gpu: '65' }, {})).message).toBe(
      'Expected an integer between 0 and 64 for gpu but received "65"',
    );
    expect(usageError(() => resolveProcessingOptions({ concurrency: '257' }, {})).message).toBe(
      'Expected an integer between 1 and 256 for concurrency but received "257"',
    );
    expect(usageError(() => resolveProcessingOptions({ gpuTimeout: '3601' }, {})).message).toBe(
      'Expected a number greater than 0 and at most 3600 for gpu-timeout (seconds) but received "3601"',
    );
  });

  it('takes the ends of each range', () => {
    const o = resolveProcessingOptions({ gpu: '64', concurrency: '256', gpuTimeout: '3600' }, {});
    expect([o.gpu, o.concurrency, o.gpuTimeoutMs]).toEqual([64, 256, 3_600_000]);
    expect(resolveProcessingOptions({ gpuTimeout: '0.0015' }, {}).gpuTimeoutMs).toBe(2);
  });
});

describe('jobOptionOverrides', () => {
  it("turns a job's options object into the same raw values a flag gives", () => {
    expect(
      jobOptionOverrides({
        thumbWidth: 320,
        blurSigma: '2.5',
        quality: { thumb: 85, lq: 40 },
        effort: 3,
        keepMetadata: true,
      }),
    ).toEqual({
      thumbWidth: '320',
      blurSigma: '2.5',
      quality: 'thumb=85,lq=40',
      effort: '3',
      keepMetadata: true,
    });
    expect(jobOptionOverrides({})).toEqual({});
  });

  it('refuses anything but an object of known options with simple values', () => {
    for (const options of [null, [], 'thumbWidth=3', 7]) {
      expect(usageError(() => jobOptionOverrides(options)).message).toBe(
        '"options" must be an object like {"thumbWidth": 320}',
      );
    }
    expect(usageError(() => jobOptionOverrides({ sharpen: 1 })).message).toBe(
      'unknown option "sharpen"; valid options are thumbWidth, blurSigma, lqScale, lqMaxWidth, widths, quality, effort, paletteSize, keepMetadata',
    );
    for (const value of [null, [1], { a: 1 }]) {
      expect(usageError(() => jobOptionOverrides({ thumbWidth: value })).message).toBe(
        'option "thumbWidth" must be a number, a string or a boolean',
      );
    }
  });
});
