import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { errorMessage, isPermanent } from '../errors.js';
import { describeRedisUrl, workerConnection } from './connection.js';
import { collectHeartbeat, type HeartbeatStats } from './heartbeat.js';
import { jobIdOf } from './job.js';
import type { QueueKeys } from './keys.js';
import type { Logger } from './logger.js';
import type { DaemonMetrics } from './metrics.js';
import { defineScripts, type RunScript } from './scripts.js';

/** What a handler gets besides the raw job. */
export interface JobContext {
  /** 1 for the first try, 2 for the first retry, … */
  attempt: number;
  workerId: string;
}

/** A handler's success: the job id and the fields of its result record. */
export interface JobResult {
  id: string;
  [field: string]: unknown;
}

/**
 * Processes one raw job. Throwing an error that `isPermanent` accepts dead-letters the job at
 * once; any other error is retried with backoff.
 */
export type JobHandler = (raw: string, ctx: JobContext) => Promise<JobResult>;

export interface WorkerBackendInfo {
  name: 'cpu' | 'cuda';
  description: string;
  gpuName?: string;
  gpuIndex?: number;
}

export interface WorkerOptions {
  redisUrl: string;
  keys: QueueKeys;
  handler: JobHandler;
  backend: WorkerBackendInfo;
  log: Logger;
  /** Jobs in flight at once, each with its own fetch loop. */
  concurrency?: number;
  /** Retries after the first try for a transient failure. */
  maxRetries?: number;
  /** First backoff; doubles each retry (2 s, 4 s, 8 s), ±20% jitter. */
  retryBaseMs?: number;
  /** A job taken back from this many dead workers is dead-lettered. */
  maxCrashes?: number;
  /** Longest length of the done list (0 = unbounded). */
  doneCap?: number;
  heartbeatIntervalMs?: number;
  heartbeatTtlMs?: number;
  reapIntervalMs?: number;
  promoteIntervalMs?: number;
  /** How long a stop waits for jobs in flight before handing them back. */
  shutdownTimeoutMs?: number;
  /** BLMOVE timeout when the queue is empty. */
  blockTimeoutS?: number;
  /** While Redis stays unreachable, the warning is repeated at most this often. */
  unreachableWarnMs?: number;
  /** Host part of the worker id (default: this machine's hostname). */
  host?: string;
  metrics?: DaemonMetrics;
  /** Called for jobs handed back unfinished at shutdown, to remove their partial files. */
  onAbandon?: (raw: string) => Promise<void>;
  /** Extra heartbeat fields (GPU utilisation and memory). */
  heartbeatExtra?: () => Promise<Record<string, unknown>>;
}

type Resolved = Required<Omit<WorkerOptions, 'metrics' | 'onAbandon' | 'heartbeatExtra'>> &
  Pick<WorkerOptions, 'metrics' | 'onAbandon' | 'heartbeatExtra'>;

interface InFlight {
  raw: Buffer;
  id: string;
  processingKey: string;
  startedAt: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sha1(raw: Buffer): string {
  return createHash('sha1').update(raw).digest('hex');
}

/** Letters, digits, '.', '-' only, so the id is safe in a key, a log line and a folder name. */
export function hostPart(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 60) || 'host';
}

/** Exponential backoff with ±20% jitter: 2 s, 4 s, 8 s … for base 2 s. */
export function retryDelayMs(attempt: number, baseMs: number, random = Math.random): number {
  return Math.round(baseMs * 2 ** (attempt - 1) * (0.8 + 0.4 * random()));
}

/**
 * A reliable queue worker. Jobs move atomically from the queue to this worker's processing list
 * and leave it only together with their outcome (done, retry, failed), so a crash at any moment
 * leaves every job either pending or in the list, where the reaper finds it once the heartbeat
 * expires.
 */
