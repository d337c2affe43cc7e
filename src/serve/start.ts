import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ServeConfig } from '../config/serve.js';
import { FatalError, UsageError } from '../errors.js';
import { relativeInside, realInside } from '../paths.js';
import { serviceConnection } from '../queue/connection.js';
import { queueKeys } from '../queue/keys.js';
import { Storages, isObjectUrl } from '../storage/index.js';
import { buildApp, type ServeLog } from './app.js';
import { TokenCheck } from './auth.js';
import type { ServeContext } from './context.js';
import { ServeMetrics } from './metrics.js';
import { ObjectUploads } from './object-uploads.js';
import { LocalUploads } from './upload-store.js';

/** A running server: where it listens, and how to stop it (once, however often called). */
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** The upload folder, inside the data folder (links followed), '/'-separated relative to it. */
async function uploadFolder(dataDir: string, given: string): Promise<string> {
  const abs = resolve(dataDir, given);
  const rel = relativeInside(dataDir, abs);
  if (!rel || !(await realInside(dataDir, abs))) {
    throw new UsageError(
      `--upload-dir ${given} is outside the data folder ${dataDir}: uploads must be where the daemons read`,
    );
  }
  return rel;
}

/** Connects to Redis, prepares the upload folder and listens. */
export async function startServer(config: ServeConfig, log: ServeLog): Promise<RunningServer> {
  const keys = queueKeys({ prefix: config.prefix, queue: config.queue });
  const dataDir = await realpath(config.dataDir).catch(() => {
    throw new FatalError(`--data-dir ${config.dataDir} does not exist`);
  });
  const storage = new Storages(config.objectStore);
  const uploads = isObjectUrl(config.uploadDir)
    ? new ObjectUploads(storage.objects, config.uploadDir)
    : new LocalUploads(dataDir, await uploadFolder(dataDir, config.uploadDir));
  const swept = await uploads.prepare();
  if (swept) log(`removed ${swept} partial upload(s) left by an earlier server`);
  const redis = await serviceConnection(config.redisUrl).catch((err: unknown) => {
    storage.close();
    throw err;
  });
  const ctx: ServeContext = {
    config,
    dataDir,
    redis,
    keys,
    uploads,
    storage,
    tokens: new TokenCheck(config.tokens),
    metrics: new ServeMetrics(),
  };
  let app: FastifyInstance;
  try {
    app = await buildApp(ctx, log);
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    redis.disconnect();
    storage.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new FatalError(`cannot listen on ${config.host}:${config.port}: ${code}`);
    }
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    close() {
      closing ??= (async () => {
        try {
          await app.close();
        } finally {
          redis.disconnect();
          storage.close();
        }
      })();
      return closing;
    },
  };
}
