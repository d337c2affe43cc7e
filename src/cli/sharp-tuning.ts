import { availableParallelism } from 'node:os';
import sharp from '../sharp.js';
import { tuneAllocator } from '../native/index.js';

/**
 * Set once per process by whichever front end runs images (batch or daemon): sharp's cache off,
 * since every input is read once; libvips threads per image = the cores shared among the images
 * in flight, at least one; and glibc made to return image-sized blocks when they are freed.
 */
export function tuneSharp(concurrency: number): void {
  sharp.cache(false);
  sharp.concurrency(Math.max(1, Math.floor(availableParallelism() / concurrency)));
  tuneAllocator();
}
