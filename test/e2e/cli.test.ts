import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BAD, COLLISIONS, PHOTOS, listFiles, makeTempDir, runCli } from './helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir();
  await mkdir(join(dir, 'in'));
  await copyFile(join(PHOTOS, 'tiny-1x1.png'), join(dir, 'in', 'tiny.png'));
  await copyFile(join(BAD, 'text.jpg'), join(dir, 'in', 'text.jpg'));
  await copyFile(join(BAD, 'empty.jpg'), join(dir, 'in', 'empty.jpg'));
});

describe('first contact', () => {
  it('bare imgproc says what is missing and where the help is', async () => {
    const r = await runCli([], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'imgproc: no inputs: give files, folders or globs, or --manifest FILE\n' +
        '(run imgproc --help for usage)\n',
    );
  });

  it('imgproc help and imgproc help enqueue show help, exit 0', async () => {
    const root = await runCli(['help'], { cwd: dir });
    expect(root.code).toBe(0);
    expect(root.stdout).toMatch(/^Usage: imgproc /);
    expect(root.stdout).toContain('Examples:\n  imgproc ./photos --out ./processed');
    const enqueue = await runCli(['help', 'enqueue'], { cwd: dir });
    expect(enqueue.code).toBe(0);
    expect(enqueue.stdout).toMatch(/^Usage: imgproc enqueue /);
  });

  it('the help fits 80 columns and has no line broken in the middle of a sentence', async () => {
    const r = await runCli(['--help'], { cwd: dir, env: { COLUMNS: '80' } });
    for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(r.stdout).toContain('Turns folders of photos, a job manifest or a Redis queue into');
    const serve = await runCli(['help', 'serve'], { cwd: dir, env: { COLUMNS: '80' } });
    expect(serve.code).toBe(0);
    for (const line of serve.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(serve.stdout).toMatch(/--token <token>.*--max-upload <size>/s);
  });

  it('every error starts the same way; --format is not taken for --force', async () => {
    const unknown = await runCli(['in', '--out', 'o', '--format', 'avif'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      "imgproc: unknown option '--format'\n(run imgproc --help for usage)\n",
    );
    const typo = await runCli(['in', '--out', 'o', '--forc'], { cwd: dir });
    expect(typo.stderr).toMatch(/^imgproc: unknown option '--forc' \(did you mean --force\?\)\n/);
    const value = await runCli(['in', '--out', 'o', '--thumb-width', 'abc'], { cwd: dir });
    expect(value.stderr).toMatch(
      /^imgproc: Expected an integer between 1 and 16383 for thumb-width/,
    );
    expect(existsSync(join(dir, 'o'))).toBe(false);
  });

  it('-o=DIR means -o DIR', async () => {
    const out = join(dir, 'short-eq');
    const r = await runCli([join(dir, 'in', 'tiny.png'), `-o=${out}`, '--cpu'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await listFiles(out)).toContain('tiny.json');
    expect(existsSync(join(dir, `=${out}`))).toBe(false);
  });
});

describe('summaries', () => {
  it('--json lists each failure with its code and reason, in input order', async () => {
    const r = await runCli(['in', '--out', 'json-out', '--cpu', '--json'], { cwd: dir });
    expect(r.code).toBe(3);
    const summary = JSON.parse(r.stdout) as { failures: unknown[]; processed: number };
    expect(summary.processed).toBe(1);
    expect(summary.failures).toEqual([
      { input: join(dir, 'in', 'empty.jpg'), code: 'EMPTY', reason: expect.any(String) },
      { input: join(dir, 'in', 'text.jpg'), code: 'NOT_AN_IMAGE', reason: expect.any(String) },
    ]);
  });

  it('the text summary names the failures in a stable order; a run that skips all gives no rate', async () => {
    const first = await runCli(['in', '--out', 'text-out', '--cpu'], { cwd: dir });
    expect(first.stderr).toContain('failed, in order: in/empty.jpg, in/text.jpg\n');
    expect(first.stderr).toMatch(
      /1 processed, 0 skipped, 2 failed in [\d.]+ s \([\d.]+ images\/s, cpu\)/,
    );
    const again = await runCli([join(dir, 'in', 'tiny.png'), '--out', 'text-out', '--cpu'], {
      cwd: dir,
    });
    expect(again.stderr).toMatch(/0 processed, 1 skipped, 0 failed in [\d.]+ s \(cpu\)\n$/);
  });

  it('a dry run prints totals; with --json, one line', async () => {
    const text = await runCli(['in', '--out', 'dry', '--dry-run'], { cwd: dir });
    expect(text.stderr).toContain(
      'dry run: 3 would be processed, 0 skipped as current, 0 cannot be processed',
    );
    const json = await runCli(['in', '--out', 'dry', '--dry-run', '--json'], { cwd: dir });
    expect(json.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, process: 3, skip: 0, failed: 0 });
  });

  it('a collision warning only for inputs that were written', async () => {
    await mkdir(join(dir, 'coll'));
    await copyFile(join(BAD, 'text.jpg'), join(dir, 'coll', 'x.jpg'));
    await copyFile(join(BAD, 'empty.jpg'), join(dir, 'coll', 'x.png'));
    const bad = await runCli(['coll', '--out', 'coll-out', '--cpu'], { cwd: dir });
    expect(bad.code).toBe(3);
    expect(bad.stderr).not.toContain('warning:');
    const good = await runCli([COLLISIONS, '--out', 'coll-good', '--cpu'], { cwd: dir });
    expect(good.stderr).toMatch(/warning: A\.webp, a\.jpg, a\.png would all write A_\*/);
  });
});

describe('--out and --report are checked before any work', () => {
  it('--out that cannot take folders (/proc) gives one line at once', async () => {
    const r = await runCli(['in', '--out', '/proc/imgproc-out', '--cpu'], {
      cwd: dir,
      timeoutMs: 20_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'imgproc: cannot create output folder /proc/imgproc-out: /proc does not take new folders\n',
    );
  });

  it('--out equal to an input folder says why instead of processing nothing', async () => {
    const r = await runCli(['in', '--out', 'in', '--cpu'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^imgproc: --out .*\/in is also the input folder in: /);
  });

  it('--report - writes the report on stdout', async () => {
    const r = await runCli(
      [join(dir, 'in', 'tiny.png'), '--out', 'rep', '--cpu', '--report', '-'],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { items: Array<{ sidecar: string }> };
    expect(report.items[0]!.sidecar).toBe('tiny.json');
    expect(existsSync(join(dir, '-'))).toBe(false);
  });

  it('--report naming a folder fails before processing anything', async () => {
    const r = await runCli(['in', '--out', 'rep-dir', '--cpu', '--report', dir], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--report .* is a folder; give a file name, or - for stdout/);
    expect(existsSync(join(dir, 'rep-dir'))).toBe(false);
  });

  it('--report to a pipe writes into it and leaves it a pipe', async () => {
    const fifo = join(dir, 'report.fifo');
    execFileSync('mkfifo', [fifo]);
    // A reader on the FIFO, so that the CLI's open for writing does not block.
    const reader = execFileAsync('cat', [fifo]);
    const r = await runCli(
      [join(dir, 'in', 'tiny.png'), '--out', 'rep-fifo', '--cpu', '--report', fifo],
      {
        cwd: dir,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(await reader)).toMatchObject({ summary: { processed: 1 } });
    expect(execFileSync('stat', ['-c', '%F', fifo]).toString().trim()).toBe('fifo');
  });
});

describe('many manifest entries without ids', () => {
  it('names 2,000 entries of one input, with one short warning and no internal keys', async () => {
    const manifest = join(dir, 'many.ndjson');
    await copyFile(join(PHOTOS, 'tiny-1x1.png'), join(dir, 'a.png'));
    await writeFile(manifest, '{"input":"a.png"}\n'.repeat(2_000));
    const r = await runCli(
      ['--manifest', 'many.ndjson', '--out', 'many-out', '--dry-run', '--json'],
      {
        cwd: dir,
        timeoutMs: 120_000,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain('\0');
    expect(warnings[0]).toMatch(
      /^warning: many\.ndjson:1, many\.ndjson:10, .* and 1995 more would all write a_\*; writing a_png_\*, a_png_2_\*, .* and 1995 more instead$/,
    );
    const plan = JSON.parse(r.stdout) as { tasks: Array<{ outputStem: string }> };
    expect(new Set(plan.tasks.map((t) => t.outputStem)).size).toBe(2_000);
  });
});

function execFileAsync(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}
