/** Codes the addon puts on its errors, plus the loader's own. */
export type NativeErrorCode =
  | 'ERR_INVALID_ARG'
  | 'ERR_CUDA'
  | 'ERR_CUDA_STICKY'
  | 'ERR_CUDA_OOM'
  | 'ERR_NO_CUDA'
  | 'ERR_NO_DEVICE'
  | 'ERR_NATIVE';

const KNOWN = new Set<string>([
  'ERR_INVALID_ARG',
  'ERR_CUDA',
  'ERR_CUDA_STICKY',
  'ERR_CUDA_OOM',
  'ERR_NO_CUDA',
  'ERR_NO_DEVICE',
  'ERR_NATIVE',
]);

/** An error raised inside imgproc_native; `code` says what kind. */
export class NativeError extends Error {
  override name = 'NativeError';
  constructor(
    readonly code: NativeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The CUDA context is lost: nothing more will run on that device in this process. */
export function isStickyCudaError(err: unknown): boolean {
  return err instanceof NativeError && err.code === 'ERR_CUDA_STICKY';
}

/**
 * Rewraps an addon error so that its stack points at the caller (`site` was made at the call),
 * keeping the native message and code.
 */
export function fromNative(err: unknown, site: Error): NativeError {
  const raw = err as { message?: unknown; code?: unknown } | undefined;
  const code = typeof raw?.code === 'string' && KNOWN.has(raw.code) ? raw.code : 'ERR_NATIVE';
  const message = typeof raw?.message === 'string' ? raw.message : String(err);
  const wrapped = new NativeError(code as NativeErrorCode, message);
  wrapped.stack = `NativeError: ${message}\n${(site.stack ?? '').split('\n').slice(1).join('\n')}`;
  return wrapped;
}
