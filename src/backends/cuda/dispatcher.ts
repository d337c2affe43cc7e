/**
 * The only door to a GPU: one queue per device, a bounded number of operations in flight, a time
 * limit per operation and error isolation. A failed operation fails alone; a sticky error (the
 * context is lost) disables the device for the rest of the run, said once.
 */

export type GpuUnavailableCode = 'ERR_GPU_DISABLED' | 'ERR_GPU_BUSY' | 'ERR_GPU_CLOSED';

/** The operation ran past its time limit. The image should go elsewhere. */
export class GpuTimeoutError extends Error {
  override name = 'GpuTimeoutError';
  readonly code = 'ERR_GPU_TIMEOUT';
}

/** The dispatcher did not run the operation at all. */
export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
  constructor(
    readonly code: GpuUnavailableCode,
    message: string,
  ) {
    super(message);
  }
}

export interface GpuDispatcherOptions {
  /** Time limit of one operation, from its start. */
  timeoutMs: number;
  /** Operations running at once (default 1: strictly serial). */
  maxInFlight?: number;
  /** Errors after which the device is unusable (default: none). */
  isSticky?: (err: unknown) => boolean;
  /** Called once, when the device gets disabled. */
  onDisabled?: (reason: string) => void;
  /** Called when an operation times out (the device is avoided until that operation returns). */
  onTimeout?: (label: string, timeoutMs: number) => void;
}

interface Pending {
  label: string;
  op: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class GpuDispatcher {
  private readonly queue: Pending[] = [];
  private readonly maxInFlight: number;
  private inFlight = 0;
  /** Timed-out operations still running: the device is suspect until they return. */
  private stray = 0;
  private disabledReason: string | undefined;
  private closing: Promise<void> | undefined;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: GpuDispatcherOptions) {
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 1);
  }

  get disabled(): boolean {
    return this.disabledReason !== undefined;
  }

  /** Nothing running on the device, not even an operation that timed out. */
  get idle(): boolean {
    return this.inFlight === 0;
  }

  /** Queues one device operation; settles with its result, its error, or a dispatcher error. */
  run<T>(label: string, op: () => Promise<T>): Promise<T> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ label, op, resolve: resolve as (value: unknown) => void, reject });
      this.pump();
    });
  }

  /** Stops using the device for the rest of the run; queued operations are refused. */
  disable(reason: string): void {
    if (this.disabledReason !== undefined) return;
    this.disabledReason = reason;
    this.rejectQueued();
    this.opts.onDisabled?.(reason);
  }

  /** Refuses new operations and waits for those in flight (a hung one for at most one time limit). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.rejectQueued();
      if (this.inFlight === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((done) => this.idleWaiters.push(done)),
        new Promise<void>((done) => {
          timer = setTimeout(done, this.opts.timeoutMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    })();
    return this.closing;
  }

  private refusal(): GpuUnavailableError | undefined {
    if (this.closing)
      return new GpuUnavailableError('ERR_GPU_CLOSED', 'the GPU dispatcher is closed');
    if (this.disabledReason !== undefined) {
      return new GpuUnavailableError(
        'ERR_GPU_DISABLED',
        `the GPU is disabled: ${this.disabledReason}`,
      );
    }
    if (this.stray > 0) {
      return new GpuUnavailableError(
        'ERR_GPU_BUSY',
        'the GPU is still busy with an operation that timed out',
      );
    }
    return undefined;
  }

  private rejectQueued(): void {
    for (const job of this.queue.splice(0)) {
      job.reject(
        this.refusal() ?? new GpuUnavailableError('ERR_GPU_CLOSED', 'the GPU dispatcher is closed'),
      );
    }
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const refusal = this.refusal();
      if (refusal) {
        this.rejectQueued();
        return;
      }
      this.start(this.queue.shift() as Pending);
    }
  }

  private start(job: Pending): void {
    this.inFlight++;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.stray++;
      job.reject(
        new GpuTimeoutError(
          `GPU operation ${job.label} took longer than ${this.opts.timeoutMs} ms`,
        ),
      );
      this.opts.onTimeout?.(job.label, this.opts.timeoutMs);
      this.rejectQueued();
    }, this.opts.timeoutMs);

    const settle = (ok: boolean, value: unknown) => {
      clearTimeout(timer);
      this.inFlight--;
      if (timedOut) this.stray--;
      if (!ok && this.opts.isSticky?.(value)) {
        this.disable(`sticky CUDA error: ${describe(value)}`);
      }
      if (!timedOut) (ok ? job.resolve : job.reject)(value);
      if (this.inFlight === 0) for (const done of this.idleWaiters.splice(0)) done();
      this.pump();
    };
    let running: Promise<unknown>;
    try {
      running = job.op();
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (value) => settle(true, value),
      (err: unknown) => settle(false, err),
    );
  }
}
