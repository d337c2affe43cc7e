import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const LOCK_MODULE = join(ROOT, 'dist', 'cli', 'run-lock.js');
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A run that takes the lock, holds it long enough for every racer to try, and says what it got. */
const CONTENDER = `
const { RunLock } = await import(process.argv[1]);
const [, , outDir, holdMs] = process.argv;
try {
  const lock = await RunLock.acquire(outDir);
  process.stdout.write('won');
  await new Promise((r) => setTimeout(r, Number(holdMs)));
  await lock.release();
} catch (err) {
  process.stdout.write(err.message.includes('another imgproc run') ? 'lost' : 'error: ' + err.message);
}
`;

function contend(outDir: string, holdMs: number): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', CONTENDER, LOCK_MODULE, outDir, String(holdMs)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.on('error', fail);
    child.on('close', () => done(out));
  });
}

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'imgproc-lock-'));
  dirs.push(dir);
  return dir;
}

const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('RunLock', () => {
  it('elects exactly one of many runs started together on a lock whose owner is gone', async () => {
    for (let round = 0; round < 3; round++) {
      const out = await freshDir();
      await writeFile(
        join(out, '.imgproc.lock'),
        JSON.stringify({ pid: deadPid(), host: hostname(), started: 'x' }) + '\n',
      );
      const results = await Promise.all(Array.from({ length: 10 }, () => contend(out, 3000)));
      expect(
        results.filter((r) => r === 'won'),
        results.join(', '),
      ).toHaveLength(1);
      expect(results.filter((r) => r === 'lost')).toHaveLength(9);
      // Nothing left behind: no lock, no guard, no draft.
      expect(await readdir(out)).toEqual([]);
    }
  });

  it('takes over at once a lock file left empty (a run that died on a full disk)', async () => {
    const out = await freshDir();
    await writeFile(join(out, '.imgproc.lock'), '');
    const started = Date.now();
    expect(await contend(out, 0)).toBe('won');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await readdir(out)).toEqual([]);
  });
});
