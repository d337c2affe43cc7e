import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import sharp from 'sharp';

const BIN = resolve('bin/imgproc.cjs');

/** Short intervals so that expiry and recovery take a second, not fifteen. */
export const FAST = [
  '--heartbeat-interval',
  '0.2',
  '--heartbeat-ttl',
  '0.8',
  '--reap-interval',
  '0.2',
  '--block-timeout',
  '0.2',
  '--retry-delay',
  '0.1',
];

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** The built CLI as a child process; every one started is in `started`, for clean-up. */
export function cli(
  args: string[],
  cwd: string,
  started: CliProcess[],
  env: Record<string, string> = {},
): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, UV_THREADPOOL_SIZE: '4', ...env },
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const p = { child, stdout: () => out, stderr: () => err, exited };
  started.push(p);
  return p;
}

/** Kills what is still running (SIGKILL) and waits for it. */
export async function killAll(started: CliProcess[]): Promise<void> {
  for (const p of started.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
}

/** A solid-colour PNG, `size` pixels square. */
export async function png(path: string, size: number, seed: number): Promise<void> {
  await sharp({
    create: {
      width: size,
      height: size,
      channels: 3,
      background: { r: (seed * 37) % 256, g: (seed * 91) % 256, b: 128 },
    },
  })
    .png()
    .toFile(path);
}
