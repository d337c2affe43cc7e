/** Typed errors: the CLI maps them to exit codes, the daemon to retry-or-dead-letter. */

/** Bad flags, bad configuration, impossible requests. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type InputErrorCode =
  | 'EMPTY'
  | 'NOT_AN_IMAGE'
  | 'CORRUPT'
  | 'TOO_MANY_PIXELS'
  | 'UNSUPPORTED_FORMAT'
  | 'UNREADABLE'
  | 'NOT_A_FILE'
  | 'UNSAFE_PATH'
  | 'NAME_TOO_LONG'
  | 'BAD_JOB'
  | 'ID_CONFLICT'
  | 'OUTPUT_CONFLICT';

/**
 * An input that can never be processed as it is: retrying will not help.
 * `hint` says what the user can do about it.
 */
export class ImageInputError extends Error {
  override name = 'ImageInputError';
  readonly permanent = true;
  constructor(
    readonly code: InputErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A fatal condition for the whole run (output not writable, lock held, …). Exit code 1. */
export class FatalError extends Error {
  override name = 'FatalError';
}

export function isPermanent(err: unknown): boolean {
  return err instanceof ImageInputError;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
