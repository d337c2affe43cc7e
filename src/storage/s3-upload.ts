import type { Readable } from 'node:stream';
import { parseObjectUrl } from './location.js';
import type { ObjectStore } from './s3.js';

/** Parts of a streamed upload of unknown length: S3's smallest, so that memory stays small. */
const PART_BYTES = 5 * 1024 * 1024;
/** Parts sent at once per upload: one, while the next one fills (about two parts held). */
const PARTS_IN_FLIGHT = 1;
/** The largest object one PutObject may write. */
const MAX_PUT_BYTES = 5 * 1024 ** 3;

export interface StreamOptions {
  /** The body's exact length, when known in advance: it then flows through unbuffered. */
  bytes?: number;
  contentType?: string;
}

/**
 * Streams `body` into the object at `url` without holding it whole. Of a known length, it is one
 * PutObject that carries the body as it arrives (nothing buffered); else a multipart upload of
 * 5 MiB parts, one in flight, each gathered in memory first (@aws-sdk/lib-storage; one PutObject
 * when the body ends within a part). Either way an upload that fails (the body errors, the server
 * fails) leaves no object and no parts. The body's own error is thrown as it is; a server's
 * failure as a StorageError.
 */
export async function streamToObject(
  store: ObjectStore,
  url: string,
  body: Readable,
  opts: StreamOptions = {},
): Promise<void> {
  const { sdk, client } = await store.sdkClient();
  const contentType = opts.contentType ?? 'application/octet-stream';
  const known = opts.bytes !== undefined && opts.bytes <= MAX_PUT_BYTES ? opts.bytes : undefined;
  const Upload = known === undefined ? sdk.Upload : null;
  let bodyError: Error | null = null;
  await store.run(url, async ({ bucket, key }) => {
    const params = { Bucket: bucket, Key: key, Body: body, ContentType: contentType };
    try {
      if (Upload) {
        await new Upload({
          client,
          params,
          partSize: PART_BYTES,
          queueSize: PARTS_IN_FLIGHT,
          leavePartsOnError: false,
        }).done();
      } else {
        // The SDK pipes the body into its request, which a failing body would leave hanging.
        const abort = new AbortController();
        const onError = () => abort.abort();
        body.once('error', onError);
        try {
          const put = new sdk.PutObjectCommand({ ...params, ContentLength: known });
          await client.send(put, { abortSignal: abort.signal });
        } finally {
          body.off('error', onError);
        }
      }
    } catch (err) {
      bodyError = body.errored;
      if (!bodyError) throw err;
    }
  });
  if (bodyError) throw bodyError;
}

/** A server-side copy (no bytes through this process), with its own Content-Type. */
export async function copyObject(
  store: ObjectStore,
  from: string,
  to: string,
  contentType: string,
): Promise<void> {
  const { sdk, client } = await store.sdkClient();
  const { bucket, key } = parseObjectUrl(from);
  await store.run(to, (at) =>
    client.send(
      new sdk.CopyObjectCommand({
        Bucket: at.bucket,
        Key: at.key,
        CopySource: `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'REPLACE',
        ContentType: contentType,
      }),
    ),
  );
}
