import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { Size } from '../types.js';

const KIB = 1024;
const MIB = KIB * 1024;
const GIB = MIB * 1024;

/** Never default to less than this: below it even ordinary photos would queue one by one. */
const MIN_DEFAULT_BUDGET = 512 * MIB;

/** Memory this process may use: the cgroup's limit when one is set (containers), else the RAM. */
export function machineMemory(): number {
  const ram = totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const limit = Number(readFileSync(file, 'utf8').trim());
      if (Number.isFinite(limit) && limit > 0 && limit < ram) return limit;
    } catch {
      // No such cgroup file ("max" parses as NaN): the RAM is the limit.
    }
  }
  return ram;
}

/** Half of what the machine allows: the rest is for the process's base, the OS and neighbours. */
export function defaultMaxMemory(machine = machineMemory()): number {
  return Math.max(MIN_DEFAULT_BUDGET, Math.floor(machine / 2));
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: KIB,
  kb: KIB,
  kib: KIB,
  m: MIB,
  mb: MIB,
  mib: MIB,
  g: GIB,
  gb: GIB,
  gib: GIB,
  t: GIB * 1024,
  tb: GIB * 1024,
  tib: GIB * 1024,
};

/** "4G", "512MiB", "1.5 GB" or a byte count → bytes (binary units: memory is counted in pages). */
export function parseByteSize(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** 1610612736 → "1.5 GiB" */
export function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(1)} GiB`;
  if (bytes >= MIB) return `${Math.ceil(bytes / MIB)} MiB`;
  return `${Math.ceil(bytes / KIB)} KiB`;
}

/** What the header says about the pixels a decode will produce. */
export interface DeclaredPixels {
  format: string;
  /** Size of one frame as stored. */
  width: number;
  height: number;
  /** Bands and bytes per band as stored (a 16-bit RGBA PNG: 4 and 2). */
  bands: number;
  sampleBytes: number;
  /** Frames in the file (animations, multi-page TIFF); only the first is decoded. */
  frames: number;
}

/**
 * Full-size copies of the source a decode holds at its peak, in stored bytes per pixel.
 * Measured with `npm run bench -- --memory`: libheif keeps the AV1 frame buffers, its planar
 * output and an interleaved copy (about 7x the 8-bit RGB size); the other loaders stream lines
 * but a rotation or a colour conversion can hold one whole copy, and libvips a second.
 */
const SOURCE_COPIES: Record<string, number> = { heif: 7, avif: 7 };
const DEFAULT_SOURCE_COPIES = 2;

/** The decoded 8-bit RGBA image, the backend's copy, the encoder's working set. */
const DECODED_COPIES = 3;
const RGBA = 4;

/**
 * libvips' line buffers at full width, in source lines: measured 600-700 bytes a column for RGB
 * strips a million pixels wide (1048576x16 PNG: 670 MB), a little more with more threads.
 */
const BUFFERED_LINES = 160;
const BUFFERED_LINES_PER_THREAD = 48;

/** Thread stacks, libvips' caches, the small outputs and the sidecar. */
const PER_IMAGE_OVERHEAD = 24 * MIB;

/**
 * An upper estimate of the memory one image needs at its peak: the file's bytes (read once,
 * handed to libvips as they are), the source's full-size copies that its format forces, the image
 * decoded at `decoded` size and the copies the backends and the encoder make of it.
 */
export function estimatePeakBytes(
  source: DeclaredPixels,
  fileBytes: number,
  decoded: Size,
  vipsThreads: number,
): number {
  const storedPixel = source.bands * source.sampleBytes;
  const fullFrame = source.width * source.height * storedPixel;
  const copies = SOURCE_COPIES[source.format] ?? DEFAULT_SOURCE_COPIES;
  const lines = BUFFERED_LINES + BUFFERED_LINES_PER_THREAD * Math.max(1, vipsThreads);
  const lineBuffers = source.width * storedPixel * lines;
  return Math.ceil(
    fileBytes +
      fullFrame * copies +
      lineBuffers +
      decoded.width * decoded.height * RGBA * DECODED_COPIES +
      PER_IMAGE_OVERHEAD,
  );
}

/** Metadata, embedded previews and colour profiles a genuine file may carry beyond its pixels. */
const PLAUSIBLE_EXTRA_BYTES = 32 * MIB;

/**
 * The largest file a genuine image of this declared size could be: every frame stored
 * uncompressed, twice over (no codec expands more than that), plus room for metadata.
 */
export function maxPlausibleFileBytes(source: DeclaredPixels): number {
  const raw = source.width * source.height * source.bands * source.sampleBytes;
  return Math.max(1, source.frames) * raw * 2 + PLAUSIBLE_EXTRA_BYTES;
}

interface Waiter {
  bytes: number;
  admit: () => void;
}

/**
 * The memory that the images in flight may take together. Each image is admitted with its
 * estimated peak and waits, first come first served, while the budget is taken; one that could
 * never fit is the caller's to refuse (`fits`).
 */
export class MemoryBudget {
  private inUse = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly limit: number) {}

  /** Whether an image of this estimate can ever be admitted. */
  fits(bytes: number): boolean {
    return bytes <= this.limit;
  }

  /** Bytes currently held by admitted images. */
  get used(): number {
    return this.inUse;
  }

  /** Waits until `bytes` fit beside the images already admitted; the result gives them back. */
  async admit(bytes: number): Promise<() => void> {
    if (!this.fits(bytes)) {
      throw new RangeError(`${bytes} bytes can never fit a budget of ${this.limit}`);
    }
    // Strictly in order: a large image is not starved by a stream of small ones.
    if (this.waiting.length > 0 || this.inUse + bytes > this.limit) {
      await new Promise<void>((admit) => this.waiting.push({ bytes, admit }));
    } else {
      this.inUse += bytes;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse -= bytes;
      this.drain();
    };
  }

  private drain(): void {
    let next = this.waiting[0];
    while (next && this.inUse + next.bytes <= this.limit) {
      this.waiting.shift();
      this.inUse += next.bytes;
      next.admit();
      next = this.waiting[0];
    }
  }
}
