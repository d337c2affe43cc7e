import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { PACKAGE_ROOT } from '../version.js';
import type { QueueKeys } from './keys.js';

// Longer than 300 lines on purpose: one typed method per Lua script, each the only owner of its
// KEYS and ARGV order, kept side by side so that the queue protocol reads in one place.

/**
 * The Lua scripts, one file each (`scripts/<name>-<numKeys>.lua`), read from the source tree so
 * the same files serve `src/` under test and `dist/` when installed. ioredis sends EVALSHA and
 * falls back to EVAL when the server lost its script cache (a restart): one round trip a call.
 */
const SCRIPT_FILES = {
  fetch: 'fetch-4.lua',
  complete: 'complete-5.lua',
  fail: 'fail-5.lua',
  promote: 'promote-2.lua',
  reap: 'reap-7.lua',
  handback: 'handback-2.lua',
  claim: 'claim-2.lua',
  heartbeat: 'heartbeat-2.lua',
  release: 'release-3.lua',
  retryFailed: 'retry-failed-3.lua',
  begin: 'begin-1.lua',
  enqueue: 'enqueue-2.lua',
  statusIfHeld: 'status-if-held-1.lua',
} as const;

type ScriptName = keyof typeof SCRIPT_FILES;

/** Lua functions prepended to the scripts that use them, so that each is written once. */
const LIBRARIES: Partial<Record<ScriptName, string[]>> = {
  fail: ['dead-letter.lua'],
  reap: ['dead-letter.lua'],
};

type ScriptArg = string | number | Buffer;
type ScriptCall = (...args: ScriptArg[]) => Promise<unknown>;

let sources: Map<ScriptName, { lua: string; numberOfKeys: number }> | undefined;

function readScript(file: string): string {
  return readFileSync(join(PACKAGE_ROOT, 'src', 'queue', 'scripts', file), 'utf8');
}

function loadSources() {
  if (sources) return sources;
  sources = new Map();
  for (const [name, file] of Object.entries(SCRIPT_FILES) as [ScriptName, string][]) {
    const numberOfKeys = Number(/-(\d+)\.lua$/.exec(file)![1]);
    const libraries = (LIBRARIES[name] ?? []).map(readScript);
    sources.set(name, { lua: [...libraries, readScript(file)].join('\n'), numberOfKeys });
  }
  return sources;
}

/** The key of a job in the attempts and recoveries hashes (as the scripts' `redis.sha1hex`). */
function jobHash(raw: Buffer | string): string {
  return createHash('sha1').update(raw).digest('hex');
}

/** What a dead letter says about the failure; the record itself is built by dead-letter.lua. */
export interface DeadLetterFields {
  error: string;
  code: string;
  permanent: boolean;
  attempts: number;
  /** The worker id that held the job. */
  worker: string;
}

/** A job moved to a worker's processing list, with its failed attempts so far. */
export interface FetchedJob {
  raw: Buffer;
  failures: number;
  /** Times a worker died running it (it was taken back from a dead worker). */
  crashes: number;
}

/** What a reap did: counts, and the raw jobs requeued and dead-lettered. */
export interface Reaped {
  requeued: number;
  dead: number;
  requeuedJobs: string[];
  deadJobs: string[];
}

/**
 * One typed method per Lua script: each owns its KEYS and ARGV order, so no caller builds a KEYS
 * array. The blocking fetch lives here too, beside the script it completes.
 */
export class QueueScripts {
  private readonly call: (name: ScriptName, buffers?: boolean) => ScriptCall;

  constructor(
    private readonly redis: Redis,
    private readonly keys: QueueKeys,
  ) {
    for (const [name, { lua, numberOfKeys }] of loadSources()) {
      redis.defineCommand(`imgproc_${name}`, { lua, numberOfKeys });
    }
    const commands = redis as unknown as Record<string, ScriptCall>;
    this.call = (name, buffers = false) => {
      const command = commands[`imgproc_${name}${buffers ? 'Buffer' : ''}`]!;
      return (...args) => command.call(redis, ...args);
    };
  }

