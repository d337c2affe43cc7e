import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { BIN, ROOT, makeTempDir, runCli } from './helpers.js';

const run = promisify(execFile);
const LOADER = join(ROOT, 'bin', 'load-bundle.cjs');

/** Loads `file` through the bin's loader in a fresh node; prints its export and the cache statuses. */
async function load(file: string, write: boolean): Promise<{ value: unknown; statuses: unknown }> {
  const script = `
    const value = require(${JSON.stringify(LOADER)}).loadBundle(${JSON.stringify(file)});
    console.log(JSON.stringify({ value, statuses: globalThis[Symbol.for('imgproc.codeCache')] }));`;
  const env = { ...process.env, IMGPROC_WRITE_CODE_CACHE: write ? '1' : '0' };
  const { stdout } = await run(process.execPath, ['-e', script], { env });
  return JSON.parse(stdout) as { value: unknown; statuses: unknown };
}

describe('the V8 code cache of the bundles', () => {
  test('is used by the CLI the build made, for the CLI and for the SDK', async () => {
    const { code, stdout } = await runCli(['doctor', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).codeCache).toEqual({ 'main.cjs': 'used', 's3-sdk.cjs': 'used' });
    const text = await runCli(['doctor']);
    expect(text.stdout).toMatch(/^cache {5}V8 code cache used for main\.cjs, s3-sdk\.cjs$/m);
  });

  test('is refused by V8 under other flags, and the CLI works the same', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--heap-growing-percent=100', BIN, 'doctor', '--json'],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
    );
    const report = JSON.parse(stdout) as { codeCache: Record<string, string>; version: string };
    expect(report.codeCache['main.cjs']).toBe('rejected');
    expect(report.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('is written only when asked, and never runs code of another source', async () => {
    const dir = await makeTempDir();
    const main = join(dir, 'main.cjs');
    await writeFile(main, "module.exports = { n: 1, side: require('./side.cjs') };\n");
    await writeFile(join(dir, 'side.cjs'), "module.exports = 'side';\n");

    expect(await load(main, false)).toEqual({
      value: { n: 1, side: 'side' },
      statuses: { 'main.cjs': 'missing', 'side.cjs': 'missing' },
    });
    await expect(readFile(`${main}.cache`)).rejects.toThrow(/ENOENT/);

    await load(main, true);
    expect(await load(main, false)).toEqual({
      value: { n: 1, side: 'side' },
      statuses: { 'main.cjs': 'used', 'side.cjs': 'used' },
    });

    // Same length, other code: V8 alone would take the old cache for it.
    await writeFile(main, "module.exports = { n: 2, side: require('./side.cjs') };\n");
    expect(await load(main, false)).toEqual({
      value: { n: 2, side: 'side' },
      statuses: { 'main.cjs': 'stale', 'side.cjs': 'used' },
    });
  });
});