export class QueueWorker {
  private readonly o: Resolved;
  private readonly k: QueueKeys;
  private redis!: Redis;
  private run!: RunScript;
  private readonly blocking = new Set<Redis>();
  private readonly inFlight = new Map<number, InFlight>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly token = randomBytes(12).toString('hex');
  private readonly startedAt = Date.now();
  private nextSeq = 0;
  private loops: Promise<void>[] = [];
  private stopping = false;
  private stopPromise?: Promise<void>;
  private startPromise?: Promise<void>;
  private ready = false;
  private everReady = false;
  private reclaiming = false;
  private lastConnError?: string;
  private lastUnreachableWarn = 0;
  private idValue?: string;
  private readonly stats: HeartbeatStats = { jobsDone: 0, jobsFailed: 0, jobsRetried: 0 };
  private log: Logger;

  constructor(opts: WorkerOptions) {
    this.o = {
      concurrency: 1,
      maxRetries: 3,
      retryBaseMs: 2000,
      maxCrashes: 3,
      doneCap: 10_000,
      heartbeatIntervalMs: 5000,
      heartbeatTtlMs: 15_000,
      reapIntervalMs: 5000,
      promoteIntervalMs: 500,
      shutdownTimeoutMs: 30_000,
      blockTimeoutS: 5,
      unreachableWarnMs: 30_000,
      host: hostname(),
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    } as Resolved;
    this.k = opts.keys;
    this.log = opts.log;
  }

  /** The claimed worker id, `<host>_cpu<N>` or `<host>_gpu<N>`. */
  get id(): string | undefined {
    return this.idValue;
  }

  /** Whether stop() was called. */
  get isStopping(): boolean {
    return this.stopping;
  }

  /** Lengths of the queue's lists, for the queue depth metric. */
  async depths(): Promise<Record<string, number>> {
    const k = this.k;
    const p = this.redis.pipeline().llen(k.jobs).zcard(k.retry).llen(k.failed).llen(k.done);
    if (this.idValue) p.llen(k.processing(this.idValue));
    const r = ((await p.exec()) ?? []).map(([, v]) => Number(v));
    return { pending: r[0]!, retry: r[1]!, failed: r[2]!, done: r[3]!, processing: r[4] ?? 0 };
  }

  /** Whether the Redis connection is up (for /health). */
  get healthy(): boolean {
    return this.ready;
  }

  /** Connects, claims a worker id, takes over its leftovers and starts the fetch loops. */
  start(): Promise<void> {
    this.startPromise ??= this.startUp();
    return this.startPromise;
  }

  private async startUp(): Promise<void> {
    this.redis = workerConnection(this.o.redisUrl, () => this.warnUnreachable());
    this.redis.on('error', (err: Error & { code?: unknown }) => {
      this.lastConnError = typeof err.code === 'string' ? err.code : err.message;
    });
    this.redis.on('ready', () => {
      this.ready = true;
      this.lastUnreachableWarn = 0;
      if (this.everReady) {
        this.log.info('Redis connection restored');
        void this.afterReconnect();
      }
      this.everReady = true;
    });
    this.redis.on('close', () => {
      this.ready = false;
    });
    this.run = defineScripts(this.redis);
    await this.claimId();
    this.log = this.log.child({ worker: this.idValue });
    await this.takeOverLeftovers();
    if (this.stopping) return;
    this.o.metrics?.backend.set(
      {
        backend: this.o.backend.name,
        device: this.o.backend.gpuName ?? 'cpu',
        worker: this.idValue,
      },
      1,
    );
    this.every(this.o.heartbeatIntervalMs, () => this.heartbeat());
    this.every(this.o.promoteIntervalMs, () => this.promote());
    this.every(this.o.reapIntervalMs, () => this.reap());
    void this.reap();
    if (this.stopping) return;
    this.log.info(
      `worker started: queue ${this.k.jobs}, concurrency ${this.o.concurrency}, backend ${this.o.backend.description}`,
    );
    for (let i = 0; i < this.o.concurrency; i++) this.loops.push(this.fetchLoop());
  }