  /** Takes a worker id if no live daemon holds it, and registers it. */
  async claimId(workerId: string, heartbeat: string, ttlMs: number): Promise<boolean> {
    const k = this.keys;
    const claimed = await this.call('claim')(
      k.heartbeat(workerId),
      k.workers,
      heartbeat,
      ttlMs,
      workerId,
    );
    return claimed === 1;
  }

  /** Refreshes the heartbeat; false when another daemon (another token) holds the id now. */
  async refreshHeartbeat(
    workerId: string,
    heartbeat: string,
    ttlMs: number,
    token: string,
  ): Promise<boolean> {
    const k = this.keys;
    const written = await this.call('heartbeat')(
      k.heartbeat(workerId),
      k.workers,
      heartbeat,
      ttlMs,
      workerId,
      token,
    );
    return written === 1;
  }

  /** Gives up the id if this daemon (token) still holds it; unregisters it once it holds no jobs. */
  async releaseId(workerId: string, token: string): Promise<boolean> {
    const k = this.keys;
    const released = await this.call('release')(
      k.heartbeat(workerId),
      k.workers,
      k.processing(workerId),
      workerId,
      token,
    );
    return released === 1;
  }

  /** Moves the oldest pending job to the worker's processing list, without blocking. */
  async fetch(workerId: string): Promise<FetchedJob | undefined> {
    const k = this.keys;
    const got = (await this.call('fetch', true)(
      k.jobs,
      k.processing(workerId),
      k.attempts,
      k.recoveries,
    )) as [Buffer, number, number] | null;
    return got ? { raw: got[0], failures: Number(got[1]), crashes: Number(got[2]) } : undefined;
  }

  /** BLMOVE on the caller's own connection: waits up to `timeoutS` for a job to arrive. */
  async fetchBlocking(
    connection: Redis,
    workerId: string,
    timeoutS: number,
  ): Promise<FetchedJob | undefined> {
    const k = this.keys;
    const raw = await connection.blmoveBuffer(
      k.jobs,
      k.processing(workerId),
      'RIGHT',
      'LEFT',
      timeoutS,
    );
    if (!raw) return undefined;
    const hash = jobHash(raw);
    const [failures, crashes] = await Promise.all([
      this.redis.hget(k.attempts, hash),
      this.redis.hget(k.recoveries, hash),
    ]);
    return { raw, failures: Number(failures ?? 0), crashes: Number(crashes ?? 0) };
  }

  /**
   * Records a result and drops the job from `heldBy`'s processing list. False when the job was
   * no longer held there (another worker took it back): no result is recorded then.
   */
  async complete(heldBy: string, raw: Buffer, result: string, doneCap: number): Promise<boolean> {
    const k = this.keys;
    const recorded = await this.call('complete')(
      k.processing(heldBy),
      k.jobs,
      k.done,
      k.attempts,
      k.recoveries,
      raw,
      result,
      doneCap,
    );
    return recorded === 1;
  }

  /** Parks a failed job in the retry set, due after `delayMs` (Redis clock). */
  async scheduleRetry(heldBy: string, raw: Buffer, delayMs: number): Promise<boolean> {
    return this.fail(heldBy, raw, ['retry', delayMs]);
  }

  /** Moves a failed job to the failed list, with its dead-letter record. */
  async deadLetter(heldBy: string, raw: Buffer, why: DeadLetterFields): Promise<boolean> {
    return this.fail(heldBy, raw, [
      'dead',
      0,
      why.error,
      why.code,
      why.permanent ? '1' : '0',
      why.attempts,
      why.worker,
    ]);
  }

  private async fail(heldBy: string, raw: Buffer, args: ScriptArg[]): Promise<boolean> {
    const k = this.keys;
    const moved = await this.call('fail')(
      k.processing(heldBy),
      k.retry,
      k.failed,
      k.attempts,
      k.recoveries,
      raw,
      ...args,
    );
    return moved === 1;
  }

