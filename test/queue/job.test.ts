import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveProcessingOptions } from '../../src/config/options.js';
import { ImageInputError } from '../../src/errors.js';
import { buildTask, deriveJobId, parseJob } from '../../src/queue/job.js';

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

  it('names a job without an id after its input, deterministically', () => {
    // The documented rule: `j` + the first 20 hex digits of the SHA-256 of `input`
    // (`printf 'uploads/a.png' | sha256sum` starts cb191b81c1deea763ccd).
    expect(parseJob('{"input":"uploads/a.png"}').id).toBe('jcb191b81c1deea763ccd');
    expect(deriveJobId('uploads/a.png')).toBe('jcb191b81c1deea763ccd');
    expect(parseJob('{"input":"a.png"}').id).toBe('j7f071235805fbf58a252');
    expect(parseJob('{"id":42,"input":"a.png"}').id).toBe('42');
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
    ]) {
      expect(await code(raw), raw).toBe('BAD_JOB');
    }
  });
});
