import { errorMessage, UsageError } from '../errors.js';
import type { CudaDevice } from '../native/index.js';
import type { Backend, BackendChoice } from './backend.js';
import { CpuBackend } from './cpu.js';
import type { CudaBackend } from './cuda/backend.js';

export interface SelectBackendOptions {
  backend: BackendChoice;
  gpu: number;
  gpuTimeoutMs: number;
  /** Receives the one line that says which backend runs and why. */
  log: (line: string) => void;
}

export type CudaProbe =
  { ok: true; backend: CudaBackend; device: CudaDevice } | { ok: false; reason: string };

/**
 * Whether device `gpu` can run our kernels: the addon loads, was built with CUDA, the device
 * exists, and a tiny job runs on it within the GPU time limit. The probe goes through the
 * backend's GpuDispatcher, the only door to the device; a backend that answered is returned open.
 */
export async function probeCuda(
  gpu: number,
  timeoutMs: number,
  log: (line: string) => void = () => {},
): Promise<CudaProbe> {
  // Loaded only here: a --cpu run never reads the addon's loader or the CUDA backend.
  const [{ NativeBinding, nativeAddon }, { CudaBackend }, { NativeGpuEngine, NoCudaDeviceError }] =
    await Promise.all([
      import('../native/index.js'),
      import('./cuda/backend.js'),
      import('./cuda/engine.js'),
    ]);
  const load = nativeAddon();
  if (!load.ok) return { ok: false, reason: load.reason };
  const binding = new NativeBinding(load.addon);
  if (!binding.buildInfo().cuda) {
    return { ok: false, reason: 'the native addon was built without CUDA (no nvcc at build time)' };
  }
  const backend = new CudaBackend({
    engine: new NativeGpuEngine(binding, gpu),
    fallback: new CpuBackend(),
    timeoutMs,
    log,
  });
  try {
    return { ok: true, backend, device: await backend.probe() };
  } catch (err) {
    // A probe still running past its limit would hold close() for another limit: leave it.
    if (backend.dispatcher.idle) await backend.close();
    if (err instanceof NoCudaDeviceError) return { ok: false, reason: err.message };
    return { ok: false, reason: `CUDA device ${gpu} does not answer: ${errorMessage(err)}` };
  }
}

/** auto: cuda when the addon loads and the device answers, else cpu; says which and why, once. */
export async function selectBackend(opts: SelectBackendOptions): Promise<Backend> {
  if (opts.backend === 'cpu') {
    opts.log('backend: cpu (asked for)');
    return new CpuBackend();
  }
  const probe = await probeCuda(opts.gpu, opts.gpuTimeoutMs, opts.log);
  if (!probe.ok) {
    if (opts.backend === 'cuda') {
      throw new UsageError(
        `--backend cuda: ${probe.reason}. Run \`imgproc doctor\` for details, or use --backend auto / --cpu.`,
      );
    }
    opts.log(`backend: cpu (${probe.reason})`);
    return new CpuBackend();
  }
  opts.log(
    `backend: cuda on ${probe.backend.description}${opts.backend === 'auto' ? ' (auto)' : ''}`,
  );
  return probe.backend;
}
