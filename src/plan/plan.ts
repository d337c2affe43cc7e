import { basename, sep } from 'node:path';
import type { ProcessingOptions } from '../config/options.js';
import { errorMessage } from '../errors.js';
import type { ImageTask } from '../pipeline/types.js';
import { discoverInputs } from './discover.js';
import { readManifest } from './manifest.js';
import { disambiguate, stemOf, type Collision } from './naming.js';

export interface PlanProblem {
  input: string;
  reason: string;
}

export interface BatchPlan {
  tasks: ImageTask[];
  /** Inputs or manifest entries that never became a task. */
  problems: PlanProblem[];
  collisions: Collision[];
}

export interface PlanRequest {
  inputs: string[];
  manifest?: string;
  outDir: string;
  processing: ProcessingOptions;
}

interface Candidate {
  key: string;
  relPath: string;
  stem: string;
  input: string;
  label: string;
  job?: { ops?: ImageTask['ops']; options?: ImageTask['options'] };
  fixed: boolean;
}

/** Inputs and manifest entries → tasks with unique, contained output names. */
export async function planBatch(req: PlanRequest): Promise<BatchPlan> {
  const problems: PlanProblem[] = [];
  const candidates: Candidate[] = [];

  if (req.inputs.length > 0) {
    const found = await discoverInputs(req.inputs, process.cwd(), req.outDir);
    problems.push(...found.problems);
    for (const f of found.inputs) {
      try {
        candidates.push({
          key: f.path,
          relPath: f.relPath,
          stem: stemOf(f.relPath),
          input: f.path,
          label: f.relPath.split(sep).join('/'),
          fixed: false,
        });
      } catch (err) {
        problems.push({ input: f.path, reason: errorMessage(err) });
      }
    }
  }
  if (req.manifest) {
    const m = await readManifest(req.manifest, req.processing.output);
    problems.push(...m.problems.map((p) => ({ input: p.where, reason: p.reason })));
    for (const job of m.jobs) {
      const stem = job.id !== undefined ? `${job.id}/${job.id}` : stemOf(job.relPath);
      candidates.push({
        key: `${job.input}\0${job.where}`,
        relPath: job.id !== undefined ? basename(job.input) : job.relPath,
        stem,
        input: job.input,
        label: job.relPath.split(sep).join('/'),
        job: { ops: job.ops, options: job.options },
        // An explicit id is the caller's chosen name: it is never renamed.
        fixed: job.id !== undefined,
      });
    }
  }

  const { collisions } = disambiguate(candidates);
  const tasks = candidates.map((c): ImageTask => ({
    input: c.input,
    sourceLabel: c.label,
    outDir: req.outDir,
    outputStem: c.stem,
    ops: c.job?.ops ?? req.processing.ops,
    options: c.job?.options ?? req.processing.output,
    maxPixels: req.processing.maxPixels,
    force: req.processing.force,
  }));
  return { tasks, problems, collisions };
}
