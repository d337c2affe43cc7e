import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { VERSION } from '../version.js';
import { objectUrl, parseObjectUrl, type ObjectAddress } from './location.js';
import { ObjectBody, changed } from './s3-body.js';
import { describeS3Error } from './s3-errors.js';
import type { ListedObject, SourceInfo } from './storage.js';

/** How to reach object storage, beyond what the AWS SDK finds itself (env, config files, profiles). */
export interface ObjectStoreSettings {
  /** An S3-compatible endpoint (MinIO, Ceph, R2…); else AWS_ENDPOINT_URL(_S3), else AWS. */
  endpoint?: string;
  /** `http://host/bucket/key` instead of `http://bucket.host/key`: what most local servers need. */
  forcePathStyle: boolean;
  /** Else AWS_REGION / the profile's region, else us-east-1. */
  region?: string;
  /** Cache-Control of every object written. */
  cacheControl?: string;
}

/**
 * User metadata on every object imgproc writes (`x-amz-meta-imgproc: <version>`): an object
 * without it at an output key was put there by someone else, and is never replaced.
 */
const OWNER_MARK = 'imgproc';

/** Who put the object at a key: nobody yet, imgproc, or someone else. */
export type ObjectOwner = 'absent' | 'imgproc' | 'foreign';

/** Reached after the SDK's own retries (throttling, 5xx, dropped connections), with backoff. */
const MAX_ATTEMPTS = 4;
const CONNECT_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 60_000;

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** A 404 about the object, not about its bucket. */
function isMissingObject(err: unknown): boolean {
  return httpStatus(err) === 404 && (err as Error).name !== 'NoSuchBucket';
}

/** The AWS SDK, loaded on first use. */
async function loadSdk(): Promise<typeof import('./s3-sdk.js')> {
  // The pinned release supports Node 20; its warning is about releases after it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return import('./s3-sdk.js');
}

