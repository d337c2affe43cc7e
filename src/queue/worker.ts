import { errorMessage } from '../errors.js';
import { authFailure, isAuthFailure } from './connection.js';
import { collectHeartbeat } from './heartbeat.js';
import { WorkerIdentity } from './identity.js';
import type { QueueKeys } from './keys.js';
import type { Logger } from './logger.js';
import type { OutcomeContext } from './outcomes.js';
import { runFetchLoop } from './fetch-loop.js';
import { handBackStrayJobs } from './reconcile.js';
import { promoteDueRetries, reapDeadWorkers, takeOverLeftovers } from './recovery.js';
import { QueueScripts } from './scripts.js';
import { resolveWorkerSettings, type WorkerOptions, type WorkerSettings } from './settings.js';
import { shutDown } from './shutdown.js';
import type { InFlightJob, WorkerCounts } from './types.js';
import { WorkerConnection } from './worker-connection.js';

export { retryDelayMs } from './outcomes.js';
export type { WorkerOptions } from './settings.js';
export type { JobContext, JobHandler, JobResult, WorkerBackendInfo } from './types.js';

/**
 * A reliable queue worker. Jobs move atomically from the queue to this worker's processing list
 * and leave it only together with their outcome (done, retry, failed), so a crash at any moment
 * leaves every job either pending or in the list, where the reaper finds it once the heartbeat
 * expires. This class wires the parts together and owns the lifecycle: start() and stop() each
 * run once, however often they are called.
 */
export class QueueWorker {
  private readonly settings: WorkerSettings;
  private readonly keys: QueueKeys;
  private connection?: WorkerConnection;
  private scripts?: QueueScripts;
  private identity?: WorkerIdentity;
  private readonly inFlight = new Map<number, InFlightJob>();
  private readonly counts: WorkerCounts = { jobsDone: 0, jobsFailed: 0, jobsRetried: 0 };
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly startedAt = Date.now();
  private nextSequence = 0;
  private stopping = false;
  private starting?: Promise<void>;
  private stopped?: Promise<void>;
  private log: Logger;

  constructor(opts: WorkerOptions) {
    this.settings = resolveWorkerSettings(opts);
    this.keys = opts.keys;
    this.log = opts.log;
  }

  /** The claimed worker id, `<host>_cpu<N>` or `<host>_gpu<N>`. */
  get id(): string | undefined {
    return this.identity?.id;
  }

  /** Whether the Redis connection is up (for /health). */
  get healthy(): boolean {
    return this.connection?.isUp ?? false;
  }

  /** Lengths of the queue's lists, for the queue depth metric. */
  async depths(): Promise<Record<string, number>> {
    const { keys } = this;
    const redis = this.connection!.redis;
    const pipeline = redis.pipeline().llen(keys.jobs).zcard(keys.retry);
    pipeline.llen(keys.failed).llen(keys.done);
    if (this.id) pipeline.llen(keys.processing(this.id));
    const lengths = ((await pipeline.exec()) ?? []).map(([, v]) => Number(v));
    return {
      pending: lengths[0]!,
      retry: lengths[1]!,
      failed: lengths[2]!,
      done: lengths[3]!,
      processing: lengths[4] ?? 0,
    };
  }

  /** Connects, claims a worker id, takes over its leftovers and starts the fetch loops. */
  start(): Promise<void> {
    this.starting ??= this.startUp();
    return this.starting;
  }

