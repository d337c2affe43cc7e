import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jobOptionOverrides, type RawOptions } from '../config/options.js';
import { UsageError } from '../errors.js';
import { CONFIG_NAME } from './compare.js';
import {
  applyToleranceFlags,
  applyToleranceObject,
  cloneTolerances,
  DEFAULT_TOLERANCES,
  type Tolerances,
} from './tolerances.js';

/**
 * `imgproc-verify.json`, committed inside the expected folder:
 * `{"tolerances": {"lq": {"ssim": 0.97}}, "ops": ["thumb", "gradient"], "options": {"thumbWidth": 320}}`.
 * `ops` and `options` (the manifest's option names) are the processing defaults of `verify`, so a
 * CI step needs no flags; flags still win.
 */
export interface VerifyConfig {
  path?: string;
  tolerances: Tolerances;
  processing: RawOptions;
}

const KEYS = ['tolerances', 'ops', 'options'];

/** Reads the config (when there is one), then applies `--tolerance` flags over it. */
export async function loadVerifyConfig(
  expectedDir: string,
  configFile: string | undefined,
  toleranceFlags: readonly string[],
): Promise<VerifyConfig> {
  const path = configFile ?? join(expectedDir, CONFIG_NAME);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || configFile !== undefined) {
      throw new UsageError(`cannot read the verify config ${path}: ${(err as Error).message}`);
    }
  }
  const tolerances = cloneTolerances(DEFAULT_TOLERANCES);
  const processing: RawOptions = {};
  if (text !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`${path}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new UsageError(`${path}: expected an object like {"tolerances": {…}}`);
    }
    const config = json as Record<string, unknown>;
    for (const key of Object.keys(config)) {
      if (!KEYS.includes(key)) {
        throw new UsageError(`${path}: unknown key "${key}"; valid keys are ${KEYS.join(', ')}`);
      }
    }
    if (config.tolerances !== undefined) applyToleranceObject(tolerances, config.tolerances, path);
    if (config.options !== undefined) Object.assign(processing, jobOptionOverrides(config.options));
    if (config.ops !== undefined) {
      const ops = config.ops;
      if (!Array.isArray(ops) || !ops.every((o) => typeof o === 'string')) {
        throw new UsageError(`${path}: "ops" must be an array like ["thumb", "gradient"]`);
      }
      processing.ops = ops.join(',');
    }
  }
  applyToleranceFlags(tolerances, toleranceFlags);
  return { path: text === undefined ? undefined : path, tolerances, processing };
}
