import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import type { RawImage } from '../../src/types.js';
import { CpuBackend } from '../../src/backends/cpu.js';
import { NativeError } from '../../src/native/index.js';
import {
  decodeFixture,
  maxAbsDiff,
  openBinding,
  premultiplied,
  psnr,
  sharpBlur,
  sharpResize,
} from './helpers.js';

// The C++ reference holds the same math as the CUDA kernels; here it is held against sharp (libvips
// lanczos3 and gaussblur). Measured on the fixtures: 47-52 dB for photos, 40-55 dB premultiplied
// for alpha edges; the thresholds leave a margin and still catch a wrong filter, phase or border.
const PHOTO_PSNR = 40;
const BLUR_PSNR = 38;
const ALPHA_PSNR = 35;

const binding = openBinding();

function solid(width: number, height: number, px: number[]): RawImage {
  const channels = px.length as 3 | 4;
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = px[i % channels] as number;
  return { data, width, height, channels };
}

describe.each(['meadow.jpg', 'harbour.jpg'])('photo %s against sharp', (name) => {
  test('thumb, blur and lq match sharp in size and closely in pixels', async () => {
    const src = await decodeFixture(name);
    const thumb = { width: 256, height: Math.round((src.height * 256) / src.width) };
    const half = { width: src.width / 2, height: src.height / 2 };
    const r = await binding.referenceResample(src, {
      thumb,
      blur: { size: thumb, sigma: 6 },
      lq: half,
      sample: { width: 64, height: 48 },
    });
    expect(r.thumb).toMatchObject({ ...thumb, channels: 3 });
    expect(r.sample).toMatchObject({ width: 64, height: 48, channels: 3 });
    expect(
      psnr(r.thumb as RawImage, await sharpResize(src, thumb.width, thumb.height)),
    ).toBeGreaterThan(PHOTO_PSNR);
    expect(psnr(r.blur as RawImage, await sharpBlur(r.thumb as RawImage, 6))).toBeGreaterThan(
      BLUR_PSNR,
    );
    expect(psnr(r.lq as RawImage, await sharpResize(src, half.width, half.height))).toBeGreaterThan(
      PHOTO_PSNR,
    );
  });

  test('a lq that is not exactly half uses the antialiased resize', async () => {
    const src = await decodeFixture(name);
    const lq = { width: Math.round(src.width * 0.4), height: Math.round(src.height * 0.4) };
    const r = await binding.referenceResample(src, { lq });
    expect(psnr(r.lq as RawImage, await sharpResize(src, lq.width, lq.height))).toBeGreaterThan(
      PHOTO_PSNR,
    );
  });
});

/** A grey image whose value at (x, y) is `shade(x, y)`. */
function grey(width: number, height: number, shade: (x: number, y: number) => number): RawImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      data.fill(shade(x, y), at, at + 3);
    }
  }
  return { data, width, height, channels: 3 };
}

// Photos barely tell one windowed sinc from another; hard edges (ringing) and a zone plate (every
// frequency up to Nyquist: sharpness) do. Below a 2x downscale libvips applies its kernel alone, with
// no box pre-shrink. Measured: 50-52 dB against sharp's lanczos3 and 15-21 dB less against its
// lanczos2; a Lanczos-2 reference scores 30-36 dB against lanczos3 and is nearer lanczos2.
const FILTER_PSNR = 45;
const FILTER_MARGIN_DB = 10;
const filterProbes: [string, RawImage][] = [
  [
    '7 px checkerboard',
    grey(240, 240, (x, y) => ((Math.floor(x / 7) + Math.floor(y / 7)) % 2 ? 230 : 25)),
  ],
  [
    'zone plate',
    grey(256, 256, (x, y) =>
      Math.round(127.5 + 127.5 * Math.cos((((x - 128) ** 2 + (y - 128) ** 2) * Math.PI) / 256)),
    ),
  ],
];