  /** One line at once, then at most every unreachableWarnMs while Redis stays unreachable. */
  private warnUnreachable(): void {
    const now = Date.now();
    if (this.lastUnreachableWarn && now - this.lastUnreachableWarn < this.o.unreachableWarnMs)
      return;
    this.lastUnreachableWarn = now;
    const why = this.lastConnError ? ` (${this.lastConnError})` : '';
    this.log.warn(
      `cannot reach Redis at ${describeRedisUrl(this.o.redisUrl)}${why}; retrying with backoff`,
    );
  }

  /** Resolves when every fetch loop has ended (after stop()). */
  async finished(): Promise<void> {
    await Promise.all(this.loops);
  }

  /**
   * Stops fetching, waits up to the shutdown timeout for jobs in flight, hands back the rest and
   * gives up the worker id. Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.stopPromise ??= this.shutdown();
    return this.stopPromise;
  }

  private every(ms: number, fn: () => Promise<void>): void {
    let running = false;
    const t = setInterval(() => {
      if (running || this.stopping) return;
      running = true;
      fn()
        .catch((err: unknown) => this.log.warn(`background task failed: ${errorMessage(err)}`))
        .finally(() => {
          running = false;
        });
    }, ms);
    this.timers.push(t);
  }

  private heartbeatPayload(id: string): Promise<string> {
    const current = [...this.inFlight.values()].map((j) => j.id);
    return collectHeartbeat({
      id,
      token: this.token,
      queue: this.k.jobs,
      backend: this.o.backend,
      concurrency: this.o.concurrency,
      startedAt: this.startedAt,
      stats: this.stats,
      current,
      extra: this.o.heartbeatExtra,
    });
  }

  /** The first free slot on this host, claimed atomically (SET NX with the heartbeat TTL). */
  private async claimId(): Promise<void> {
    const kind = this.o.backend.name === 'cuda' ? 'gpu' : 'cpu';
    const host = hostPart(this.o.host);
    for (let n = 0; n < 10_000; n++) {
      const id = `${host}_${kind}${n}`;
      const claimed = await this.run<number>(
        'claim',
        [this.k.heartbeat(id), this.k.workers],
        [await this.heartbeatPayload(id), this.o.heartbeatTtlMs, id],
      );
      if (claimed === 1) {
        this.idValue = id;
        return;
      }
    }
    throw new Error(`no free worker slot on ${host}`);
  }

  /** Jobs left in this id's processing list belong to a daemon that died holding the same id. */
  private async takeOverLeftovers(): Promise<void> {
    const id = this.idValue!;
    const [requeued, dead] = await this.run<[number, number]>('reap', this.reapKeys(id), [
      this.o.maxCrashes,
      id,
      '1',
    ]);
    if (requeued || dead) {
      this.o.metrics?.recovered.inc(requeued + dead);
      this.log.warn(
        `took over ${requeued + dead} job(s) left by an earlier daemon with this id: ${requeued} requeued, ${dead} dead-lettered`,
      );
    }
  }

  private reapKeys(id: string): string[] {
    const k = this.k;
    return [
      k.processing(id),
      k.heartbeat(id),
      k.jobs,
      k.failed,
      k.attempts,
      k.recoveries,
      k.workers,
    ];
  }

  private async heartbeat(): Promise<void> {
    if (!this.idValue || this.reclaiming) return;
    const ok = await this.run<number>(
      'heartbeat',
      [this.k.heartbeat(this.idValue), this.k.workers],
      [await this.heartbeatPayload(this.idValue), this.o.heartbeatTtlMs, this.idValue, this.token],
    );
    if (ok === 1) return;
    // Our key lapsed and another daemon took the id: never share it; take a free one.
    this.reclaiming = true;
    try {
      const old = this.idValue;
      await this.claimId();
      this.log = this.log.child({ worker: this.idValue });
      this.log.error(`worker id ${old} was taken by another daemon; now ${this.idValue}`);
    } finally {
      this.reclaiming = false;
    }
  }