  /**
   * Stops fetching, waits up to the shutdown timeout for jobs in flight, hands back the rest and
   * gives up the worker id. Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.stopped ??= this.windDown();
    return this.stopped;
  }

  private async startUp(): Promise<void> {
    const s = this.settings;
    const connection = new WorkerConnection(
      s.redisUrl,
      () => this.log,
      s.unreachableWarnMs,
      () => void this.afterReconnect(),
    );
    this.connection = connection;
    const scripts = new QueueScripts(connection.redis, this.keys);
    this.scripts = scripts;
    const identity = new WorkerIdentity(scripts, {
      host: s.host,
      kind: s.backend.name === 'cuda' ? 'gpu' : 'cpu',
      heartbeatTtlMs: s.heartbeatTtlMs,
      heartbeat: (id, token) => this.heartbeatPayload(id, token),
      onChanged: (previous, current) => {
        this.log = this.settings.log.child({ worker: current });
        this.log.error(`worker id ${previous} was taken by another daemon; now ${current}`);
      },
    });
    this.identity = identity;
    const id = await identity.claim().catch((err: unknown) => {
      if (!isAuthFailure(err)) throw err;
      // Retrying cannot fix a password: stop at once with a line that says so.
      connection.redis.disconnect();
      throw authFailure(s.redisUrl, err);
    });
    this.log = s.log.child({ worker: id });
    await takeOverLeftovers(scripts, id, s.maxCrashes, s.statusTtlMs, s.metrics, this.log);
    if (this.stopping) return;
    s.metrics?.backend.set(
      { backend: s.backend.name, device: s.backend.gpuName ?? 'cpu', worker: id },
      1,
    );
    const reap = () =>
      reapDeadWorkers({
        redis: connection.redis,
        keys: this.keys,
        scripts,
        ownId: identity.id,
        maxCrashes: s.maxCrashes,
        statusTtlMs: s.statusTtlMs,
        metrics: s.metrics,
        log: this.log,
      });
    this.every(s.heartbeatIntervalMs, () => identity.beat());
    this.every(s.promoteIntervalMs, () => promoteDueRetries(scripts, this.log));
    this.every(s.reapIntervalMs, reap);
    void reap().catch((err: unknown) => this.backgroundFailed(err));
    if (this.stopping) return;
    this.log.info(
      `worker started: queue ${this.keys.jobs}, concurrency ${s.concurrency}, backend ${s.backend.description}`,
    );
    for (let i = 0; i < s.concurrency; i++) this.loops.push(this.fetchLoop(scripts, identity));
  }

  private fetchLoop(scripts: QueueScripts, identity: WorkerIdentity): Promise<void> {
    const s = this.settings;
    return runFetchLoop({
      scripts,
      handler: s.handler,
      blockTimeoutS: s.blockTimeoutS,
      statusTtlMs: s.statusTtlMs,
      inFlight: this.inFlight,
      nextSequence: () => this.nextSequence++,
      blockingClient: () => this.connection!.blockingClient(),
      isStopping: () => this.stopping,
      workerId: () => identity.id!,
      log: () => this.log,
      outcomes: () => this.outcomeContext(scripts, identity.id!),
      onInFlightChange: (delta) =>
        delta > 0 ? s.metrics?.inFlight.inc() : s.metrics?.inFlight.dec(),
    });
  }

  private outcomeContext(scripts: QueueScripts, workerId: string): OutcomeContext {
    const s = this.settings;
    return {
      scripts,
      workerId,
      backend: s.backend,
      maxRetries: s.maxRetries,
      retryBaseMs: s.retryBaseMs,
      doneCap: s.doneCap,
      statusTtlMs: s.statusTtlMs,
      counts: this.counts,
      metrics: s.metrics,
    };
  }

  private heartbeatPayload(id: string, token: string): Promise<string> {
    const s = this.settings;
    return collectHeartbeat({
      id,
      token,
      queue: this.keys.jobs,
      backend: s.backend,
      concurrency: s.concurrency,
      startedAt: this.startedAt,
      counts: this.counts,
      current: [...this.inFlight.values()].map((job) => job.id),
      extra: s.heartbeatExtra,
    });
  }

  /** Runs `task` every `ms`, never two at once, and not once stopping. */
  private every(ms: number, task: () => Promise<void>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || this.stopping) return;
      running = true;
      task()
        .catch((err: unknown) => this.backgroundFailed(err))
        .finally(() => {
          running = false;
        });
    }, ms);
    this.timers.push(timer);
  }

  private backgroundFailed(err: unknown): void {
    this.log.warn(`background task failed: ${errorMessage(err)}`);
  }

  private async afterReconnect(): Promise<void> {
    const { identity, scripts, connection } = this;
    if (!identity?.id || !scripts || !connection) return;
    try {
      await identity.beat();
    } catch (err) {
      this.log.warn(`could not check the processing list after reconnecting: ${errorMessage(err)}`);
      return;
    }
    await handBackStrayJobs(
      connection.redis,
      this.keys,
      scripts,
      identity.id,
      this.inFlight.values(),
      this.log,
    );
  }

  private async windDown(): Promise<void> {
    this.stopping = true;
    if (!this.connection || !this.scripts || !this.identity) return;
    await shutDown({
      connection: this.connection,
      scripts: this.scripts,
      identity: this.identity,
      inFlight: this.inFlight,
      loops: this.loops,
      started: this.starting,
      timers: this.timers,
      shutdownTimeoutMs: this.settings.shutdownTimeoutMs,
      statusTtlMs: this.settings.statusTtlMs,
      onAbandon: this.settings.onAbandon,
      log: this.log,
    });
  }
}
