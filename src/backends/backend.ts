/**
 * The one seam between the pipeline and the pixel math. Decode and encode stay on sharp; a backend
 * takes one decoded 8-bit sRGB image and returns every resampled raw image the job asked for.
 */

import type { BackendName, RawImage, ResampleRequest } from '../types.js';

/** How the user picks a backend: `auto` tries cuda and falls back to cpu. */
export const BACKEND_CHOICES = ['auto', 'cuda', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface ResampleResult {
  thumb?: RawImage;
  blur?: RawImage;
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
