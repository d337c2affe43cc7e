import type { CudaDevice, NativeBinding } from '../../native/index.js';
import type { RawImage, ResampleRequest } from '../../types.js';
import type { ResampleResult } from '../backend.js';

/** One image's device work. The seam the dispatcher tests replace with slow or failing fakes. */
export interface GpuEngine {
  /** The device, once it has run a tiny job (this also catches a GPU older than the kernels). */
  probe(): Promise<CudaDevice>;
  resample(source: RawImage, request: ResampleRequest): Promise<ResampleResult>;
  /** Frees the device's reusable buffers. */
  release(): Promise<void>;
}

/** The asked device is not there at all (as opposed to there but failing). */
export class NoCudaDeviceError extends Error {
  override name = 'NoCudaDeviceError';
}

const GIB = 1024 ** 3;

/** The device for humans: "NVIDIA L4 (GPU 0, compute 8.9, 22.0 GiB)". */
export function describeDevice(d: CudaDevice): string {
  return `${d.name} (GPU ${d.index}, compute ${d.computeCapability}, ${(d.totalMemory / GIB).toFixed(1)} GiB)`;
}

/** The real engine: imgproc_native's cudaResample on one device. */
export class NativeGpuEngine implements GpuEngine {
  constructor(
    private readonly binding: NativeBinding,
    private readonly device: number,
  ) {}

  async probe(): Promise<CudaDevice> {
    const status = await this.binding.cudaStatus();
    const device = status.devices.find((d) => d.index === this.device);
    if (!device) {
      throw new NoCudaDeviceError(
        status.devices.length === 0
          ? `no CUDA device: ${status.error ?? 'none found'}`
          : `no CUDA device ${this.device} (this machine has ${status.devices.length}: 0-${status.devices.length - 1})`,
      );
    }
    const pixel = { data: Buffer.alloc(4 * 4 * 4, 128), width: 4, height: 4, channels: 4 as const };
    await this.binding.cudaResample(
      pixel,
      { thumb: { width: 2, height: 2 } },
      { device: this.device },
    );
    return device;
  }

  async resample(source: RawImage, request: ResampleRequest): Promise<ResampleResult> {
    const { thumb, blur, lq, sample, widths } = await this.binding.cudaResample(source, request, {
      device: this.device,
    });
    return { thumb, blur, lq, sample, widths };
  }

  release(): Promise<void> {
    return this.binding.cudaRelease(this.device);
  }
}
