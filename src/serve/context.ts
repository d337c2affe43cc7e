import type { Redis } from 'ioredis';
import type { ServeConfig } from '../config/serve.js';
import type { QueueKeys } from '../queue/keys.js';
import type { Storage } from '../storage/index.js';
import type { TokenCheck } from './auth.js';
import type { ServeMetrics } from './metrics.js';
import type { UploadStore } from './upload-store.js';

/** What every route of the server shares. */
export interface ServeContext {
  config: ServeConfig;
  /** Real path of the data folder. */
  dataDir: string;
  redis: Redis;
  keys: QueueKeys;
  uploads: UploadStore;
  storage: Storage;
  tokens: TokenCheck;
  metrics: ServeMetrics;
}

/** The URL path of a job and of its outputs. */
export const jobPath = (id: string) => `/v1/jobs/${encodeURIComponent(id)}`;
export const outputPath = (id: string, name: string) =>
  `${jobPath(id)}/outputs/${encodeURIComponent(name)}`;
