import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { bytesToDecode, decode, readHeader } from '../../src/pipeline/decode.js';
import { decodesAtEighthScale, pruneScansForEighthScale } from '../../src/pipeline/jpeg-scans.js';

/** A detailed test picture: colour gradients plus deterministic noise, so every AC band is busy. */
async function picture(width: number, height: number, channels: 1 | 3): Promise<Buffer> {
  const data = Buffer.alloc(width * height * channels);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const noise = (seed >>> 24) % 64;
      for (let c = 0; c < channels; c++) {
        const wave = Math.sin((x * (c + 1)) / 37 + y / 53) * 80;
        data[(y * width + x) * channels + c] = Math.max(0, Math.min(255, 128 + wave + noise - 32));
      }
    }
  }
  return sharp(data, { raw: { width, height, channels } }).png({ compressionLevel: 1 }).toBuffer();
}

function progressive(png: Buffer, chromaSubsampling: '4:2:0' | '4:4:4'): Promise<Buffer> {
  return sharp(png).jpeg({ quality: 90, progressive: true, chromaSubsampling }).toBuffer();
}

async function rawAt(jpeg: Buffer, width: number): Promise<Buffer> {
  return sharp(jpeg).resize({ width, kernel: 'lanczos3' }).raw().toBuffer();
}

describe('pruneScansForEighthScale', () => {
  const cases = [
    { name: '4:2:0 colour', channels: 3 as const, subsampling: '4:2:0' as const },
    { name: '4:4:4 colour', channels: 3 as const, subsampling: '4:4:4' as const },
    { name: 'greyscale', channels: 1 as const, subsampling: '4:2:0' as const },
  ];
  for (const c of cases) {
    it(`decodes a ${c.name} progressive JPEG at 1/8 scale to the very same pixels`, async () => {
      const jpeg = await progressive(await picture(1280, 960, c.channels), c.subsampling);
      const pruned = pruneScansForEighthScale(jpeg);
      expect(pruned).toBeDefined();
      expect(pruned!.length).toBeLessThan(jpeg.length * 0.75);
      // 1280 / 128 = 10: libvips shrinks on load by 8.
      expect(decodesAtEighthScale({ width: 1280, height: 960 }, { width: 128, height: 96 })).toBe(
        true,
      );
      const [original, fromPruned] = await Promise.all([rawAt(jpeg, 128), rawAt(pruned!, 128)]);
      expect(fromPruned.equals(original)).toBe(true);
    });
  }

  it('would change the pixels at 1/4 scale, which is why it is only used at 1/8', async () => {
    const jpeg = await progressive(await picture(1280, 960, 3), '4:2:0');
    const pruned = pruneScansForEighthScale(jpeg)!;
    // 1280 / 256 = 5: libvips shrinks on load by 4, where AC coefficients count.
    expect(decodesAtEighthScale({ width: 1280, height: 960 }, { width: 256, height: 192 })).toBe(
      false,
    );
    const [original, fromPruned] = await Promise.all([rawAt(jpeg, 256), rawAt(pruned, 256)]);
    expect(fromPruned.equals(original)).toBe(false);
  });

  it('leaves baseline JPEGs, other formats and broken streams alone', async () => {
    const png = await picture(320, 240, 3);
    const baseline = await sharp(png).jpeg({ quality: 90 }).toBuffer();
    expect(pruneScansForEighthScale(baseline)).toBeUndefined();
    expect(pruneScansForEighthScale(png)).toBeUndefined();
    expect(pruneScansForEighthScale(Buffer.alloc(0))).toBeUndefined();
    const jpeg = await progressive(png, '4:2:0');
    expect(pruneScansForEighthScale(jpeg)).toBeDefined();
    expect(pruneScansForEighthScale(jpeg.subarray(0, Math.floor(jpeg.length / 2)))).toBeUndefined();
    const corrupt = Buffer.from(jpeg);
    corrupt[2] = 0x12; // the first marker is no longer a marker
    expect(pruneScansForEighthScale(corrupt)).toBeUndefined();
  });
});

