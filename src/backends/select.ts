import { UsageError } from '../errors.js';
import { NativeBinding, nativeAddon, type CudaDevice } from '../native/index.js';
import type { Backend, BackendChoice } from './backend.js';
import { CpuBackend } from './cpu.js';
import { CudaBackend } from './cuda/backend.js';
import { NativeGpuEngine } from './cuda/engine.js';

export interface SelectBackendOptions {
  backend: BackendChoice;
  gpu: number;
  gpuTimeoutMs: number;
  /** Receives the one line that says which backend runs and why. */
  log: (line: string) => void;
}

export type CudaProbe =
  { ok: true; binding: NativeBinding; device: CudaDevice } | { ok: false; reason: string };

const GIB = 1024 ** 3;

export function describeDevice(d: CudaDevice): string {
  return `${d.name} (GPU ${d.index}, compute ${d.computeCapability}, ${(d.totalMemory / GIB).toFixed(1)} GiB)`;
}

/**
 * Whether device `gpu` can run our kernels: the addon loads, was built with CUDA, the device
 * exists, and a tiny job runs on it (this also catches a GPU older than the compiled kernels).
 */
export async function probeCuda(gpu: number): Promise<CudaProbe> {
  const load = nativeAddon();
  if (!load.ok) return { ok: false, reason: load.reason };
  const binding = new NativeBinding(load.addon);
  if (!binding.buildInfo().cuda) {
    return { ok: false, reason: 'the native addon was built without CUDA (no nvcc at build time)' };
  }
  try {
    const status = await binding.cudaStatus();
    const device = status.devices.find((d) => d.index === gpu);
    if (!device) {
      const why =
        status.devices.length === 0
          ? `no CUDA device: ${status.error ?? 'none found'}`
          : `no CUDA device ${gpu} (this machine has ${status.devices.length}: 0-${status.devices.length - 1})`;
      return { ok: false, reason: why };
    }
    const pixel = { data: Buffer.alloc(4 * 4 * 4, 128), width: 4, height: 4, channels: 4 as const };
    await binding.cudaResample(pixel, { thumb: { width: 2, height: 2 } }, { device: gpu });
    return { ok: true, binding, device };
  } catch (err) {
    return { ok: false, reason: `CUDA device ${gpu} does not answer: ${(err as Error).message}` };
  }
}

/** auto: cuda when the addon loads and the device answers, else cpu; says which and why, once. */
export async function selectBackend(opts: SelectBackendOptions): Promise<Backend> {
  if (opts.backend === 'cpu') {
    opts.log('backend: cpu (asked for)');
    return new CpuBackend();
  }
  const probe = await probeCuda(opts.gpu);
  if (!probe.ok) {
    if (opts.backend === 'cuda') {
      throw new UsageError(
        `--backend cuda: ${probe.reason}. Run \`imgproc doctor\` for details, or use --backend auto / --cpu.`,
      );
    }
    opts.log(`backend: cpu (${probe.reason})`);
    return new CpuBackend();
  }
  const description = describeDevice(probe.device);
  opts.log(`backend: cuda on ${description}${opts.backend === 'auto' ? ' (auto)' : ''}`);
  return new CudaBackend({
    engine: new NativeGpuEngine(probe.binding, opts.gpu),
    fallback: new CpuBackend(),
    description,
    timeoutMs: opts.gpuTimeoutMs,
    log: opts.log,
  });
}
