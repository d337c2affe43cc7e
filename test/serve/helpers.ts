import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import { FAST, cli, killAll, type CliProcess } from '../queue/daemon-helpers.js';
import { startRedis, waitFor, type TestRedis } from '../queue/redis-server.js';

/** A redis-server, a data folder, and the built CLI as `serve` and as daemons beside it. */
export interface ServeRig {
  redis: TestRedis;
  dir: string;
  data: string;
  started: CliProcess[];
  /** Starts `imgproc serve` on a free port; resolves with its base URL once it listens. */
  serve(extra?: string[], env?: Record<string, string>): Promise<{ url: string; proc: CliProcess }>;
  /** Starts a daemon on the same queue and data folder (short heartbeats). */
  daemon(extra?: string[], env?: Record<string, string>): CliProcess;
  /** Files under the upload folder (temporary ones included). */
  uploads(): string[];
  destroy(): Promise<void>;
}

export async function serveRig(prefix = 'sv:'): Promise<ServeRig> {
  const redis = await startRedis();
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'imgproc-serve-')));
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  const started: CliProcess[] = [];
  const queue = ['--redis', redis.url, '--prefix', prefix, '--data-dir', data];
  return {
    redis,
    dir,
    data,
    started,
    async serve(extra = [], env = {}) {
      const proc = cli(['serve', ...queue, '--port', '0', ...extra], dir, started, env);
      const line = await waitFor(
        'serve to listen',
        () => {
          if (proc.child.exitCode !== null) throw new Error(`serve exited: ${proc.stderr()}`);
          return /listening on (http:\/\/\S+)/.exec(proc.stderr());
        },
        20_000,
      );
      return { url: line[1]!, proc };
    },
    daemon(extra = [], env = {}) {
      return cli(['--daemon', ...queue, '--cpu', '-j', '4', ...FAST, ...extra], dir, started, env);
    },
    uploads() {
      const root = join(data, 'uploads');
      try {
        return readdirSync(root, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => e.name);
      } catch {
        return [];
      }
    },
    async destroy() {
      await killAll(started);
      await redis.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A bearer token long enough for the server's rule. */
export const TOKEN = 'test-token-0123456789abcdef';

/** A small PNG, different for every seed below 256. */
export const tinyPng = (seed: number) =>
  sharp({
    create: { width: 20, height: 12, channels: 3, background: { r: seed % 256, g: 9, b: 200 } },
  })
    .png()
    .toBuffer();

/** Starts an upload that declares `declared` bytes but sends only `sent`; `abort` cuts it. */
export function partialUpload(url: string, declared: number, sent: number) {
  let req!: ReturnType<typeof request>;
  const answer = new Promise<{ status: number; body: Record<string, unknown> }>(
    (resolve, reject) => {
      req = request(
        `${url}/v1/jobs`,
        { method: 'POST', headers: { 'content-type': 'image/png', 'content-length': declared } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () =>
            resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }),
          );
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(sent, 1));
    },
  );
  return { answer, abort: () => req.destroy() };
}
