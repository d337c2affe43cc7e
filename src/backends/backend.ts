/**
 * The one seam between the pipeline and the pixel math. Decode and encode stay on sharp; a backend
 * takes one decoded 8-bit sRGB image and returns every resampled raw image the job asked for.
 */

import type { BackendName, RawImage, ResampleRequest } from '../types.js';

/** How the user picks a backend: `auto` tries cuda and falls back to cpu. */
export const BACKEND_CHOICES = ['auto', 'cuda', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/**
 * The blurred placeholder as the CPU backend returns it: the thumbnail's pixels, which the encoder
 * blurs as it encodes them (encodeWebp), in one libvips pipeline instead of two.
 */
export interface DeferredBlur extends RawImage {
  blurSigma: number;
}

export interface ResampleResult {
  thumb?: RawImage;
  /** Blurred pixels, or, from the CPU backend, the thumbnail and the blur still to apply. */
  blur?: RawImage | DeferredBlur;
  lq?: RawImage;
  sample?: RawImage;
  /** One image per requested width, in the request's order. */
  widths?: RawImage[];
  /** Which backend computed these pixels, when it differs from the one asked (a GPU fallback). */
  backend?: BackendName;
}

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
