import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { selectBackend } from '../backends/select.js';
import type { BatchConfig } from '../config/batch.js';
import { ImageInputError, ResourceError, errorMessage, shortenMiddle } from '../errors.js';
import { relativeInside } from '../paths.js';
import { MemoryBudget } from '../pipeline/memory-budget.js';
import { sweepTempFiles, writeAtomic } from '../storage/atomic-write.js';
import { Storages, isObjectUrl } from '../storage/index.js';
import { isUpToDate, processImage } from '../pipeline/process-image.js';
import type { ImageTask, Sidecar } from '../pipeline/types.js';
import { planBatch } from '../plan/plan.js';
import { VERSION } from '../version.js';
import { EXIT } from './exit-codes.js';
import { Reporter } from './reporter.js';
import { RunLock } from './run-lock.js';
import { tuneSharp } from './sharp-tuning.js';

interface ReportItem {
  input: string;
  status: 'processed' | 'skipped' | 'failed' | 'not-started';
  outputs?: Sidecar['outputs'];
  sidecar?: string;
  code?: string;
  reason?: string;
}

/**
 * Where the run lock lives: in the output folder, or for an `s3://` output in a local folder named
 * after it, so that two runs on this machine never write one prefix at once.
 */
function lockFolder(outDir: string): string {
  if (!isObjectUrl(outDir)) return outDir;
  const name = createHash('sha256').update(outDir).digest('hex').slice(0, 16);
  return join(tmpdir(), 'imgproc-locks', name);
}

/** Paths in messages as the user would type them: relative to the working folder when inside it. */
function shown(path: string): string {
  if (isObjectUrl(path)) return path;
  const rel = relativeInside(process.cwd(), path);
  return shortenMiddle(rel ? rel : path);
}

export async function runBatch(cfg: BatchConfig): Promise<number> {
  const storage = new Storages(cfg.objectStore);
  try {
    return await runWith(cfg, storage);
  } finally {
    storage.close();
  }
}

