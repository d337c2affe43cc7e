import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VERSION } from '../version.js';
import { ALL_OPS, type OpName, type OutputOptions, type Sidecar } from './types.js';

/** Hash of every option that changes an output, plus the tool version. */
export function optionsHash(ops: readonly OpName[], options: OutputOptions): string {
  const canonical = {
    version: VERSION,
    ops: ALL_OPS.filter((op) => ops.includes(op)),
    thumbWidth: options.thumbWidth,
    blurSigma: options.blurSigma,
    lqScale: options.lqScale,
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
 * hash and options hash and every output it lists is on disk with its recorded size.
 */
export async function readCurrentSidecar(
  sidecarPath: string,
  outDir: string,
  sha256: string,
  options: string,
): Promise<Sidecar | undefined> {
  let sidecar: Sidecar;
  try {
    sidecar = JSON.parse(await readFile(sidecarPath, 'utf8')) as Sidecar;
  } catch {
    return undefined;
  }
  if (sidecar?.version !== 1 || sidecar.source?.sha256 !== sha256 || sidecar.options !== options) {
    return undefined;
  }
  for (const out of Object.values(sidecar.outputs ?? {})) {
    try {
      if ((await stat(join(outDir, out.path))).size !== out.bytes) return undefined;
    } catch {
      return undefined;
    }
  }
  return sidecar;
}
