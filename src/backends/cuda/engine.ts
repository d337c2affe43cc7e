import type { NativeBinding } from '../../native/index.js';
import type { RawImage, ResampleRequest } from '../../types.js';
import type { ResampleResult } from '../backend.js';

/** One image's device work. The seam the dispatcher tests replace with slow or failing fakes. */
export interface GpuEngine {
  resample(source: RawImage, request: ResampleRequest): Promise<ResampleResult>;
  /** Frees the device's reusable buffers. */
  release(): Promise<void>;
}

/** The real engine: imgproc_native's cudaResample on one device. */
export class NativeGpuEngine implements GpuEngine {
  constructor(
    private readonly binding: NativeBinding,
    private readonly device: number,
  ) {}

  async resample(source: RawImage, request: ResampleRequest): Promise<ResampleResult> {
    const { thumb, blur, lq, sample } = await this.binding.cudaResample(source, request, {
      device: this.device,
    });
    return { thumb, blur, lq, sample };
  }

  release(): Promise<void> {
    return this.binding.cudaRelease(this.device);
  }
}
