import type { RawImage, ResampleRequest, Size } from '../types.js';

/** What the addon says about its own build. */
export interface NativeBuildInfo {
  version: string;
  cuda: boolean;
  /** CMake architecture list, e.g. "75-real,80-real,86-real,89-real,90-real,90-virtual". */
  cudaArchitectures?: string;
  cudaToolkitVersion?: string;
  napiVersion: number;
  /** Built for glibc (absent from addons built before it). */
  glibc?: boolean;
}

export interface CudaDevice {
  index: number;
  name: string;
  computeCapability: string;
  totalMemory: number;
  multiprocessors: number;
  memoryClockKHz: number;
  memoryBusWidthBits: number;
}

export interface CudaStatus {
  /** False when the addon was built without nvcc. */
  compiled: boolean;
  /** 12040 means 12.4; 0 when no driver is installed. */
  driverVersion: number;
  runtimeVersion: number;
  devices: CudaDevice[];
  /** Why no device answers, when none does. */
  error?: string;
}

export interface NativeResampleOptions {
  device?: number;
  /** Filter of the exact-half lq: 2x2 box (default) or nearest. */
  halveFilter?: 'box' | 'nearest';
}

export interface GpuTimings {
  stagingMs: number;
  uploadMs: number;
  kernelsMs: number;
  downloadMs: number;
  uploadBytes: number;
  downloadBytes: number;
}

export interface NativeResampleResult {
  thumb?: RawImage;
  blur?: RawImage;
  lq?: RawImage;
  sample?: RawImage;
  widths?: RawImage[];
  /** Only from the CUDA engine: device time split by stage. */
  timings?: GpuTimings;
}

export interface KernelTiming {
  name: string;
  ms: number;
  bytes: number;
}

/** The raw exports of imgproc_native.node. */
export interface NativeAddon {
  buildInfo(): NativeBuildInfo;
  referenceResample(
    source: RawImage,
    request: ResampleRequest,
    options?: NativeResampleOptions,
  ): Promise<NativeResampleResult>;
  cudaResample(
    source: RawImage,
    request: ResampleRequest,
    options?: NativeResampleOptions,
  ): Promise<NativeResampleResult>;
  cudaStatus(): Promise<CudaStatus>;
  cudaRelease(device: number): Promise<void>;
  cudaBenchKernels(options: {
    device: number;
    width: number;
    height: number;
    channels: 3 | 4;
    iterations: number;
  }): Promise<KernelTiming[]>;
  /**
   * This process replaced by `file` (execve), standard streams kept; returns the errno only when
   * that failed. Absent from addons built before it.
   */
  exec?(file: string, argv: string[], env: string[]): number;
  /** glibc's mallopt(M_MMAP_THRESHOLD): false elsewhere. Absent from addons built before it. */
  setMmapThreshold?(bytes: number): boolean;
  /** glibc's mallopt(M_ARENA_MAX): false elsewhere. Absent from addons built before it. */
  setArenaMax?(arenas: number): boolean;
  /**
   * src/gradient/median-cut.ts's medianCutSteps, integer for integer, flat: the palettes' count,
   * then each palette's entry count and its entries' r, g, b, count. Absent from addons built before it.
   */
  medianCutSteps?(pixels: Uint8Array, channels: number, fewest: number, most: number): Int32Array;
  /** src/pipeline/sample.ts's areaSample, byte for byte. Absent from addons built before it. */
  areaSample?(source: RawImage, size: Size): Buffer;
}
