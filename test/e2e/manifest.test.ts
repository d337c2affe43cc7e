import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Sidecar } from '../../src/pipeline/types.js';
import {
  dimensionsOf,
  listFiles,
  makeTempDir,
  outputsOf,
  readJson,
  runCli,
  writeSolid,
  type RunResult,
} from './helpers.js';

let dir: string;
let jobs: string;
let out: string;
let run: RunResult;
let etcBefore: boolean;

const failures = (r: RunResult) => r.stderr.split('\n').filter((l) => l.startsWith('✗'));

beforeAll(async () => {
  dir = await makeTempDir();
  jobs = join(dir, 'jobs');
  out = join(dir, 'out');
  await mkdir(join(jobs, 'imgs'), { recursive: true });
  await mkdir(join(dir, 'elsewhere'));
  await writeSolid(join(jobs, 'imgs', 'a.png'), 300, 200, [200, 40, 40]);
  await writeSolid(join(jobs, 'imgs', 'b.jpg'), 400, 100, [40, 200, 40]);
  const lines = [
    /* 1 */ { input: 'imgs/a.png', id: '42' },
    /* 2 */ '',
    /* 3 */ { input: 'imgs/b.jpg' },
    /* 4 */ 'this is not json',
    /* 5 */ { id: 'no-input' },
    /* 6 */ { input: 'imgs/a.png', id: '../x' },
    /* 7 */ { input: 'imgs/a.png', id: '/etc/x' },
    /* 8 */ { input: 'imgs/a.png', id: 'small', ops: ['thumb'], options: { thumbWidth: 64 } },
    /* 9 */ { input: 'imgs/a.png', id: 'bad-ops', ops: ['foo'] },
    /* 10 */ { input: 'imgs/b.jpg', id: '42' },
    /* 11 */ { input: 'imgs/missing.png', id: 'gone' },
    /* 12 */ { input: join(jobs, 'imgs', 'b.jpg'), id: 7 },
    /* 13 */ { input: 'imgs/a.png', id: 'opts', options: { quality: { thumb: 5 }, lqScale: 0.25 } },
    /* 14 */ { input: 'imgs/a.png', id: 'bad-opt', options: { effort: 9 } },
    /* 15 */ { input: 'imgs/b.jpg', id: 'SMALL' },
  ];
  await writeFile(
    join(jobs, 'jobs.ndjson'),
    lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n',
  );
  etcBefore = existsSync('/etc/x');
  // Run from another folder: relative inputs must resolve against the manifest's folder.
  run = await runCli(['--manifest', '../jobs/jobs.ndjson', '--out', out, '--cpu'], {
    cwd: join(dir, 'elsewhere'),
  });
});

describe('--manifest NDJSON', () => {
  it('runs every good job and exits 3 because some entries are bad', () => {
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('5 processed, 0 skipped, 9 failed');
  });

  it('writes <out>/<id>/<id>_* for jobs with an id, and mirrors the input path otherwise', async () => {
    expect(await listFiles(out)).toEqual(
      [
        ...outputsOf('42/42'),
        ...outputsOf('7/7'),
        ...outputsOf('imgs/b'),
        ...outputsOf('opts/opts'),
        'small/small.json',
        'small/small_thumb.webp',
      ].sort(),
    );
    const sc = await readJson<Sidecar>(join(out, '42', '42.json'));
    expect(sc.source.path).toBe('imgs/a.png');
    expect(sc.outputs.thumb!.path).toBe('42/42_thumb.webp');
    expect(await dimensionsOf(join(out, '42', '42_thumb.webp'))).toEqual({
      width: 256,
      height: 171,
    });
  });

  it('applies per-job ops and options', async () => {
    const small = await readJson<Sidecar>(join(out, 'small', 'small.json'));
    expect(Object.keys(small.outputs)).toEqual(['thumb']);
    expect(small.gradient).toBeUndefined();
    expect(await dimensionsOf(join(out, 'small', 'small_thumb.webp'))).toEqual({
      width: 64,
      height: 43,
    });
    const opts = await readJson<Sidecar>(join(out, 'opts', 'opts.json'));
    expect(opts.outputs.lq).toMatchObject({ width: 75, height: 50 });
    const plain = await readJson<Sidecar>(join(out, '42', '42.json'));
    expect(opts.options).not.toBe(plain.options);
  });

  it('names the line of each malformed entry, with the reason', () => {
    const lines = failures(run);
    const at = (n: number) => lines.filter((l) => l.includes(`jobs.ndjson:${n}:`));
    expect(at(4)[0]).toMatch(/not valid JSON/);
    expect(at(5)[0]).toMatch(/missing "input"/);
    expect(at(6)[0]).toMatch(/unsafe id "\.\.\/x"/);
    expect(at(7)[0]).toMatch(/unsafe id "\/etc\/x"/);
    expect(at(9)[0]).toMatch(
      /Expected one of thumb, blur, lq, gradient for ops but received "foo"/,
    );
    expect(at(10)[0]).toMatch(/duplicate id "42"/);
    expect(at(14)[0]).toMatch(/Expected an integer between 0 and 6 for effort but received "9"/);
    expect(at(15)[0]).toMatch(/duplicate id "SMALL" \(first used at .*jobs\.ndjson:8\)/);
    for (const n of [1, 2, 3, 8, 11, 12, 13]) expect(at(n), `line ${n}`).toEqual([]);
    expect(lines.filter((l) => l.includes('missing.png'))[0]).toMatch(/file not found/);
    expect(lines).toHaveLength(9);
  });

  it('never writes outside --out for ids like ../x or /etc/x', async () => {
    expect(existsSync(join(dir, 'x'))).toBe(false);
    expect(existsSync(join(out, '..', 'x'))).toBe(false);
    expect(existsSync('/etc/x')).toBe(etcBefore);
    expect(
      (await listFiles(dir)).filter((f) => !f.startsWith('out/') && !f.startsWith('jobs/')),
    ).toEqual([]);
  });
});