describe.each(filterProbes)('the resize filter on a %s', (_name, src) => {
  test.each([1.5, 2.5])('is Lanczos-3 at a 1/%s downscale, not Lanczos-2', async (factor) => {
    const size = { width: Math.round(src.width / factor), height: Math.round(src.height / factor) };
    const r = await binding.referenceResample(src, { thumb: size });
    const vips = async (kernel: 'lanczos3' | 'lanczos2') => {
      const { data, info } = await sharp(src.data, { raw: src })
        .resize(size.width, size.height, { kernel, fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { data, width: info.width, height: info.height, channels: 3 as const };
    };
    const againstLanczos3 = psnr(r.thumb as RawImage, await vips('lanczos3'));
    const againstLanczos2 = psnr(r.thumb as RawImage, await vips('lanczos2'));
    expect(againstLanczos3).toBeGreaterThan(FILTER_PSNR);
    expect(againstLanczos3 - againstLanczos2).toBeGreaterThan(FILTER_MARGIN_DB);
  });
});

describe('responsive widths', () => {
  test('every width in one job, in order, each close to sharp and to the CPU backend', async () => {
    const src = await decodeFixture('harbour.jpg');
    const at = (width: number) => ({ width, height: Math.round((src.height * width) / src.width) });
    const widths = [at(320), at(97), { width: src.width, height: src.height }];
    const r = await binding.referenceResample(src, { thumb: at(256), widths });
    expect(r.widths?.map((w) => [w.width, w.height])).toEqual(
      widths.map((w) => [w.width, w.height]),
    );
    const cpu = await new CpuBackend().resample(src, { widths });
    for (const [i, size] of widths.slice(0, 2).entries()) {
      const mine = r.widths![i] as RawImage;
      expect(psnr(mine, await sharpResize(src, size.width, size.height))).toBeGreaterThan(
        PHOTO_PSNR,
      );
      expect(psnr(mine, cpu.widths![i] as RawImage)).toBeGreaterThan(PHOTO_PSNR);
    }
    // The source's own width is the decoded image itself.
    expect(Buffer.compare(r.widths![2]!.data, src.data)).toBe(0);
  });

  test('widths are checked like every other size', async () => {
    const src = solid(8, 8, [1, 2, 3]);
    const message = (request: object) =>
      binding.referenceResample(src, request).then(
        () => 'accepted',
        (e: Error) => e.message,
      );
    expect(await message({ widths: [{ width: 0, height: 4 }] })).toContain(
      'Expected widths[0] size between 1x1',
    );
    expect(
      await message({ widths: Array.from({ length: 33 }, () => ({ width: 4, height: 4 })) }),
    ).toBe('Expected at most 32 widths but received 33');
    expect(await message({ widths: { width: 4, height: 4 } })).toBe(
      'Expected array for request.widths but received a value of type object',
    );
  });
});

describe.each(['rgba-hard-edges.png', 'grey-alpha.png'])('alpha edges %s against sharp', (name) => {
  test('resampled premultiplied: no dark fringes', async () => {
    const src = await decodeFixture(name);
    expect(src.channels).toBe(4);
    const thumb = { width: Math.round(src.width * 0.6), height: Math.round(src.height * 0.6) };
    const r = await binding.referenceResample(src, { thumb, blur: { size: thumb, sigma: 2 } });
    const t = r.thumb as RawImage;
    expect(
      psnr(premultiplied(t), premultiplied(await sharpResize(src, thumb.width, thumb.height))),
    ).toBeGreaterThan(ALPHA_PSNR);
    expect(
      psnr(premultiplied(r.blur as RawImage), premultiplied(await sharpBlur(t, 2))),
    ).toBeGreaterThan(ALPHA_PSNR);
  });
});

describe('reference semantics', () => {
  test('a uniform colour stays exactly that colour through every kernel (weights sum to 1)', async () => {
    const src = solid(301, 199, [200, 40, 90, 255]);
    const r = await binding.referenceResample(src, {
      thumb: { width: 97, height: 64 },
      blur: { size: { width: 97, height: 64 }, sigma: 6 },
      lq: { width: 123, height: 81 },
      sample: { width: 9, height: 6 },
    });
    for (const image of [r.thumb, r.blur, r.lq, r.sample]) {
      expect(
        maxAbsDiff(image as RawImage, solid(image!.width, image!.height, [200, 40, 90, 255])),
      ).toBe(0);
    }
  });

  test('a transparent colour does not bleed into its neighbours, and alpha 0 gives rgb 0', async () => {
    // Left half opaque green, right half fully transparent red.
    const src = solid(64, 8, [0, 255, 0, 255]);
    for (let y = 0; y < 8; y++) {
      for (let x = 32; x < 64; x++) src.data.set([255, 0, 0, 0], (y * 64 + x) * 4);
    }
    const r = await binding.referenceResample(src, { thumb: { width: 16, height: 2 } });
    const t = r.thumb as RawImage;
    for (let i = 0; i < t.data.length; i += 4) {
      const [red, green, blue, alpha] = [...t.data.subarray(i, i + 4)] as number[];
      if (alpha === 0) expect([red, green, blue]).toEqual([0, 0, 0]);
      else expect(red).toBeLessThanOrEqual(1);
      if (alpha! > 0) expect(blue).toBe(0);
    }
  });

  test('lq equal to the source is a copy; exactly half is the 2x2 box or nearest', async () => {
    const src = solid(6, 4, [0, 0, 0]);
    for (let i = 0; i < src.data.length; i++) src.data[i] = (i * 37) % 256;
    const same = await binding.referenceResample(src, { lq: { width: 6, height: 4 } });
    expect(Buffer.compare(same.lq!.data, src.data)).toBe(0);

    const box = await binding.referenceResample(src, { lq: { width: 3, height: 2 } });
    const nearest = await binding.referenceResample(
      src,
      { lq: { width: 3, height: 2 } },
      { halveFilter: 'nearest' },
    );
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        for (let c = 0; c < 3; c++) {
          const at = (sx: number, sy: number) => src.data[(sy * 6 + sx) * 3 + c] as number;
          const sum =
            at(2 * x, 2 * y) +
            at(2 * x + 1, 2 * y) +
            at(2 * x, 2 * y + 1) +
            at(2 * x + 1, 2 * y + 1);
          expect(box.lq!.data[(y * 3 + x) * 3 + c]).toBe(Math.floor(sum / 4 + 0.5));
          expect(nearest.lq!.data[(y * 3 + x) * 3 + c]).toBe(at(2 * x, 2 * y));
        }
      }
    }
  });

  test('the blur clamps at the borders: a one-row image stays within its own colours', async () => {
    const src = solid(40, 1, [10, 10, 10]);
    src.data.fill(250, 0, 60);
    const r = await binding.referenceResample(src, {
      blur: { size: { width: 40, height: 1 }, sigma: 3 },
    });
    // Thumb equal to the source is a copy, so the blur sees the source itself.
    const b = r.blur as RawImage;
    expect(b.data[0]).toBeGreaterThan(200);
    expect(b.data[b.data.length - 1]).toBeLessThan(20);
  });

  test('invalid requests are refused with ERR_INVALID_ARG before any work', async () => {
    const src = solid(4, 4, [1, 2, 3]);
    const refused = async (fn: () => Promise<unknown>, text: string) => {
      const err = await fn().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NativeError);
      expect(err).toMatchObject({ code: 'ERR_INVALID_ARG' });
      expect((err as Error).message).toContain(text);
      // The stack points at the caller, not into the binding.
      expect((err as Error).stack).toContain('reference.test.ts');
    };
    await refused(
      () =>
        binding.referenceResample({ ...src, channels: 2 as 3 }, { thumb: { width: 2, height: 2 } }),
      'Expected 3 or 4 for channels but received 2',
    );
    await refused(
      () => binding.referenceResample({ ...src, data: src.data.subarray(1) }, {}),
      'Expected 48 bytes of pixel data',
    );
    await refused(
      () => binding.referenceResample(src, { thumb: { width: 0, height: 2 } }),
      'Expected thumb size between 1x1',
    );
    await refused(
      () => binding.referenceResample(src, { lq: { width: 70000, height: 2 } }),
      'Expected lq size between 1x1 and 65535x65535',
    );
    await refused(
      () =>
        binding.referenceResample(src, {
          thumb: { width: 2, height: 2 },
          blur: { size: { width: 3, height: 3 }, sigma: 1 },
        }),
      'Expected blur size equal to thumb size',
    );
    await refused(
      () => binding.referenceResample(src, { blur: { size: { width: 2, height: 2 }, sigma: 0 } }),
      'Expected sigma in (0, 100]',
    );
    await refused(
      () =>
        binding.referenceResample(
          src,
          { lq: { width: 2, height: 2 } },
          { halveFilter: 'bilinear' as 'box' },
        ),
      'Expected one of box, nearest for options.halveFilter',
    );
  });

  test('a device that is not there fails with a coded error, never a crash', async () => {
    const info = binding.buildInfo();
    const status = await binding.cudaStatus();
    // On a machine with GPUs, ask for one past the last.
    const device = status.devices.length;
    const err = await binding
      .cudaResample(solid(4, 4, [1, 2, 3]), { thumb: { width: 2, height: 2 } }, { device })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NativeError);
    expect((err as NativeError).code).toBe(info.cuda ? 'ERR_NO_DEVICE' : 'ERR_NO_CUDA');
  });
});
