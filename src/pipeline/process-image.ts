import { webcrypto } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Backend } from '../backends/backend.js';
import type { ResampleRequest, Size } from '../types.js';
import { ImageInputError } from '../errors.js';
import { isStrictlyInside, realInside } from '../paths.js';
import { computeGradient } from '../gradient/index.js';
import { writeAtomic } from './atomic-write.js';
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
}

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
 * The output folder, after following any symbolic link in it, must still be inside the output
 * root: a link planted under --out must not carry writes elsewhere.
 */
async function checkRealFolder(outDir: string, folder: string): Promise<void> {
  if (!(await realInside(outDir, folder))) {
    throw new ImageInputError(
      'UNSAFE_PATH',
      `output folder ${folder} leads outside the output folder (symbolic link)`,
      'remove the link from the output folder',
    );
  }
}

/** Output paths are built from checked parts, but this is the last line of defence. */
function insideOut(outDir: string, relPath: string): string {
  const abs = resolve(outDir, relPath);
  if (!isStrictlyInside(outDir, abs)) {
    throw new ImageInputError(
      'UNSAFE_PATH',
      `output path ${relPath} would leave the output folder`,
    );
  }
  return abs;
}

/** Files up to this size are read whole at once; larger ones have their signature checked first. */
const SNIFF_ABOVE = 1 << 20;
const SNIFF_BYTES = 4096;

async function readPrefix(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readSource(path: string, maxPixels: number): Promise<Buffer> {
  try {
    // Reading a FIFO or a device would block forever: only regular files are read.
    const st = await stat(path);
    if (!st.isFile() && !st.isDirectory()) {
      throw new ImageInputError('NOT_A_FILE', 'not a regular file (a FIFO, socket or device)');
    }
    if (st.isFile() && st.size > SNIFF_ABOVE) {
      // A large file that does not start like an image is refused from its first bytes (with the
      // same reason a full read would give), not read whole into memory first.
      const head = await readPrefix(path, SNIFF_BYTES);
      if (!hasDecodableSignature(head)) {
        await readHeader(head, maxPixels).catch((err: unknown) => {
          // A format cut short by the prefix (an SVG, say) is judged on the whole file below.
          if (err instanceof ImageInputError && err.code !== 'CORRUPT') throw err;
        });
      }
    }
    return await readFile(path);
  } catch (err) {
    if (err instanceof ImageInputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_FS_FILE_TOO_LARGE') {
      throw new ImageInputError('UNREADABLE', 'file too large to read (2 GiB or more)');
    }
    if (code === 'ELOOP') {
      throw new ImageInputError('UNREADABLE', 'symbolic link loop', 'fix or remove the link');
    }
    if (code === 'EISDIR') {
      throw new ImageInputError('NOT_A_FILE', 'is a folder, not an image file');
    }
    if (code === 'ENOENT') {
      throw new ImageInputError('UNREADABLE', 'file not found', 'check the path');
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new ImageInputError('UNREADABLE', 'permission denied', 'check the file permissions');
    }
    throw err;
  }
}

/** WebCrypto hashes on libuv's pool: a 20 MB file must not stall the event loop. */
async function sha256Hex(buf: Buffer): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', buf)).toString('hex');
}

/** Whether a run would skip this task: its sidecar records the same source and options. */
export async function isUpToDate(task: ImageTask): Promise<boolean> {
  if (task.force) return false;
  const buf = await readFile(task.input).catch(() => undefined);
  if (!buf) return false;
  const sidecarPath = insideOut(task.outDir, `${task.outputStem}.json`);
  const options = optionsHash(task.ops, task.options);
  return (
    (await readCurrentSidecar(sidecarPath, task.outDir, await sha256Hex(buf), options)) !==
    undefined
  );
}

/**
 * The one pipeline: read once, decode once, resample on the backend, encode, write atomically,
 * sidecar last. Throws ImageInputError for inputs that can never work; anything else may be retried.
 */
export async function processImage(task: ImageTask, ctx: PipelineContext): Promise<ProcessResult> {
  const t0 = performance.now();
  checkNameLength(task.outputStem);
  const sidecarRel = `${task.outputStem}.json`;
  const sidecarPath = insideOut(task.outDir, sidecarRel);
  const outputRel = (name: ImageOutputName) => `${task.outputStem}_${name}.webp`;

  const buf = await readSource(task.input, task.maxPixels);
  const sha256 = await sha256Hex(buf);
  const options = optionsHash(task.ops, task.options);
  const tRead = performance.now();

  if (!task.force) {
    const current = await readCurrentSidecar(sidecarPath, task.outDir, sha256, options);
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
  // Every output and the sidecar share one folder: create it once.
  await mkdir(task.outDir, { recursive: true });
  await checkRealFolder(task.outDir, dirname(sidecarPath));
  await mkdir(dirname(sidecarPath), { recursive: true });
  await Promise.all(
    encoded.map(async ({ name, image, webp }) => {
      const rel = outputRel(name);
      await writeAtomic(insideOut(task.outDir, rel), webp, { ensureDir: false });
      const record: OutputRecord = {
        path: rel,
        width: image.width,
        height: image.height,
        bytes: webp.length,
      };
      outputs[name] = record;
    }),
  );
  const sidecar: Sidecar = {
    version: 1,
    source: {
      path: task.sourceLabel,
      sha256,
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
  await writeAtomic(sidecarPath, serializeSidecar(sidecar), { ensureDir: false });
  const tEnd = performance.now();

  const timings: StageTimings = {
    readMs: tRead - t0,
    decodeMs: tDecode - tRead,
    resampleMs: tResample - tDecode,
    encodeMs: tEncode - tResample,
    writeMs: tEnd - tEncode,
    totalMs: tEnd - t0,
  };
  return { status: 'processed', sidecar, sidecarPath: join(task.outDir, sidecarRel), timings };
}
