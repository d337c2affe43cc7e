import { readdir, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Backend } from '../backends/backend.js';
import type { ProcessingOptions } from '../config/options.js';
import { isStrictlyInside } from '../paths.js';
import { TEMP_MARKER } from '../storage/atomic-write.js';
import { processImage } from '../pipeline/process-image.js';
import { DEFAULT_OUT, buildTask, parseJob } from './job.js';
import type { JobHandler } from './types.js';

export interface ImageJobOptions {
  /** Real path of --data-dir. */
  dataDir: string;
  processing: ProcessingOptions;
  backend: Backend;
  /** Test knob: hold each job this long before processing (crash and shutdown tests). */
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
  const handler: JobHandler = async (raw) => {
    const job = parseJob(raw);
    const task = await buildTask(job, { dataDir: opts.dataDir, processing: opts.processing });
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    const result = await processImage(task, { backend: opts.backend });
    const outRel = toPosix(relative(opts.dataDir, task.outDir));
    const inOut = (p: string) => (outRel ? `${outRel}/${p}` : p);
    const outputs: Record<string, string> = {};
    for (const [name, rec] of Object.entries(result.sidecar.outputs)) {
      if (rec) outputs[name] = inOut(rec.path);
    }
    return {
      id: job.id,
      input: job.input,
      outputs,
      sidecar: toPosix(relative(opts.dataDir, result.sidecarPath)),
      gradient: result.sidecar.gradient ?? null,
      skipped: result.status === 'skipped',
    };
  };
  // A job handed back unfinished may have a temporary file half written: remove it.
  const onAbandon = async (raw: string) => {
    let job;
    try {
      job = parseJob(raw);
    } catch {
      return;
    }
    const dir = resolve(opts.dataDir, job.out ?? DEFAULT_OUT, job.id);
    if (!isStrictlyInside(opts.dataDir, dir)) return;
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names.filter((n) => n.includes(TEMP_MARKER)).map((n) => rm(join(dir, n), { force: true })),
    );
  };
  return { handler, onAbandon };
}
