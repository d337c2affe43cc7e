import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import type { RawImage, ResampleRequest } from '../../src/types.js';
import { decodeFixture, maxAbsDiff, openBinding, psnr } from './helpers.js';

// Needs an NVIDIA GPU, its driver and an addon built with nvcc; skipped with a reason otherwise,
// except under IMGPROC_REQUIRE_GPU=1 (the GPU check), where a missing GPU fails instead.
const requireGpu = process.env.IMGPROC_REQUIRE_GPU === '1';
const binding = openBinding();
const build = binding.buildInfo();
const status = await binding.cudaStatus();
const gpuReason = !build.cuda
  ? 'the addon was built without CUDA'
  : status.devices.length === 0
    ? `no CUDA device (${status.error ?? 'none'})`
    : undefined;
const skipGpu = gpuReason !== undefined && !requireGpu;
if (skipGpu) console.log(`GPU tests skipped: ${gpuReason}`);

test.runIf(requireGpu)('IMGPROC_REQUIRE_GPU=1: a GPU is here to run these tests', () => {
  expect(gpuReason).toBeUndefined();
});

function synthetic(width: number, height: number, channels: 3 | 4, seed: number): RawImage {
  const data = Buffer.alloc(width * height * channels);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      data[i] = Math.round((x * 255) / Math.max(1, width - 1));
      data[i + 1] = Math.round((y * 255) / Math.max(1, height - 1));
      data[i + 2] = rand();
      if (channels === 4) {
        const inside = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (width * width) / 9;
        data[i + 3] = inside ? 128 + (rand() & 0x7f) : 0;
      }
    }
  }
  return { data, width, height, channels };
}

function requestFor(src: RawImage, sigma = 6, lqScale = 0.5): ResampleRequest {
  const thumb = { width: Math.min(256, src.width), height: 0 };
  thumb.height = Math.max(1, Math.round((src.height * thumb.width) / src.width));
  return {
    thumb,
    blur: { size: thumb, sigma },
    lq: {
      width: Math.max(1, Math.round(src.width * lqScale)),
      height: Math.max(1, Math.round(src.height * lqScale)),
    },
    sample: { width: 16, height: 12 },
    widths: [
      {
        width: Math.max(1, Math.round(src.width * 0.3)),
        height: Math.max(1, Math.round(src.height * 0.3)),
      },
      { width: src.width, height: src.height },
    ],
  };
}

async function expectCudaMatchesReference(
  src: RawImage,
  request: ResampleRequest,
  halveFilter: 'box' | 'nearest' = 'box',
): Promise<void> {
  const gpu = await binding.cudaResample(src, request, { device: 0, halveFilter });
  const ref = await binding.referenceResample(src, request, { halveFilter });
  for (const name of ['thumb', 'blur', 'lq', 'sample'] as const) {
    if (!ref[name]) continue;
    expect(maxAbsDiff(gpu[name] as RawImage, ref[name] as RawImage), name).toBeLessThanOrEqual(2);
  }
  expect(gpu.widths?.length, 'widths').toBe(request.widths?.length ?? 0);
  for (const [i, width] of (ref.widths ?? []).entries()) {
    expect(maxAbsDiff(gpu.widths![i] as RawImage, width), `widths[${i}]`).toBeLessThanOrEqual(2);
  }
  expect(gpu.timings?.kernelsMs).toBeGreaterThanOrEqual(0);
}

