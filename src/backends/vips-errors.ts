/**
 * libvips keeps one error buffer for the whole process, and sharp clears it at the end of every
 * operation: with several images in flight, a failing image can read another's message, or an
 * empty one ("Unknown error"). A failure is therefore run once more with no other libvips work in
 * flight, and that run's message, the same at any concurrency, is the one reported.
 */

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