  private async promote(): Promise<void> {
    for (;;) {
      const moved = await this.run<number>('promote', [this.k.retry, this.k.jobs], [500]);
      if (moved > 0) this.log.debug(`${moved} retr${moved === 1 ? 'y' : 'ies'} due`);
      if (moved < 500) return;
    }
  }

  /** Hands back the jobs of workers whose heartbeat expired. */
  private async reap(): Promise<void> {
    const members = await this.redis.smembers(this.k.workers);
    const others = members.filter((m) => m !== this.idValue);
    if (others.length === 0) return;
    const alive = await this.redis
      .pipeline(others.map((id) => ['exists', this.k.heartbeat(id)]))
      .exec();
    for (let i = 0; i < others.length; i++) {
      if (alive?.[i]?.[1] === 1) continue;
      const id = others[i]!;
      const res = await this.run<[number, number] | null>('reap', this.reapKeys(id), [
        this.o.maxCrashes,
        id,
        '0',
      ]);
      if (!res) continue;
      const [requeued, dead] = res;
      if (requeued || dead) {
        this.o.metrics?.recovered.inc(requeued);
        if (dead) this.o.metrics?.failed.inc({ code: 'CRASHED' }, dead);
        this.log.warn(
          `worker ${id} stopped heartbeating; took back ${requeued} job(s), dead-lettered ${dead} that kept crashing workers`,
        );
      }
    }
  }

  /** After a reconnect: jobs in our list that no loop holds (a reply lost in the outage) go back. */
  private async afterReconnect(): Promise<void> {
    try {
      if (!this.idValue) return;
      await this.heartbeat();
      const key = this.k.processing(this.idValue);
      const listed = (await this.redis.lrangeBuffer(key, 0, -1)) as Buffer[];
      const held = new Map<string, number>();
      for (const j of this.inFlight.values()) {
        const h = j.raw.toString('hex');
        held.set(h, (held.get(h) ?? 0) + 1);
      }
      const stray: Buffer[] = [];
      for (const raw of listed) {
        const h = raw.toString('hex');
        const n = held.get(h) ?? 0;
        if (n > 0) held.set(h, n - 1);
        else stray.push(raw);
      }
      if (stray.length === 0) return;
      const n = await this.run<number>('handback', [key, this.k.jobs], stray);
      this.log.warn(`handed back ${n} job(s) whose fetch reply was lost in the outage`);
    } catch (err) {
      this.log.warn(`could not check the processing list after reconnecting: ${errorMessage(err)}`);
    }
  }

  private async fetch(conn: () => Redis): Promise<{ raw: Buffer; failures: number } | undefined> {
    const processing = this.k.processing(this.idValue!);
    const got = await this.run<[Buffer, number] | null>(
      'fetch',
      [this.k.jobs, processing, this.k.attempts],
      [],
      true,
    );
    if (got) return { raw: got[0], failures: Number(got[1]) };
    if (this.stopping) return undefined;
    // Nothing pending: block on the queue (on this loop's own connection) until a job arrives.
    const raw = await conn().blmoveBuffer(
      this.k.jobs,
      processing,
      'RIGHT',
      'LEFT',
      this.o.blockTimeoutS,
    );
    if (!raw) return undefined;
    const failures = Number((await this.redis.hget(this.k.attempts, sha1(raw))) ?? 0);
    return { raw, failures };
  }

  private async fetchLoop(): Promise<void> {
    let blocking: Redis | undefined;
    const conn = () => {
      if (!blocking) {
        blocking = this.redis.duplicate();
        blocking.on('error', () => {});
        this.blocking.add(blocking);
      }
      return blocking;
    };
    let failures = 0;
    // At most one outcome being recorded per loop, so a slow Redis holds the loop back.
    let recorded: Promise<void> = Promise.resolve();
    while (!this.stopping) {
      try {
        const job = await this.fetch(conn);
        failures = 0;
        if (job) {
          await recorded;
          ({ recorded } = await this.process(job.raw, job.failures));
        }
      } catch (err) {
        if (this.stopping) break;
        failures++;
        this.log.warn(`fetch failed: ${errorMessage(err)}`);
        await sleep(Math.min(5000, 100 * 2 ** failures));
      }
    }
    await recorded;
  }

