import { errorMessage } from '../../errors.js';
import { isStickyCudaError } from '../../native/errors.js';
import type { RawImage, ResampleRequest } from '../../types.js';
import type { Backend, ResampleResult } from '../backend.js';
import { GpuDispatcher, GpuTimeoutError, GpuUnavailableError } from './dispatcher.js';
import type { CudaDevice } from '../../native/index.js';
import { describeDevice, type GpuEngine } from './engine.js';

export interface CudaBackendOptions {
  engine: GpuEngine;
  /** Where an image goes when its GPU operation fails or the GPU is disabled. */
  fallback: Backend;
  timeoutMs: number;
  log: (line: string) => void;
  /** Operations in flight on the device (default 1). */
  maxInFlight?: number;
}

const PROBE = 'probe';

/**
 * Resampling on an NVIDIA GPU through the native addon. Every device operation goes through the
 * GpuDispatcher; an image whose operation fails is resampled on the fallback (CPU) backend instead,
 * and a lost CUDA context moves the rest of the run to the CPU with one message.
 */
export class CudaBackend implements Backend {
  readonly name = 'cuda' as const;
  readonly decodePolicy = 'full-unless-cheap-shrink' as const;
  readonly dispatcher: GpuDispatcher;
  private readonly engine: GpuEngine;
  private readonly fallback: Backend;
  private readonly log: (line: string) => void;
  private closing: Promise<void> | undefined;
  private device: CudaDevice | undefined;

  constructor(opts: CudaBackendOptions) {
    this.engine = opts.engine;
    this.fallback = opts.fallback;
    this.log = opts.log;
    this.dispatcher = new GpuDispatcher({
      timeoutMs: opts.timeoutMs,
      maxInFlight: opts.maxInFlight,
      isSticky: isStickyCudaError,
      onDisabled: (reason) =>
        this.log(`GPU disabled for the rest of this run (${reason}); continuing on the CPU`),
      // A probe past its limit is reported by whoever asked for the probe.
      onTimeout: (label, ms) => {
        if (label === PROBE) return;
        this.log(
          `a GPU operation ran past ${ms / 1000} s; images go to the CPU until the GPU answers again`,
        );
      },
    });
  }

  /** The device for humans, once a probe has named it. */
  get description(): string {
    return this.device ? describeDevice(this.device) : 'cuda (device not probed yet)';
  }

  /** Asks the device, through the dispatcher and within its time limit, to run a tiny job. */
  async probe(): Promise<CudaDevice> {
    this.device = await this.dispatcher.run(PROBE, () => this.engine.probe());
    return this.device;
  }

  async resample(source: RawImage, request: ResampleRequest): Promise<ResampleResult> {
    if (this.dispatcher.disabled) return this.onCpu(source, request);
    try {
      const result = await this.dispatcher.run('resample', () =>
        this.engine.resample(source, request),
      );
      return { ...result, backend: 'cuda' };
    } catch (err) {
      // Refusals were already announced once (disabled, timed out); other failures are per image.
      const announced =
        err instanceof GpuUnavailableError ||
        err instanceof GpuTimeoutError ||
        isStickyCudaError(err);
      if (!announced) {
        this.log(
          `GPU operation failed for a ${source.width}x${source.height} image (${errorMessage(err)}); resampling it on the CPU`,
        );
      }
      return this.onCpu(source, request);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.dispatcher.close();
      } catch {
        // closing must go on
      }
      try {
        if (!this.dispatcher.disabled && this.dispatcher.idle) await this.engine.release();
      } catch {
        // the process is ending anyway; the driver frees device memory
      }
      await this.fallback.close();
    })();
    return this.closing;
  }

  private async onCpu(source: RawImage, request: ResampleRequest): Promise<ResampleResult> {
    const result = await this.fallback.resample(source, request);
    return { ...result, backend: this.fallback.name };
  }
}
