import type { Rgb } from './colour.js';

/** One palette colour and how many opaque pixels it stands for. */
export interface PaletteEntry extends Rgb {
  count: number;
}

/** Pixels with alpha below this (out of 255) count as transparent and are left out. */
export const OPAQUE_ALPHA = 128;

/** A set of pixels `packed[start..end)`, with its bounding box in RGB. */
interface Box {
  start: number;
  end: number;
  /** The channel with the widest range: 0 red, 1 green, 2 blue. */
  channel: 0 | 1 | 2;
  range: number;
  /** Its mean colour, once asked for: a box's pixels only move when it is split into two new boxes. */
  mean?: PaletteEntry;
}

function measure(packed: Uint32Array, start: number, end: number): Box {
  let minR = 255,
    minG = 255,
    minB = 255,
    maxR = 0,
    maxG = 0,
    maxB = 0;
  for (let i = start; i < end; i++) {
    const p = packed[i]!;
    const r = p >>> 16;
    const g = (p >>> 8) & 0xff;
    const b = p & 0xff;
    if (r < minR) minR = r;
    if (r > maxR) maxR = r;
    if (g < minG) minG = g;
    if (g > maxG) maxG = g;
    if (b < minB) minB = b;
    if (b > maxB) maxB = b;
  }
  const ranges = [maxR - minR, maxG - minG, maxB - minB] as const;
  let channel: 0 | 1 | 2 = 0;
  if (ranges[1] > ranges[channel]) channel = 1;
  if (ranges[2] > ranges[channel]) channel = 2;
  return { start, end, channel, range: ranges[channel] };
}

/**
 * Splits a box in place at the pixel-weighted median of its widest channel; both halves non-empty.
 * The channel is read with a shift inline, not through a helper: this loop runs before the JIT
 * has warmed, where a call per pixel costs more than the arithmetic.
 */
