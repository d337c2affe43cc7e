/**
 * The one seam between the pipeline and the pixel math. Decode and encode stay on sharp; a backend
 * takes one decoded 8-bit sRGB image and returns every resampled raw image the job asked for.
 */

/** 8-bit interleaved pixels, 3 (RGB) or 4 (RGBA, straight alpha) channels, rows packed. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

export interface Size {
  width: number;
  height: number;
}

/**
 * What to compute from one source image. Every size comes from `planOutputSizes`, so both
 * backends produce exactly the same dimensions.
 */
export interface ResampleRequest {
  /** Antialiased resize of the source to this size. */
  thumb?: Size;
  /** Gaussian blur of the thumb-sized image (the thumb is resized first even if not requested). */
  blur?: { size: Size; sigma: number };
  /** The low-quality copy: equal to the source size means a copy, half of it the 2x downscale. */
  lq?: Size;
  /** A small antialiased copy for the palette and the inline placeholder. */
  sample?: Size;
}

export interface ResampleResult {
  thumb?: RawImage;
  blur?: RawImage;
  lq?: RawImage;
  sample?: RawImage;
  /** Which backend computed these pixels, when it differs from the one asked (a GPU fallback). */
  backend?: BackendName;
}

export type BackendName = 'cpu' | 'cuda';

/** Where the pipeline should decode to before handing pixels over. */
export type DecodePolicy =
  /** Decode straight to the largest requested output size (libvips shrink-on-load + reduce). */
  | 'largest-output'
  /** Decode at full size unless the format shrinks on load for free (JPEG, WebP). */
  | 'full-unless-cheap-shrink';

export interface Backend {
  readonly name: BackendName;
  /** One line for humans: which device, or why the CPU. */
  readonly description: string;
  readonly decodePolicy: DecodePolicy;
  resample(source: RawImage, request: ResampleRequest): Promise<ResampleResult>;
  close(): Promise<void>;
}