  /** Moves at most `limit` retries whose backoff has passed back to the queue; returns how many. */
  async promoteDue(limit: number): Promise<number> {
    return Number(await this.call('promote')(this.keys.retry, this.keys.jobs, limit));
  }

  /**
   * Hands back the jobs of `workerId` if its heartbeat expired (always, with `ownLeftovers`: a
   * daemon taking over what its own id left). Undefined when the worker is alive.
   */
  async reap(
    workerId: string,
    crashCap: number,
    ownLeftovers = false,
  ): Promise<Reaped | undefined> {
    const k = this.keys;
    const res = (await this.call('reap')(
      k.processing(workerId),
      k.heartbeat(workerId),
      k.jobs,
      k.failed,
      k.attempts,
      k.recoveries,
      k.workers,
      crashCap,
      workerId,
      ownLeftovers ? '1' : '0',
    )) as [number, number, string[], string[]] | null;
    if (!res) return undefined;
    const [requeued, dead, requeuedJobs, deadJobs] = res;
    return { requeued: Number(requeued), dead: Number(dead), requeuedJobs, deadJobs };
  }

  /** Returns held jobs to the taking end of the queue: these ones, or all when none are named. */
  async handBack(workerId: string, raws: Buffer[] = []): Promise<number> {
    const k = this.keys;
    return Number(await this.call('handback')(k.processing(workerId), k.jobs, ...raws));
  }

  /**
   * Marks a job processing and binds its id to its input; returns the other input when the id
   * is bound to another input already (see begin-1.lua), and then changes nothing.
   */
  async beginJob(
    jobId: string,
    input: string,
    status: string,
    ttlMs: number,
  ): Promise<string | undefined> {
    const other = (await this.call('begin')(this.keys.status(jobId), input, status, ttlMs)) as
      string | null;
    return other ?? undefined;
  }

  /**
   * Pushes a job and marks it queued. Returns the other input when the id is bound to another
   * input already: then the status is left alone, and the job is pushed only with `push`.
   */
  async enqueue(
    raw: string,
    jobId: string,
    input: string,
    status: string,
    ttlMs: number,
    onConflict: 'refuse' | 'push',
  ): Promise<string | undefined> {
    const k = this.keys;
    const other = (await this.call('enqueue')(
      k.jobs,
      k.status(jobId),
      raw,
      input,
      status,
      ttlMs,
      onConflict,
    )) as string | null;
    return other ?? undefined;
  }

  /**
   * Writes a job's status only while it says that `worker` runs the job (any worker for '') and
   * is in `state`, keeping its attempts; `crashed` counts one more crash. True when written.
   */
  async setStatusIfHeld(
    jobId: string,
    worker: string,
    status: string,
    ttlMs: number,
    crashed: boolean,
    state: 'processing' | 'failed' = 'processing',
  ): Promise<boolean> {
    const k = this.keys;
    const written = await this.call('statusIfHeld')(
      k.status(jobId),
      worker,
      status,
      ttlMs,
      crashed ? '1' : '0',
      state,
    );
    return written === 1;
  }

  /** Writes a job's status (retrying, done, failed) with a fresh TTL. */
  async setJobStatus(jobId: string, status: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.status(jobId), status, 'PX', ttlMs);
  }

  /**
   * Moves dead letters back to the queue with fresh attempt counts, at most `limit` (0: all);
   * permanent failures only with `includePermanent`. Returns how many moved (and which), and how
   * many permanent failures stayed because they were not asked for.
   */
  async retryFailed(
    limit: number,
    includePermanent = false,
  ): Promise<{ moved: number; permanentLeft: number; movedJobs: string[] }> {
    const k = this.keys;
    const all = includePermanent ? '1' : '0';
    const [moved, permanentLeft, movedJobs] = (await this.call('retryFailed')(
      k.failed,
      k.jobs,
      k.attempts,
      limit,
      all,
    )) as [number, number, string[]];
    return { moved: Number(moved), permanentLeft: Number(permanentLeft), movedJobs };
  }
}