function split(packed: Uint32Array, box: Box): [Box, Box] {
  const { start, end, channel } = box;
  const shift = 16 - 8 * channel;
  const histogram = new Uint32Array(256);
  let lo = 255;
  let hi = 0;
  for (let i = start; i < end; i++) {
    const v = (packed[i]! >>> shift) & 0xff;
    histogram[v]!++;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const half = (end - start) / 2;
  let cut = lo;
  for (let seen = histogram[lo]!; seen < half; seen += histogram[cut]!) cut++;
  // Pixels with value <= cut go left; keeping cut below hi leaves the right half non-empty.
  cut = Math.min(cut, hi - 1);
  let i = start;
  let j = end - 1;
  while (i <= j) {
    const p = packed[i]!;
    if (((p >>> shift) & 0xff) <= cut) {
      i++;
    } else {
      packed[i] = packed[j]!;
      packed[j] = p;
      j--;
    }
  }
  return [measure(packed, start, i), measure(packed, i, end)];
}

function meanColour(packed: Uint32Array, box: Box): PaletteEntry {
  if (box.mean) return { ...box.mean };
  let r = 0;
  let g = 0;
  let b = 0;
  for (let i = box.start; i < box.end; i++) {
    const p = packed[i]!;
    r += p >>> 16;
    g += (p >>> 8) & 0xff;
    b += p & 0xff;
  }
  const count = box.end - box.start;
  box.mean = {
    r: Math.round(r / count),
    g: Math.round(g / count),
    b: Math.round(b / count),
    count,
  };
  return { ...box.mean };
}

/** The opaque pixels as 0xRRGGBB values. */
function opaquePixels(pixels: Uint8Array, channels: 3 | 4): Uint32Array {
  const n = pixels.length / channels;
  const packed = new Uint32Array(n);
  let used = 0;
  for (let i = 0, o = 0; i < n; i++, o += channels) {
    if (channels === 4 && pixels[o + 3]! < OPAQUE_ALPHA) continue;
    packed[used++] = (pixels[o]! << 16) | (pixels[o + 1]! << 8) | pixels[o + 2]!;
  }
  return packed.subarray(0, used);
}

function entriesOf(packed: Uint32Array, boxes: readonly Box[]): PaletteEntry[] {
  return boxes
    .map((box) => meanColour(packed, box))
    .sort(
      (p, q) =>
        q.count - p.count || (p.r << 16) + (p.g << 8) + p.b - ((q.r << 16) + (q.g << 8) + q.b),
    );
}

function checkArguments(pixels: Uint8Array, channels: 3 | 4, maxColours: number): void {
  if (channels !== 3 && channels !== 4) {
    throw new RangeError(`Expected 3 or 4 for channels but received ${String(channels)}`);
  }
  if (!Number.isInteger(maxColours) || maxColours < 1) {
    throw new RangeError(
      `Expected positive integer for maxColours but received "${String(maxColours)}" of type ${typeof maxColours}`,
    );
  }
  if (pixels.length % channels !== 0) {
    throw new RangeError(
      `Expected a whole number of ${channels}-channel pixels but received ${pixels.length} bytes`,
    );
  }
}

/**
 * Median cut one split at a time: yields the palette (as `medianCut` returns it) for every box
 * count from `fewest` to `most`, or, when the pixels run out of colours to split first, the last
 * one reached. Each step costs one split, not a new quantisation.
 */
export function* medianCutSteps(
  pixels: Uint8Array,
  channels: 3 | 4,
  fewest: number,
  most: number,
): Generator<PaletteEntry[]> {
  checkArguments(pixels, channels, most);
  const packed = opaquePixels(pixels, channels);
  if (packed.length === 0) {
    yield [];
    return;
  }
  const boxes: Box[] = [measure(packed, 0, packed.length)];
  for (;;) {
    if (boxes.length >= fewest) yield entriesOf(packed, boxes);
    if (boxes.length >= most) return;
    // Widest range × population: big varied regions get split first, a few stray pixels do not take a slot.
    let best = -1;
    let bestScore = 0;
    for (let k = 0; k < boxes.length; k++) {
      const box = boxes[k]!;
      const score = box.range * (box.end - box.start);
      if (score > bestScore) {
        best = k;
        bestScore = score;
      }
    }
    if (best < 0) {
      // Every box holds a single colour.
      if (boxes.length < fewest) yield entriesOf(packed, boxes);
      return;
    }
    boxes.splice(best, 1, ...split(packed, boxes[best]!));
  }
}

/** A `medianCutSteps`: the JavaScript one, or the native addon's through `stepsFromFlat`. */
export type MedianCutSteps = (
  pixels: Uint8Array,
  channels: 3 | 4,
  fewest: number,
  most: number,
) => Iterable<PaletteEntry[]>;

/**
 * The palettes of the native addon's medianCutSteps, laid out flat (the palettes' count, then each
 * palette's entry count and its entries' r, g, b, count), as `medianCutSteps` yields them.
 */
export function* stepsFromFlat(flat: Int32Array): Generator<PaletteEntry[]> {
  let at = 1;
  for (let step = 0; step < flat[0]!; step++) {
    const entries: PaletteEntry[] = [];
    const count = flat[at++]!;
    for (let k = 0; k < count; k++, at += 4) {
      entries.push({ r: flat[at]!, g: flat[at + 1]!, b: flat[at + 2]!, count: flat[at + 3]! });
    }
    yield entries;
  }
}

/**
 * Median-cut quantisation of interleaved 8-bit RGB or RGBA pixels (straight alpha).
 * Returns at most `maxColours` distinct colours, each the rounded mean of its box, most
 * populous first (ties: lower hex first). Transparent pixels are ignored; none opaque gives [].
 * Boxes are disjoint in colour space, so the result depends only on the multiset of pixels,
 * never on their order.
 */
export function medianCut(pixels: Uint8Array, channels: 3 | 4, maxColours: number): PaletteEntry[] {
  let last: PaletteEntry[] = [];
  for (const entries of medianCutSteps(pixels, channels, maxColours, maxColours)) last = entries;
  return last;
}
