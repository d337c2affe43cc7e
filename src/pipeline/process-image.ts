import { webcrypto } from 'node:crypto';
import { posix } from 'node:path';
import type { Backend } from '../backends/backend.js';
import type { ResampleRequest, Size } from '../types.js';
import { ImageInputError } from '../errors.js';
import { computeGradient } from '../gradient/index.js';
import { Storages, isObjectUrl, locate, type Storage } from '../storage/index.js';
import { decode, decodeSize, hasDecodableSignature, readHeader } from './decode.js';
import { fitInside, scaledSize, thumbSize } from './dimensions.js';
import { blurDataUrl, encodeWebp } from './encode.js';
import { optionsHash, readCurrentSidecar, serializeSidecar } from './sidecar.js';
import type {
  ImageOutputName,
  ImageTask,
  OutputRecord,
  ProcessResult,
  Sidecar,
  StageTimings,
} from './types.js';
import { addWebpMetadata } from './webp-metadata.js';

export interface PipelineContext {
  backend: Backend;
  /** Where sources are read and outputs written; local files only when absent. */
  storage?: Storage;
}

const localOnly = new Storages();

/** Longer side of the small image the palette and the inline placeholder are made from. */
const SAMPLE_SIZE = 64;

export interface OutputSizes {
  thumb?: Size;
  blur?: Size;
  lq?: Size;
  sample?: Size;
}

/** Every output's size, from the displayed source size alone: one function for both backends. */
export function planOutputSizes(
  source: Size,
  task: Pick<ImageTask, 'ops' | 'options'>,
): OutputSizes {
  const { ops, options } = task;
  const thumb = thumbSize(source, options.thumbWidth);
  return {
    thumb: ops.includes('thumb') ? thumb : undefined,
    blur: ops.includes('blur') ? thumb : undefined,
    lq: ops.includes('lq') ? scaledSize(source, options.lqScale) : undefined,
    sample: ops.includes('gradient') ? fitInside(source, SAMPLE_SIZE) : undefined,
  };
}

function largest(sizes: OutputSizes): Size {
  let best: Size = { width: 1, height: 1 };
  for (const s of Object.values(sizes) as Size[]) {
    if (s && s.width * s.height > best.width * best.height) best = s;
  }
  return best;
}

/** The longest file name an image writes: `<name>_thumb.webp`. */
const LONGEST_SUFFIX = '_thumb.webp';
const NAME_MAX = 255;

function checkNameLength(stem: string): void {
  const name = stem.split('/').pop() ?? stem;
  if (Buffer.byteLength(name + LONGEST_SUFFIX) > NAME_MAX) {
    throw new ImageInputError(
      'NAME_TOO_LONG',
      `output file name would be longer than ${NAME_MAX} bytes`,
      'shorten the file name',
    );
  }
}

/**
 * A large file that does not start like an image is refused from its first bytes (with the same
 * reason a full read would give), not read whole into memory first.
 */
function headCheck(maxPixels: number) {
  return async (head: Buffer): Promise<void> => {
    if (hasDecodableSignature(head)) return;
    await readHeader(head, maxPixels).catch((err: unknown) => {
      // A format cut short by the prefix (an SVG, say) is judged on the whole file.
      if (err instanceof ImageInputError && err.code !== 'CORRUPT') throw err;
    });
  };
}

/** ETags as servers send them, quotes and all; the sidecar keeps them bare. */
function bareEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, '').replace(/"/g, '');
}

/** WebCrypto hashes on libuv's pool: a 20 MB file must not stall the event loop. */
async function sha256Hex(buf: Buffer): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', buf)).toString('hex');
}

/**
 * An object's outputs are current when its sidecar records the same ETag and size: a listing or
 * a HEAD decides, and the source is not downloaded.
 */
async function currentByEtag(
  task: ImageTask,
  storage: Storage,
  sidecarPath: string,
  options: string,
): Promise<Sidecar | undefined> {
  if (!isObjectUrl(task.input)) return undefined;
  const known = task.source ?? (await storage.statSource(task.input));
  const etag = bareEtag(known.etag);
  if (etag === undefined) return undefined;
  return readCurrentSidecar(
    storage,
    sidecarPath,
    task.outDir,
    (s) => s.etag === etag && s.bytes === known.bytes,
    options,
  );
}

/** Whether a run would skip this task: its sidecar records the same source and options. */
export async function isUpToDate(task: ImageTask, storage: Storage = localOnly): Promise<boolean> {
  if (task.force) return false;
  const sidecarPath = locate(task.outDir, `${task.outputStem}.json`);
  const options = optionsHash(task.ops, task.options);
  if (isObjectUrl(task.input)) {
    const current = await currentByEtag(task, storage, sidecarPath, options).catch(() => undefined);
    return current !== undefined;
  }
  const read = await storage.readSource(task.input, async () => {}).catch(() => undefined);
  if (!read) return false;
  const sha256 = await sha256Hex(read.data);
  return (
    (await readCurrentSidecar(
      storage,
      sidecarPath,
      task.outDir,
      (s) => s.sha256 === sha256,
      options,
    )) !== undefined
  );
}

