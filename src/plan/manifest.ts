import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { jobOptionOverrides, resolveOps, resolveOutputOptions } from '../config/options.js';
import { FatalError, errorMessage } from '../errors.js';
import { relativeInside } from '../paths.js';
import type { OpName, OutputOptions } from '../pipeline/types.js';
import { checkJobId } from './naming.js';

export interface ManifestJob {
  /** Where in the manifest: `jobs.ndjson:3` or `jobs.json entry 3`. */
  where: string;
  input: string;
  /** Relative path used to mirror the input under --out when the job has no id. */
  relPath: string;
  id?: string;
  ops?: OpName[];
  options?: OutputOptions;
}

export interface ManifestProblem {
  where: string;
  reason: string;
}

function parseEntry(
  value: unknown,
  where: string,
  baseDir: string,
  defaults: OutputOptions,
): ManifestJob | ManifestProblem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { where, reason: 'expected a JSON object like {"input": "a.jpg"}' };
  }
  const entry = value as Record<string, unknown>;
  if (typeof entry.input !== 'string' || entry.input.trim() === '') {
    return { where, reason: 'missing "input" (a path to an image)' };
  }
  const job: ManifestJob = { where, input: '', relPath: '' };
  job.input = resolve(baseDir, entry.input);
  job.relPath = relativeInside(baseDir, job.input) ?? basename(job.input);
  if (entry.id !== undefined) {
    if (typeof entry.id !== 'string' && typeof entry.id !== 'number') {
      return { where, reason: '"id" must be a string' };
    }
    const bad = checkJobId(String(entry.id));
    if (bad) return { where, reason: bad };
    job.id = String(entry.id);
  }
  try {
    if (entry.ops !== undefined) {
      if (!Array.isArray(entry.ops) || !entry.ops.every((o) => typeof o === 'string')) {
        return { where, reason: '"ops" must be an array like ["thumb", "lq"]' };
      }
      job.ops = resolveOps({ ops: entry.ops.join(',') }, {});
    }
    if (entry.options !== undefined) {
      job.options = resolveOutputOptions(jobOptionOverrides(entry.options), defaults, {});
    }
  } catch (err) {
    return { where, reason: errorMessage(err) };
  }
  return job;
}

/**
 * A JSON array or NDJSON, one job per entry; relative inputs resolve against the manifest's
 * folder. Each malformed entry becomes a problem naming its line; the others still run.
 */
export async function readManifest(
  path: string,
  defaults: OutputOptions,
): Promise<{ jobs: ManifestJob[]; problems: ManifestProblem[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FatalError(`cannot read manifest ${path}: ${errorMessage(err)}`);
  }
  const baseDir = dirname(resolve(path));
  const jobs: ManifestJob[] = [];
  const problems: ManifestProblem[] = [];
  const seenIds = new Map<string, string>();
  const add = (value: unknown, where: string) => {
    const result = parseEntry(value, where, baseDir, defaults);
    if ('reason' in result) {
      problems.push(result);
      return;
    }
    if (result.id !== undefined) {
      // Case-insensitively: the outputs may land on a case-insensitive file system.
      const first = seenIds.get(result.id.toLowerCase());
      if (first) {
        problems.push({ where, reason: `duplicate id "${result.id}" (first used at ${first})` });
        return;
      }
      seenIds.set(result.id.toLowerCase(), where);
    }
    jobs.push(result);
  };

  if (text.trimStart().startsWith('[')) {
    let entries: unknown;
    try {
      entries = JSON.parse(text);
    } catch (err) {
      throw new FatalError(`manifest ${path} is not valid JSON: ${errorMessage(err)}`);
    }
    (entries as unknown[]).forEach((e, i) => add(e, `${path} entry ${i + 1}`));
  } else {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${path}:${i + 1}`;
      try {
        add(JSON.parse(line), where);
      } catch (err) {
        problems.push({ where, reason: `not valid JSON: ${errorMessage(err)}` });
      }
    });
  }
  return { jobs, problems };
}
