import { describe, expect, it } from 'vitest';
import { ImageInputError } from '../../src/errors.js';
import {
  MANIFEST_KEYS,
  QUEUE_JOB_KEYS,
  parseJobEntry,
  parseJobList,
} from '../../src/plan/job-entry.js';

function reason(value: unknown, keys = QUEUE_JOB_KEYS): string {
  try {
    parseJobEntry(value, keys);
  } catch (err) {
    expect(err).toBeInstanceOf(ImageInputError);
    expect((err as ImageInputError).code).toBe('BAD_JOB');
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('parseJobEntry', () => {
  it('takes ops as an array or as a comma-separated string, with the same result', () => {
    const a = parseJobEntry({ input: 'a.jpg', ops: ['thumb', 'lq'] }, MANIFEST_KEYS);
    const b = parseJobEntry({ input: 'a.jpg', ops: 'thumb, lq' }, MANIFEST_KEYS);
    expect(a.ops).toEqual(['thumb', 'lq']);
    expect(b.ops).toEqual(['thumb', 'lq']);
    expect(reason({ input: 'a.jpg', ops: 3 })).toMatch(/"ops" must be an array/);
    expect(reason({ input: 'a.jpg', ops: ['thumb', 'sharpen'] })).toBe(
      'Expected one of thumb, blur, lq, gradient for ops but received "sharpen"',
    );
  });

  it('refuses an unknown key, suggesting the key that was meant', () => {
    expect(reason({ input: 'a.jpg', opts: ['thumb'] })).toBe(
      'unknown key "opts" (did you mean "ops"?); valid keys are input, id, ops, options, out',
    );
    expect(reason({ input: 'a.jpg', priority: 1 })).toBe(
      'unknown key "priority"; valid keys are input, id, ops, options, out',
    );
    expect(reason({ input: 'a.jpg', out: 'x' }, MANIFEST_KEYS)).toMatch(
      /^unknown key "out"; valid keys are input, id, ops, options$/,
    );
    expect(reason({ input: 'a.jpg', options: { thumbwidth: 9 } })).toMatch(
      /^unknown option "thumbwidth" \(did you mean "thumbWidth"\?\); valid options are /,
    );
  });

  it('checks ids and options the same way for every front end', () => {
    expect(parseJobEntry({ input: 'a.jpg', id: 42 }, MANIFEST_KEYS).id).toBe('42');
    expect(parseJobEntry({ input: 'a.jpg', id: null }, MANIFEST_KEYS).id).toBeUndefined();
    expect(reason({ input: 'a.jpg', id: '../x' })).toMatch(/^unsafe id "\.\.\/x"/);
    expect(reason({ input: 'a.jpg', id: true })).toBe('"id" must be a string');
    expect(reason({ input: 'a.jpg', options: { effort: 9 } })).toBe(
      'Expected an integer between 0 and 6 for effort but received "9"',
    );
    expect(
      parseJobEntry({ input: 'a.jpg', options: { quality: { thumb: 90 } } }, MANIFEST_KEYS),
    ).toMatchObject({ options: { quality: 'thumb=90' } });
    expect(reason({ input: 'a\0.jpg' })).toBe('"input" contains a NUL byte');
    expect(reason({ id: '1' })).toMatch(/missing "input"/);
    expect(reason([{ input: 'a.jpg' }])).toMatch(/expected a JSON object/);
  });

  it('refuses deep nesting with a short message instead of overflowing the stack', () => {
    const depth = 200_000;
    const deep = JSON.parse(
      `{"input":"a.jpg","options":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    ) as unknown;
    expect(reason(deep)).toBe('nested more than 16 levels deep; a job is a flat JSON object');
  });
});

describe('parseJobList', () => {
  it('reads NDJSON with \\r\\n line ends, blank lines and // comment lines', () => {
    const items = parseJobList(
      '// uploads of the day\r\n{"input":"a.jpg"}\r\n\r\n  // skipped\r\n{"input":"b.jpg"}\r\nnope\r\n',
      'jobs.ndjson',
    );
    expect(items).toEqual([
      { where: 'jobs.ndjson:2', value: { input: 'a.jpg' } },
      { where: 'jobs.ndjson:5', value: { input: 'b.jpg' } },
      { where: 'jobs.ndjson:6', error: expect.stringMatching(/^not valid JSON: /) as string },
    ]);
  });

  it('reads a JSON array, naming each entry by its position', () => {
    expect(parseJobList('  [{"input":"a.jpg"}, 3]', 'jobs.json')).toEqual([
      { where: 'jobs.json entry 1', value: { input: 'a.jpg' } },
      { where: 'jobs.json entry 2', value: 3 },
    ]);
    expect(() => parseJobList('[{"input":', 'jobs.json')).toThrow(
      /^manifest jobs\.json is not valid JSON: /,
    );
  });
});