/**
 * The one pipeline: read once, decode once, resample on the backend, encode, write atomically,
 * sidecar last. Throws ImageInputError for inputs that can never work; anything else may be retried.
 */
export async function processImage(task: ImageTask, ctx: PipelineContext): Promise<ProcessResult> {
  const t0 = performance.now();
  const storage = ctx.storage ?? localOnly;
  checkNameLength(task.outputStem);
  const sidecarPath = locate(task.outDir, `${task.outputStem}.json`);
  const outputRel = (name: ImageOutputName) => `${task.outputStem}_${name}.webp`;
  const options = optionsHash(task.ops, task.options);

  if (!task.force) {
    const current = await currentByEtag(task, storage, sidecarPath, options);
    if (current) return { status: 'skipped', sidecar: current, sidecarPath };
  }
  const { data: buf, info: read } = await storage.readSource(
    task.input,
    headCheck(task.maxPixels),
    task.source,
  );
  const sha256 = await sha256Hex(buf);
  const tRead = performance.now();

  if (!task.force) {
    const current = await readCurrentSidecar(
      storage,
      sidecarPath,
      task.outDir,
      (s) => s.sha256 === sha256,
      options,
    );
    if (current) return { status: 'skipped', sidecar: current, sidecarPath };
  }

  const info = await readHeader(buf, task.maxPixels);
  const source: Size = { width: info.width, height: info.height };
  const sizes = planOutputSizes(source, task);
  const decoded = await decode(
    buf,
    info,
    decodeSize(info, largest(sizes), ctx.backend.decodePolicy),
    task.maxPixels,
  );
  const tDecode = performance.now();

  const request: ResampleRequest = {
    thumb: sizes.thumb,
    blur: sizes.blur && { size: sizes.blur, sigma: task.options.blurSigma },
    lq: sizes.lq,
    sample: sizes.sample,
  };
  const images = await ctx.backend.resample(decoded, request);
  const tResample = performance.now();

  const names = (['thumb', 'blur', 'lq'] as const).filter((n) => sizes[n]);
  const metadata = task.options.keepMetadata ? { exif: info.exif, xmp: info.xmp } : {};
  const [encoded, dataUrl] = await Promise.all([
    Promise.all(
      names.map(async (name) => {
        const image = images[name];
        if (!image) throw new Error(`backend ${ctx.backend.name} returned no ${name} image`);
        const webp = await encodeWebp(image, {
          quality: task.options.quality[name],
          effort: task.options.effort[name],
        });
        return { name, image, webp: addWebpMetadata(webp, metadata) };
      }),
    ),
    images.sample ? blurDataUrl(images.sample) : undefined,
  ]);
  const tEncode = performance.now();

  const outputs: Sidecar['outputs'] = {};
  // Every output and the sidecar share one folder: prepare it once.
  await storage.prepareFolder(task.outDir, posix.dirname(sidecarPath));
  const written: string[] = [];
  const wrote = await Promise.allSettled(
    encoded.map(async ({ name, image, webp }) => {
      const rel = outputRel(name);
      const location = locate(task.outDir, rel);
      await storage.write(location, webp, 'image/webp');
      written.push(location);
      const record: OutputRecord = {
        path: rel,
        width: image.width,
        height: image.height,
        bytes: webp.length,
      };
      outputs[name] = record;
    }),
  );
  const failed = wrote.find((r) => r.status === 'rejected');
  if (failed) {
    // An image that fails leaves none of its new outputs behind.
    await Promise.all(written.map((l) => storage.remove(l).catch(() => undefined)));
    throw failed.reason;
  }
  const sidecar: Sidecar = {
    version: 1,
    source: {
      path: task.sourceLabel,
      sha256,
      ...(isObjectUrl(task.input) && read.etag ? { etag: bareEtag(read.etag) } : {}),
      bytes: buf.length,
      format: info.format,
      width: info.width,
      height: info.height,
      hasAlpha: info.hasAlpha,
    },
    // Fixed key order, whatever order the writes finished in.
    outputs: Object.fromEntries(
      names.flatMap((n) => (outputs[n] ? [[n, outputs[n]]] : [])),
    ) as Sidecar['outputs'],
    ...(images.sample && dataUrl !== undefined
      ? {
          gradient: {
            ...computeGradient(images.sample, task.options.paletteSize),
            blurDataUrl: dataUrl,
          },
        }
      : {}),
    backend: images.backend ?? ctx.backend.name,
    options,
  };
  try {
    await storage.write(sidecarPath, serializeSidecar(sidecar), 'application/json');
  } catch (err) {
    await Promise.all(written.map((l) => storage.remove(l).catch(() => undefined)));
    throw err;
  }
  const tEnd = performance.now();

  const timings: StageTimings = {
    readMs: tRead - t0,
    decodeMs: tDecode - tRead,
    resampleMs: tResample - tDecode,
    encodeMs: tEncode - tResample,
    writeMs: tEnd - tEncode,
    totalMs: tEnd - t0,
  };
  return { status: 'processed', sidecar, sidecarPath, timings };
}
