import { UsageError } from '../errors.js';
import type { ObjectStoreSettings } from '../storage/index.js';
import { envName, pick, type RawOptions } from './options.js';
import { parseBoolean } from './validate.js';

/**
 * The settings of object storage from flags and IMGPROC_* variables; credentials, and the region
 * and endpoint when these are not given, come the AWS SDK's way (AWS_* variables, profiles).
 */
export function resolveObjectStoreSettings(
  raw: RawOptions,
  env: NodeJS.ProcessEnv = process.env,
): ObjectStoreSettings {
  const text = (key: string): string | undefined => {
    const v = pick(raw, key, env);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const endpoint = text('s3Endpoint');
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/i.test(endpoint)) {
    throw new UsageError(
      `Expected an http:// or https:// URL for s3-endpoint but received "${endpoint}"`,
    );
  }
  const pathStyle = pick(raw, 's3PathStyle', env);
  const cacheControl = text('cacheControl');
  if (cacheControl !== undefined && /[\r\n]/.test(cacheControl)) {
    throw new UsageError('cache-control must be one line');
  }
  return {
    endpoint,
    forcePathStyle:
      typeof pathStyle === 'string'
        ? parseBoolean(envName('s3PathStyle'), pathStyle)
        : pathStyle === true,
    region: text('s3Region'),
    cacheControl,
  };
}