describe.skipIf(skipGpu)('CUDA kernels against the C++ reference', () => {
  test.each([
    'meadow.jpg',
    'harbour.jpg',
    'rgba-hard-edges.png',
    'grey-alpha.png',
    'tall-8x2000.jpg',
  ])('fixture %s: every output within 2 per channel', async (name) => {
    const src = await decodeFixture(name);
    await expectCudaMatchesReference(src, requestFor(src));
  });

  test.each([3, 4] as const)(
    'synthetic %i channels: odd sizes, halve box/nearest, wide blur',
    async (c) => {
      const even = synthetic(518, 390, c, 7);
      await expectCudaMatchesReference(even, requestFor(even), 'box');
      await expectCudaMatchesReference(even, requestFor(even), 'nearest');
      const odd = synthetic(517, 389, c, 9);
      await expectCudaMatchesReference(odd, requestFor(odd, 20, 0.45));
      await expectCudaMatchesReference(synthetic(2, 2, c, 3), requestFor(synthetic(2, 2, c, 3), 3));
    },
  );

  test('reused buffers: big, small, big again give the same pixels', async () => {
    const big = synthetic(3000, 2000, 4, 11);
    const small = synthetic(64, 48, 4, 12);
    const first = await binding.cudaResample(big, requestFor(big));
    await binding.cudaResample(small, requestFor(small));
    const again = await binding.cudaResample(big, requestFor(big));
    expect(maxAbsDiff(first.lq as RawImage, again.lq as RawImage)).toBe(0);
    expect(maxAbsDiff(first.blur as RawImage, again.blur as RawImage)).toBe(0);
  });

  test('a device that does not exist is ERR_NO_DEVICE, and the next job still runs', async () => {
    const src = synthetic(32, 32, 3, 1);
    await expect(binding.cudaResample(src, requestFor(src), { device: 99 })).rejects.toMatchObject({
      code: 'ERR_NO_DEVICE',
    });
    await expectCudaMatchesReference(src, requestFor(src));
  });
});

describe.skipIf(skipGpu)('the CLI on the GPU', () => {
  test('--backend cuda processes the fixtures; outputs look like the CPU ones', async () => {
    const cuda = mkdtempSync(join(tmpdir(), 'imgproc-gpu-'));
    const cpu = mkdtempSync(join(tmpdir(), 'imgproc-cpu-'));
    try {
      const run = (out: string, backend: string) =>
        spawnSync(
          process.execPath,
          [
            resolve('bin/imgproc.cjs'),
            'fixtures/photos',
            '--out',
            out,
            '--backend',
            backend,
            '--no-progress',
          ],
          {
            encoding: 'utf8',
          },
        );
      const g = run(cuda, 'cuda');
      expect(g.status, g.stderr).toBe(0);
      expect(g.stderr).toMatch(/backend: cuda on .*GPU 0/);
      expect(run(cpu, 'cpu').status).toBe(0);
      for (const stem of ['meadow', 'harbour', 'rgba-hard-edges']) {
        const side = JSON.parse(readFileSync(join(cuda, `${stem}.json`), 'utf8')) as {
          backend: string;
        };
        expect(side.backend).toBe('cuda');
      }
      await Promise.all(
        ['meadow', 'harbour'].map(async (stem) => {
          const decode = async (dir: string) => {
            const { data, info } = await sharp(join(dir, `${stem}_thumb.webp`))
              .raw()
              .toBuffer({ resolveWithObject: true });
            return {
              data,
              width: info.width,
              height: info.height,
              channels: info.channels as 3 | 4,
            };
          };
          expect(psnr(await decode(cuda), await decode(cpu))).toBeGreaterThan(35);
        }),
      );
    } finally {
      rmSync(cuda, { recursive: true, force: true });
      rmSync(cpu, { recursive: true, force: true });
    }
  });
});

const CHECK = resolve('native/build/Release/imgproc_kernel_check');
const sanitizer = ['compute-sanitizer', '/usr/local/cuda/bin/compute-sanitizer'].find(
  (bin) => spawnSync(bin, ['--version']).status === 0,
);
const sanitizerReason =
  gpuReason ??
  (!existsSync(CHECK)
    ? `${CHECK} is not built`
    : !sanitizer
      ? 'compute-sanitizer not found'
      : undefined);
const skipSanitizer = sanitizerReason !== undefined && !requireGpu;
if (!gpuReason && skipSanitizer) console.log(`memcheck skipped: ${sanitizerReason}`);

describe.skipIf(skipSanitizer)('compute-sanitizer', () => {
  test('memcheck finds no error in the kernel check program', () => {
    expect(sanitizerReason).toBeUndefined();
    const r = spawnSync(
      sanitizer as string,
      ['--tool', 'memcheck', '--error-exitcode', '9', CHECK],
      {
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('0 of 10 cases failed');
    expect(r.stdout).toContain('ERROR SUMMARY: 0 errors');
  }, 300_000);
});
