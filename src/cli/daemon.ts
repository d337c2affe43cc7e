import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { pick, type ProcessingOptions } from '../config/options.js';
import { parseChoice, parseInteger, parseNumber } from '../config/validate.js';
import { FatalError, UsageError } from '../errors.js';
import { createLogger, type Logger } from '../queue/logger.js';

function hasOption(cmd: Command, long: string): boolean {
  return cmd.options.some((o) => o.long === long);
}

/** Adds the daemon's flags to the root command (`imgproc --daemon --redis URL …`). */
export function addDaemonOptions(cmd: Command): Command {
  if (!hasOption(cmd, '--daemon'))
    cmd.option('--daemon', 'run as a Redis queue worker (see --redis)');
  if (!hasOption(cmd, '--redis'))
    cmd.option('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379/0');
  const hidden = (flags: string, help: string) => new Option(flags, help).hideHelp();
  return cmd
    .option('--queue <name>', 'queue list name (default: image_jobs)')
    .option('--prefix <prefix>', 'prefix of every Redis key (default: none)')
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
    .option('--metrics-port <port>', 'daemon: serve Prometheus /metrics and /health on this port')
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

type Raw = Record<string, string | boolean | undefined>;

function seconds(raw: Raw, key: string, flag: string, def: number, min = 0.001): number {
  const v = pick(raw, key);
  if (v === undefined || v === true) return def;
  return Math.round(parseNumber(flag, String(v), min, 86_400) * 1000);
}

function integer(
  raw: Raw,
  key: string,
  flag: string,
  def: number,
  min: number,
  max: number,
): number {
  const v = pick(raw, key);
  return v === undefined || v === true ? def : parseInteger(flag, String(v), min, max);
}

/** Every daemon setting, validated before anything connects. */
export interface DaemonConfig {
  redisUrl: string;
  queue?: string;
  prefix?: string;
  dataDir: string;
  maxRetries: number;
  maxCrashes: number;
  shutdownTimeoutMs: number;
  doneCap: number;
  logFormat: 'human' | 'json';
  metricsPort?: number;
  heartbeatIntervalMs: number;
  heartbeatTtlMs: number;
  reapIntervalMs: number;
  retryBaseMs: number;
  blockTimeoutS: number;
  testJobDelayMs: number;
}

export function resolveDaemonConfig(raw: Raw): DaemonConfig {
  const redisUrl = pick(raw, 'redis');
  if (typeof redisUrl !== 'string' || redisUrl === '') {
    throw new UsageError(
      '--daemon needs --redis <url> (or IMGPROC_REDIS), e.g. redis://127.0.0.1:6379/0',
    );
  }
  const heartbeatIntervalMs = seconds(raw, 'heartbeatInterval', 'heartbeat-interval', 5000);
  const metricsPort = pick(raw, 'metricsPort');
  const str = (k: string) => {
    const v = pick(raw, k);
    return typeof v === 'string' ? v : undefined;
  };
  return {
    redisUrl,
    queue: str('queue'),
    prefix: str('prefix'),
    dataDir: resolve(str('dataDir') ?? '.'),
    maxRetries: integer(raw, 'maxRetries', 'max-retries', 3, 0, 100),
    maxCrashes: integer(raw, 'maxCrashes', 'max-crashes', 3, 1, 1000),
    shutdownTimeoutMs: seconds(raw, 'shutdownTimeout', 'shutdown-timeout', 30_000, 0),
    doneCap: integer(raw, 'doneCap', 'done-cap', 10_000, 0, 100_000_000),
    logFormat: parseChoice('log-format', str('logFormat') ?? 'human', ['human', 'json'] as const),
    metricsPort:
      metricsPort === undefined
        ? undefined
        : parseInteger('metrics-port', String(metricsPort), 0, 65535),
    heartbeatIntervalMs,
    heartbeatTtlMs: seconds(raw, 'heartbeatTtl', 'heartbeat-ttl', heartbeatIntervalMs * 3),
    reapIntervalMs: seconds(raw, 'reapInterval', 'reap-interval', heartbeatIntervalMs),
    retryBaseMs: seconds(raw, 'retryDelay', 'retry-delay', 2000, 0),
    blockTimeoutS: seconds(raw, 'blockTimeout', 'block-timeout', 5000, 0.01) / 1000,
    testJobDelayMs: integer(raw, 'testJobDelay', 'test-job-delay', 0, 0, 3_600_000),
  };
}

/**
 * `imgproc --daemon`: drains the queue until SIGINT/SIGTERM, then finishes or hands back the jobs
 * in flight and returns 0.
 */
export async function runDaemon(
  opts: Record<string, unknown>,
  processing: ProcessingOptions,
): Promise<number> {
  const cfg = resolveDaemonConfig(opts as Raw);
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
  const { handler, onAbandon } = imageJobHandler({
    dataDir,
    processing,
    backend,
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
      );
      const addr = server.address();
      log.info(
        `metrics on :${typeof addr === 'object' && addr ? addr.port : cfg.metricsPort}/metrics`,
      );
    }
    if (stopSignal() === undefined) await Promise.race([worker.start(), stopRequested]);
    const sig = await stopRequested;
    log.info(`${sig}: stopping`);
    await worker.stop();
  } finally {
    server?.close();
    await backend.close().catch(() => {});
  }
  return 0;
}
