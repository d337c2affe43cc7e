import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { BIN, ROOT, makeTempDir, type RunResult } from './helpers.js';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/**
 * A legal 8-bit RGB PNG of any size, all black: a few hundred KB on disk for tens of megapixels,
 * the kind of small upload that costs a decoder its full size.
 */
export async function writeBlackPng(path: string, width: number, height: number): Promise<void> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = Buffer.alloc((1 + width * 3) * height);
  await writeFile(
    path,
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(rows, { level: 9 })),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

export interface MeasuredRun extends RunResult {
  /** The CLI process's peak resident memory, in bytes. */
  peakRss: number;
}

/** Runs the CLI and reports its peak RSS, as the kernel counted it (getrusage). */
export async function runCliMeasured(
  args: string[],
  env: Record<string, string> = {},
): Promise<MeasuredRun> {
  const dir = await makeTempDir('imgproc-rss-');
  const preload = join(dir, 'report-rss.mjs');
  await writeFile(
    preload,
    "process.on('exit', () => process.stderr.write(`\\npeak-rss-kib ${process.resourceUsage().maxRSS}\\n`));\n",
  );
  const child = spawn(process.execPath, ['--import', preload, BIN, ...args], {
    cwd: ROOT,
    env: {
      ...Object.fromEntries(
        Object.entries({ ...process.env, NO_COLOR: '1' }).filter(
          ([k]) => !k.startsWith('IMGPROC_'),
        ),
      ),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
    child.on('close', (c, s) => done([c, s])),
  );
  clearTimeout(timer);
  const kib = /peak-rss-kib (\d+)/.exec(stderr);
  return {
    code,
    signal,
    stdout,
    stderr: stderr.replace(/\npeak-rss-kib \d+\n/, ''),
    peakRss: kib ? Number(kib[1]) * 1024 : NaN,
  };
}

/**
 * An uncompressed 8-bit TIFF with RGB and extra bands (values `extra`), the first of them marked
 * as unassociated alpha when `alphaMarked`, else all unspecified: what scanners and GIS tools
 * write and libvips would take the last band of for alpha.
 */
export async function writeTiffWithExtraBands(
  path: string,
  width: number,
  height: number,
  rgb: [number, number, number],
  extra: number[],
  alphaMarked: boolean,
): Promise<void> {
  const bands = 3 + extra.length;
  const entries: Array<[tag: number, type: number, count: number, value: number]> = [];
  const pixels = Buffer.alloc(width * height * bands);
  for (let i = 0; i < width * height; i++) {
    pixels.set([...rgb, ...extra], i * bands);
  }
  const ifdAt = 8;
  const entryCount = 11;
  const bitsAt = ifdAt + 2 + entryCount * 12 + 4;
  const extraSamplesAt = bitsAt + bands * 2;
  const pixelsAt = extraSamplesAt + extra.length * 2;
  const SHORT = 3;
  const LONG = 4;
  entries.push(
    [256, LONG, 1, width],
    [257, LONG, 1, height],
    [258, SHORT, bands, bitsAt],
    [259, SHORT, 1, 1], // no compression
    [262, SHORT, 1, 2], // RGB
    [273, LONG, 1, pixelsAt],
    [277, SHORT, 1, bands],
    [278, LONG, 1, height],
    [279, LONG, 1, pixels.length],
    [284, SHORT, 1, 1], // interleaved
    [338, SHORT, extra.length, extraSamplesAt], // ExtraSamples
  );
  const head = Buffer.alloc(pixelsAt);
  head.write('II*\0', 0, 'latin1');
  head.writeUInt32LE(ifdAt, 4);
  head.writeUInt16LE(entryCount, ifdAt);
  entries.forEach(([tag, type, count, value], i) => {
    const at = ifdAt + 2 + i * 12;
    head.writeUInt16LE(tag, at);
    head.writeUInt16LE(type, at + 2);
    head.writeUInt32LE(count, at + 4);
    if (tag === 338 && count <= 2) {
      // Up to two SHORT values fit in the entry itself.
      extra.forEach((_, e) => head.writeUInt16LE(e === 0 && alphaMarked ? 2 : 0, at + 8 + e * 2));
    } else if (type === SHORT && count === 1) head.writeUInt16LE(value, at + 8);
    else head.writeUInt32LE(value, at + 8);
  });
  for (let b = 0; b < bands; b++) head.writeUInt16LE(8, bitsAt + b * 2);
  if (extra.length > 2) {
    extra.forEach((_, e) =>
      head.writeUInt16LE(e === 0 && alphaMarked ? 2 : 0, extraSamplesAt + e * 2),
    );
  }
  await writeFile(path, Buffer.concat([head, pixels]));
}