describe('decodesAtEighthScale', () => {
  it('agrees with the scale sharp really decodes at, on both sides of a shrink of 9', async () => {
    // A pruned file decodes to the original's pixels at 1/8 scale and to other pixels at 1/4: if
    // sharp's shrink-on-load rule moves, one of these fails.
    const jpeg = await progressive(await picture(1152, 864, 3), '4:2:0');
    const pruned = pruneScansForEighthScale(jpeg)!;
    const sameAt = async (width: number, height: number) => {
      const at = (buf: Buffer) =>
        sharp(buf).resize(width, height, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
      return (await at(pruned)).equals(await at(jpeg));
    };
    // 1152 / 128 = 864 / 96 = 9: 1/8 scale.
    expect(decodesAtEighthScale({ width: 1152, height: 864 }, { width: 128, height: 96 })).toBe(
      true,
    );
    expect(await sameAt(128, 96)).toBe(true);
    // 1152 / 129 = 8.93 on one axis: 1/4 scale.
    expect(decodesAtEighthScale({ width: 1152, height: 864 }, { width: 129, height: 96 })).toBe(
      false,
    );
    expect(await sameAt(129, 96)).toBe(false);
  });

  it('follows sharp: 1/8 only when both axes shrink by 9 or more', () => {
    expect(decodesAtEighthScale({ width: 2304, height: 1536 }, { width: 256, height: 171 })).toBe(
      false,
    ); // 1536 / 171 < 9
    expect(decodesAtEighthScale({ width: 2304, height: 1539 }, { width: 256, height: 171 })).toBe(
      true,
    );
    expect(decodesAtEighthScale({ width: 2300, height: 4000 }, { width: 256, height: 445 })).toBe(
      false,
    );
    expect(decodesAtEighthScale({ width: 5640, height: 3172 }, { width: 256, height: 144 })).toBe(
      true,
    );
  });
});

describe('bytesToDecode', () => {
  it('prunes a progressive JPEG only when libvips will decode it at 1/8 scale', async () => {
    const png = await picture(1600, 1200, 3);
    const jpeg = await progressive(png, '4:2:0');
    const baseline = await sharp(png).jpeg({ quality: 90 }).toBuffer();
    const info = await readHeader(jpeg, 1e8);
    expect(bytesToDecode(jpeg, info, { width: 160, height: 120 }).length).toBeLessThan(jpeg.length);
    expect(bytesToDecode(jpeg, info, { width: 256, height: 192 })).toBe(jpeg); // 1/4 scale
    expect(bytesToDecode(jpeg, info, { width: 800, height: 600 })).toBe(jpeg);
    const baselineInfo = await readHeader(baseline, 1e8);
    expect(bytesToDecode(baseline, baselineInfo, { width: 160, height: 120 })).toBe(baseline);
  });
});

describe('decode of a progressive JPEG', () => {
  it('gives the same thumbnail-size pixels as a plain sharp decode, rotated files included', async () => {
    const base = await progressive(await picture(1600, 1200, 3), '4:2:0');
    for (const orientation of [1, 6]) {
      const jpeg =
        orientation === 1
          ? base
          : await sharp(base)
              .withMetadata({ orientation })
              .jpeg({ quality: 90, progressive: true })
              .toBuffer();
      const info = await readHeader(jpeg, 1e8);
      expect(info.progressive).toBe(true);
      const size = orientation === 1 ? { width: 160, height: 120 } : { width: 120, height: 160 };
      const ours = await decode(jpeg, info, size, 1e8);
      const reference = await sharp(jpeg)
        .rotate()
        .resize(size.width, size.height, { kernel: 'lanczos3', fit: 'fill' })
        .toColourspace('srgb')
        .removeAlpha()
        .raw()
        .toBuffer();
      expect([ours.width, ours.height]).toEqual([size.width, size.height]);
      expect(ours.data.equals(reference)).toBe(true);
    }
  });
});