describe('--manifest JSON array', () => {
  it('takes an array of jobs, names the bad entries and refuses unsafe ids', async () => {
    const manifest = join(jobs, 'jobs.json');
    await writeFile(
      manifest,
      JSON.stringify(
        [
          { input: 'imgs/a.png', id: 'arr' },
          5,
          { input: 'imgs/b.jpg', id: '../../escape' },
          { input: 'imgs/b.jpg', ops: ['lq'] },
        ],
        null,
        2,
      ),
    );
    const arrOut = join(dir, 'arr-out');
    const r = await runCli(['--manifest', manifest, '--out', arrOut, '--cpu']);
    expect(r.code).toBe(3);
    expect(await listFiles(arrOut)).toEqual(
      [...outputsOf('arr/arr'), 'imgs/b.json', 'imgs/b_lq.webp'].sort(),
    );
    const lines = failures(r);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/jobs\.json entry 2: expected a JSON object/);
    expect(lines[1]).toMatch(/jobs\.json entry 3: unsafe id "\.\.\/\.\.\/escape"/);
    expect(existsSync(join(dir, 'escape'))).toBe(false);
    expect(existsSync(join(jobs, 'escape'))).toBe(false);
  });

  it('a manifest that cannot be read is fatal: exit 1', async () => {
    const r = await runCli(['--manifest', join(dir, 'nope.ndjson'), '--out', join(dir, 'o')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read manifest .*nope\.ndjson/);
  });
});

describe('manifest entries follow the same rules as queue jobs', () => {
  it('refuses an unknown key with a did-you-mean, and writes nothing for it', async () => {
    const manifest = join(jobs, 'typo.ndjson');
    await writeFile(
      manifest,
      [
        '// "opts" is a typo of "ops": it must not silently make every output',
        '{"input":"imgs/a.png","id":"typo","opts":["thumb"]}',
        '{"input":"imgs/a.png","id":"string-ops","ops":"thumb,lq"}',
      ].join('\r\n') + '\r\n',
    );
    const typoOut = join(dir, 'typo-out');
    const r = await runCli(['--manifest', manifest, '--out', typoOut, '--cpu']);
    expect(r.code).toBe(3);
    expect(failures(r)).toEqual([
      `✗ ${manifest}:2: unknown key "opts" (did you mean "ops"?); valid keys are input, id, ops, options`,
    ]);
    expect(await listFiles(typoOut)).toEqual([
      'string-ops/string-ops.json',
      'string-ops/string-ops_lq.webp',
      'string-ops/string-ops_thumb.webp',
    ]);
  });

  it('answers deeply nested JSON with one short line, in the batch command and in enqueue', async () => {
    const depth = 100_000;
    const manifest = join(jobs, 'deep.ndjson');
    await writeFile(
      manifest,
      `{"input":"imgs/a.png","options":${'['.repeat(depth)}${']'.repeat(depth)}}\n`,
    );
    const r = await runCli(['--manifest', manifest, '--out', join(dir, 'deep-out'), '--cpu']);
    expect(r.code).toBe(3);
    expect(r.stderr).not.toMatch(/call stack/);
    expect(failures(r)).toEqual([
      `✗ ${manifest}:1: nested more than 16 levels deep; a job is a flat JSON object`,
    ]);
    // Refused before connecting: no Redis listens on port 1.
    const e = await runCli(['enqueue', '-m', manifest, '--redis', 'redis://127.0.0.1:1']);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain(
      `job 1: ${manifest}:1: nested more than 16 levels deep; a job is a flat JSON object`,
    );
    expect(e.stderr).not.toMatch(/call stack/);
  });
});
