import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { outputRoot, type ObjectStoreSettings } from '../storage/index.js';
import { resolveObjectStoreSettings } from './object-store.js';
import {
  envName,
  pick,
  resolveProcessingOptions,
  type ProcessingOptions,
  type RawOptions,
} from './options.js';
import { parseBoolean } from './validate.js';

/** Every setting of a batch run (folders, globs or a manifest), validated before any work. */
export interface BatchConfig {
  inputs: string[];
  manifest?: string;
  /** Absolute, or `s3://bucket/prefix`. */
  outDir: string;
  /** --report: `-` for stdout, else an absolute path. */
  reportPath?: string;
  dryRun: boolean;
  failFast: boolean;
  json: boolean;
  quiet: boolean;
  progress: boolean;
  processing: ProcessingOptions;
  objectStore: ObjectStoreSettings;
}

export function resolveBatchConfig(
  inputs: string[],
  raw: RawOptions,
  env: NodeJS.ProcessEnv = process.env,
): BatchConfig {
  const text = (key: string): string | undefined => {
    const v = pick(raw, key, env);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const flag = (key: string): boolean => {
    const v = pick(raw, key, env);
    return typeof v === 'string' ? parseBoolean(envName(key), v) : v === true;
  };
  const manifest = text('manifest');
  if (inputs.length === 0 && !manifest) {
    throw new UsageError('no inputs: give files, folders or globs, or --manifest FILE');
  }
  const out = text('out');
  if (out === undefined) {
    throw new UsageError('missing --out DIR: the folder where outputs are written');
  }
  const report = text('report');
  const json = flag('json');
  if (report === '-' && json) {
    throw new UsageError('--report - and --json both write to stdout; give --report a file name');
  }
  return {
    inputs,
    manifest,
    outDir: outputRoot(out),
    reportPath: report === undefined || report === '-' ? report : resolve(report),
    dryRun: flag('dryRun'),
    failFast: flag('failFast'),
    json,
    quiet: flag('quiet'),
    // `--no-progress` sets progress to false; IMGPROC_NO_PROGRESS=1 does the same.
    progress: raw.progress !== false && !flag('noProgress'),
    processing: resolveProcessingOptions(raw, env),
    objectStore: resolveObjectStoreSettings(raw, env),
  };
}
