import { basename, dirname, resolve } from 'node:path';
import { resolveOutputOptions } from '../config/options.js';
import { errorMessage } from '../errors.js';
import { relativeInside } from '../paths.js';
import type { OpName, OutputOptions } from '../pipeline/types.js';
import { isObjectUrl, parseObjectUrl } from '../storage/index.js';
import { MANIFEST_KEYS, parseJobEntry, readJobList } from './job-entry.js';

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

/**
 * A JSON array or NDJSON, one job per entry; relative inputs resolve against the manifest's
 * folder, `s3://bucket/key` inputs are taken as they are. Each malformed entry becomes a problem naming its line; the others still run.
 */
export async function readManifest(
  path: string,
  defaults: OutputOptions,
): Promise<{ jobs: ManifestJob[]; problems: ManifestProblem[] }> {
  const baseDir = dirname(resolve(path));
  const jobs: ManifestJob[] = [];
  const problems: ManifestProblem[] = [];
  const seenIds = new Map<string, string>();
  for (const item of await readJobList(path)) {
    const { where } = item;
    if (item.error !== undefined) {
      problems.push({ where, reason: item.error });
      continue;
    }
    let job: ManifestJob;
    try {
      const entry = parseJobEntry(item.value, MANIFEST_KEYS);
      // An object's outputs mirror its key; a file's, its path from the manifest's folder.
      const remote = isObjectUrl(entry.input);
      const input = remote ? entry.input : resolve(baseDir, entry.input);
      job = {
        where,
        input,
        relPath: remote
          ? parseObjectUrl(input).key
          : (relativeInside(baseDir, input) ?? basename(input)),
        id: entry.id,
        ops: entry.ops,
        options: entry.options && resolveOutputOptions(entry.options, defaults, {}),
      };
    } catch (err) {
      problems.push({ where, reason: errorMessage(err) });
      continue;
    }
    if (job.id !== undefined) {
      // Case-insensitively: the outputs may land on a case-insensitive file system.
      const first = seenIds.get(job.id.toLowerCase());
      if (first) {
        problems.push({ where, reason: `duplicate id "${job.id}" (first used at ${first})` });
        continue;
      }
      seenIds.set(job.id.toLowerCase(), where);
    }
    jobs.push(job);
  }
  return { jobs, problems };
}
