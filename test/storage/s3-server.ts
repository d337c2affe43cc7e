import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { freePort } from '../queue/redis-server.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));
// The pinned SDK supports Node 20; its notice is about later releases.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** s3rver's fixed key pair: the server refuses any other access key id. */
const ACCESS_KEY = 'S3RVER';

/** One request as the server saw it: `GET /photos/u/a.jpg`, its query and Range header if any. */
export interface SeenRequest {
  method: string;
  path: string;
  query?: string;
  range?: string;
}

export interface TestS3 {
  port: number;
  endpoint: string;
  /** What the CLI needs to reach this server: credentials, region, endpoint, path style. */
  env: Record<string, string>;
  /** Every request since the last reset, in arrival order. */
  requests: SeenRequest[];
  /** Responses the client closed before they were sent whole (bytes sent by then), since the last reset. */
  cut: { path: string; sent: number }[];
  client: S3Client;
  createBucket(name: string): Promise<void>;
  put(bucket: string, key: string, body: Buffer | string): Promise<void>;
  get(bucket: string, key: string): Promise<Buffer>;
  head(bucket: string, key: string): Promise<{ contentType?: string; cacheControl?: string }>;
  /** An object's user metadata (`x-amz-meta-*`), names lower-cased. */
  metadata(bucket: string, key: string): Promise<Record<string, string>>;
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** Multipart uploads begun and neither completed nor aborted: their parts are still stored. */
  openMultipartUploads(bucket: string): string[];
  /** Stores many small objects at once, straight into the server's own store. */
  seed(bucket: string, keys: string[], body: string): Promise<void>;
  /** Stops answering (connections refused) until start(); the stored objects stay. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A real S3-compatible server (s3rver: the S3 REST API over a folder) in its own process on a free
 * port, spoken to with path-style addressing. Requests are counted at the server's HTTP socket.
 */
export async function startS3(): Promise<TestS3> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'imgproc-s3-'));
  const endpoint = `http://127.0.0.1:${port}`;
  let running: ChildProcess | undefined;
  let seeded: (() => void) | undefined;
  const requests: SeenRequest[] = [];
  const cut: TestS3['cut'] = [];
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const server: TestS3 = {
    port,
    endpoint,
    env: {
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: ACCESS_KEY,
      AWS_REGION: 'us-east-1',
      // Nothing from the developer's own AWS setup, and no instance-metadata probes.
      AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      IMGPROC_S3_ENDPOINT: endpoint,
      IMGPROC_S3_PATH_STYLE: '1',
    },
    requests,
    cut,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async put(bucket, key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async get(bucket, key) {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await got.Body!.transformToByteArray());
    },
    async head(bucket, key) {
      const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { contentType: h.ContentType, cacheControl: h.CacheControl };
    },
    async metadata(bucket, key) {
      const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return h.Metadata ?? {};
    },
    async keys(bucket, prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
    openMultipartUploads(bucket) {
      // s3rver keeps each upload's parts in a folder of its own until it is completed.
      const uploads = join(dir, bucket, '._S3rver_uploads');
      return existsSync(uploads) ? readdirSync(uploads) : [];
    },
    async seed(bucket, keys, body) {
      const done = new Promise<void>((r) => (seeded = r));
      running!.stdin!.write(JSON.stringify({ seed: { bucket, keys, body } }) + '\n');
      await done;
    },
    async start() {
      const child = spawn(
        process.execPath,
        ['--openssl-legacy-provider', SERVER_SCRIPT, String(port), dir],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      running = child;
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const seen = JSON.parse(line) as SeenRequest & {
            ready?: boolean;
            seeded?: number;
            cut?: string;
            sent?: number;
          };
          if (seen.ready) resolve();
          else if (seen.cut !== undefined) cut.push({ path: seen.cut, sent: seen.sent! });
          else if (seen.seeded !== undefined) seeded?.();
          else {
            const { method, path, query, range } = seen;
            requests.push({ method, path, query, range });
          }
        });
      });
    },
    async stop() {
      const child = running;
      running = undefined;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    async destroy() {
      await server.stop();
      client.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
