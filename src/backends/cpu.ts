import sharp, { type Sharp } from '../sharp.js';
import type { RawImage, ResampleRequest, Size } from '../types.js';
import type { Backend, ResampleResult } from './backend.js';
import { vipsOperation } from './vips-errors.js';

function fromRaw(image: RawImage): Sharp {
  const { width, height, channels } = image;
  return sharp(image.data, { raw: { width, height, channels } });
}

async function toRaw(pipeline: Sharp): Promise<RawImage> {
  const { data, info } = await vipsOperation(() =>
    pipeline.raw().toBuffer({ resolveWithObject: true }),
  );
  return { data, width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

/** libvips' lanczos3 reduce: antialiased, and premultiplied when there is alpha. */
function resize(image: RawImage, size: Size): Promise<RawImage> {
  if (size.width === image.width && size.height === image.height) return Promise.resolve(image);
  return toRaw(fromRaw(image).resize(size.width, size.height, { kernel: 'lanczos3', fit: 'fill' }));
}

/** The sample is tiny: derive it from the smallest image at hand that is not smaller than it. */
function smallestCover(source: RawImage, thumb: RawImage | undefined, size: Size): RawImage {
  return thumb && thumb.width >= size.width && thumb.height >= size.height ? thumb : source;
}

/** The CPU path: sharp (libvips) for every resample. */
export class CpuBackend implements Backend {
  readonly name = 'cpu' as const;
  readonly decodePolicy = 'largest-output' as const;
  constructor(readonly description = 'cpu (sharp/libvips)') {}

  async resample(source: RawImage, request: ResampleRequest): Promise<ResampleResult> {
    const thumbSize = request.thumb ?? request.blur?.size;
    const [thumb, lq, widths] = await Promise.all([
      thumbSize ? resize(source, thumbSize) : undefined,
      request.lq ? resize(source, request.lq) : undefined,
      request.widths ? Promise.all(request.widths.map((size) => resize(source, size))) : undefined,
    ]);
    // Blurred as it is encoded: the same libvips blur, without a raw copy in between.
    const blur = request.blur && thumb ? { ...thumb, blurSigma: request.blur.sigma } : undefined;
    const sample = request.sample
      ? await resize(smallestCover(source, thumb, request.sample), request.sample)
      : undefined;
    return { thumb: request.thumb ? thumb : undefined, blur, lq, sample, widths };
  }

  async close(): Promise<void> {}
}
