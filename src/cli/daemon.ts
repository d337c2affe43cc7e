import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { resolveDaemonConfig, type DaemonConfig } from '../config/daemon.js';
import type { ProcessingOptions, RawOptions } from '../config/options.js';
import { FatalError, UsageError } from '../errors.js';
import { isInside, realInside } from '../paths.js';
import { Storages, isObjectUrl, objectAllowed, outputRoot } from '../storage/index.js';
import { createLogger, type Logger } from '../queue/logger.js';
import { addConnectionOptions } from './queue.js';

/** Adds the daemon's flags to the root command (`imgproc --daemon --redis URL …`). */
export function addDaemonOptions(cmd: Command): Command {
  const hidden = (flags: string, help: string) => new Option(flags, help).hideHelp();
  return addConnectionOptions(cmd.option('--daemon', 'run as a Redis queue worker (see --redis)'))
    .option(
      '--data-dir <dir>',
      'daemon: folder job paths resolve in; outputs go to <dir>/processed (default: cwd)',
    )
    .option(
      '--max-retries <n>',
      'daemon: retries of a transient failure, 2 s, 4 s, 8 s … apart (default: 3)',
    )
    .option(
      '--max-crashes <n>',
      'daemon: a job that kills this many workers is dead-lettered (default: 3)',
    )
    .option(
      '--shutdown-timeout <seconds>',
      'daemon: on SIGINT/SIGTERM, wait this long for jobs in flight (default: 30)',
    )
    .option(
      '--done-cap <n>',
      'daemon: keep at most this many results in the done list (default: 10000)',
    )
    .option('--log-format <format>', 'daemon: human or json (default: human)')
    .option(
      '--allow <s3-prefix>',
      'daemon: an s3://bucket/prefix jobs may read and write; repeat for more (default: none)',
      (value: string, previous?: string) => (previous ? `${previous},${value}` : value),
    )
    .option(
      '--output-roots <dirs>',
      'daemon: comma-separated folders in --data-dir that jobs may write under; the first is the default (default: processed)',
    )
    .option(
      '--status-ttl <seconds>',
      "daemon: keep each job's status key this long after its last change (default: 604800, a week)",
    )
    .option('--metrics-port <port>', 'daemon: serve Prometheus /metrics and /health on this port')
    .option(
      '--metrics-host <host>',
      'daemon: address the metrics server binds (default: 127.0.0.1)',
    )
    .addOption(hidden('--heartbeat-interval <seconds>', 'heartbeat period (default: 5)'))
    .addOption(hidden('--heartbeat-ttl <seconds>', 'heartbeat expiry (default: 3 × interval)'))
    .addOption(
      hidden(
        '--reap-interval <seconds>',
        'dead-worker scan period (default: the heartbeat interval)',
      ),
    )
    .addOption(hidden('--retry-delay <seconds>', 'first retry backoff (default: 2)'))
    .addOption(hidden('--block-timeout <seconds>', 'BLMOVE timeout on an empty queue (default: 5)'))
    .addOption(hidden('--test-job-delay <ms>', 'hold every job this long (tests only)'));
}

/**
 * The output roots as absolute paths, each inside the data folder (links followed), or as
 * `s3://` prefixes under --allow.
 */
async function resolveOutputRoots(
  dataDir: string,
  given: string[],
  allow: readonly string[],
): Promise<string[]> {
  if (given.length === 0) throw new UsageError('--output-roots needs at least one folder');
  const roots: string[] = [];
  for (const root of given) {
    if (isObjectUrl(root)) {
      const prefix = outputRoot(root);
      if (!objectAllowed(`${prefix}/x`, allow)) {
        throw new UsageError(`--output-roots: ${root} is not under any --allow s3://bucket/prefix`);
      }
      roots.push(prefix);
      continue;
    }
    const abs = resolve(dataDir, root);
    if (!isInside(dataDir, abs) || !(await realInside(dataDir, abs))) {
      throw new UsageError(
        `--output-roots: ${root} is outside the data folder ${dataDir}: outputs stay inside --data-dir`,
      );
    }
    roots.push(abs);
  }
  return roots;
}

/**
 * `imgproc --daemon`: drains the queue until SIGINT/SIGTERM, then finishes or hands back the jobs
 * in flight and returns 0.
 */
