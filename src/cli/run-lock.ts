/**
 * One run per output folder. The lock is `<out>/.imgproc.lock`, a JSON file naming its owner, and
 * it is only ever created whole (written under a temporary name, then hard-linked into place), so a
 * lock is never seen half-written. A lock whose owner is gone is taken over under a takeover guard,
 * so that many runs starting together on a stale lock elect exactly one. No lock library fits:
 * proper-lockfile's stale reclaim (rmdir + mkdir) lets two racers both win, and it has no notion of
 * a dead owner's process id, so a crashed run would block the next ones for its whole stale time.
 */
import { randomBytes } from 'node:crypto';
import {
  link,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FatalError, ResourceError, errnoReason, errorMessage, resourceCode } from '../errors.js';
import { makeFolder } from '../storage/atomic-write.js';

const LOCK_NAME = '.imgproc.lock';
const GUARD_NAME = '.imgproc.lock.takeover';
const REFRESH_MS = 10_000;
/** A lock whose owner stopped refreshing it this long ago is stale (a crash on another host). */
const STALE_MS = 60_000;
/** The guard is held for a few file operations: one this old belongs to a run that died. */
const GUARD_STALE_MS = 10_000;
const GUARD_TRIES = 50;

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

function ownerGone(info: Partial<LockInfo> | undefined, mtimeMs: number): boolean {
  if (Date.now() - mtimeMs > STALE_MS) return true;
  // Locks are never written in pieces: one that does not parse is debris, not a run.
  if (!info || typeof info.pid !== 'number' || typeof info.host !== 'string') return true;
  return info.host === hostname() && !alive(info.pid);
}

async function readLock(
  path: string,
): Promise<{ info?: LockInfo; ino: number; mtimeMs: number } | undefined> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return undefined;
  const text = await readFile(path, 'utf8').catch(() => '');
  let info: LockInfo | undefined;
  try {
    info = JSON.parse(text) as LockInfo;
  } catch {
    info = undefined;
  }
  return { info, ino: st.ino, mtimeMs: st.mtimeMs };
}

function fsFailure(err: unknown, outDir: string): Error {
  const resource = resourceCode(err);
  if (resource) return new ResourceError(resource, outDir);
  return new FatalError(
    `output folder ${outDir} is not writable: ${errnoReason(err) ?? errorMessage(err)}`,
  );
}

const nonce = () => `${process.pid}-${randomBytes(6).toString('hex')}`;

/**
 * Holds the takeover guard while `fn` runs. The guard is a folder holding one file named after
 * its owner; it is taken by renaming a prepared folder onto it, which succeeds only while it is
 * absent or empty, and a dead owner's guard is freed by moving that owner's uniquely named file out.
 */
async function withGuard<T>(outDir: string, fn: () => Promise<T>): Promise<T | undefined> {
  const guard = join(outDir, GUARD_NAME);
  const mine = `${nonce()}@${hostname()}`;
  const prepared = join(outDir, `${GUARD_NAME}-${nonce()}`);
  await mkdir(prepared);
  try {
    await writeFile(join(prepared, mine), '');
  } catch (err) {
    await rm(prepared, { recursive: true, force: true });
    throw err;
  }
  for (let attempt = 0; attempt < GUARD_TRIES; attempt++) {
    try {
      await rename(prepared, guard);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') {
        await rm(prepared, { recursive: true, force: true });
        throw err;
      }
      const [owner] = await readdir(guard).catch(() => [] as string[]);
      const st = await stat(guard).catch(() => undefined);
      if (owner && st) {
        const [pid, host] = [Number(owner.split('-')[0]), owner.split('@')[1]];
        const dead =
          (host === hostname() && !alive(pid)) || Date.now() - st.mtimeMs > GUARD_STALE_MS;
        // Only the owner judged dead is moved out; whoever moves it first frees the guard.
        if (dead) await rm(join(guard, owner), { force: true });
      }
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      continue;
    }
    try {
      return await fn();
    } finally {
      await rm(join(guard, mine), { force: true });
      // Another run may already have put its own guard in place: that one is not empty.
      await rmdir(guard).catch(() => undefined);
    }
  }
  await rm(prepared, { recursive: true, force: true });
  return undefined;
}

export class RunLock {
  private timer?: NodeJS.Timeout;
  private released?: Promise<void>;

  private constructor(
    readonly path: string,
    private readonly ino: number,
  ) {}

  static async acquire(outDir: string): Promise<RunLock> {
    try {
      await makeFolder(outDir);
    } catch (err) {
      const resource = resourceCode(err);
      if (resource) throw new ResourceError(resource, outDir);
      throw new FatalError(
        `cannot create output folder ${outDir}: ${errnoReason(err) ?? errorMessage(err)}`,
      );
    }
    const path = join(outDir, LOCK_NAME);
    const info: LockInfo = {
      pid: process.pid,
      host: hostname(),
      started: new Date().toISOString(),
    };
    const draft = join(outDir, `${LOCK_NAME}-${nonce()}`);
    try {
      await writeFile(draft, JSON.stringify(info) + '\n');
    } catch (err) {
      await rm(draft, { force: true }).catch(() => undefined);
      throw fsFailure(err, outDir);
    }
    try {
      const place = async (): Promise<boolean> => {
        try {
          await link(draft, path);
          return true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
          throw fsFailure(err, outDir);
        }
      };
      let placed = await place();
      if (!placed) {
        const seen = await readLock(path);
        if (!seen || ownerGone(seen.info, seen.mtimeMs)) {
          placed =
            (await withGuard(outDir, async () => {
              // Judged again under the guard: only a lock still dead is removed.
              const now = await readLock(path);
              if (now && !ownerGone(now.info, now.mtimeMs)) return false;
              if (now) await rm(path, { force: true });
              return place();
            }).catch((err: unknown) => {
              throw err instanceof FatalError ? err : fsFailure(err, outDir);
            })) ?? false;
        }
      }
      if (!placed) {
        const holder = await readFile(path, 'utf8').catch(() => '');
        throw new FatalError(
          `another imgproc run is using ${outDir} (lock ${path}: ${holder.trim() || 'unreadable'}); ` +
            `wait for it to finish, or delete the lock if that run is gone`,
        );
      }
      const st = await stat(path);
      const lock = new RunLock(path, st.ino);
      lock.timer = setInterval(() => {
        const now = new Date();
        utimes(path, now, now).catch(() => undefined);
      }, REFRESH_MS);
      lock.timer.unref();
      return lock;
    } finally {
      await rm(draft, { force: true }).catch(() => undefined);
    }
  }

  release(): Promise<void> {
    this.released ??= (async () => {
      clearInterval(this.timer);
      // Only our own lock: one taken over after we were judged gone belongs to another run.
      const st = await stat(this.path).catch(() => undefined);
      if (st?.ino === this.ino) await rm(this.path, { force: true }).catch(() => undefined);
    })();
    return this.released;
  }
}
