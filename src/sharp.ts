import { createRequire } from 'node:module';
import type SharpModule from 'sharp';

/**
 * sharp, through its CommonJS entry. On Node 20 its ES module entry costs about 70 ms more CPU to
 * load (measured: 110 ms against 42 ms), which every run and every test process would pay; the
 * addon and libvips behind both entries are the same. Every module of imgproc takes sharp from
 * here (eslint holds them to it), so that one process holds one copy of its JavaScript.
 */
const sharp = createRequire(import.meta.url)('sharp') as typeof SharpModule;

export default sharp;
export type { Metadata, Sharp } from 'sharp';
