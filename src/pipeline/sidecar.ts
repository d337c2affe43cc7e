import { createHash } from 'node:crypto';
import { locate, type Storage } from '../storage/index.js';
import { VERSION } from '../version.js';
import { ALL_OPS, type OpName, type OutputOptions, type Sidecar } from './types.js';

/** Bumped when the sidecar's content changes for the same options (2: distinct palette, hashes). */
const SIDECAR_CONTENT = 2;

/** Hash of every option that changes an output, plus the tool version. */
export function optionsHash(ops: readonly OpName[], options: OutputOptions): string {
  const canonical = {
    version: VERSION,
    content: SIDECAR_CONTENT,
    ops: ALL_OPS.filter((op) => ops.includes(op)),
    thumbWidth: options.thumbWidth,
    blurSigma: options.blurSigma,
    lqScale: options.lqScale,
    lqMaxWidth: options.lqMaxWidth,
    widths: options.widths,
    quality: { thumb: options.quality.thumb, blur: options.quality.blur, lq: options.quality.lq },
    effort: { thumb: options.effort.thumb, blur: options.effort.blur, lq: options.effort.lq },
    paletteSize: options.paletteSize,
    keepMetadata: options.keepMetadata,
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 16);
}

/** Byte-stable: fixed key order (the object is built in schema order), two-space indent. */
export function serializeSidecar(sidecar: Sidecar): string {
  return JSON.stringify(sidecar, null, 2) + '\n';
}

/**
 * The sidecar is the completion record: the outputs are current when it records the same source
 * (`matches`: same hash, or for an object the same ETag and size) and options hash, and every
 * output it lists is in place with its recorded size.
 */
export async function readCurrentSidecar(
  storage: Storage,
  sidecarPath: string,
  outDir: string,
  matches: (source: Sidecar['source']) => boolean,
  options: string,
): Promise<Sidecar | undefined> {
  let sidecar: Sidecar;
  try {
    const text = await storage.readText(sidecarPath);
    if (text === undefined) return undefined;
    sidecar = JSON.parse(text) as Sidecar;
  } catch {
    return undefined;
  }
  if (sidecar?.version !== 1 || !sidecar.source || !matches(sidecar.source)) return undefined;
  if (sidecar.options !== options) return undefined;
  const outputs = Object.values(sidecar.outputs ?? {});
  let locations: string[];
  try {
    locations = outputs.map((out) => locate(outDir, out!.path));
  } catch {
    return undefined;
  }
  // All at once: for objects, one round trip instead of one per output.
  const sizes = await Promise.all(locations.map((l) => storage.sizeOf(l)));
  return outputs.every((out, i) => sizes[i] === out!.bytes) ? sidecar : undefined;
}
