import { sep } from 'node:path';
import type { ProcessingOptions } from '../config/options.js';
import { errorMessage } from '../errors.js';
import type { ImageTask } from '../pipeline/types.js';
import { isObjectUrl, type ObjectStore, type SourceInfo } from '../storage/index.js';
import { discoverInputs, imageExtensions, type FoundInput } from './discover.js';
import { disambiguate, stemOf, type Collision } from './naming.js';
import { compareText } from './order.js';

export interface PlanProblem {
  input: string;
  reason: string;
}

/** Inputs that would have written the same names, and the names each writes instead. */
export interface NameCollision {
  stem: string;
  /** `input` is the task's input; `shown` is how a message names it. */
  renamed: Array<{ input: string; shown: string; stem: string }>;
}

export interface BatchPlan {
  tasks: ImageTask[];
  /** Inputs or manifest entries that never became a task. */
  problems: PlanProblem[];
  collisions: NameCollision[];
}

export interface PlanRequest {
  inputs: string[];
  manifest?: string;
  outDir: string;
  processing: ProcessingOptions;
  /** Lists `s3://` inputs; needed only when some are given. */
  objects?: ObjectStore;
}

interface Candidate {
  key: string;
  relPath: string;
  stem: string;
  input: string;
  label: string;
  source?: SourceInfo;
  job?: { ops?: ImageTask['ops']; options?: ImageTask['options'] };
  fixed: boolean;
  /** The manifest line of a manifest entry. */
  where?: string;
}

/**
 * Names each member by its relative path, or where those are the same (one relative path under two
 * input folders, one input in two manifest entries) by its full path or its manifest line.
 */
function describeCollision(c: Collision, byKey: Map<string, Candidate>): NameCollision {
  const members = c.renamed.map((r) => ({ candidate: byKey.get(r.key)!, stem: r.stem }));
  const relPaths = new Set(members.map((m) => m.candidate.relPath));
  const distinct = relPaths.size === members.length;
  return {
    stem: c.stem,
    renamed: members.map(({ candidate, stem }) => ({
      input: candidate.input,
      shown: distinct ? candidate.relPath : (candidate.where ?? candidate.input),
      stem,
    })),
  };
}

/** Local inputs through the folder walk, `s3://` ones through listings; each object once. */
async function discoverAll(
  req: PlanRequest,
  problems: PlanProblem[],
): Promise<Array<FoundInput & { info?: SourceInfo }>> {
  const local = req.inputs.filter((a) => !isObjectUrl(a));
  const remote = req.inputs.filter((a) => isObjectUrl(a));
  const found: Array<FoundInput & { info?: SourceInfo }> = [];
  if (local.length > 0) {
    const exclude = isObjectUrl(req.outDir) ? undefined : req.outDir;
    const walked = await discoverInputs(local, process.cwd(), exclude);
    problems.push(...walked.problems);
    found.push(...walked.inputs);
  }
  if (remote.length > 0) {
    if (!req.objects) throw new Error('s3:// inputs need an object store');
    const imageName = new RegExp(`\\.(${imageExtensions().join('|')})$`, 'i');
    // Loaded for s3:// inputs only, as the manifest reader is for --manifest.
    const { discoverObjects } = await import('./discover-objects.js');
    const seen = new Set<string>();
    const objects: Array<FoundInput & { info?: SourceInfo }> = [];
    for (const arg of remote) {
      const listed = await discoverObjects(arg, req.objects, imageName, req.outDir);
      if (listed.problem !== undefined) problems.push({ input: arg, reason: listed.problem });
      for (const o of listed.inputs) {
        if (seen.has(o.path)) continue;
        seen.add(o.path);
        objects.push(o);
      }
    }
    objects.sort((a, b) => compareText(a.path, b.path));
    found.push(...objects);
  }
  return found;
}

/** Inputs and manifest entries → tasks with unique, contained output names. */
export async function planBatch(req: PlanRequest): Promise<BatchPlan> {
  const problems: PlanProblem[] = [];
  const candidates: Candidate[] = [];

  if (req.inputs.length > 0) {
    const found = await discoverAll(req, problems);
    for (const f of found) {
      try {
        candidates.push({
          key: f.path,
          relPath: f.relPath,
          stem: stemOf(f.relPath),
          input: f.path,
          label: f.relPath.split(sep).join('/'),
          source: f.info,
          fixed: false,
        });
      } catch (err) {
        problems.push({ input: f.path, reason: errorMessage(err) });
      }
    }
  }
  if (req.manifest) {
    const { readManifest } = await import('./manifest.js');
    const m = await readManifest(req.manifest, req.processing.output);
    problems.push(...m.problems.map((p) => ({ input: p.where, reason: p.reason })));
    for (const job of m.jobs) {
      const stem = job.id !== undefined ? `${job.id}/${job.id}` : stemOf(job.relPath);
      candidates.push({
        key: `${job.input}\0${job.where}`,
        relPath: job.relPath,
        stem,
        input: job.input,
        label: job.relPath.split(sep).join('/'),
        job: { ops: job.ops, options: job.options },
        where: job.where,
        // An explicit id is the caller's chosen name: it is never renamed.
        fixed: job.id !== undefined,
      });
    }
  }

  const { collisions } = disambiguate(candidates);
  const byKey = new Map(candidates.map((c) => [c.key, c]));
  const tasks = candidates.map((c): ImageTask => ({
    input: c.input,
    ...(c.source ? { source: c.source } : {}),
    sourceLabel: c.label,
    outDir: req.outDir,
    outputStem: c.stem,
    ops: c.job?.ops ?? req.processing.ops,
    options: c.job?.options ?? req.processing.output,
    maxPixels: req.processing.maxPixels,
    force: req.processing.force,
  }));
  return { tasks, problems, collisions: collisions.map((c) => describeCollision(c, byKey)) };
}