async function runWith(cfg: BatchConfig, storage: Storages): Promise<number> {
  const { quiet, json, dryRun, failFast, outDir, reportPath, processing } = cfg;
  const reporter = new Reporter({ quiet, progress: cfg.progress });
  const plan = await planBatch({
    inputs: cfg.inputs,
    manifest: cfg.manifest,
    outDir,
    processing,
    objects: storage.objects,
  });
  for (const c of plan.collisions) {
    // The same relative path under two input folders: only the full paths tell them apart.
    const relPaths = c.renamed.map((r) => r.relPath);
    const named =
      new Set(relPaths).size === relPaths.length ? relPaths : c.renamed.map((r) => r.key);
    reporter.warn(
      `${named.join(', ')} would all write ${c.stem}_*; ` +
        `writing ${c.renamed.map((r) => r.stem + '_*').join(', ')} instead`,
    );
  }
  // Items are kept only for --report: without it memory stays flat however many inputs there are.
  const items: ReportItem[] = [];
  const counts: Record<ReportItem['status'], number> = {
    processed: 0,
    skipped: 0,
    failed: 0,
    'not-started': 0,
  };
  const record = (item: ReportItem) => {
    counts[item.status]++;
    if (reportPath) items.push(item);
  };
  for (const p of plan.problems) {
    reporter.failure(shortenMiddle(p.input), p.reason);
    record({ input: p.input, status: 'failed', code: 'BAD_INPUT', reason: p.reason });
  }

  if (dryRun) {
    // Each source is read and hashed, as a real run would, to tell what it would skip.
    const limitChecks = pLimit(processing.concurrency);
    const current = await Promise.all(
      plan.tasks.map((t) => limitChecks(() => isUpToDate(t, storage))),
    );
    plan.tasks.forEach((t, i) => {
      if (json) return;
      const what = current[i] ? 'current, would skip' : 'would process';
      process.stdout.write(`${shown(t.input)} -> ${t.outputStem} [${t.ops.join(',')}] (${what})\n`);
    });
    if (json) {
      const out = {
        dryRun: true,
        tasks: plan.tasks.map((t, i) => ({
          input: t.input,
          outputStem: t.outputStem,
          ops: t.ops,
          action: current[i] ? 'skip' : 'process',
        })),
        problems: plan.problems,
      };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    }
    return plan.problems.length > 0 ? EXIT.someFailed : EXIT.ok;
  }

  // Chosen before the lock: a usage error (--backend cuda without a GPU) must leave nothing behind.
  const backend = await selectBackend({
    backend: processing.backend,
    gpu: processing.gpu,
    gpuTimeoutMs: processing.gpuTimeoutMs,
    log: (line) => reporter.info(line),
  });
  const lock = await RunLock.acquire(lockFolder(outDir)).catch(async (err: unknown) => {
    await backend.close();
    throw err;
  });
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      reporter.error(`${signal} again: stopping now`);
      process.exit(EXIT.interrupted);
    }
    interrupted = true;
    reporter.warn(`${signal}: finishing the images in flight, starting no new ones`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = performance.now();
  let fatal: ResourceError | undefined;
  const backendName = backend.name;
  try {
    if (!isObjectUrl(outDir)) await sweepTempFiles(outDir);
    tuneSharp(processing.concurrency);
    const limit = pLimit(processing.concurrency);
    const memory = new MemoryBudget(processing.maxMemory);
    let stop: string | undefined;
    reporter.startProgress(plan.tasks.length);
    const runOne = async (task: ImageTask): Promise<void> => {
      if (stop || interrupted) {
        record({
          input: task.input,
          status: 'not-started',
          reason: interrupted ? 'interrupted' : stop,
        });
        return;
      }
      try {
        const result = await processImage(task, { backend, storage, memory });
        record({
          input: task.input,
          status: result.status,
          outputs: result.sidecar.outputs,
          sidecar: result.sidecarPath,
        });
      } catch (err) {
        if (err instanceof ResourceError) {
          // Every later image would fail the same way: one line for the run, not one per image.
          if (!stop) reporter.error(err.message);
          stop ??= err.message;
          fatal = err;
          record({ input: task.input, status: 'failed', code: err.code, reason: err.message });
          return;
        }
        const input = err instanceof ImageInputError ? err : undefined;
        reporter.failure(shown(task.input), errorMessage(err), input?.hint);
        record({
          input: task.input,
          status: 'failed',
          code: input?.code ?? 'ERROR',
          reason: errorMessage(err),
        });
        if (failFast) stop ??= 'stopped by --fail-fast';
      } finally {
        reporter.tick();
      }
    };
    await Promise.all(plan.tasks.map((t) => limit(() => runOne(t))));
  } finally {
    await backend.close();
    reporter.stopProgress();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await lock.release();
  }

  const seconds = (performance.now() - started) / 1000;
  const count = (s: ReportItem['status']) => counts[s];
  const summary = {
    processed: count('processed'),
    skipped: count('skipped'),
    failed: count('failed'),
    notStarted: count('not-started'),
    seconds: Math.round(seconds * 1000) / 1000,
    imagesPerSecond: seconds > 0 ? Math.round((count('processed') / seconds) * 100) / 100 : 0,
    backend: backendName,
    interrupted,
  };
  if (reportPath) {
    items.sort((a, b) => (a.input < b.input ? -1 : a.input > b.input ? 1 : 0));
    await writeAtomic(
      reportPath,
      JSON.stringify({ version: VERSION, outDir, summary, items }, null, 2) + '\n',
    );
  }
  if (json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
  } else if (!quiet) {
    const c = reporter.c;
    const parts = [
      c.green(`${summary.processed} processed`),
      `${summary.skipped} skipped`,
      summary.failed ? c.red(`${summary.failed} failed`) : '0 failed',
    ];
    if (summary.notStarted) parts.push(`${summary.notStarted} not started`);
    reporter.info(
      `${parts.join(', ')} in ${summary.seconds.toFixed(1)} s (${summary.imagesPerSecond} images/s, ${backendName})`,
    );
  }
  if (interrupted) return EXIT.interrupted;
  if (fatal) return EXIT.fatal;
  return summary.failed > 0 || summary.notStarted > 0 ? EXIT.someFailed : EXIT.ok;
}
