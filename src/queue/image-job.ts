import { readdir, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Backend } from '../backends/backend.js';
import type { ProcessingOptions } from '../config/options.js';
import { isStrictlyInside } from '../paths.js';
import { MemoryBudget } from '../pipeline/memory-budget.js';
import { TEMP_MARKER } from '../storage/atomic-write.js';
import { isObjectUrl, type Storage } from '../storage/index.js';
import { processImage } from '../pipeline/process-image.js';
import { buildTask, parseJob } from './job.js';
import { checkObjectIdOwner, checkOutputOwnership, openJobInput } from './job-files.js';
import type { JobHandler } from './types.js';

export interface ImageJobOptions {
  /** Real path of --data-dir. */
  dataDir: string;
  /** Absolute folders jobs may write under (--output-roots); the first is the default `out`. */
  outputRoots: readonly string[];
  /** The `s3://` prefixes jobs may read and write (--allow). */
  allow: readonly string[];
  processing: ProcessingOptions;
  backend: Backend;
  storage: Storage;
  /** Test knob: hold each job this long, input opened, before processing it. */
  delayMs?: number;
}

function toPosix(p: string): string {
  return p.split('\\').join('/');
}

/** The daemon's job handler: a queue job becomes the same ImageTask the batch command runs. */
export function imageJobHandler(opts: ImageJobOptions): {
  handler: JobHandler;
  onAbandon: (raw: string) => Promise<void>;
} {
  const { dataDir, outputRoots } = opts;
  // Every job this worker runs draws on one budget, as a batch run's images do.
  const memory = new MemoryBudget(opts.processing.maxMemory);
  const handler: JobHandler = async (raw) => {
    const job = parseJob(raw);
    const task = await buildTask(job, {
      dataDir,
      processing: opts.processing,
      outputRoots,
      allow: opts.allow,
    });
    const remoteOut = isObjectUrl(task.outDir);
    if (remoteOut) await checkObjectIdOwner(task, opts.storage, job.id);
    else await checkOutputOwnership(task, dataDir, job.id);
    // An object is read by its URL under --allow; a file through the descriptor checked here.
    const input = isObjectUrl(task.input)
      ? { path: task.input, close: async () => {} }
      : await openJobInput(dataDir, task.input, job.input);
    let result;
    try {
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      result = await processImage(
        { ...task, input: input.path },
        { backend: opts.backend, memory, storage: opts.storage },
      );
    } finally {
      await input.close();
    }
    // Paths relative to the job's output root, as in the sidecar; `out` names that root.
    const outputs: Record<string, string> = {};
    for (const [name, rec] of Object.entries(result.sidecar.outputs)) {
      if (rec) outputs[name] = rec.path;
    }
    return {
      id: job.id,
      input: job.input,
      out: remoteOut ? task.outDir : toPosix(relative(dataDir, task.outDir)) || '.',
      outputs,
      sidecar: remoteOut
        ? result.sidecarPath.slice(task.outDir.length + 1)
        : toPosix(relative(task.outDir, result.sidecarPath)),
      gradient: result.sidecar.gradient ?? null,
      skipped: result.status === 'skipped',
    };
  };
  // A job handed back unfinished may have a temporary file half written: remove it. Objects are
  // written by single PUTs and have none.
  const onAbandon = async (raw: string) => {
    let job;
    try {
      job = parseJob(raw);
    } catch {
      return;
    }
    const out = job.out ?? outputRoots[0]!;
    if (isObjectUrl(out)) return;
    const outDir = resolve(dataDir, out);
    const dir = resolve(outDir, job.id);
    if (!outputRoots.some((root) => isStrictlyInside(root, dir))) return;
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names.filter((n) => n.includes(TEMP_MARKER)).map((n) => rm(join(dir, n), { force: true })),
    );
  };
  return { handler, onAbandon };
}
