import type { RawImage, ResampleRequest } from '../types.js';
import { fromNative } from './errors.js';
import type {
  CudaStatus,
  KernelTiming,
  NativeAddon,
  NativeBuildInfo,
  NativeResampleOptions,
  NativeResampleResult,
} from './types.js';

export { isStickyCudaError, NativeError, type NativeErrorCode } from './errors.js';
export {
  hugePages,
  tuneAllocator,
  MMAP_THRESHOLD,
  type AllocatorState,
  type HugePages,
} from './allocator.js';
export { loadNativeAddon, nativeAddon, type NativeLoad } from './loader.js';
export type * from './types.js';

/** Typed calls into the addon; every failure is a NativeError whose stack points at the caller. */
export class NativeBinding {
  constructor(private readonly addon: NativeAddon) {}

  buildInfo(): NativeBuildInfo {
    return this.addon.buildInfo();
  }

  /** The C++ reference of the CUDA kernels: same request, same math, on the CPU. */
  referenceResample(
    source: RawImage,
    request: ResampleRequest,
    options: NativeResampleOptions = {},
  ): Promise<NativeResampleResult> {
    return this.call((a) => a.referenceResample(source, request, options));
  }

  /** One image, one GPU operation: upload once, every output on the device, download once. */
  cudaResample(
    source: RawImage,
    request: ResampleRequest,
    options: NativeResampleOptions = {},
  ): Promise<NativeResampleResult> {
    return this.call((a) => a.cudaResample(source, request, options));
  }

  cudaStatus(): Promise<CudaStatus> {
    return this.call((a) => a.cudaStatus());
  }

  cudaRelease(device: number): Promise<void> {
    return this.call((a) => a.cudaRelease(device));
  }

  cudaBenchKernels(
    options: Parameters<NativeAddon['cudaBenchKernels']>[0],
  ): Promise<KernelTiming[]> {
    return this.call((a) => a.cudaBenchKernels(options));
  }

  private async call<T>(fn: (addon: NativeAddon) => Promise<T>): Promise<T> {
    const site = new Error();
    try {
      return await fn(this.addon);
    } catch (err) {
      throw fromNative(err, site);
    }
  }
}
