/** Where a job stands, as kept in its status key beside the queue. */
export type JobState = 'queued' | 'processing' | 'retrying' | 'done' | 'failed';

export interface JobStatus {
  id: string;
  state: JobState;
  input: string;
  /** Tries so far, the current one included (tries whose worker died count too). */
  attempts: number;
  /** Times a worker died running the job, when it did. */
  crashes?: number;
  worker?: string;
  error?: string;
  code?: string;
  /** Due time of the next try (ms since the epoch), while retrying. */
  retryAt?: number;
  /** The job's output folder relative to --data-dir, once done. */
  out?: string;
  /** Output paths relative to `out`, once done. */
  outputs?: Record<string, string>;
  sidecar?: string;
  updatedAt: number;
}

/** A status value, with `updatedAt` set now. */
export function jobStatus(fields: Omit<JobStatus, 'updatedAt'>): string {
  return JSON.stringify({ ...fields, updatedAt: Date.now() });
}
