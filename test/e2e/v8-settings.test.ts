import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { BIN, ROOT, runCli } from './helpers.js';

const run = promisify(execFile);

/** The caller's environment without IMGPROC_* settings, as runCli spawns the CLI. */
function withoutImgprocVariables(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IMGPROC_')));
}

describe('the V8 settings the bin makes', () => {
  test('are set at start, and doctor lists them', async () => {
    const text = await runCli(['doctor']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^v8 {8}--interrupt-budget=2000000 --heap-growing-percent=300 \(set by imgproc\)$/m,
    );
    const json = await runCli(['doctor', '--json']);
    expect(JSON.parse(json.stdout).v8).toEqual({
      set: ['--interrupt-budget=2000000', '--heap-growing-percent=300'],
      given: [],
    });
  });

  test('leave a flag given on node’s command line as it is', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--heap-growing-percent=100', BIN, 'doctor', '--json'],
      { cwd: ROOT, env: { ...withoutImgprocVariables(), NO_COLOR: '1' } },
    );
    expect(JSON.parse(stdout).v8).toEqual({
      set: ['--interrupt-budget=2000000'],
      given: ['--heap-growing-percent=100'],
    });
  });
});
