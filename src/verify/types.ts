import type { PixelMeasures } from './pixels.js';

/** One way in which the current run differs from the expected folder. */
export interface Difference {
  /** The source image as its sidecar names it, or the file when no sidecar says. */
  item: string;
  /** `thumb`, `blur`, `lq`, `w640`, `sidecar`, `gradient.palette`, … or `file`. */
  output: string;
  /** `missing`, `extra`, `size`, `alpha`, `mismatch`, `ssim`, `shift`, `deltaE`, `value`, … */
  measure: string;
  /** One line for humans: what differs and by how much. */
  message: string;
  value?: number | string;
  limit?: number | string;
}

export type OutputStatus = 'identical' | 'within' | 'differs' | 'missing' | 'extra';

export interface OutputComparison {
  name: string;
  status: OutputStatus;
  /** Paths relative to each folder. */
  path: string;
  measures?: PixelMeasures;
  width?: number;
  height?: number;
}

export type ItemStatus = 'identical' | 'within' | 'differs' | 'missing' | 'extra';

/** One sidecar (one source image) and its outputs, compared. */
export interface ItemComparison {
  item: string;
  /** Sidecar path relative to the folders. */
  sidecar: string;
  status: ItemStatus;
  outputs: OutputComparison[];
  differences: Difference[];
}

/**
 * An option that the expected run used with another value. Options that change what is drawn
 * fail the run; encoder settings (quality, effort) and metadata only explain pixel differences.
 */
export interface OptionDifference {
  option: string;
  expected: string;
  actual: string;
  items: number;
  fails: boolean;
}

export interface InputFailure {
  input: string;
  reason: string;
}

export interface VerifySummary {
  items: number;
  identical: number;
  within: number;
  differs: number;
  missing: number;
  extra: number;
  inputsFailed: number;
}

export interface VerifyResult {
  expectedDir: string;
  actualDir: string;
  passed: boolean;
  summary: VerifySummary;
  items: ItemComparison[];
  /** Files outside any sidecar that are only in one folder. */
  files: Difference[];
  options: OptionDifference[];
  /** Notes that explain but do not fail: another backend, an options hash no option explains. */
  notes: string[];
  failures: InputFailure[];
  seconds: number;
}
