import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { selectBackend } from '../backends/select.js';
import type { BatchConfig } from '../config/batch.js';
import { ImageInputError, ResourceError, errorMessage, shortenMiddle } from '../errors.js';
import { relativeInside } from '../paths.js';
import { ComputeSlots } from '../pipeline/compute-slots.js';
import { MemoryBudget } from '../pipeline/memory-budget.js';
import { sweepTempFiles } from '../storage/atomic-write.js';
import { Storages, isObjectUrl } from '../storage/index.js';
import { processImage } from '../pipeline/process-image.js';
import { currentObjectOutputs, isUpToDate } from '../pipeline/up-to-date.js';
import type { ImageTask } from '../pipeline/types.js';
import { planBatch } from '../plan/plan.js';
import { VERSION } from '../version.js';
import { BatchOutcome, warnCollisions } from './batch-summary.js';
import { EXIT } from './exit-codes.js';
import { Reporter } from './reporter.js';
import { prepareOutputFolder, refuseOutputAsInput, removeCreatedFolders } from './output-folder.js';
import { checkReportTarget, writeReport } from './report-target.js';
import { RunLock } from './run-lock.js';
import { tuneSharp } from './sharp-tuning.js';

/** Failed inputs the closing summary names; the lines above give every one with its reason. */
const FAILURES_NAMED = 20;
/** Objects whose skip is decided at once (a sidecar GET each): latency-bound, not CPU-bound. */
const OBJECT_CHECKS = 32;

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
  const { quiet, json, dryRun, failFast, outDir, processing } = cfg;
  const reporter = new Reporter({ quiet, progress: cfg.progress });
  // Before the first thread pool call: glibc gives each thread its arena on its first allocation.
  tuneSharp(processing.concurrency);

  // Before anything slow: a bad --out or --report is one line, not a failure after the run.
  const local = !isObjectUrl(outDir);
  if (local) await refuseOutputAsInput(cfg.inputs, outDir);
  const report = cfg.reportPath === undefined ? undefined : await checkReportTarget(cfg.reportPath);
  const createdFolders = local ? await prepareOutputFolder(outDir, !dryRun) : [];

  const plan = await planBatch({
    inputs: cfg.inputs,
    manifest: cfg.manifest,
    outDir,
    processing,
    objects: storage.objects,
  });
  const outcome = new BatchOutcome(report !== undefined);
  for (const p of plan.problems) {
    reporter.failure(shortenMiddle(p.input), p.reason);
    outcome.record({ input: p.input, status: 'failed', code: 'BAD_INPUT', reason: p.reason });
  }

  if (dryRun) {
    warnCollisions(reporter, plan.collisions, () => true);
    // Each source is read and hashed, as a real run would, to tell what it would skip.
    const limitChecks = pLimit(processing.concurrency);
    const current = await Promise.all(
      plan.tasks.map((t) => limitChecks(() => isUpToDate(t, storage))),
    );
    const skip = current.filter(Boolean).length;
    const totals = { process: plan.tasks.length - skip, skip, failed: plan.problems.length };
    if (json) {
      const tasks = plan.tasks.map((t, i) => ({
        input: t.input,
        outputStem: t.outputStem,
        ops: t.ops,
        action: current[i] ? 'skip' : 'process',
      }));
      const problems = plan.problems;
      process.stdout.write(
        JSON.stringify({ dryRun: true, outDir, ...totals, tasks, problems }) + '\n',
      );
    } else {
      plan.tasks.forEach((t, i) => {
        const what = current[i] ? 'current, would skip' : 'would process';
        process.stdout.write(
          `${shown(t.input)} -> ${t.outputStem} [${t.ops.join(',')}] (${what})\n`,
        );
      });
      reporter.info(
        `dry run: ${totals.process} would be processed, ${totals.skip} skipped as current, ` +
          `${totals.failed} cannot be processed`,
      );
    }
    return plan.problems.length > 0 ? EXIT.someFailed : EXIT.ok;
  }

  // Chosen before the lock: a usage error (--backend cuda without a GPU) must leave nothing behind.
  const backend = await selectBackend({
    backend: processing.backend,
    gpu: processing.gpu,
    gpuTimeoutMs: processing.gpuTimeoutMs,
    log: (line) => reporter.info(line),
  }).catch(async (err: unknown) => {
    await removeCreatedFolders(createdFolders);
    throw err;
  });
  const lock = await RunLock.acquire(lockFolder(outDir)).catch(async (err: unknown) => {
    await backend.close();
    throw err;
  });
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      // The bar is closed first, so that the line is read whole and the prompt starts clean.
      reporter.stopProgress();
      reporter.error(`${signal} again: stopping now; a re-run redoes the images left unfinished`);
      void lock.release().finally(() => process.exit(EXIT.interrupted));
      return;
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
    if (!local && plan.tasks.length > 0) {
      // One listing tells which outputs exist and their sizes: no HEAD per output.
      const perTask = 2 * (4 + processing.output.widths.length);
      await storage.indexOutputs(outDir, plan.tasks.length * perTask + 1000);
    }
    const sidecarName = (path: string) =>
      local ? relativeInside(outDir, path) : path.slice(outDir.length).replace(/^\/+/, '');
    // With objects, twice as many images are in flight as compute at once: the transfers of
    // some overlap the decoding and encoding of others.
    const remote = !local || plan.tasks.some((t) => isObjectUrl(t.input));
    const compute = remote ? new ComputeSlots(processing.concurrency) : undefined;
    const limit = pLimit(processing.concurrency * (remote ? 2 : 1));
    const checks = pLimit(OBJECT_CHECKS);
    const memory = new MemoryBudget(processing.maxMemory);
    let stop: string | undefined;
    reporter.startProgress(plan.tasks.length);
    const runOne = async (task: ImageTask): Promise<void> => {
      const current = await checks(() => currentObjectOutputs(task, storage)).catch(
        () => undefined, // processImage meets the same failure and reports it
      );
      if (current && !stop && !interrupted) {
        outcome.record({
          input: task.input,
          status: 'skipped',
          outputs: current.sidecar.outputs,
          sidecar: sidecarName(current.sidecarPath),
        });
        reporter.tick();
        return;
      }
      await limit(() => processOne(task));
    };
    const processOne = async (task: ImageTask): Promise<void> => {
      if (stop || interrupted) {
        outcome.record({
          input: task.input,
          status: 'not-started',
          reason: interrupted ? 'interrupted' : stop,
        });
        return;
      }
      try {
        const result = await processImage(task, { backend, storage, memory, compute });
        outcome.record({
          input: task.input,
          status: result.status,
          outputs: result.sidecar.outputs,
          sidecar: sidecarName(result.sidecarPath),
        });
      } catch (err) {
        if (err instanceof ResourceError) {
          // Every later image would fail the same way: one line for the run, not one per image.
          if (!stop) reporter.error(err.message);
          stop ??= err.message;
          fatal = err;
          outcome.record({
            input: task.input,
            status: 'failed',
            code: err.code,
            reason: err.message,
          });
          return;
        }
        const input = err instanceof ImageInputError ? err : undefined;
        reporter.failure(shown(task.input), errorMessage(err), input?.hint);
        outcome.record({
          input: task.input,
          status: 'failed',
          code: input?.code ?? 'ERROR',
          reason: errorMessage(err),
          hint: input?.hint,
        });
        if (failFast) stop ??= 'stopped by --fail-fast';
      } finally {
        reporter.tick();
      }
    };
    await Promise.all(plan.tasks.map((t) => runOne(t)));
  } finally {
    await backend.close();
    reporter.stopProgress();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await lock.release();
  }

  warnCollisions(reporter, plan.collisions, (input) => outcome.wrote(input));
  const seconds = (performance.now() - started) / 1000;
  const { counts } = outcome;
  const failures = outcome.failures();
  const summary = {
    processed: counts.processed,
    skipped: counts.skipped,
    failed: counts.failed,
    notStarted: counts['not-started'],
    seconds: Math.round(seconds * 1000) / 1000,
    imagesPerSecond: seconds > 0 ? Math.round((counts.processed / seconds) * 100) / 100 : 0,
    backend: backendName,
    interrupted,
  };
  if (report) {
    const items = outcome.allItems();
    await writeReport(
      report,
      JSON.stringify({ version: VERSION, outDir, summary, items }, null, 2) + '\n',
    );
  }
  if (json) {
    const listed = failures.map(({ input, code, reason }) => ({ input, code, reason }));
    process.stdout.write(JSON.stringify({ ...summary, failures: listed }) + '\n');
  } else if (!quiet) {
    // The lines above came in the order images finished; this list is the same on every run.
    if (failures.length > 1) {
      const names = failures.slice(0, FAILURES_NAMED).map((f) => shown(f.input));
      const rest = failures.length - names.length;
      reporter.info(
        `failed, in order: ${names.join(', ')}${rest > 0 ? ` and ${rest} more (see --report)` : ''}`,
      );
    }
    const c = reporter.c;
    const parts = [
      c.green(`${summary.processed} processed`),
      `${summary.skipped} skipped`,
      summary.failed ? c.red(`${summary.failed} failed`) : '0 failed',
    ];
    if (summary.notStarted) parts.push(`${summary.notStarted} not started`);
    // A rate over nothing processed (all skipped) says nothing: leave it out.
    const rate = summary.processed > 0 ? `${summary.imagesPerSecond} images/s, ` : '';
    reporter.info(`${parts.join(', ')} in ${summary.seconds.toFixed(1)} s (${rate}${backendName})`);
  }
  if (interrupted) return EXIT.interrupted;
  if (fatal) return EXIT.fatal;
  return summary.failed > 0 || summary.notStarted > 0 ? EXIT.someFailed : EXIT.ok;
}
