import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { parseByteSize } from '../pipeline/memory-budget.js';
import {
  isObjectUrl,
  objectAllowed,
  outputRoot,
  type ObjectStoreSettings,
} from '../storage/index.js';
import { resolveAllow, resolveStatusTtlMs } from './daemon.js';
import { resolveObjectStoreSettings } from './object-store.js';
import { pick, type RawOptions } from './options.js';
import { parseInteger, parseNumber } from './validate.js';

/** Every setting of `imgproc serve`, validated before anything listens or connects. */
export interface ServeConfig {
  redisUrl: string;
  queue?: string;
  prefix?: string;
  /** The daemons' data folder: uploads are stored inside it, job inputs resolve in it. */
  dataDir: string;
  /**
   * Where uploads are stored: a folder relative to dataDir, or `s3://bucket/prefix` (canonical,
   * inside `allow`) for daemons on other machines.
   */
  uploadDir: string;
  host: string;
  port: number;
  /** Bearer tokens from --token (repeatable) and IMGPROC_TOKEN (comma-separated). */
  tokens: string[];
  tokenFile?: string;
  maxUploadBytes: number;
  /** Time to receive a whole upload. */
  uploadTimeoutMs: number;
  /** Time to receive a request's headers, and a JSON body. */
  requestTimeoutMs: number;
  /** Longest `?wait=` of a status request. */
  maxWaitMs: number;
  statusTtlMs: number;
  /** `s3://` prefixes a JSON job may name as its input. */
  allow: string[];
  objectStore: ObjectStoreSettings;
  /** Cache-Control of served outputs. */
  outputCacheControl: string;
}

export const DEFAULT_MAX_UPLOAD = 50 * 1024 * 1024;

/** RFC 6750's token characters: a token never holds a comma, a space or a line break. */
const TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

/** Checks tokens (from flags, the environment or a file); too short ones are refused. */
export function checkTokens(tokens: string[], from: string): string[] {
  for (const t of tokens) {
    if (!TOKEN.test(t)) {
      throw new UsageError(
        `Expected a bearer token of letters, digits and . _ ~ + / - for ${from} but received one with other characters`,
      );
    }
    if (t.length < 16) {
      throw new UsageError(`${from}: a token must be at least 16 characters long`);
    }
  }
  return tokens;
}

/** Whether an address to bind reaches only this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

export function resolveServeConfig(raw: RawOptions): ServeConfig {
  const str = (k: string) => {
    const v = pick(raw, k);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const redisUrl = str('redis');
  if (!redisUrl) {
    throw new UsageError(
      'serve needs --redis <url> (or IMGPROC_REDIS), e.g. redis://127.0.0.1:6379/0',
    );
  }
  const secs = (key: string, flag: string, def: number, min: number, max: number) => {
    const v = str(key);
    return v === undefined ? def : Math.round(parseNumber(flag, v, min, max) * 1000);
  };
  const maxUpload = str('maxUpload');
  const maxUploadBytes = maxUpload === undefined ? DEFAULT_MAX_UPLOAD : parseByteSize(maxUpload);
  if (maxUploadBytes === undefined) {
    throw new UsageError(
      `Expected a size like 50MiB, 512KiB or a number of bytes for max-upload but received "${maxUpload}"`,
    );
  }
  const tokens = (str('token') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const allow = resolveAllow(raw);
  const cacheControl = str('outputCacheControl') ?? 'public, max-age=3600';
  if (/[\r\n]/.test(cacheControl)) throw new UsageError('output-cache-control must be one line');
  return {
    redisUrl,
    queue: str('queue'),
    prefix: str('prefix'),
    dataDir: resolve(str('dataDir') ?? '.'),
    uploadDir: resolveUploadDir(str('uploadDir') ?? 'uploads', allow),
    host: str('host') ?? '127.0.0.1',
    port: parseInteger('port', str('port') ?? '8080', 0, 65535),
    tokens: checkTokens(tokens, 'token'),
    tokenFile: str('tokenFile'),
    maxUploadBytes,
    uploadTimeoutMs: secs('uploadTimeout', 'upload-timeout', 300_000, 1, 86_400),
    requestTimeoutMs: secs('requestTimeout', 'request-timeout', 30_000, 1, 3600),
    maxWaitMs: secs('maxWait', 'max-wait', 60_000, 0, 3600),
    statusTtlMs: resolveStatusTtlMs(raw),
    allow,
    objectStore: resolveObjectStoreSettings(raw),
    outputCacheControl: cacheControl,
  };
}

/**
 * An object prefix for uploads must be one the daemons read: serve takes the same --allow list as
 * the daemons, and refuses a prefix outside it.
 */
function resolveUploadDir(given: string, allow: string[]): string {
  if (!isObjectUrl(given)) return given;
  const root = outputRoot(given);
  if (!objectAllowed(`${root}/x`, allow)) {
    throw new UsageError(
      `--upload-dir ${given} is outside --allow (${allow.join(', ') || 'none given'}): the daemons read uploads only under the prefixes they allow; give serve and the daemons the same --allow`,
    );
  }
  return root;
}