  /**
   * Runs the handler; once it has finished, resolves with the promise of recording the outcome,
   * which the loop lets travel in the same round trip as its next fetch.
   */
  private async process(raw: Buffer, failures: number): Promise<{ recorded: Promise<void> }> {
    const seq = this.nextSeq++;
    const text = raw.toString('utf8');
    const id = jobIdOf(text) ?? '(unparsed)';
    const attempt = failures + 1;
    const processingKey = this.k.processing(this.idValue!);
    const started = performance.now();
    this.inFlight.set(seq, { raw, id, processingKey, startedAt: Date.now() });
    this.o.metrics?.inFlight.inc();
    const log = this.log.child({ job: id });
    let record: () => Promise<void>;
    try {
      const result = await this.o.handler(text, { attempt, workerId: this.idValue! });
      record = () => this.succeeded(raw, attempt, result, processingKey, started, log);
    } catch (err) {
      record = () => this.failed(raw, id, attempt, err, processingKey, started, log);
    }
    const recorded = record()
      .catch((err: unknown) => {
        // Only Redis can fail here; the job stays in the processing list for the reaper.
        log.error(`could not record the outcome: ${errorMessage(err)}`);
      })
      .finally(() => {
        this.inFlight.delete(seq);
        this.o.metrics?.inFlight.dec();
      });
    return { recorded };
  }

  private async succeeded(
    raw: Buffer,
    attempt: number,
    result: JobResult,
    processingKey: string,
    started: number,
    log: Logger,
  ): Promise<void> {
    const durationMs = performance.now() - started;
    const { id: resultId, ...fields } = result;
    const record = JSON.stringify({
      id: resultId,
      ...fields,
      attempts: attempt,
      durationMs: Math.round(durationMs * 10) / 10,
      worker: this.idValue,
      backend: this.o.backend.name,
    });
    const k = this.k;
    const recorded = await this.run<number>(
      'complete',
      [processingKey, k.jobs, k.done, k.attempts, k.recoveries],
      [raw, record, this.o.doneCap],
    );
    this.stats.jobsDone++;
    this.o.metrics?.done.inc();
    this.o.metrics?.duration.observe({ outcome: 'done' }, durationMs / 1000);
    if (recorded === 1) log.info('done', { durationMs, attempt });
    else {
      log.warn('done, but another worker had taken the job back; its result stands', {
        durationMs,
      });
    }
  }

  private async failed(
    raw: Buffer,
    id: string,
    attempt: number,
    err: unknown,
    processingKey: string,
    started: number,
    log: Logger,
  ): Promise<void> {
    const durationMs = performance.now() - started;
    const message = errorMessage(err);
    const code = (err as { code?: unknown })?.code;
    const permanent = isPermanent(err);
    const k = this.k;
    const keys = [processingKey, k.retry, k.failed, k.attempts, k.recoveries];
    if (!permanent && attempt <= this.o.maxRetries) {
      const delay = retryDelayMs(attempt, this.o.retryBaseMs);
      await this.run('fail', keys, [raw, 'retry', delay, '']);
      this.stats.jobsRetried++;
      this.o.metrics?.retried.inc();
      log.warn(`failed (${message}); retry ${attempt} of ${this.o.maxRetries} in ${delay} ms`, {
        durationMs,
      });
      return;
    }
    const record = JSON.stringify({
      id: id === '(unparsed)' ? undefined : id,
      job: raw.toString('utf8'),
      error: message,
      code: typeof code === 'string' ? code : 'ERROR',
      permanent,
      attempts: attempt,
      worker: this.idValue,
      failedAt: Date.now(),
    });
    await this.run('fail', keys, [raw, 'dead', 0, record]);
    this.stats.jobsFailed++;
    this.o.metrics?.failed.inc({ code: typeof code === 'string' ? code : 'ERROR' });
    this.o.metrics?.duration.observe({ outcome: 'failed' }, durationMs / 1000);
    log.error(
      permanent ? `failed permanently: ${message}` : `failed after ${attempt} attempts: ${message}`,
      { durationMs, code },
    );
  }

