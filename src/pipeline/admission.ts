import sharp from '../sharp.js';
import type { Backend } from '../backends/backend.js';
import { ImageInputError } from '../errors.js';
import { decodeSize, type SourceInfo } from './decode.js';
import { decodeTarget } from './output-sizes.js';
import { estimatePeakBytes, formatBytes, type MemoryBudget } from './memory-budget.js';
import type { ImageTask } from './types.js';

/** The memory one image needs at its peak, from its header and its file's size. */
export function estimateTaskPeak(
  info: SourceInfo,
  fileBytes: number,
  task: Pick<ImageTask, 'ops' | 'options'>,
  backend: Backend,
): number {
  // The same decode target the pipeline uses, so widths, the lq cap and the palette count.
  const decoded = decodeSize(info, decodeTarget(info, task), backend.decodePolicy);
  return estimatePeakBytes(info.declared, fileBytes, decoded, sharp.concurrency());
}

/**
 * An image's claim on the memory budget: taken from its header before its bytes are read, and
 * taken again, larger, in the rare case the header could only be read from the whole file.
 */
export class Admission {
  private release?: () => void;
  private held = 0;

  constructor(
    private readonly memory: MemoryBudget,
    private readonly task: ImageTask,
    private readonly backend: Backend,
  ) {}

  /** Waits for the image's estimated peak; refuses an image that could never fit. */
  async take(info: SourceInfo, bytes: number): Promise<void> {
    const peak = estimateTaskPeak(info, bytes, this.task, this.backend);
    if (peak <= this.held) return;
    if (!this.memory.fits(peak)) {
      const { width, height } = info.declared;
      throw new ImageInputError(
        'OVER_MEMORY_BUDGET',
        `needs about ${formatBytes(peak)} to process (${width}x${height} ${info.format.toUpperCase()}), more than --max-memory ${formatBytes(this.memory.limit)}`,
        'raise --max-memory if the machine has the room, or shrink the image first',
      );
    }
    this.give();
    this.release = await this.memory.admit(peak);
    this.held = peak;
  }

  /** Before the header is known: the file's bytes and a few working copies of them. */
  async takeForBytes(bytes: number): Promise<void> {
    const peak = Math.min(this.memory.limit, bytes * 4 + (64 << 20));
    this.release = await this.memory.admit(peak);
    this.held = peak;
  }

  give(): void {
    this.release?.();
    this.release = undefined;
    this.held = 0;
  }
}
