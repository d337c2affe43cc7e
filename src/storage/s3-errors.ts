import { ImageInputError } from '../errors.js';

/**
 * A storage failure that may pass (the endpoint unreachable, a server error after the SDK's own
 * retries, credentials the server refuses): the daemon retries it, the batch command reports it.
 */
export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message}; ${hint}` : message);
  }
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

export interface ErrorContext {
  /** The `s3://…` location the request was about. */
  location: string;
  bucket: string;
  /** Where requests go, for messages: an endpoint URL or "AWS (region …)". */
  endpoint: string;
  /** A 404 of a HEAD carries no body: whether the bucket itself is missing, asked on demand. */
  bucketMissing?: boolean;
}

/**
 * One clear line for every way a request can fail. Missing objects and buckets and denied access
 * are ImageInputError (retrying will not help); outages and refused credentials are StorageError.
 */
export function describeS3Error(err: unknown, ctx: ErrorContext): Error {
  if (err instanceof ImageInputError || err instanceof StorageError) return err;
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  if (name === 'NoSuchBucket' || ctx.bucketMissing) {
    return new ImageInputError(
      'UNREADABLE',
      `bucket "${ctx.bucket}" does not exist at ${ctx.endpoint}`,
      'check the bucket name, the endpoint and the region',
    );
  }
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
    return new ImageInputError('UNREADABLE', `object not found: ${ctx.location}`, 'check the key');
  }
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
    return new StorageError(
      `wrong credentials: ${ctx.endpoint} refused them (${name})`,
      'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE and the shared config files',
    );
  }
  if (name === 'ExpiredToken' || name === 'TokenRefreshRequired') {
    return new StorageError(`expired credentials (${name})`, 'refresh the session credentials');
  }
  if (name === 'CredentialsProviderError') {
    return new StorageError(
      'no credentials found for object storage',
      'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or ~/.aws/credentials',
    );
  }
  if (name === 'AccessDenied' || status === 403) {
    return new ImageInputError(
      'UNREADABLE',
      `access denied to ${ctx.location}`,
      'check the bucket policy and the permissions of these credentials',
    );
  }
  const code = e.code ?? '';
  if (NETWORK_CODES.has(code) || name === 'TimeoutError' || name === 'RequestTimeout') {
    return new StorageError(`cannot reach object storage at ${ctx.endpoint} (${code || name})`);
  }
  if (status !== undefined && status >= 500) {
    return new StorageError(`object storage at ${ctx.endpoint} failed: HTTP ${status} ${name}`);
  }
  return new StorageError(
    `object storage request for ${ctx.location} failed: ${name || code || 'error'}${e.message ? ` (${e.message})` : ''}`,
  );
}
