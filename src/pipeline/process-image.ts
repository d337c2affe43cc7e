import { posix } from 'node:path';
import type { Backend, ResampleResult } from '../backends/backend.js';
import { ImageInputError } from '../errors.js';
import { placeholderSet } from '../gradient/index.js';
import { Storages, isObjectUrl, locate, type Storage } from '../storage/index.js';
import type { RawImage, ResampleRequest, Size } from '../types.js';
import { decode, decodeSize, readHeader, type SourceInfo } from './decode.js';
import { blurDataUrl, encodeWebp } from './encode.js';
import type { MemoryBudget } from './memory-budget.js';
import { Admission } from './admission.js';
import type { ComputeSlots } from './compute-slots.js';
import { decodeTarget, planOutputSizes, sampleStep } from './output-sizes.js';
import { paletteOf } from './palette.js';
import { paletteSample } from './sample.js';
import { probeSource, sha256Hex } from './source.js';
import { optionsHash, readCurrentSidecar, serializeSidecar } from './sidecar.js';
import { bareEtag, currentByEtag } from './up-to-date.js';
import type {
  ImageOutputName,
  ImageTask,
  OutputName,
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
  /** Where more images are in flight than may compute at once: the slots they compute in. */
  compute?: ComputeSlots;
}

const localOnly = new Storages();

const NAME_MAX = 255;

/** The longest file name an image may write: `<name>_thumb.webp`, or its widest `_w<N>.webp`. */
function checkNameLength(stem: string, widths: readonly number[]): void {
  const name = stem.split('/').pop() ?? stem;
  const suffixes = ['_thumb.webp', ...widths.map((w) => `_w${w}.webp`)];
  const longest = Math.max(...suffixes.map((suffix) => Buffer.byteLength(suffix)));
  if (Buffer.byteLength(name) + longest > NAME_MAX) {
    throw new ImageInputError(
      'NAME_TOO_LONG',
      `output file name would be longer than ${NAME_MAX} bytes`,
      'shorten the file name',
    );
  }
}

/** `<img srcset>`: each width's path (relative to --out) and its real width, narrowest first. */
function srcset(records: readonly OutputRecord[]): string {
  return records.map((r) => `${r.path} ${r.width}w`).join(', ');
}

/**
 * The one pipeline: read once, decode once, resample on the backend, encode, write atomically,
 * sidecar last. Throws ImageInputError for inputs that can never work; anything else may be retried.
 */
export async function processImage(task: ImageTask, ctx: PipelineContext): Promise<ProcessResult> {
  const admission = new Admission(ctx.memory, task, ctx.backend);
  const slot = { release: () => {} };
  try {
    return await processAdmitted(task, ctx, admission, slot);
  } finally {
    slot.release();
    admission.give();
  }
}

