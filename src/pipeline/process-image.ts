import { posix } from 'node:path';
import type { Backend } from '../backends/backend.js';
import { ImageInputError } from '../errors.js';
import { computeGradient } from '../gradient/index.js';
import { Storages, isObjectUrl, locate, type Storage } from '../storage/index.js';
import type { ResampleRequest, Size } from '../types.js';
import { decode, decodeSize, readHeader } from './decode.js';
import { largestOutput, planOutputSizes } from './dimensions.js';
import { blurDataUrl, encodeWebp } from './encode.js';
import type { MemoryBudget } from './memory-budget.js';
import { Admission } from './admission.js';
import { probeSource, sha256Hex } from './source.js';
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
  /** Shared by every image in flight: each waits here until its estimated peak fits. */
  memory: MemoryBudget;
}

const localOnly = new Storages();

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

/** ETags as servers send them, quotes and all; the sidecar keeps them bare. */
function bareEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, '').replace(/"/g, '');
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
  const admission = new Admission(ctx.memory, task, ctx.backend);
  try {
    return await processAdmitted(task, ctx, admission);
  } finally {
    admission.give();
  }
}

async function processAdmitted(
  task: ImageTask,
  ctx: PipelineContext,
  admission: Admission,
): Promise<ProcessResult> {
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
  // The header is read from the first bytes, and the image admitted, before the rest is read.
  const { data: buf, info: read } = await storage.readSource(
    task.input,
    async (head, bytes, localPath) => {
      const probed = await probeSource(head, bytes, localPath, task.maxPixels);
      if (probed) await admission.take(probed, bytes);
      else await admission.takeForBytes(bytes);
    },
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
  await admission.take(info, buf.length);
  const sizes = planOutputSizes(info, task);
  const decoded = await decode(
    buf,
    info,
    decodeSize(info, largestOutput(sizes), ctx.backend.decodePolicy),
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
        }).catch((err: unknown) => {
          throw outputTooLarge(err, name, image);
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

/** An output the encoder still refuses: permanent, with what was asked and what to change. */
function outputTooLarge(err: unknown, name: ImageOutputName, image: Size): unknown {
  const msg = err instanceof Error ? err.message : String(err);
  if (!/too large for the WebP format/i.test(msg)) return err;
  return new ImageInputError(
    'OUTPUT_TOO_LARGE',
    `the ${name} output (${image.width}x${image.height}) cannot be encoded as WebP: ${msg}`,
    'lower --thumb-width or --lq-scale',
  );
}
