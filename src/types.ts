/**
 * The ground floor: plain data shapes that every layer (native, gradient, backends, pipeline, cli)
 * imports downward. Nothing here imports anything.
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
  /** A small antialiased copy (the pipeline takes its palette sample itself, on the CPU). */
  sample?: Size;
  /** Responsive widths (`srcset`), each an antialiased resize of the source, in this order. */
  widths?: Size[];
}

/** Which implementation computed an image's pixels; recorded in the sidecar. */
export type BackendName = 'cpu' | 'cuda';
