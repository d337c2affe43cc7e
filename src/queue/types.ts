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

/** A job this daemon is running now. */
export interface InFlightJob {
  raw: Buffer;
  id: string;
  /** The worker id whose processing list holds the job (the id at fetch time). */
  heldBy: string;
  startedAt: number;
}

/** Outcome counts reported in the heartbeat. */
export interface WorkerCounts {
  jobsDone: number;
  jobsFailed: number;
  jobsRetried: number;
}