export async function runDaemon(opts: RawOptions, processing: ProcessingOptions): Promise<number> {
  const cfg = resolveDaemonConfig(opts);
  const log = createLogger({ format: cfg.logFormat });
  // Installed before anything async, so that a signal during start-up stops cleanly (exit 0).
  let stopSignal: string | undefined;
  let signalled: (sig: string) => void = () => {};
  const stopRequested = new Promise<string>((r) => (signalled = r));
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopSignal !== undefined) {
      log.warn(
        `${sig} again: exiting now; jobs in flight return to the queue when the heartbeat expires`,
      );
      process.exit(130);
    }
    stopSignal = sig;
    signalled(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await startDaemon(cfg, processing, log, stopRequested, () => stopSignal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // An abandoned job's pipeline may still hold the event loop; its work was handed back.
    setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
  }
}

async function startDaemon(
  cfg: DaemonConfig,
  processing: ProcessingOptions,
  log: Logger,
  stopRequested: Promise<string>,
  stopSignal: () => string | undefined,
): Promise<number> {
  const [{ queueKeys }, { QueueWorker }, { imageJobHandler }, metricsMod, hb, sel] =
    await Promise.all([
      import('../queue/keys.js'),
      import('../queue/worker.js'),
      import('../queue/image-job.js'),
      import('../queue/metrics.js'),
      import('../queue/heartbeat.js'),
      import('../backends/select.js'),
    ]);
  const keys = queueKeys({ prefix: cfg.prefix, queue: cfg.queue });
  const dataDir = await realpath(cfg.dataDir).catch(() => {
    throw new FatalError(`--data-dir ${cfg.dataDir} does not exist`);
  });
  const outputRoots = await resolveOutputRoots(dataDir, cfg.outputRoots, cfg.allow);
  const early = () => {
    const sig = stopSignal();
    if (sig) log.info(`${sig}: stopping before the worker started`);
    return sig !== undefined;
  };
  if (early()) return 0;
  const backend = await sel.selectBackend({
    backend: processing.backend,
    gpu: processing.gpu,
    gpuTimeoutMs: processing.gpuTimeoutMs,
    log: (line) => log.info(line),
  });
  if (early()) {
    await backend.close().catch(() => {});
    return 0;
  }
  // The same libvips tuning as the batch command: one image's threads share the cores fairly.
  (await import('./sharp-tuning.js')).tuneSharp(processing.concurrency);
  const storage = new Storages(cfg.objectStore);
  const { handler, onAbandon } = imageJobHandler({
    dataDir,
    outputRoots,
    allow: cfg.allow,
    processing,
    backend,
    storage,
    delayMs: cfg.testJobDelayMs,
  });
  const ref: { worker?: InstanceType<typeof QueueWorker> } = {};
  const metrics = new metricsMod.DaemonMetrics({
    depths: async () => (ref.worker ? ref.worker.depths() : {}),
    healthy: () => ref.worker?.healthy ?? false,
    workerId: () => ref.worker?.id,
  });
  const worker = new QueueWorker({
    redisUrl: cfg.redisUrl,
    keys,
    handler,
    onAbandon,
    backend: {
      name: backend.name,
      description: backend.description,
      gpuName: backend.name === 'cuda' ? backend.description : undefined,
      gpuIndex: processing.gpu,
    },
    heartbeatExtra: backend.name === 'cuda' ? hb.nvidiaSmiStats(processing.gpu) : undefined,
    log,
    metrics,
    concurrency: processing.concurrency,
    maxRetries: cfg.maxRetries,
    retryBaseMs: cfg.retryBaseMs,
    maxCrashes: cfg.maxCrashes,
    doneCap: cfg.doneCap,
    heartbeatIntervalMs: cfg.heartbeatIntervalMs,
    heartbeatTtlMs: cfg.heartbeatTtlMs,
    reapIntervalMs: cfg.reapIntervalMs,
    shutdownTimeoutMs: cfg.shutdownTimeoutMs,
    blockTimeoutS: cfg.blockTimeoutS,
    statusTtlMs: cfg.statusTtlMs,
  });
  ref.worker = worker;

  let server: Awaited<ReturnType<typeof metricsMod.serveMetrics>> | undefined;
  try {
    if (cfg.metricsPort !== undefined) {
      server = await metricsMod.serveMetrics(
        metrics,
        {
          depths: () => worker.depths(),
          healthy: () => worker.healthy,
          workerId: () => worker.id,
        },
        cfg.metricsPort,
        cfg.metricsHost,
      );
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr : undefined;
      const host = bound?.address ?? cfg.metricsHost;
      const port = bound?.port ?? cfg.metricsPort;
      log.info(`metrics on http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`);
    }
    if (stopSignal() === undefined) await Promise.race([worker.start(), stopRequested]);
    const sig = await stopRequested;
    log.info(`${sig}: stopping`);
    await worker.stop();
  } finally {
    server?.close();
    await backend.close().catch(() => {});
    storage.close();
  }
  return 0;
}