/** The region the SDK would take from the environment or the shared config, if any. */
async function sdkRegion(): Promise<string | undefined> {
  const { S3Client } = await loadSdk();
  const probe = new S3Client({});
  try {
    return await probe.config.region();
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}

/** Objects in S3 or an S3-compatible server through @aws-sdk/client-s3, loaded on first use. */
export class ObjectStore {
  private client?: Promise<{ sdk: typeof import('./s3-sdk.js'); client: S3Client }>;

  constructor(readonly settings: ObjectStoreSettings) {}

  /** The endpoint given by flag or environment; undefined means AWS itself. */
  get configuredEndpoint(): string | undefined {
    const env = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL;
    return this.settings.endpoint ?? (env || undefined);
  }

  /** Where requests go, for messages and `imgproc doctor`. */
  get endpoint(): string {
    return this.configuredEndpoint ?? 'AWS S3';
  }

  async region(): Promise<string> {
    return (await this.regionAndSource()).region;
  }

  /** The region, and whether it was given, found by the SDK (AWS_REGION, profile) or defaulted. */
  async regionAndSource(): Promise<{ region: string; from: 'settings' | 'sdk' | 'default' }> {
    if (this.settings.region) return { region: this.settings.region, from: 'settings' };
    const found = await sdkRegion();
    return found ? { region: found, from: 'sdk' } : { region: 'us-east-1', from: 'default' };
  }

  /** The SDK and the one client every request goes through, made on first use. */
  sdkClient() {
    this.client ??= (async () => {
      const sdk = await loadSdk();
      const client = new sdk.S3Client({
        endpoint: this.settings.endpoint,
        forcePathStyle: this.settings.forcePathStyle,
        region: await this.region(),
        maxAttempts: MAX_ATTEMPTS,
        // Checksums only where the API requires them: many S3-compatible servers reject the rest.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: {
          connectionTimeout: CONNECT_TIMEOUT_MS,
          requestTimeout: REQUEST_TIMEOUT_MS,
        },
      });
      return { sdk, client };
    })();
    return this.client;
  }

  private async fail(err: unknown, at: ObjectAddress): Promise<Error> {
    let bucketMissing = false;
    if (httpStatus(err) === 404 && (err as Error).name === 'NotFound') {
      // A HEAD's 404 has no body: ask whether the bucket itself is there.
      const { sdk, client } = await this.sdkClient();
      bucketMissing = await client.send(new sdk.HeadBucketCommand({ Bucket: at.bucket })).then(
        () => false,
        (e: unknown) => httpStatus(e) === 404,
      );
    }
    return describeS3Error(err, {
      location: objectUrl(at),
      bucket: at.bucket,
      endpoint: this.endpoint,
      bucketMissing,
    });
  }

  /** A request about `url`; an SDK failure becomes one clear error (s3-errors.ts). */
  async run<T>(url: string, request: (at: ObjectAddress) => Promise<T>): Promise<T> {
    const at = parseObjectUrl(url);
    try {
      return await request(at);
    } catch (err) {
      throw await this.fail(err, at);
    }
  }

  /** Size and ETag from a HEAD: no bytes of the object move. */
  async stat(url: string): Promise<SourceInfo> {
    const { sdk, client } = await this.sdkClient();
    return this.run(url, async ({ bucket, key }) => {
      const head = await client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { bytes: head.ContentLength ?? 0, etag: head.ETag };
    });
  }

  /**
   * A GET of the whole object, whose body is taken off the connection as it is asked for. The
   * server must announce `expected` bytes when given: what the memory budget admitted is what is
   * held, and an object replaced meanwhile by a larger one is not read.
   */
  async open(url: string, expected?: number): Promise<{ body: ObjectBody; etag?: string }> {
    const { sdk, client } = await this.sdkClient();
    return this.run(url, async (at) => {
      const got = await client.send(new sdk.GetObjectCommand({ Bucket: at.bucket, Key: at.key }));
      const stream = got.Body as (Readable & AsyncIterable<Uint8Array>) | undefined;
      const size = got.ContentLength;
      if (size === undefined || (expected !== undefined && size !== expected)) {
        stream?.destroy();
        throw changed(url, size, expected ?? 0);
      }
      const body = new ObjectBody(stream, size, url, (err) => this.fail(err, at));
      return { body, etag: got.ETag };
    });
  }

  /** A small object as text, or undefined when it does not exist. */
  async readText(url: string): Promise<string | undefined> {
    const { sdk, client } = await this.sdkClient();
    const at = parseObjectUrl(url);
    try {
      const got = await client.send(new sdk.GetObjectCommand({ Bucket: at.bucket, Key: at.key }));
      return (await got.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      if (isMissingObject(err)) return undefined;
      throw await this.fail(err, at);
    }
  }

  /** An object's size, or undefined when it does not exist. */
  async sizeOf(url: string): Promise<number | undefined> {
    const { sdk, client } = await this.sdkClient();
    const at = parseObjectUrl(url);
    try {
      const head = await client.send(new sdk.HeadObjectCommand({ Bucket: at.bucket, Key: at.key }));
      return head.ContentLength;
    } catch (err) {
      if (isMissingObject(err)) return undefined;
      throw await this.fail(err, at);
    }
  }

  /** Whether an object is at `url`, and whether imgproc wrote it (its metadata), from a HEAD. */
  async ownerOf(url: string): Promise<ObjectOwner> {
    const { sdk, client } = await this.sdkClient();
    const at = parseObjectUrl(url);
    try {
      const head = await client.send(new sdk.HeadObjectCommand({ Bucket: at.bucket, Key: at.key }));
      return head.Metadata?.[OWNER_MARK] !== undefined ? 'imgproc' : 'foreign';
    } catch (err) {
      if (isMissingObject(err)) return 'absent';
      throw await this.fail(err, at);
    }
  }

  /** One PutObject, marked as imgproc's: the object appears whole or not at all. */
  async write(url: string, data: Buffer | string, contentType: string): Promise<void> {
    const { sdk, client } = await this.sdkClient();
    await this.run(url, ({ bucket, key }) =>
      client.send(
        new sdk.PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: data,
          ContentType: contentType,
          CacheControl: this.settings.cacheControl,
          Metadata: { [OWNER_MARK]: VERSION },
        }),
      ),
    );
  }

  async remove(url: string): Promise<void> {
    const { sdk, client } = await this.sdkClient();
    await this.run(url, ({ bucket, key }) =>
      client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key })),
    );
  }

  /** Every object under `s3://bucket/prefix`, page by page (1,000 keys a request). */
  async *list(prefixUrl: string): AsyncGenerator<ListedObject> {
    const { sdk, client } = await this.sdkClient();
    const at = parseObjectUrl(prefixUrl);
    try {
      const pages = sdk.paginateListObjectsV2({ client }, { Bucket: at.bucket, Prefix: at.key });
      for await (const page of pages) {
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          yield {
            location: objectUrl({ bucket: at.bucket, key: o.Key }),
            key: o.Key,
            info: { bytes: o.Size ?? 0, etag: o.ETag },
          };
        }
      }
    } catch (err) {
      throw await this.fail(err, at);
    }
  }

  close(): void {
    void this.client?.then(({ client }) => client.destroy());
  }
}
