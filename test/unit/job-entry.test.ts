import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageInputError } from '../../src/errors.js';
import {
  MANIFEST_KEYS,
  QUEUE_JOB_KEYS,
  parseJobEntry,
  parseJobList,
  readJobList,
} from '../../src/plan/job-entry.js';

const dir = mkdtempSync(join(tmpdir(), 'imgproc-job-list-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

  it('refuses anything but an object with a non-blank input', () => {
    for (const value of [null, 'a.jpg', 42, true]) {
      expect(reason(value)).toBe('expected a JSON object like {"input": "a.jpg"}');
    }
    for (const input of ['', '   ', 3, ['a.jpg']]) {
      expect(reason({ input })).toBe('missing "input" (a path to an image)');
    }
    expect(parseJobEntry({ input: ' a.jpg ' }, MANIFEST_KEYS)).toEqual({ input: ' a.jpg ' });
  });

  it('takes an empty id as no id, and a number only when it is finite', () => {
    expect(parseJobEntry({ input: 'a.jpg', id: '' }, MANIFEST_KEYS)).toEqual({ input: 'a.jpg' });
    expect(parseJobEntry({ input: 'a.jpg', id: 7 }, MANIFEST_KEYS).id).toBe('7');
    for (const id of [Number.NaN, Number.POSITIVE_INFINITY, { n: 1 }, ['x']]) {
      expect(reason({ input: 'a.jpg', id })).toBe('"id" must be a string');
    }
  });

  it('refuses ops that hold anything but names', () => {
    for (const ops of [['thumb', 3], [null], { thumb: true }]) {
      expect(reason({ input: 'a.jpg', ops })).toBe(
        '"ops" must be an array like ["thumb", "lq"] or a string like "thumb,lq"',
      );
    }
  });

  it("takes a queue job's out folder, and refuses a blank or NUL one", () => {
    expect(parseJobEntry({ input: 'a.jpg', out: 'web/thumbs' }, QUEUE_JOB_KEYS)).toEqual({
      input: 'a.jpg',
      out: 'web/thumbs',
    });
    for (const out of ['', '  ', 'web\0x', 7, null]) {
      expect(reason({ input: 'a.jpg', out })).toBe(
        '"out" must be a folder path inside the data folder',
      );
    }
  });

  it('refuses deep nesting with a short message instead of overflowing the stack', () => {
    const depth = 200_000;
    const deep = JSON.parse(
      `{"input":"a.jpg","options":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    ) as unknown;
    expect(reason(deep)).toBe('nested more than 16 levels deep; a job is a flat JSON object');
    // 16 levels (the entry, its options and 14 arrays) are not too deep, only wrong.
    const nested = (n: number) =>
      JSON.parse(`{"input":"a.jpg","options":${'['.repeat(n)}${']'.repeat(n)}}`) as unknown;
    expect(reason(nested(15))).toBe('"options" must be an object like {"thumbWidth": 320}');
    expect(reason(nested(16))).toBe('nested more than 16 levels deep; a job is a flat JSON object');
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

  it('is empty for a file of blank and comment lines', () => {
    expect(parseJobList('\n  \n// nothing today\n', 'jobs.ndjson')).toEqual([]);
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

describe('readJobList', () => {
  it('skips the byte order mark an editor may put first, and only that one', async () => {
    const path = join(dir, 'bom.ndjson');
    writeFileSync(path, '\uFEFF{"input":"a.jpg"}\n{"input":"\uFEFFb.jpg"}\n');
    expect(await readJobList(path)).toEqual([
      { where: `${path}:1`, value: { input: 'a.jpg' } },
      { where: `${path}:2`, value: { input: '\uFEFFb.jpg' } },
    ]);
    const inner = join(dir, 'inner.ndjson');
    writeFileSync(inner, '{"input":"\uFEFFc.jpg"}\n');
    expect(await readJobList(inner)).toEqual([
      { where: `${inner}:1`, value: { input: '\uFEFFc.jpg' } },
    ]);
    const array = join(dir, 'bom.json');
    writeFileSync(array, '\uFEFF[{"input":"a.jpg"}]');
    expect(await readJobList(array)).toEqual([
      { where: `${array} entry 1`, value: { input: 'a.jpg' } },
    ]);
  });
});
