import type { GradientRecord } from '../gradient/index.js';
import type { SourceInfo } from '../storage/index.js';
import type { BackendName } from '../types.js';

export const ALL_OPS = ['thumb', 'blur', 'lq', 'gradient'] as const;
export type OpName = (typeof ALL_OPS)[number];
export type ImageOutputName = Exclude<OpName, 'gradient'>;
/** A responsive width's output name: `w640`. */
export type WidthOutputName = `w${number}`;
/** Every image file an image may get: `<stem>_<name>.webp`. */
export type OutputName = ImageOutputName | WidthOutputName;

/** Every option that changes an output. Hashed into the sidecar's `options`. */
export interface OutputOptions {
  thumbWidth: number;
  blurSigma: number;
  lqScale: number;
  /** The low-quality copy is never wider than this. */
  lqMaxWidth: number;
  /** Responsive widths (`--widths`), ascending; empty for none. */
  widths: readonly number[];
  quality: Record<ImageOutputName, number>;
  effort: Record<ImageOutputName, number>;
  paletteSize: number;
  keepMetadata: boolean;
}

/** One image to process: built by the batch planner, the manifest reader and the daemon alike. */
export interface ImageTask {
  /** Absolute path of the input file, or its `s3://bucket/key`. */
  input: string;
  /** Size and ETag of an object, when a listing already said them: spares a HEAD. */
  source?: SourceInfo;
  /** How the sidecar names the source (relative to the input root, or the job's input). */
  sourceLabel: string;
  /** Absolute output root or `s3://bucket/prefix`; nothing is written outside it. */
  outDir: string;
  /** Output path without suffix, relative to outDir, '/'-separated: `trips/rome` or `42/42`. */
  outputStem: string;
  ops: readonly OpName[];
  options: OutputOptions;
  /** Header-declared pixel limit, checked before decoding. */
  maxPixels: number;
  /** Redo even when the sidecar says the outputs are current. */
  force: boolean;
}

export interface OutputRecord {
  path: string;
  width: number;
  height: number;
  bytes: number;
}

/** The JSON sidecar, schema version 1. Key order is fixed: it is written byte-stable. */
export interface Sidecar {
  version: 1;
  source: {
    path: string;
    sha256: string;
    /** An object's ETag (unquoted): a re-run compares it and the size, without downloading. */
    etag?: string;
    bytes: number;
    format: string;
    width: number;
    height: number;
    hasAlpha: boolean;
  };
  outputs: Partial<Record<OutputName, OutputRecord>>;
  /** The responsive widths as an `<img srcset>` value, paths relative to --out; with --widths only. */
  srcset?: string;
  gradient?: GradientRecord;
  backend: BackendName;
  options: string;
}

export interface StageTimings {
  readMs: number;
  decodeMs: number;
  resampleMs: number;
  encodeMs: number;
  writeMs: number;
  totalMs: number;
}

export type ProcessResult =
  | { status: 'processed'; sidecar: Sidecar; sidecarPath: string; timings: StageTimings }
  | { status: 'skipped'; sidecar: Sidecar; sidecarPath: string };
