import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProcessingOptions } from '../../src/config/options.js';
import { discoverObjects } from '../../src/plan/discover-objects.js';
import { imageExtensions } from '../../src/plan/discover.js';
import { planBatch } from '../../src/plan/plan.js';
import { ObjectStore } from '../../src/storage/s3.js';
import { startS3, type TestS3 } from '../storage/s3-server.js';

const imageName = new RegExp(`\\.(${imageExtensions().join('|')})$`, 'i');

let s3: TestS3;
let store: ObjectStore;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  s3 = await startS3();
  // Credentials the SDK's way, as a user gives them; nothing from this machine's own AWS setup.
  for (const [k, v] of Object.entries(s3.env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  store = new ObjectStore({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' });
  await s3.createBucket('photos');
  await s3.createBucket('empty');
  for (const key of [
    'uploads/',
    'uploads/a.jpg',
    'uploads/B.PNG',
    'uploads/notes.txt',
    'uploads/raw',
    'uploads/.hidden.jpg',
    'uploads/.cache/x.jpg',
    'uploads/folder.jpg/',
    'uploads/trips/rome.jpg',
    'uploads/web/old.jpg',
    'uploads/webby/new.jpg',
    'other/c.jpg',
  ]) {
    await s3.put('photos', key, key.endsWith('/') ? '' : `bytes of ${key}`);
  }
}, 60_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await s3?.destroy();
});

async function found(arg: string, exclude?: string) {
  const r = await discoverObjects(arg, store, imageName, exclude);
  return {
    rels: r.inputs.map((i) => i.relPath).sort(),
    paths: r.inputs.map((i) => i.path).sort(),
    problem: r.problem,
  };
}

describe('discoverObjects', () => {
  it('takes every image under a prefix, relative to it; hidden keys and folder markers skipped', async () => {
    const r = await discoverObjects('s3://photos/uploads/', store, imageName);
    expect(r.problem).toBeUndefined();
    const byRel = Object.fromEntries(r.inputs.map((i) => [i.relPath, i]));
    expect(Object.keys(byRel).sort()).toEqual([
      'B.PNG',
      'a.jpg',
      'trips/rome.jpg',
      'web/old.jpg',
      'webby/new.jpg',
    ]);
    expect(byRel['trips/rome.jpg']!.path).toBe('s3://photos/uploads/trips/rome.jpg');
    expect(byRel['a.jpg']!.info.bytes).toBe('bytes of uploads/a.jpg'.length);
    expect(byRel['a.jpg']!.info.etag).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('lists a whole bucket when given the bucket alone', async () => {
    expect((await found('s3://photos')).rels).toEqual([
      'other/c.jpg',
      'uploads/B.PNG',
      'uploads/a.jpg',
      'uploads/trips/rome.jpg',
      'uploads/web/old.jpg',
      'uploads/webby/new.jpg',
    ]);
  });

  it('leaves out the output prefix inside the input, and only that prefix', async () => {
    for (const exclude of ['s3://photos/uploads/web', 's3://photos/uploads/web/']) {
      expect((await found('s3://photos/uploads/', exclude)).rels).toEqual([
        'B.PNG',
        'a.jpg',
        'trips/rome.jpg',
        'webby/new.jpg',
      ]);
    }
    // The same key in another bucket, or a local folder, is no exclusion.
    expect((await found('s3://photos/uploads/', 's3://other/uploads/web')).rels).toContain(
      'web/old.jpg',
    );
    expect((await found('s3://photos/uploads/', '/uploads/web')).rels).toContain('web/old.jpg');
  });

  it('takes an object named by its full key whatever its name, with its size and ETag', async () => {
    const r = await discoverObjects('s3://photos/uploads/raw', store, imageName);
    expect(r.problem).toBeUndefined();
    expect(r.inputs).toEqual([
      {
        path: 's3://photos/uploads/raw',
        relPath: 'raw',
        info: { bytes: 'bytes of uploads/raw'.length, etag: expect.any(String) as string },
      },
    ]);
  });

  it('reads a key that names no object as a prefix', async () => {
    expect(await found('s3://photos/uploads/trips')).toEqual({
      rels: ['rome.jpg'],
      paths: ['s3://photos/uploads/trips/rome.jpg'],
      problem: undefined,
    });
  });

  it('says the object is missing when the key is neither an object nor a prefix', async () => {
    expect(await found('s3://photos/uploads/nope.jpg')).toEqual({
      rels: [],
      paths: [],
      problem: 'object not found: s3://photos/uploads/nope.jpg',
    });
  });

  it('matches a glob below its static part, case-insensitively, hidden keys skipped', async () => {
    expect((await found('s3://photos/uploads/**/*.JPG')).rels).toEqual([
      'a.jpg',
      'trips/rome.jpg',
      'web/old.jpg',
      'webby/new.jpg',
    ]);
    // Keys are named from the last folder before the first wildcard.
    expect((await found('s3://photos/uploads/trips/*.jpg')).rels).toEqual(['rome.jpg']);
    // A wildcard in the first part: keys are named from the bucket's root.
    expect((await found('s3://photos/*/c.jpg')).rels).toEqual(['other/c.jpg']);
    expect((await found('s3://photos/uploads/{a,b}.*')).rels).toEqual(['B.PNG', 'a.jpg']);
    expect((await found('s3://photos/uploads/t*/*', 's3://photos/uploads/trips')).rels).toEqual([]);
  });

  it('names what matched nothing', async () => {
    expect((await found('s3://photos/uploads/**/*.gif')).problem).toBe(
      'no object matches this pattern',
    );
    expect((await found('s3://empty/')).problem).toBe('no images under this prefix');
    expect((await found('s3://photos/other/c.jpg/')).problem).toBe('no images under this prefix');
  });

  it('turns a bad location or a missing bucket into a problem, not an exception', async () => {
    expect(await found('s3://X/a.jpg')).toEqual({
      rels: [],
      paths: [],
      problem:
        '"s3://X/a.jpg" does not name a bucket: expected s3://bucket/key with a valid bucket name',
    });
    expect(await found('s3://no-such-bucket/')).toEqual({
      rels: [],
      paths: [],
      problem: expect.stringMatching(
        /^bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+/,
      ) as string,
    });
  });
});

describe('planBatch over s3:// inputs', () => {
  const processing = resolveProcessingOptions({}, {});
  const local = mkdtempSync(join(tmpdir(), 'imgproc-plan-objects-'));
  afterAll(() => rmSync(local, { recursive: true, force: true }));

  it('lists objects beside local files: each object once, in location order, with its listing', async () => {
    writeFileSync(join(local, 'here.jpg'), 'x');
    const plan = await planBatch({
      inputs: [
        's3://photos/uploads/trips/',
        join(local, 'here.jpg'),
        's3://photos/other/',
        's3://photos/**/rome.jpg',
        's3://photos/nope.jpg',
      ],
      outDir: 's3://photos/uploads/web',
      processing,
      objects: store,
    });
    expect(plan.tasks.map((t) => [t.input, t.outputStem, t.sourceLabel])).toEqual([
      [join(local, 'here.jpg'), 'here', 'here.jpg'],
      ['s3://photos/other/c.jpg', 'c', 'c.jpg'],
      ['s3://photos/uploads/trips/rome.jpg', 'rome', 'rome.jpg'],
    ]);
    expect(plan.tasks[0]!.source).toBeUndefined();
    expect(plan.tasks[1]!.source).toEqual({
      bytes: 'bytes of other/c.jpg'.length,
      etag: expect.stringMatching(/^"[0-9a-f]{32}"$/) as string,
    });
    expect(plan.problems).toEqual([
      { input: 's3://photos/nope.jpg', reason: 'object not found: s3://photos/nope.jpg' },
    ]);
  });

  it('leaves the s3:// output prefix out of the input prefix', async () => {
    const plan = await planBatch({
      inputs: ['s3://photos/uploads/'],
      outDir: 's3://photos/uploads/web',
      processing,
      objects: store,
    });
    expect(plan.tasks.map((t) => t.outputStem)).toEqual(['B', 'a', 'trips/rome', 'webby/new']);
  });

  it('needs an object store for s3:// inputs', async () => {
    await expect(
      planBatch({ inputs: ['s3://photos/uploads/'], outDir: local, processing }),
    ).rejects.toThrow('s3:// inputs need an object store');
  });
});
