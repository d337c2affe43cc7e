import { envName, type RawOptions } from '../config/options.js';
import { errorMessage } from '../errors.js';
import type { CredentialSource, EndpointCheck } from '../storage/s3-inspect.js';

/** The object storage settings `imgproc doctor` reports: where each came from, never a secret. */
export type S3Report = S3Settings | { invalid: string };

export interface S3Settings {
  endpoint: string;
  endpointFrom: string;
  region: string;
  regionFrom: string;
  pathStyle: boolean;
  cacheControl: string | null;
  credentials: CredentialSource;
  /** Null when no endpoint is configured: doctor does not contact AWS itself. */
  check: EndpointCheck | null;
}

/** `--s3-endpoint` when the flag was given, else its IMGPROC_* variable. */
function flagOrEnv(raw: RawOptions, key: string, flag: string): string {
  return raw[key] !== undefined ? flag : envName(key);
}

function endpointFrom(raw: RawOptions, env: NodeJS.ProcessEnv, given: boolean): string {
  if (given) return flagOrEnv(raw, 's3Endpoint', '--s3-endpoint');
  if (env.AWS_ENDPOINT_URL_S3) return 'AWS_ENDPOINT_URL_S3';
  if (env.AWS_ENDPOINT_URL) return 'AWS_ENDPOINT_URL';
  return 'default';
}

export async function buildS3Report(
  raw: RawOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<S3Report> {
  const [{ resolveObjectStoreSettings }, { ObjectStore }, { inspectObjectStore }] =
    await Promise.all([
      import('../config/object-store.js'),
      import('../storage/s3.js'),
      import('../storage/s3-inspect.js'),
    ]);
  let settings;
  try {
    settings = resolveObjectStoreSettings(raw, env);
  } catch (err) {
    // A bad setting is what doctor is for: report it with the rest.
    return { invalid: errorMessage(err) };
  }
  const store = new ObjectStore(settings);
  try {
    const { region, from } = await store.regionAndSource();
    let regionFrom = 'default';
    if (from === 'settings') regionFrom = flagOrEnv(raw, 's3Region', '--s3-region');
    else if (from === 'sdk') {
      regionFrom = env.AWS_REGION ? 'AWS_REGION' : `profile "${env.AWS_PROFILE || 'default'}"`;
    }
    const inspection = await inspectObjectStore(store, env);
    return {
      endpoint: store.endpoint,
      endpointFrom: endpointFrom(raw, env, settings.endpoint !== undefined),
      region,
      regionFrom,
      pathStyle: settings.forcePathStyle,
      cacheControl: settings.cacheControl ?? null,
      credentials: inspection.credentials,
      check: inspection.check,
    };
  } finally {
    store.close();
  }
}

export function formatS3Report(r: S3Report): string[] {
  if ('invalid' in r) return [`s3        invalid setting: ${r.invalid}`];
  const addressing = r.pathStyle
    ? 'path-style (host/bucket/key)'
    : 'virtual-hosted (bucket.host/key)';
  const lines = [
    `s3        endpoint ${r.endpoint} (${r.endpointFrom}), region ${r.region} (${r.regionFrom}), ${addressing}`,
    `          credentials: ${r.credentials.description}` +
      (r.credentials.accessKeyId ? `, key id ${r.credentials.accessKeyId}` : ''),
  ];
  if (r.cacheControl !== null) lines.push(`          cache-control: ${r.cacheControl}`);
  lines.push(
    r.check
      ? `          endpoint: ${r.check.detail}`
      : '          endpoint: AWS, not contacted (doctor checks only a configured endpoint)',
  );
  return lines;
}
