// A real S3-compatible server (s3rver) in a process of its own, for the tests: started with
// --openssl-legacy-provider, since s3rver ciphers its continuation tokens with DES. Every request
// is written to stdout as one JSON line, so the tests can count what reached the server, and what
// it was not let to send whole.
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import S3rver from 's3rver';
import { syncFileStore } from './s3rver-sync-store.mjs';

const S3Object = createRequire(import.meta.url)('s3rver/lib/models/object.js');

const [port, directory] = process.argv.slice(2);
const server = new S3rver({ port: Number(port), address: '127.0.0.1', silent: true, directory });

// s3rver logs every request through koa-logger even when silent (formatted, then dropped), and
// reads each bucket's CORS and website configuration from disk on every request. Neither is what
// an S3 server spends its time on: the logger is left out, and bucket configurations are kept in
// memory, forgotten whenever one is put or deleted or the bucket is made or removed.
server.middleware = server.middleware.filter((fn) => fn.name !== 'logger');
const bucketConfigs = new Map();
const getSubresource = server.store.getSubresource.bind(server.store);
server.store.getSubresource = (bucket, key, type) => {
  if (key !== undefined) return getSubresource(bucket, key, type);
  const id = `${bucket}/${type}`;
  let config = bucketConfigs.get(id);
  if (!config) {
    config = getSubresource(bucket, key, type);
    bucketConfigs.set(id, config);
    config.catch(() => bucketConfigs.delete(id));
  }
  return config;
};
// Every request asks whether its bucket is there (a stat); a bucket seen is remembered until it is
// removed through the API.
const buckets = new Map();
const getBucket = server.store.getBucket.bind(server.store);
server.store.getBucket = async (bucket) => {
  const known = buckets.get(bucket);
  if (known) return known;
  const found = await getBucket(bucket);
  if (found) buckets.set(bucket, found);
  return found;
};
for (const change of ['putSubresource', 'deleteSubresource', 'putBucket', 'deleteBucket']) {
  const apply = server.store[change].bind(server.store);
  server.store[change] = async (bucket, ...rest) => {
    try {
      return await apply(bucket, ...rest);
    } finally {
      buckets.delete(bucket);
      for (const id of bucketConfigs.keys())
        if (id.startsWith(`${bucket}/`)) bucketConfigs.delete(id);
    }
  };
}

// File operations without the thread pool (s3rver-sync-store.mjs).
syncFileStore(server.store);

// S3 stores a PUT whole or not at all; s3rver streams the body into place and keeps the part it
// got of an aborted upload (without its metadata). The body is taken whole before it is stored
// (which syncFileStore requires). A PUT received whole is stored whole, even when the server is
// told to stop meanwhile.
const putObject = server.store.putObject.bind(server.store);
const storing = new Set();
server.store.putObject = async (object) => {
  if (!Buffer.isBuffer(object.content)) {
    const chunks = [];
    for await (const chunk of object.content) chunks.push(chunk);
    object.content = Buffer.concat(chunks);
  }
  const stored = putObject(object);
  storing.add(stored);
  try {
    return await stored;
  } finally {
    storing.delete(stored);
  }
};
// s3rver has no AbortMultipartUpload (it answers 405): S3 drops the upload and its parts.
const handle = server.callback.bind(server);
server.callback = () => {
  const koa = handle();
  return (req, res) => {
    const url = new URL(req.url, 'http://s3');
    const uploadId = url.searchParams.get('uploadId');
    if (req.method !== 'DELETE' || uploadId === null) return koa(req, res);
    const bucket = decodeURIComponent(url.pathname.split('/')[1] ?? '');
    const uploads = server.store.getResourcePath(bucket, undefined, 'uploads');
    const parts = join(uploads, uploadId);
    if (dirname(parts) !== uploads) return void res.writeHead(400).end();
    rm(parts, { recursive: true }).then(
      () => res.writeHead(204).end(),
      () => res.writeHead(404).end(),
    );
  };
};
await server.run();
server.httpServer.on('request', (req, res) => {
  const [path, query] = req.url.split('?');
  const seen = { method: req.method, path, query, range: req.headers.range };
  process.stdout.write(JSON.stringify(seen) + '\n');
  // A response the client stopped reading, and how much of it had gone out by then:
  // `{"cut":"/bucket/key","sent":123456}`.
  const before = req.socket.bytesWritten;
  res.on('close', () => {
    if (res.writableFinished) return;
    const sent = req.socket.bytesWritten - before;
    process.stdout.write(JSON.stringify({ cut: path, sent }) + '\n');
  });
});
process.stdout.write(JSON.stringify({ ready: true }) + '\n');

// Many small objects at once through s3rver's own store (what a PUT ends in), without a thousand
// HTTP round trips: `{"seed":{"bucket":"b","keys":["k1","k2"],"body":"x"}}` on stdin (`"encoding":
// "base64"` for binary bodies).
createInterface({ input: process.stdin }).on('line', async (line) => {
  const { bucket, keys, body, encoding } = JSON.parse(line).seed;
  for (let i = 0; i < keys.length; i += 100) {
    await Promise.all(
      keys
        .slice(i, i + 100)
        .map((key) =>
          server.store.putObject(
            new S3Object(bucket, key, Buffer.from(body, encoding ?? 'utf8'), {}),
          ),
        ),
    );
  }
  process.stdout.write(JSON.stringify({ seeded: keys.length }) + '\n');
});
process.on('SIGTERM', () => {
  server.httpServer.closeAllConnections();
  server.close(() => Promise.allSettled([...storing]).then(() => process.exit(0)));
});
