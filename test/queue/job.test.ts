import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveProcessingOptions } from '../../src/config/options.js';
import { ImageInputError } from '../../src/errors.js';
import { buildTask, parseJob } from '../../src/queue/job.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'imgproc-job-')));
const dataDir = join(root, 'data');
mkdirSync(join(dataDir, 'uploads'), { recursive: true });
writeFileSync(join(dataDir, 'uploads', 'a.png'), 'x');
writeFileSync(join(root, 'secret.png'), 'x');
symlinkSync(join(root, 'secret.png'), join(dataDir, 'uploads', 'link.png'));
symlinkSync(root, join(dataDir, 'escape'));
const processing = resolveProcessingOptions({}, {});
const ctx = { dataDir, processing };

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function code(raw: string): Promise<string | undefined> {
  try {
    await buildTask(parseJob(raw), ctx);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ImageInputError);
    return (err as ImageInputError).code;
  }
}

describe('queue jobs', () => {
  it('builds the same task as the batch command, outputs under processed/<id>/<id>', async () => {
    const task = await buildTask(parseJob('{"id":"42","input":"uploads/a.png"}'), ctx);
    expect(task).toMatchObject({
      input: join(dataDir, 'uploads', 'a.png'),
      sourceLabel: 'uploads/a.png',
      outDir: join(dataDir, 'processed'),
      outputStem: '42/42',
      force: false,
    });
    expect(task.ops).toEqual(processing.ops);
  });

  it('applies per-job ops and option overrides on top of the daemon options', async () => {
    const task = await buildTask(
      parseJob(
        '{"id":"7","input":"uploads/a.png","ops":["thumb"],"options":{"thumbWidth":320,"quality":{"thumb":90}}}',
      ),
      ctx,
    );
    expect(task.ops).toEqual(['thumb']);
    expect(task.options.thumbWidth).toBe(320);
    expect(task.options.quality).toEqual({ ...processing.output.quality, thumb: 90 });
  });

  it('takes responsive widths and the lq cap per job', async () => {
    const task = await buildTask(
      parseJob(
        '{"id":"8","input":"uploads/a.png","options":{"widths":[1280,320],"lqMaxWidth":640}}',
      ),
      ctx,
    );
    expect(task.options.widths).toEqual([320, 1280]);
    expect(task.options.lqMaxWidth).toBe(640);
  });

  it('names a job without an id after the work it asks for, by the documented rule', () => {
    // README: `j` + the first 20 hex digits of the SHA-256 of the job's JSON without `id`, keys
    // sorted, no spaces.
    const rule = (canonical: string) =>
      'j' + createHash('sha256').update(canonical).digest('hex').slice(0, 20);
    // (`printf '{"input":"uploads/a.png"}' | sha256sum` starts 390967ea77d9ef9fc982).
    expect(parseJob('{"input":"uploads/a.png"}').id).toBe('j390967ea77d9ef9fc982');
    expect(rule('{"input":"uploads/a.png"}')).toBe('j390967ea77d9ef9fc982');
    expect(parseJob('{"options":{"thumbWidth":320},"input":"uploads/a.png"}').id).toBe(
      rule('{"input":"uploads/a.png","options":{"thumbWidth":320}}'),
    );
    expect(parseJob('{"ops":["thumb"], "input":"uploads/a.png"}').id).toBe(
      rule('{"input":"uploads/a.png","ops":["thumb"]}'),
    );
    // The same input asking for other work is another job.
    expect(parseJob('{"input":"uploads/a.png","options":{"thumbWidth":320}}').id).not.toBe(
      parseJob('{"input":"uploads/a.png"}').id,
    );
    expect(parseJob('{"id":42,"input":"a.png"}').id).toBe('42');
  });

  it('refuses a path that is not valid UTF-8 as BAD_JOB, not as a missing file', () => {
    expect(() => parseJob('{"id":"u","input":"uploads/\\udc80.png"}')).toThrow(/not valid UTF-8/);
  });

  it('writes only under an output root; an out or <out>/<id> that is a file fails for good', async () => {
    mkdirSync(join(dataDir, 'processed'), { recursive: true });
    writeFileSync(join(dataDir, 'processed', 'taken'), 'x');
    writeFileSync(join(dataDir, 'settings.json'), '{}');
    expect(await code('{"id":"settings","input":"uploads/a.png","out":"."}')).toBe('UNSAFE_PATH');
    expect(await code('{"id":"o1","input":"uploads/a.png","out":"uploads"}')).toBe('UNSAFE_PATH');
    expect(await code('{"id":"o2","input":"uploads/a.png","out":"settings.json"}')).toBe(
      'UNSAFE_PATH',
    );
    expect(await code('{"id":"taken","input":"uploads/a.png"}')).toBe('OUTPUT_CONFLICT');
    expect(await code('{"id":"o3","input":"uploads/a.png","out":"processed/sub"}')).toBeUndefined();
    const roots = { ...ctx, outputRoots: [join(dataDir, 'web'), join(dataDir, 'processed')] };
    const task = await buildTask(parseJob('{"id":"o4","input":"uploads/a.png"}'), roots);
    expect(task.outDir).toBe(join(dataDir, 'web'));
    writeFileSync(join(dataDir, 'web-file'), 'x');
    const fileRoot = { ...ctx, outputRoots: [join(dataDir, 'web-file')] };
    await expect(
      buildTask(parseJob('{"id":"o5","input":"uploads/a.png"}'), fileRoot),
    ).rejects.toMatchObject({ code: 'OUTPUT_CONFLICT' });
  });

  it('refuses every path out of the data folder as UNSAFE_PATH', async () => {
    expect(await code('{"id":"1","input":"../secret.png"}')).toBe('UNSAFE_PATH');
    expect(await code(JSON.stringify({ id: '2', input: join(root, 'secret.png') }))).toBe(
      'UNSAFE_PATH',
    );
    expect(await code('{"id":"3","input":"uploads/link.png"}')).toBe('UNSAFE_PATH');
    expect(await code('{"id":"4","input":"escape/secret.png"}')).toBe('UNSAFE_PATH');
    expect(await code('{"id":"5","input":"uploads/a.png","out":"../elsewhere"}')).toBe(
      'UNSAFE_PATH',
    );
    expect(await code('{"id":"6","input":"uploads/a.png","out":"escape/out"}')).toBe('UNSAFE_PATH');
    expect(
      await code(JSON.stringify({ id: '7', input: join(dataDir, 'uploads', 'a.png') })),
    ).toBeUndefined();
  });

  it('refuses malformed jobs as BAD_JOB', async () => {
    for (const raw of [
      'not json',
      '[1,2]',
      '{"id":"1"}',
      '{"id":"../x","input":"uploads/a.png"}',
      '{"id":"a/b","input":"uploads/a.png"}',
      '{"id":"1","input":"uploads/a.png","ops":["sharpen"]}',
      '{"id":"1","input":"uploads/a.png","options":{"thumbWidth":0}}',
      '{"id":"1","input":"uploads/a.png","options":{"colour":"red"}}',
      '{"id":"1","input":"uploads/a.png","opts":["thumb"]}',
      `{"id":"1","input":"uploads/a.png","options":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
      '{"id":"1","input":"uploads/a.png","options":{"widths":[320,"wide"]}}',
    ]) {
      expect(await code(raw), raw).toBe('BAD_JOB');
    }
  });
});