  /** Resolves once the connection is down (at once if it is down now). */
  private untilDown(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.ready) resolve();
      else this.redis.once('close', () => resolve());
    });
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    if (!this.redis) return;
    const skipped: string[] = [];
    // Each step alone, bounded; with Redis down it is skipped: held jobs stay listed, and the
    // reaper of another daemon requeues them once this worker's heartbeat expires.
    const step = async (what: string, fn: () => Promise<unknown>) => {
      if (!this.ready) {
        skipped.push(what);
        return;
      }
      try {
        await Promise.race([
          fn(),
          sleep(5000).then(() => {
            throw new Error('Redis did not answer in 5 s');
          }),
          this.untilDown().then(() => {
            throw new Error('the Redis connection was lost');
          }),
        ]);
      } catch (err) {
        this.log.warn(`shutdown: ${what} failed: ${errorMessage(err)}`);
      }
    };
    // A stop during start-up waits for the id claim, so that the id is released, not leaked;
    // not while Redis is down: the claim would wait for it.
    await Promise.race([
      this.startPromise?.catch(() => {}),
      sleep(this.o.shutdownTimeoutMs),
      this.untilDown(),
    ]);
    this.log.info(`stopping: ${this.inFlight.size} job(s) in flight`);
    // Ends blocked BLMOVEs; a job one of them moved meanwhile is handed back below.
    for (const b of this.blocking) b.disconnect();
    // With Redis down and nothing in flight, the loops only wait for Redis: do not wait for them.
    let waiting = true;
    const idleAndDown = async () => {
      while (waiting && (this.inFlight.size > 0 || this.ready)) await sleep(50);
      return 'down' as const;
    };
    const result = await Promise.race([
      Promise.all(this.loops).then(() => 'done' as const),
      sleep(this.o.shutdownTimeoutMs).then(() => 'timeout' as const),
      idleAndDown(),
    ]);
    waiting = false;
    for (const t of this.timers) clearInterval(t);
    const abandoned = [...this.inFlight.values()];
    if (result === 'timeout' && abandoned.length) {
      this.log.warn(`shutdown timeout: handing back ${abandoned.length} unfinished job(s)`);
    }
    if (this.idValue) {
      const keys = new Set([
        this.k.processing(this.idValue),
        ...abandoned.map((j) => j.processingKey),
      ]);
      for (const key of keys) {
        await step('hand back', async () => {
          const n = await this.run<number>('handback', [key, this.k.jobs], []);
          if (n) this.log.info(`handed back ${n} job(s)`);
        });
      }
      for (const j of abandoned) {
        if (this.o.onAbandon) {
          await this.o.onAbandon(j.raw.toString('utf8')).catch((err: unknown) => {
            this.log.warn(`shutdown: cleanup failed: ${errorMessage(err)}`);
          });
        }
      }
      await step('release id', () =>
        this.run(
          'release',
          [this.k.heartbeat(this.idValue!), this.k.workers, this.k.processing(this.idValue!)],
          [this.idValue!, this.token],
        ),
      );
    }
    if (this.ready) await step('close', () => this.redis.quit());
    this.redis.disconnect();
    if (skipped.length) {
      this.log.warn(
        `shutdown: Redis is not connected; skipped ${[...new Set(skipped)].join(' and ')}; ` +
          `jobs held by ${this.idValue} return to the queue when its heartbeat expires`,
      );
    }
    this.log.info('stopped');
  }
}
