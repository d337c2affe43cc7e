import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { OutputOptions } from '../pipeline/types.js';
import { CONFIG_NAME, compareFolders } from './compare.js';
import type { Tolerances } from './tolerances.js';
import type { InputFailure, VerifyResult } from './types.js';

export interface VerifyRun {
  /** Absolute path of the expected folder. */
  expectedDir: string;
  /** An existing output folder to compare; without it, `produce` makes one. */
  actualDir?: string;
  /** Processes the inputs into `outDir` as a normal run would; returns the inputs that failed. */
  produce?: (outDir: string) => Promise<InputFailure[]>;
  actualOptions?: OutputOptions;
  tolerances: Tolerances;
  concurrency: number;
  /** Replace the expected folder with this run's outputs. */
  update: boolean;
  /** Called while the compared folders still exist (the HTML report reads their images). */
  report?: (result: VerifyResult) => Promise<void>;
}

export interface VerifyOutcome {
  result: VerifyResult;
  /** Set when --update replaced the expected folder. */
  updated: boolean;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A hidden sibling of `dir`: on the same file system, so it can be renamed into place. */
function siblingOf(dir: string, what: string): string {
  return join(dirname(dir), `.${basename(dir)}.imgproc-${what}-${randomBytes(4).toString('hex')}`);
}

/**
 * Swaps `fresh` in for `target` by renames (the committed config file carried over), so a reader
 * or a crash sees the old folder or the new one, never a mix.
 */
async function replaceFolder(target: string, fresh: string): Promise<void> {
  const config = join(target, CONFIG_NAME);
  if (await exists(config)) await copyFile(config, join(fresh, CONFIG_NAME));
  if (!(await exists(target))) {
    await rename(fresh, target);
    return;
  }
  const old = siblingOf(target, 'old');
  await rename(target, old);
  try {
    await rename(fresh, target);
  } catch (err) {
    await rename(old, target);
    throw err;
  }
  await rm(old, { recursive: true, force: true });
}

/** Makes (or takes) the actual outputs, compares them, reports, and updates when asked. */
export async function runVerify(run: VerifyRun): Promise<VerifyOutcome> {
  const started = performance.now();
  let workDir: string | undefined;
  let actualDir = run.actualDir;
  let failures: InputFailure[] = [];
  try {
    if (!actualDir) {
      if (!run.produce) throw new Error('runVerify needs actualDir or produce');
      workDir = run.update
        ? siblingOf(run.expectedDir, 'new')
        : await mkdtemp(join(tmpdir(), 'imgproc-verify-'));
      actualDir = run.update ? workDir : join(workDir, 'out');
      failures = await run.produce(actualDir);
    }
    const expectedExists = await exists(run.expectedDir);
    const compared = await compareFolders(run.expectedDir, actualDir, {
      tolerances: run.tolerances,
      concurrency: run.concurrency,
      actualOptions: run.actualOptions,
    });
    const result: VerifyResult = {
      ...compared,
      expectedDir: run.expectedDir,
      passed: compared.passed && failures.length === 0,
      summary: { ...compared.summary, inputsFailed: failures.length },
      failures,
      seconds: (performance.now() - started) / 1000,
    };
    await run.report?.(result);
    let updated = false;
    if (run.update && workDir && !(result.passed && expectedExists)) {
      await replaceFolder(run.expectedDir, workDir);
      workDir = undefined;
      updated = true;
    }
    return { result, updated };
  } finally {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }
}
