import type { Size } from '../types.js';
import { fitFormat, fitInside, lqSize, responsiveSizes, thumbSize } from './dimensions.js';
import { ALL_OPS, type ImageTask, type WidthOutputName } from './types.js';

/** Longer side of the small image the palette and the placeholders are made from. */
export const SAMPLE_SIZE = 64;

export interface OutputSizes {
  thumb?: Size;
  blur?: Size;
  lq?: Size;
  sample?: Size;
  /** Responsive widths, narrowest first, each named by its real width. */
  widths: { name: WidthOutputName; size: Size }[];
}

/** Every output's size, from the displayed source size alone: one function for both backends. */
export function planOutputSizes(
  source: Size,
  task: Pick<ImageTask, 'ops' | 'options'>,
): OutputSizes {
  const { ops, options } = task;
  const thumb = fitFormat(thumbSize(source, options.thumbWidth));
  return {
    thumb: ops.includes('thumb') ? thumb : undefined,
    blur: ops.includes('blur') ? thumb : undefined,
    lq: ops.includes('lq')
      ? fitFormat(lqSize(source, options.lqScale, options.lqMaxWidth))
      : undefined,
    sample: ops.includes('gradient') ? fitInside(source, SAMPLE_SIZE) : undefined,
    widths: responsiveSizes(source, options.widths).map((size) => ({
      name: `w${fitFormat(size).width}` as const,
      size: fitFormat(size),
    })),
  };
}

function largest(sizes: OutputSizes): Size {
  let best: Size = { width: 1, height: 1 };
  const all = [sizes.thumb, sizes.blur, sizes.lq, sizes.sample, ...sizes.widths.map((w) => w.size)];
  for (const s of all) {
    if (s && s.width * s.height > best.width * best.height) best = s;
  }
  return best;
}

/**
 * The size the pipeline decodes to: the largest output. With a palette, the largest of every
 * output the options define whatever `ops` asks for, so its sample comes from the same pixels.
 */
export function decodeTarget(source: Size, task: Pick<ImageTask, 'ops' | 'options'>): Size {
  const sizes = task.ops.includes('gradient')
    ? planOutputSizes(source, { ops: ALL_OPS, options: task.options })
    : planOutputSizes(source, task);
  return largest(sizes);
}

/**
 * The size the palette's sample is reduced through: the thumbnail of a run with every output,
 * whatever `ops` asks for, so the sample comes from the same pixels in every run.
 */
export function sampleStep(source: Size, task: Pick<ImageTask, 'options'>): Size {
  return fitFormat(thumbSize(source, task.options.thumbWidth));
}
