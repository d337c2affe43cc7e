import type { JobState, JobStatus } from '../queue/job-status.js';
import { checkJobId } from '../plan/naming.js';
import { jobPath, outputPath, type ServeContext } from './context.js';
import { HttpError, fromQueue } from './errors.js';
import { readSidecar } from './output-files.js';

/** One output as the client sees it: where to get it, its pixels and its bytes. */
export interface OutputView {
  url: string;
  width?: number;
  height?: number;
  bytes?: number;
}

/** A job as GET /v1/jobs/:id answers it. */
export interface JobView {
  id: string;
  state: JobState;
  attempts: number;
  crashes?: number;
  error?: string;
  code?: string;
  retryAt?: string;
  updatedAt: string;
  outputs?: Record<string, OutputView>;
  source?: unknown;
  gradient?: unknown;
  links: { self: string };
}

const FINAL: ReadonlySet<JobState> = new Set(['done', 'failed']);

/** A job id from a URL, by the same rule as a queue job's id. */
export function checkedId(id: string): string {
  const bad = checkJobId(id);
  if (bad) throw new HttpError(400, 'BAD_ID', bad);
  return id;
}

async function readStatus(ctx: ServeContext, id: string): Promise<JobStatus | undefined> {
  const text = await fromQueue(ctx.redis.get(ctx.keys.status(id)));
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as JobStatus;
  } catch {
    return undefined;
  }
}

/** The job's status, or a 404 when no status key exists (never queued here, or expired). */
export async function jobStatusOf(ctx: ServeContext, id: string): Promise<JobStatus> {
  const status = await readStatus(ctx, id);
  if (!status) {
    throw new HttpError(
      404,
      'JOB_NOT_FOUND',
      `no job "${id}": it was never queued, or its status expired (--status-ttl)`,
    );
  }
  return status;
}

/**
 * Waits for a final state (done or failed) for at most `waitMs`, polling the status key with a
 * growing interval (50 ms to 1 s): a waiting request holds a timer, never a thread or a Redis
 * connection of its own. Stops early when the client goes away.
 */
export async function waitForFinal(
  ctx: ServeContext,
  id: string,
  waitMs: number,
  gone: () => boolean,
): Promise<JobStatus> {
  const deadline = Date.now() + waitMs;
  let delay = 50;
  for (;;) {
    const status = await jobStatusOf(ctx, id);
    const left = deadline - Date.now();
    if (FINAL.has(status.state) || left <= 0 || gone()) return status;
    await new Promise((r) => setTimeout(r, Math.min(delay, left)));
    delay = Math.min(1000, Math.round(delay * 1.5));
  }
}

/** `?wait=SECONDS`: 0 up to --max-wait. */
export function waitMsOf(query: Record<string, unknown>, maxWaitMs: number): number {
  const names = Object.keys(query).filter((k) => k !== 'wait');
  if (names.length) {
    throw new HttpError(400, 'BAD_QUERY', `unknown query parameter "${names[0]}"; valid: wait`);
  }
  const raw = query.wait;
  if (raw === undefined) return 0;
  const s = typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(s) || s * 1000 > maxWaitMs) {
    throw new HttpError(
      400,
      'BAD_QUERY',
      `Expected a number of seconds from 0 to ${maxWaitMs / 1000} for wait but received "${String(raw)}"`,
    );
  }
  return Math.round(s * 1000);
}

/** The client's view of a status; a done job's outputs come with their sizes from its sidecar. */
export async function jobView(ctx: ServeContext, status: JobStatus): Promise<JobView> {
  const view: JobView = {
    id: status.id,
    state: status.state,
    attempts: status.attempts,
    crashes: status.crashes,
    error: status.error,
    code: status.code,
    retryAt: status.retryAt ? new Date(status.retryAt).toISOString() : undefined,
    updatedAt: new Date(status.updatedAt).toISOString(),
    links: { self: jobPath(status.id) },
  };
  if (status.state !== 'done') return view;
  const sidecar = await readSidecar(ctx, status);
  const outputs: Record<string, OutputView> = {};
  for (const name of Object.keys(status.outputs ?? {})) {
    const rec = sidecar?.outputs?.[name];
    outputs[name] = {
      url: outputPath(status.id, name),
      width: rec?.width,
      height: rec?.height,
      bytes: rec?.bytes,
    };
  }
  if (status.sidecar) outputs.sidecar = { url: outputPath(status.id, 'sidecar') };
  view.outputs = outputs;
  view.source = sidecar?.source;
  view.gradient = sidecar?.gradient;
  return view;
}
