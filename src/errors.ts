import { constants as osConstants } from 'node:os';

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
  | 'OUTPUT_CONFLICT'
  | 'IMPLAUSIBLE_SIZE'
  | 'OVER_MEMORY_BUDGET'
  | 'OUTPUT_TOO_LARGE';

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

/**
 * The output's file system cannot take more (full, over quota, read-only): every later image
 * would fail the same way, so the run stops starting new ones.
 */
export class ResourceError extends FatalError {
  override name = 'ResourceError';
  constructor(
    readonly code: ResourceCode,
    readonly folder: string,
  ) {
    super(`${RESOURCE_REASONS[code]} in ${shortenMiddle(folder)}: ${RESOURCE_HINTS[code]}`);
  }
}

export type ResourceCode = 'ENOSPC' | 'EDQUOT' | 'EROFS';
const RESOURCE_CODES: readonly ResourceCode[] = ['ENOSPC', 'EDQUOT', 'EROFS'];

/**
 * Whether a failed file operation means the file system cannot take more: full, over quota or
 * read-only. Node names ENOSPC and EROFS but not EDQUOT (Linux gives "Unknown system error -122"),
 * so the errno number counts as much as the name.
 */
export function resourceCode(err: unknown): ResourceCode | undefined {
  const { code, errno } = (err ?? {}) as NodeJS.ErrnoException;
  for (const c of RESOURCE_CODES) {
    const number = osConstants.errno[c];
    if (
      code === c ||
      (number !== undefined && typeof errno === 'number' && Math.abs(errno) === number)
    )
      return c;
  }
  return undefined;
}

const RESOURCE_REASONS = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
} as const;
const RESOURCE_HINTS = {
  ENOSPC: 'free some space or choose another --out; no new images were started',
  EDQUOT: 'free some space under the quota or choose another --out; no new images were started',
  EROFS: 'choose a writable --out; no new images were started',
} as const;

/** Long paths in one-line messages keep their start and their end. */
export function shortenMiddle(text: string, max = 160): string {
  if (text.length <= max) return text;
  const keep = max - 1;
  const head = Math.ceil(keep / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (keep - head))}`;
}

/** Short, true words for the errno codes a file operation can end with. */
const ERRNO_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder',
  ENAMETOOLONG: 'path or name too long for the file system',
  ELOOP: 'too many symbolic links (a loop?)',
  EIO: 'input/output error (a failing disk?)',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on the system',
  EEXIST: 'already exists',
  EBUSY: 'busy',
  EXDEV: 'on another file system',
};

/**
 * A failed write into `folder` as one short line: the folder, not the temporary file, and the
 * reason in words. Full, over-quota and read-only file systems become a ResourceError.
 */
export function writeError(err: unknown, folder: string): Error {
  const resource = resourceCode(err);
  if (resource) return new ResourceError(resource, folder);
  const code = (err as NodeJS.ErrnoException).code;
  const reason = code && ERRNO_REASONS[code];
  if (!reason) return err instanceof Error ? err : new Error(String(err));
  return new Error(`cannot write to ${shortenMiddle(folder)}: ${reason}`);
}

/** An errno error's reason in words, without the raw path Node appends. */
export function errnoReason(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? ERRNO_REASONS[code] : undefined;
}

export function isPermanent(err: unknown): boolean {
  return err instanceof ImageInputError;
}

/** An error's message, each line of bounded length: a message may carry a path of any length. */
export function errorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .split('\n')
    .map((line) => shortenMiddle(line, 400))
    .join('\n');
}

/** The message and, for an input error, what to do about it: `reason (hint)`, as a run's lines. */
export function errorWithHint(err: unknown): string {
  const hint = err instanceof ImageInputError ? err.hint : undefined;
  return hint ? `${errorMessage(err)} (${hint})` : errorMessage(err);
}
