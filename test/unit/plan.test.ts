import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveProcessingOptions } from '../../src/config/options.js';
import { planBatch } from '../../src/plan/plan.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'imgproc-plan-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text = 'x'): string {
  const abs = join(root, path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, text);
  return abs;
}

write('photos/a.jpg');
write('photos/a.png');
write('photos/trips/rome.jpg');
write('photos/x/x.jpg');
const out = join(root, 'out');
const processing = resolveProcessingOptions({ ops: 'thumb,gradient', maxPixels: '5000' }, {});

describe('planBatch', () => {
  it('makes one task per input, mirroring its path, with the command-line settings', async () => {
    const plan = await planBatch({ inputs: [join(root, 'photos')], outDir: out, processing });
    expect(plan.problems).toEqual([]);
    const rome = plan.tasks.find((t) => t.input.endsWith('rome.jpg'));
    expect(rome).toEqual({
      input: join(root, 'photos', 'trips', 'rome.jpg'),
      sourceLabel: 'trips/rome.jpg',
      outDir: out,
      outputStem: 'trips/rome',
      ops: ['thumb', 'gradient'],
      options: processing.output,
      maxPixels: 5000,
      force: false,
    });
  });

  it('gives colliding inputs their extension and reports the collision', async () => {
    const plan = await planBatch({ inputs: [join(root, 'photos')], outDir: out, processing });
    expect(plan.tasks.map((t) => t.outputStem).sort()).toEqual([
      'a_jpg',
      'a_png',
      'trips/rome',
      'x/x',
    ]);
    expect(plan.collisions).toEqual([
      {
        stem: 'a',
        renamed: [
          { input: join(root, 'photos', 'a.jpg'), shown: 'a.jpg', stem: 'a_jpg' },
          { input: join(root, 'photos', 'a.png'), shown: 'a.png', stem: 'a_png' },
        ],
      },
    ]);
  });

  it('writes a job with an id to <id>/<id>, never renamed, with its own ops and options', async () => {
    const manifest = write(
      'jobs/jobs.ndjson',
      [
        { input: '../photos/trips/rome.jpg', id: 'x', ops: ['lq'], options: { thumbWidth: 64 } },
        { input: 'missing-input-is-found-later.png' },
        { input: '../photos/a.png', id: '../up' },
      ]
        .map((j) => JSON.stringify(j))
        .join('\n'),
    );
    const plan = await planBatch({
      inputs: [join(root, 'photos')],
      manifest,
      outDir: out,
      processing: { ...processing, force: true },
    });
    const byInput = Object.fromEntries(plan.tasks.map((t) => [t.outputStem, t]));
    expect(Object.keys(byInput).sort()).toEqual([
      'a_jpg',
      'a_png',
      'missing-input-is-found-later',
      'trips/rome',
      'x/x',
      'x/x_jpg',
    ]);
    expect(byInput['x/x']).toEqual({
      input: join(root, 'photos', 'trips', 'rome.jpg'),
      sourceLabel: 'rome.jpg',
      outDir: out,
      outputStem: 'x/x',
      ops: ['lq'],
      options: { ...processing.output, thumbWidth: 64 },
      maxPixels: 5000,
      force: true,
    });
    // The folder input x/x.jpg would also write x/x: it moves out of the job's way.
    expect(byInput['x/x_jpg']!.input).toBe(join(root, 'photos', 'x', 'x.jpg'));
    expect(byInput['missing-input-is-found-later']).toMatchObject({
      sourceLabel: 'missing-input-is-found-later.png',
      ops: processing.ops,
      options: processing.output,
    });
    expect(plan.problems).toEqual([
      { input: `${manifest}:3`, reason: expect.stringMatching(/^unsafe id "\.\.\/up"/) as string },
    ]);
  });

  it('turns inputs that match nothing into problems', async () => {
    const plan = await planBatch({
      inputs: [join(root, 'nope'), join(root, 'photos', 'trips')],
      outDir: out,
      processing,
    });
    expect(plan.tasks.map((t) => t.outputStem)).toEqual(['rome']);
    expect(plan.problems).toEqual([
      { input: join(root, 'nope'), reason: 'no such file or folder' },
    ]);
  });

  it('keeps the same input listed twice in a manifest apart', async () => {
    const manifest = write(
      'twice/jobs.json',
      JSON.stringify([{ input: '../photos/a.png' }, { input: '../photos/a.png' }]),
    );
    const plan = await planBatch({ inputs: [], manifest, outDir: out, processing });
    expect(plan.tasks.map((t) => t.outputStem)).toEqual(['a_png', 'a_png_2']);
    expect(plan.tasks.map((t) => t.sourceLabel)).toEqual(['a.png', 'a.png']);
  });

  it('names colliding inputs by full path when their relative paths are the same', async () => {
    const a = write('r1/a.jpg');
    const b = write('r2/a.jpg');
    const plan = await planBatch({
      inputs: [join(root, 'r2'), join(root, 'r1')],
      outDir: out,
      processing,
    });
    expect(plan.collisions).toEqual([
      {
        stem: 'a',
        renamed: [
          { input: a, shown: a, stem: 'a_jpg' },
          { input: b, shown: b, stem: 'a_jpg_2' },
        ],
      },
    ]);
  });

  it('names manifest entries of one input by their lines, and labels them by their path', async () => {
    write('lines/sub/b.png');
    const manifest = write(
      'lines/jobs.ndjson',
      [{ input: 'sub/b.png' }, { input: 'sub/b.png', ops: ['thumb'] }]
        .map((j) => JSON.stringify(j))
        .join('\n'),
    );
    const plan = await planBatch({ inputs: [], manifest, outDir: out, processing });
    const input = join(root, 'lines', 'sub', 'b.png');
    expect(plan.tasks.map((t) => [t.outputStem, t.sourceLabel, t.ops])).toEqual([
      ['sub/b_png', 'sub/b.png', processing.ops],
      ['sub/b_png_2', 'sub/b.png', ['thumb']],
    ]);
    expect(plan.collisions).toEqual([
      {
        stem: 'sub/b',
        renamed: [
          { input, shown: `${manifest}:1`, stem: 'sub/b_png' },
          { input, shown: `${manifest}:2`, stem: 'sub/b_png_2' },
        ],
      },
    ]);
  });
});
