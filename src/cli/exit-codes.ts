import { FatalError, UsageError } from '../errors.js';

export const EXIT = {
  ok: 0,
  fatal: 1,
  usage: 2,
  someFailed: 3,
  /** imgproc verify: outputs differ from the expected folder beyond the tolerances. */
  outputsDiffer: 4,
  interrupted: 130,
} as const;

/** One place decides the exit code of an error that reached the top. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof FatalError) return EXIT.fatal;
  return EXIT.fatal;
}
