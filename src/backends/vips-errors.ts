/**
 * libvips keeps one error buffer for the whole process, and sharp clears it at the end of every
 * operation: with several images in flight, a failing image can read another's message, or an
 * empty one ("Unknown error"). A failure is therefore run once more with no other libvips work in
 * flight, and that run's message, the same at any concurrency, is the one reported.
 */

import type { Sharp } from 'sharp';

let shared = 0;
let exclusive = false;
const exclusiveQueue: Array<() => void> = [];
let sharedQueue: Array<() => void> = [];

function wakeUp(): void {
  if (exclusive || shared > 0) return;
  const next = exclusiveQueue.shift();
  if (next) {
    exclusive = true;
    next();
    return;
  }
  const readers = sharedQueue;
  sharedQueue = [];
  shared += readers.length;
  for (const r of readers) r();
}

/** Any sharp operation of the pipeline: runs beside the others, but never beside a re-run. */
export async function vipsOperation<T>(op: () => Promise<T>): Promise<T> {
  if (exclusive || exclusiveQueue.length > 0) {
    await new Promise<void>((resolve) => sharedQueue.push(resolve));
  } else {
    shared++;
  }
  try {
    return await op();
  } finally {
    shared--;
    wakeUp();
  }
}

async function alone<T>(op: () => Promise<T>): Promise<T> {
  if (exclusive || shared > 0) {
    await new Promise<void>((resolve) => exclusiveQueue.push(resolve));
  } else {
    exclusive = true;
  }
  try {
    return await op();
  } finally {
    exclusive = false;
    wakeUp();
  }
}

/** Runs a decoding step; if it fails, runs it again alone so that its error message is its own. */
export async function stableVipsErrors<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await vipsOperation(op);
  } catch {
    return alone(op);
  }
}

/**
 * Runs one sharp operation and, if it fails, completes libvips' message with the first warning
 * libvips logged on the way: some loaders give their reason only as a warning (libvips 8.18's PNG
 * loader: `Image width is zero in IHDR`, `IDAT: CRC error`) and fail with a message that names
 * none (`Input buffer has corrupt header:`, `vipspng: libpng read error`). sharp hands every
 * warning of the process to whichever operation ends next, so the warning is an image's own only
 * when it runs alone: call this inside `stableVipsErrors`, whose re-run is alone.
 */
export async function withWarnings<T>(image: Sharp, op: (image: Sharp) => Promise<T>): Promise<T> {
  const warnings: string[] = [];
  image.on('warning', (warning: string) => warnings.push(warning));
  try {
    return await op(image);
  } catch (err) {
    throw explained(err, warnings);
  }
}

/** libvips' note of where a read failed (`error in tile 0 x 136`): it says no reason. */
const WHERE_NOT_WHY = /^error in tile \d+ x \d+$/;

/** The failure's first line, with the first warning that gives a reason it does not already. */
export function explained(err: unknown, warnings: readonly string[]): Error {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trimEnd();
  const reason = warnings
    .map((w) => w.trim())
    .find((w) => w && !WHERE_NOT_WHY.test(w) && !message.includes(w));
  if (!reason) return err instanceof Error ? err : new Error(message);
  // `…corrupt header:` ends where its reason should be; any other message keeps its own words.
  return new Error(message.endsWith(':') ? `${message} ${reason}` : `${message} (${reason})`);
}
