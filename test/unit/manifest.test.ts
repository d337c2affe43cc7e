import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTPUT_OPTIONS } from '../../src/config/options.js';
import { FatalError } from '../../src/errors.js';
import { readManifest } from '../../src/plan/manifest.js';
import type { OutputOptions } from '../../src/pipeline/types.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'imgproc-manifest-')));
const jobsDir = join(root, 'jobs');
mkdirSync(jobsDir);
afterAll(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
function manifest(name: string, text: string): string {
  const path = join(jobsDir, `${count++}-${name}`);
  writeFileSync(path, text);
  return path;
}

const ndjson = (...lines: unknown[]) =>
  lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';

describe('readManifest', () => {
  it("resolves relative inputs against the manifest's folder and mirrors their path", async () => {
    const path = manifest('jobs.ndjson', ndjson({ input: 'imgs/trips/a.png' }, { input: 'b.jpg' }));
    const { jobs, problems } = await readManifest(path, DEFAULT_OUTPUT_OPTIONS);
    expect(problems).toEqual([]);
    expect(jobs).toEqual([
      {
        where: `${path}:1`,
        input: join(jobsDir, 'imgs', 'trips', 'a.png'),
        relPath: 'imgs/trips/a.png',
        id: undefined,
        ops: undefined,
        options: undefined,
      },
      {
        where: `${path}:2`,
        input: join(jobsDir, 'b.jpg'),
        relPath: 'b.jpg',
        id: undefined,
        ops: undefined,
        options: undefined,
      },
    ]);
  });

  it('takes an absolute input as it is; outside the folder, only its name is mirrored', async () => {
    const path = manifest(
      'jobs.ndjson',
      ndjson({ input: join(root, 'elsewhere', 'c.webp') }, { input: '../up/d.png' }),
    );
    const { jobs } = await readManifest(path, DEFAULT_OUTPUT_OPTIONS);
    expect(jobs.map((j) => [j.input, j.relPath])).toEqual([
      [join(root, 'elsewhere', 'c.webp'), 'c.webp'],
      [join(root, 'up', 'd.png'), 'd.png'],
    ]);
  });

  it('applies per-job ops and options on top of the given defaults', async () => {
    const defaults: OutputOptions = { ...DEFAULT_OUTPUT_OPTIONS, thumbWidth: 100, paletteSize: 3 };
    const path = manifest(
      'jobs.ndjson',
      ndjson(
        { input: 'a.png', id: '42', ops: ['gradient', 'thumb'], options: { quality: { lq: 7 } } },
        { input: 'b.png', options: { thumbWidth: 320 } },
      ),
    );
    const { jobs, problems } = await readManifest(path, defaults);
    expect(problems).toEqual([]);
    expect(jobs[0]).toMatchObject({ id: '42', ops: ['gradient', 'thumb'] });
    expect(jobs[0]!.options).toEqual({
      ...defaults,
      quality: { thumb: 80, blur: 60, lq: 7 },
    });
    expect(jobs[1]!.options).toEqual({ ...defaults, thumbWidth: 320 });
    expect(jobs[1]!.ops).toBeUndefined();
  });

  it('names the line of each bad entry, counting blank lines, and keeps the good ones', async () => {
    const path = manifest(
      'jobs.ndjson',
      ndjson(
        { input: 'a.png', id: 'x1' },
        '',
        'not json',
        { id: 'no-input' },
        { input: 'a.png', id: '../x' },
        { input: 'a.png', ops: ['sharpen'] },
        { input: 'a.png', options: { effort: 9 } },
        { input: 'b.png', id: 'x2' },
      ),
    );
    const { jobs, problems } = await readManifest(path, DEFAULT_OUTPUT_OPTIONS);
    expect(jobs.map((j) => [j.where, j.id])).toEqual([
      [`${path}:1`, 'x1'],
      [`${path}:8`, 'x2'],
    ]);
    expect(problems.map((p) => p.where)).toEqual([3, 4, 5, 6, 7].map((n) => `${path}:${n}`));
    expect(problems[0]!.reason).toMatch(/^not valid JSON: /);
    expect(problems[1]!.reason).toBe('missing "input" (a path to an image)');
    expect(problems[2]!.reason).toMatch(/^unsafe id "\.\.\/x"/);
    expect(problems[3]!.reason).toBe(
      'Expected one of thumb, blur, lq, gradient for ops but received "sharpen"',
    );
    expect(problems[4]!.reason).toBe(
      'Expected an integer between 0 and 6 for effort but received "9"',
    );
  });

  it('accepts an id once, compared case-insensitively, and names its first use', async () => {
    const path = manifest(
      'jobs.json',
      JSON.stringify([
        { input: 'a.png', id: 'Cover' },
        { input: 'b.png', id: 'cover' },
        { input: 'c.png', id: 7 },
        { input: 'd.png', id: '7' },
        { input: 'e.png', id: 'other' },
      ]),
    );
    const { jobs, problems } = await readManifest(path, DEFAULT_OUTPUT_OPTIONS);
    expect(jobs.map((j) => j.id)).toEqual(['Cover', '7', 'other']);
    expect(problems).toEqual([
      {
        where: `${path} entry 2`,
        reason: `duplicate id "cover" (first used at ${path} entry 1)`,
      },
      {
        where: `${path} entry 4`,
        reason: `duplicate id "7" (first used at ${path} entry 3)`,
      },
    ]);
  });

  it('is fatal only when the file cannot be read or its array is broken', async () => {
    const missing = join(jobsDir, 'missing.ndjson');
    await expect(readManifest(missing, DEFAULT_OUTPUT_OPTIONS)).rejects.toThrow(FatalError);
    await expect(readManifest(missing, DEFAULT_OUTPUT_OPTIONS)).rejects.toThrow(
      `cannot read manifest ${missing}: `,
    );
    const broken = manifest('broken.json', '[{"input": "a.png"},');
    await expect(readManifest(broken, DEFAULT_OUTPUT_OPTIONS)).rejects.toThrow(
      `manifest ${broken} is not valid JSON: `,
    );
    const empty = manifest('empty.ndjson', '\n\n');
    expect(await readManifest(empty, DEFAULT_OUTPUT_OPTIONS)).toEqual({ jobs: [], problems: [] });
  });
});