async function processAdmitted(
  task: ImageTask,
  ctx: PipelineContext,
  admission: Admission,
  slot: { release: () => void },
): Promise<ProcessResult> {
  const t0 = performance.now();
  const storage = ctx.storage ?? localOnly;
  checkNameLength(task.outputStem, task.options.widths);
  const sidecarPath = locate(task.outDir, `${task.outputStem}.json`);
  const outputRel = (name: OutputName) => `${task.outputStem}_${name}.webp`;
  const options = optionsHash(task.ops, task.options);

  if (!task.force) {
    const current = await currentByEtag(task, storage, sidecarPath, options);
    if (current) return { status: 'skipped', sidecar: current, sidecarPath };
  }
  // The header is read from the first bytes, and the image admitted, before the rest is read.
  let probed: SourceInfo | undefined;
  let headIsWhole = false;
  const { data: buf, info: read } = await storage.readSource(
    task.input,
    async (head, bytes, localPath) => {
      probed = await probeSource(head, bytes, localPath, task.maxPixels);
      headIsWhole = head.length >= bytes;
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

  // A JPEG's header (markers up to the frame header) is whole in any prefix it was read from.
  const info =
    probed && (headIsWhole || probed.format === 'jpeg')
      ? probed
      : await readHeader(buf, task.maxPixels);
  await admission.take(info, buf.length);
  // From here to the encoded outputs the work is the CPU's, and the transfers stay outside a slot.
  // Taken once admitted: an image never waits for memory while it holds a slot.
  if (ctx.compute) slot.release = await ctx.compute.take();
  const sizes = planOutputSizes(info, task);
  const target = decodeTarget(info, task);
  const names: OutputName[] = [
    ...(['thumb', 'blur', 'lq'] as const).filter((n) => sizes[n]),
    ...sizes.widths.map((w) => w.name),
  ];
  // Asked while the image decodes; nothing is written before the answer.
  const owned = storage.checkOwnership([
    ...names.map((n) => locate(task.outDir, outputRel(n))),
    sidecarPath,
  ]);
  owned.catch(() => undefined);
  const decoded = await decode(
    buf,
    info,
    decodeSize(info, target, ctx.backend.decodePolicy),
    task.maxPixels,
  );
  const tDecode = performance.now();

  const request: ResampleRequest = {
    thumb: sizes.thumb,
    blur: sizes.blur && { size: sizes.blur, sigma: task.options.blurSigma },
    lq: sizes.lq,
    widths: sizes.widths.length > 0 ? sizes.widths.map((w) => w.size) : undefined,
  };
  const resampling = ctx.backend.resample(decoded, request);
  const [images, sample] = await Promise.all([
    resampling,
    sizes.sample && makeSample(decoded, sizes.sample, target, info, task, ctx.backend, resampling),
  ]);
  const placeholderImages = sample && placeholderSet(sample);
  const tResample = performance.now();

  const made: { name: OutputName; image: RawImage | undefined; settings: ImageOutputName }[] = [
    ...(['thumb', 'blur', 'lq'] as const)
      .filter((n) => sizes[n])
      .map((n) => ({ name: n, image: images[n], settings: n })),
    // Responsive widths are display images like the thumbnail: its quality and effort.
    ...sizes.widths.map((w, i) => ({
      name: w.name,
      image: images.widths?.[i],
      settings: 'thumb' as const,
    })),
  ];
  const metadata = task.options.keepMetadata ? { exif: info.exif, xmp: info.xmp } : {};
  const [encoded, dataUrl] = await Promise.all([
    Promise.all(
      made.map(async ({ name, image, settings }) => {
        if (!image) throw new Error(`backend ${ctx.backend.name} returned no ${name} image`);
        const webp = await encodeWebp(image, {
          quality: task.options.quality[settings],
          effort: task.options.effort[settings],
        }).catch((err: unknown) => {
          throw outputTooLarge(err, name, image);
        });
        return { name, image, webp: addWebpMetadata(webp, metadata) };
      }),
    ),
    placeholderImages ? blurDataUrl(placeholderImages.tiny) : undefined,
  ]);
  const tEncode = performance.now();
  slot.release();

  await owned;
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
      made.flatMap(({ name }) => (outputs[name] ? [[name, outputs[name]]] : [])),
    ) as Sidecar['outputs'],
    ...(sizes.widths.length > 0
      ? { srcset: srcset(sizes.widths.map((w) => outputs[w.name]!)) }
      : {}),
    ...(sample && placeholderImages && dataUrl !== undefined
      ? {
          gradient: {
            ...paletteOf(sample, task.options.paletteSize),
            blurDataUrl: dataUrl,
            ...placeholderImages.hashes,
            aspectRatio: Math.round((info.width / info.height) * 1e4) / 1e4,
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

/**
 * The palette's sample, by way of the thumbnail size of a run with every output. On the CPU
 * backend that step is the thumbnail it has just made of this decode, so it waits for it.
 */
async function makeSample(
  decoded: RawImage,
  size: Size,
  target: Size,
  info: Size,
  task: ImageTask,
  backend: Backend,
  resampling: Promise<ResampleResult>,
): Promise<RawImage> {
  const thumb = sampleStep(info, task);
  const cpuThumb = backend.name === 'cpu' ? (await resampling).thumb : undefined;
  return paletteSample(decoded, size, target, thumb, cpuThumb);
}

/** An output the encoder still refuses: permanent, with what was asked and what to change. */
function outputTooLarge(err: unknown, name: OutputName, image: Size): unknown {
  const msg = err instanceof Error ? err.message : String(err);
  if (!/too large for the WebP format/i.test(msg)) return err;
  return new ImageInputError(
    'OUTPUT_TOO_LARGE',
    `the ${name} output (${image.width}x${image.height}) cannot be encoded as WebP: ${msg}`,
    'lower --thumb-width or --lq-scale',
  );
}
