import { hostname } from 'node:os';
import { mkdir, open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { FatalError, errorMessage } from '../errors.js';

const LOCK_NAME = '.imgproc.lock';
const REFRESH_MS = 10_000;
/** A lock whose owner stopped refreshing it this long ago is stale (a crash, kill -9, reboot). */
const STALE_MS = 60_000;

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(path: string): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    const info = JSON.parse(text) as LockInfo;
    if (info.host === hostname() && !alive(info.pid)) return true;
    return Date.now() - st.mtimeMs > STALE_MS;
  } catch {
    // Unreadable or half-written lock: stale only once it has aged.
    const st = await stat(path).catch(() => undefined);
    return !st || Date.now() - st.mtimeMs > STALE_MS;
  }
}

/** One run per output folder at a time: cron jobs that overlap are refused, not interleaved. */
export class RunLock {
  private timer?: NodeJS.Timeout;
  private released?: Promise<void>;

  private constructor(readonly path: string) {}

  static async acquire(outDir: string): Promise<RunLock> {
    try {
      await mkdir(outDir, { recursive: true });
    } catch (err) {
      throw new FatalError(`cannot create output folder ${outDir}: ${errorMessage(err)}`);
    }
    const path = join(outDir, LOCK_NAME);
    const info: LockInfo = {
      pid: process.pid,
      host: hostname(),
      started: new Date().toISOString(),
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(path, 'wx');
        await fh.writeFile(JSON.stringify(info) + '\n');
        await fh.close();
        const lock = new RunLock(path);
        lock.timer = setInterval(() => {
          const now = new Date();
          utimes(path, now, now).catch(() => undefined);
        }, REFRESH_MS);
        lock.timer.unref();
        return lock;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST') {
          throw new FatalError(`output folder ${outDir} is not writable: ${errorMessage(err)}`);
        }
        if (attempt === 0 && (await isStale(path))) {
          await rm(path, { force: true });
          continue;
        }
        const holder = await readFile(path, 'utf8').catch(() => '');
        throw new FatalError(
          `another imgproc run is using ${outDir} (lock ${path}: ${holder.trim() || 'unreadable'}); ` +
            `wait for it to finish, or delete the lock if that run is gone`,
        );
      }
    }
    throw new FatalError(`cannot lock ${outDir}`);
  }

  release(): Promise<void> {
    this.released ??= (async () => {
      clearInterval(this.timer);
      await rm(this.path, { force: true }).catch(() => undefined);
    })();
    return this.released;
  }
}
