/**
 * Progressive JPEG scan pruning for 1/8-scale decodes.
 *
 * At 1/8 scale libjpeg's inverse DCT reads only the DC coefficient of each full-resolution
 * component, so the AC scans of those components, usually most of the file, are decoded for
 * nothing. `pruneScansForEighthScale` drops them and returns a smaller progressive JPEG whose
 * 1/8-scale decode is identical, pixel for pixel, to the original's. Kept:
 * - every DC scan (first pass and refinements);
 * - every scan of a subsampled component (chroma is decoded at 2/8 scale and uses AC);
 * - the first AC scan of each full-resolution component that covers one of coefficients 1..9:
 *   without it, libjpeg's block smoothing would treat the component as "DC only" and alter DC.
 * Anything unexpected (baseline, arithmetic coding, a malformed stream) returns undefined, and
 * the caller decodes the original.
 */

interface FrameComponent {
  id: number;
  h: number;
  v: number;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const SOF2 = 0xc2; // progressive, Huffman

/** SOF markers other than SOF2: baseline, extended, lossless, arithmetic, hierarchical. */
function isOtherFrame(marker: number): boolean {
  return (
    marker >= 0xc0 &&
    marker <= 0xcf &&
    marker !== 0xc4 &&
    marker !== 0xc8 &&
    marker !== 0xcc &&
    marker !== SOF2
  );
}

/** Offset of the marker that ends the entropy-coded data starting at `from`, or -1. */
function endOfEntropyData(buf: Buffer, from: number): number {
  let j = from;
  for (;;) {
    j = buf.indexOf(0xff, j);
    if (j < 0 || j + 1 >= buf.length) return -1;
    const next = buf[j + 1]!;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7))
      j += 2; // stuffed byte, restart marker
    else if (next === 0xff)
      j += 1; // fill byte
    else return j;
  }
}

function readFrame(buf: Buffer, at: number, length: number): FrameComponent[] | undefined {
  const count = buf[at + 9];
  if (count === undefined || count < 1 || 8 + 3 * count > length) return undefined;
  const components: FrameComponent[] = [];
  for (let c = 0; c < count; c++) {
    const sampling = buf[at + 11 + 3 * c]!;
    components.push({ id: buf[at + 10 + 3 * c]!, h: sampling >> 4, v: sampling & 15 });
  }
  return components;
}

/**
 * The same JPEG without the scans a 1/8-scale decode does not read, or undefined when the file
 * is not a plain progressive JPEG or nothing would be saved.
 */
export function pruneScansForEighthScale(buf: Buffer): Buffer | undefined {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== SOI) return undefined;
  const kept: Buffer[] = [buf.subarray(0, 2)];
  let fullResolution: Set<number> | undefined;
  const keptFirstAc = new Set<number>();
  let dropped = 0;
  let i = 2;
  while (i + 1 < buf.length) {
    if (buf[i] !== 0xff) return undefined;
    const marker = buf[i + 1]!;
    if (marker === 0xff) {
      i += 1;
      continue;
    }
    if (marker === EOI) {
      kept.push(buf.subarray(i, i + 2));
      return fullResolution && dropped > 0 ? Buffer.concat(kept) : undefined;
    }
    if (marker === SOI || (marker >= 0xd0 && marker <= 0xd7) || i + 3 >= buf.length)
      return undefined;
    const segmentEnd = i + 2 + buf.readUInt16BE(i + 2);
    if (segmentEnd > buf.length) return undefined;
    if (isOtherFrame(marker)) return undefined;
    if (marker === SOF2) {
      if (fullResolution) return undefined; // a second frame
      const components = readFrame(buf, i, segmentEnd - i - 2);
      if (!components) return undefined;
      const maxH = Math.max(...components.map((c) => c.h));
      const maxV = Math.max(...components.map((c) => c.v));
      fullResolution = new Set(
        components.filter((c) => c.h === maxH && c.v === maxV).map((c) => c.id),
      );
    }
    if (marker !== SOS) {
      kept.push(buf.subarray(i, segmentEnd));
      i = segmentEnd;
      continue;
    }
    if (!fullResolution) return undefined; // a scan before any progressive frame
    const scanEnd = endOfEntropyData(buf, segmentEnd);
    if (scanEnd < 0) return undefined;
    const componentsInScan = buf[i + 4]!;
    const spectralStart = buf[i + 5 + 2 * componentsInScan];
    if (spectralStart === undefined || 6 + 2 * componentsInScan > segmentEnd - i) return undefined;
    const component = buf[i + 5]!;
    let keep = spectralStart === 0 || componentsInScan !== 1 || !fullResolution.has(component);
    if (!keep && spectralStart <= 9 && !keptFirstAc.has(component)) {
      keptFirstAc.add(component);
      keep = true;
    }
    if (keep) kept.push(buf.subarray(i, scanEnd));
    else dropped += scanEnd - i;
    i = scanEnd;
  }
  return undefined;
}

/**
 * Whether libvips will decode this JPEG at 1/8 scale when sharp resizes it to `target` (in the
 * stored, unrotated orientation): sharp shrinks on load by 8 only when both axes shrink by 9 or
 * more (see sharp's pipeline.cc, "jpegShrinkOnLoad").
 */
export function decodesAtEighthScale(
  stored: { width: number; height: number },
  target: { width: number; height: number },
): boolean {
  return stored.width / target.width >= 9 && stored.height / target.height >= 9;
}
