import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore } from './s3.js';

/** Where the AWS SDK's own provider chain found credentials, as `imgproc doctor` shows it. */
export interface CredentialSource {
  /** `environment`, `profile`, `sso`, `process`, `web-identity`, `assume-role`, `container`, `instance`, `sdk`; null when none was found. */
  kind: string | null;
  /** One line for people: `environment variables (AWS_ACCESS_KEY_ID)`, `profile "x" in …`. */
  description: string;
  /** The access key id with all but its last 4 characters hidden, as `aws configure list` shows it. */
  accessKeyId?: string;
}

/** Whether a configured endpoint answers, and what it said of the credentials. */
export interface EndpointCheck {
  reachable: boolean;
  /** True or false when the endpoint judged the credentials; null when it could not be asked. */
  credentialsAccepted: boolean | null;
  detail: string;
}

export interface ObjectStoreInspection {
  credentials: CredentialSource;
  /** Null when no endpoint is configured: AWS itself is not contacted. */
  check: EndpointCheck | null;
}

/** Long enough for a server that answers; an address that swallows packets is not waited on longer. */
const PROBE_TIMEOUT_MS = 5_000;

/** The SDK marks credentials with the provider that made them (`$source`, feature ids). */
const SOURCES: [feature: string, kind: string][] = [
  ['CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN', 'web-identity'],
  ['CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN', 'web-identity'],
  ['CREDENTIALS_STS_ASSUME_ROLE_WEB_ID', 'web-identity'],
  ['CREDENTIALS_ENV_VARS', 'environment'],
  ['CREDENTIALS_PROFILE_SOURCE_PROFILE', 'assume-role'],
  ['CREDENTIALS_STS_ASSUME_ROLE', 'assume-role'],
  ['CREDENTIALS_PROFILE_SSO', 'sso'],
  ['CREDENTIALS_PROFILE_SSO_LEGACY', 'sso'],
  ['CREDENTIALS_SSO', 'sso'],
  ['CREDENTIALS_PROFILE_PROCESS', 'process'],
  ['CREDENTIALS_PROCESS', 'process'],
  ['CREDENTIALS_PROFILE_LOGIN', 'login'],
  ['CREDENTIALS_LOGIN', 'login'],
  ['CREDENTIALS_PROFILE', 'profile'],
  ['CREDENTIALS_HTTP', 'container'],
  ['CREDENTIALS_IMDS', 'instance'],
];

/** The shared config files the SDK reads, those that exist. */
function sharedFiles(env: NodeJS.ProcessEnv): string[] {
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE || join(homedir(), '.aws', 'credentials'),
    env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config'),
  ];
  return files.filter((f) => existsSync(f));
}

function describeSource(kind: string, env: NodeJS.ProcessEnv): string {
  const profile = `profile "${env.AWS_PROFILE || 'default'}"`;
  const files = sharedFiles(env).join(', ') || 'no shared config file';
  switch (kind) {
    case 'environment':
      return 'environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)';
    case 'profile':
      return `shared config files, ${profile} (${files})`;
    case 'web-identity':
      return 'web identity token (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or the profile)';
    case 'assume-role':
      return `assumed role (role_arn of ${profile})`;
    case 'sso':
      return `IAM Identity Center (SSO) login of ${profile}`;
    case 'process':
      return `credential_process of ${profile}`;
    case 'login':
      return `aws login session of ${profile}`;
    case 'container':
      return 'container credentials endpoint (ECS, EKS Pod Identity)';
    case 'instance':
      return 'EC2 instance metadata (instance role)';
    default:
      return 'the AWS SDK default provider chain';
  }
}

function maskKeyId(id: string): string {
  return id.length <= 4 ? '****' : `${'*'.repeat(Math.min(16, id.length - 4))}${id.slice(-4)}`;
}

async function credentialSource(
  store: ObjectStore,
  env: NodeJS.ProcessEnv,
): Promise<{ source: CredentialSource; found: boolean }> {
  const { client } = await store.sdkClient();
  try {
    const creds = await client.config.credentials();
    const marks = (creds as { $source?: Record<string, string> }).$source ?? {};
    const kind = SOURCES.find(([feature]) => feature in marks)?.[1] ?? 'sdk';
    return {
      source: {
        kind,
        description: describeSource(kind, env),
        accessKeyId: maskKeyId(creds.accessKeyId),
      },
      found: true,
    };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return {
      source: {
        kind: null,
        description: `none found (${reason}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or ~/.aws/credentials`,
      },
      found: false,
    };
  }
}

interface SdkFailure {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Why a request got no answer at all: a network error code, a timeout, or undefined (it answered). */
function unreachable(err: SdkFailure): string | undefined {
  if (err.$metadata?.httpStatusCode !== undefined) return undefined;
  const cause = (err as { cause?: { code?: string } }).cause?.code;
  return err.code ?? cause ?? (err.name === 'AbortError' ? 'timed out' : err.name);
}

/** The status of a plain HEAD of `url`, or the network error that kept it from answering. */
function httpHead(url: string, timeoutMs: number): Promise<number> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'HEAD', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end();
  });
}

/** One ListBuckets: the endpoint answers, and says whether these credentials are valid. */
async function checkEndpoint(store: ObjectStore, signed: boolean): Promise<EndpointCheck> {
  if (!signed) {
    // Nothing to sign with: only whether anything answers there.
    return httpHead(store.endpoint, PROBE_TIMEOUT_MS).then(
      (status) => ({
        reachable: true,
        credentialsAccepted: null,
        detail: `reachable (HTTP ${status}); credentials not checked, none found`,
      }),
      (err: NodeJS.ErrnoException) => ({
        reachable: false,
        credentialsAccepted: null,
        detail: `cannot reach ${store.endpoint} (${err.code ?? err.message})`,
      }),
    );
  }
  const { sdk, client } = await store.sdkClient();
  try {
    const abortSignal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    await client.send(new sdk.ListBucketsCommand({}), { abortSignal });
    return {
      reachable: true,
      credentialsAccepted: true,
      detail: 'reachable, credentials accepted',
    };
  } catch (caught) {
    const err = (caught ?? {}) as SdkFailure;
    const down = unreachable(err);
    if (down !== undefined) {
      return {
        reachable: false,
        credentialsAccepted: null,
        detail: `cannot reach ${store.endpoint} (${down})`,
      };
    }
    const name = err.name ?? `HTTP ${err.$metadata?.httpStatusCode}`;
    if (/InvalidAccessKeyId|SignatureDoesNotMatch|InvalidToken|ExpiredToken/.test(name)) {
      return {
        reachable: true,
        credentialsAccepted: false,
        detail: `reachable, but it refused the credentials (${name})`,
      };
    }
    if (name === 'AccessDenied' || err.$metadata?.httpStatusCode === 403) {
      return {
        reachable: true,
        credentialsAccepted: null,
        detail: `reachable; listing buckets was denied (${name}), as it is to credentials scoped to some buckets`,
      };
    }
    return {
      reachable: true,
      credentialsAccepted: null,
      detail: `reachable, but listing buckets answered ${name} (HTTP ${err.$metadata?.httpStatusCode}): check that this is an S3 endpoint`,
    };
  }
}

/**
 * What `imgproc doctor` reports of object storage: where the SDK's own provider chain finds
 * credentials (never the secret) and, when an endpoint is configured, whether it answers.
 */
export async function inspectObjectStore(
  store: ObjectStore,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ObjectStoreInspection> {
  const { source, found } = await credentialSource(store, env);
  return {
    credentials: source,
    check: store.configuredEndpoint ? await checkEndpoint(store, found) : null,
  };
}
