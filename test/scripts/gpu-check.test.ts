import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  cudaArchitecture,
  findGpu,
  findNvjpeg,
  nvjpegFromLdconfig,
  parseNvidiaSmi,
} from '../../scripts/gpu-check/probe.mjs';
import {
  EXIT,
  exitStatus,
  summaryLines,
  targets,
  writeReport,
} from '../../scripts/gpu-check/report.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'imgproc-gpu-check-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('npm run gpu:check without a GPU', () => {
  test('says so in one line and exits 77, writing nothing', () => {
    const out = join(scratch, 'out');
    // Only node's own folder on PATH: no nvidia-smi, whatever this machine has.
    const r = spawnSync(process.execPath, [resolve('scripts/gpu-check.mjs')], {
      encoding: 'utf8',
      env: { PATH: dirname(process.execPath), OUT: out },
    });
    expect(r.status).toBe(77);
    expect(EXIT.noGpu).toBe(77);
    expect(r.stdout).toBe(
      'gpu:check: no NVIDIA GPU here (nvidia-smi not found); nothing checked, exit 77\n',
    );
    expect(r.stderr).toBe('');
    expect(() => readFileSync(join(out, 'gpu-check.json'))).toThrow();
  });
});

describe('finding the GPU', () => {
  test("nvidia-smi's CSV gives the first GPU and the architecture to build for", () => {
    const gpu = parseNvidiaSmi(
      'NVIDIA H100 80GB HBM3, 81559, 580.159.04, 9.0\nNVIDIA H100 80GB HBM3, 81559, 580.159.04, 9.0\n',
    );
    expect(gpu).toEqual({
      name: 'NVIDIA H100 80GB HBM3',
      memoryMiB: 81559,
      driver: '580.159.04',
      computeCap: '9.0',
    });
    expect(cudaArchitecture('9.0')).toBe('90-real');
    expect(cudaArchitecture('12.0')).toBe('120-real');
  });

  test('no GPU: empty output, an error line, or no nvidia-smi at all', () => {
    expect(parseNvidiaSmi('')).toBeUndefined();
    expect(parseNvidiaSmi('No devices were found\n')).toBeUndefined();
    const missing = () => {
      throw Object.assign(new Error('spawnSync nvidia-smi ENOENT'), { code: 'ENOENT' });
    };
    expect(findGpu(missing)).toEqual({ gpu: undefined, reason: 'nvidia-smi not found' });
    const failing = () => {
      throw Object.assign(new Error('Command failed'), { status: 9 });
    };
    expect(findGpu(failing)).toEqual({ gpu: undefined, reason: 'nvidia-smi failed' });
    expect(findGpu(() => '\n')).toEqual({ gpu: undefined, reason: 'nvidia-smi lists no GPU' });
  });
});

describe('finding nvJPEG', () => {
  const touch = (path: string) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
  };

  test('in ldconfig -p, the CUDA toolkit and the NVIDIA Python wheels, nothing else', () => {
    const cuda = join(scratch, 'cuda');
    const site = join(scratch, 'site-packages');
    touch(join(cuda, 'lib64', 'libnvjpeg.so.13'));
    touch(join(cuda, 'lib64', 'libnvjpeg_static.a'));
    touch(join(cuda, 'lib64', 'libcudart.so.13'));
    touch(join(cuda, 'targets', 'x86_64-linux', 'lib', 'libnvjpeg.so'));
    touch(join(site, 'nvidia', 'nvjpeg', 'lib', 'libnvjpeg.so.12'));
    touch(join(site, 'nvidia', 'cublas', 'lib', 'libcublas.so.13'));
    touch(join(site, 'torch', 'lib', 'libnvjpeg.so.12'));
    const ldconfigText = [
      "1234 libs found in cache `/etc/ld.so.cache'",
      '\tlibnvjpeg.so.13 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libnvjpeg.so.13',
      '\tlibnvidia-ml.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1',
    ].join('\n');
    expect(findNvjpeg({ ldconfigText, cudaHome: cuda, sitePackages: [site] })).toEqual([
      '/usr/lib/x86_64-linux-gnu/libnvjpeg.so.13',
      join(cuda, 'lib64', 'libnvjpeg.so.13'),
      join(cuda, 'targets', 'x86_64-linux', 'lib', 'libnvjpeg.so'),
      join(site, 'nvidia', 'nvjpeg', 'lib', 'libnvjpeg.so.12'),
    ]);
  });

  test('none anywhere is an empty list', () => {
    expect(nvjpegFromLdconfig('0 libs found in cache\n')).toEqual([]);
    const empty = join(scratch, 'empty');
    mkdirSync(empty, { recursive: true });
    const found = findNvjpeg({
      ldconfigText: '',
      cudaHome: join(scratch, 'no-cuda'),
      sitePackages: [empty, join(scratch, 'no-such-site')],
    });
    expect(found.filter((p: string) => p.startsWith(scratch))).toEqual([]);
  });
});

/** A result as the check builds it on a GPU machine, with figures made up for the test. */
function cannedResult(failGpuTests: boolean) {
  return {
    version: '0.1.0',
    device: {
      name: 'NVIDIA H100 80GB HBM3',
      memoryMiB: 81559,
      driver: '580.159.04',
      computeCap: '9.0',
      cores: 16,
    },
    steps: [
      {
        id: 'build',
        title: 'build the addon for this card',
        seconds: 61.2,
        status: 'pass',
        summary: 'CUDA 13.0, architectures 90-real',
      },
      {
        id: 'gpu-tests',
        title: 'test/native/gpu.test.ts (CUDA vs the C++ reference)',
        seconds: 12.5,
        status: failGpuTests ? 'fail' : 'pass',
        summary: failGpuTests ? '10 passed, 1 failed, 1 not run' : '11 passed, 0 failed, 1 not run',
      },
      {
        id: 'racecheck',
        title: 'compute-sanitizer racecheck',
        seconds: 0,
        status: 'skipped',
        summary: 'the 480 s budget ran out',
      },
    ],
    measurements: {
      corpus: {
        files: 16,
        megapixels: 192,
        bytes: 22_938_291,
        source: 'made here from the fixtures',
      },
      throughput: {
        cuda: { exit: 0, imagesPerS: 9.5, cpuSPerImage: 0.41, peakRssMiB: 1900, wallS: 1.68 },
        cpu: { exit: 0, imagesPerS: 7.25, cpuSPerImage: 1.9, peakRssMiB: 2400, wallS: 2.2 },
      },
      gpuPerImage: { images: 16, stagingMs: 3.1, uploadMs: 1.9, kernelsMs: 0.8, downloadMs: 0.6 },
      kernels: {
        width: 4000,
        height: 3000,
        peakGBs: 3352,
        list: [
          { name: 'resize horizontal', channels: 3, ms: 0.05, GBs: 2100, shareOfPeak: 0.626 },
          { name: 'blur vertical', channels: 4, ms: 0.2, GBs: 900, shareOfPeak: 0.268 },
        ],
      },
      nvjpeg: {
        paths: ['/usr/local/cuda/lib64/libnvjpeg.so.13'],
        decode: { files: 16, via: 'torchvision', nvjpegS: 0.35, sharpS: 2.8 },
      },
    },
  };
}

describe('the report', () => {
  test('a failed check makes exit 1 and shows in the Markdown, the JSON and the summary', () => {
    const result = cannedResult(true);
    expect(exitStatus(result)).toBe(EXIT.failed);
    const files = writeReport(join(scratch, 'report-fail'), result);
    const markdown = readFileSync(files.markdown, 'utf8');
    expect(markdown).toContain(
      '| test/native/gpu.test.ts (CUDA vs the C++ reference) | FAIL | 12.5 | 10 passed, 1 failed, 1 not run |',
    );
    expect(markdown).toContain(
      '| compute-sanitizer racecheck | skipped | 0.0 | the 480 s budget ran out |',
    );
    expect(markdown).toContain(
      'NVIDIA H100 80GB HBM3, 81559 MiB, compute 9.0, driver 580.159.04; 16 CPU cores',
    );
    expect(markdown).toContain('| cuda | 9.50 | 0.410 | 1900 | 1.7 |');
    expect(markdown).toContain('upload 1.90 ms, kernels 0.80 ms, download 0.60 ms');
    expect(markdown).toContain('| blur vertical | 4 | 0.200 | 900 | 26.8% |');
    expect(markdown).toContain('nvJPEG (torchvision) 0.350 s, sharp 2.800 s');
    const json = JSON.parse(readFileSync(files.json, 'utf8'));
    expect(json.steps[1].status).toBe('fail');
    expect(json.targets).toEqual(targets(result));
    const summary = summaryLines(result);
    expect(summary[0]).toBe(
      'gpu:check on NVIDIA H100 80GB HBM3 (compute 9.0, driver 580.159.04): 1 check(s) failed',
    );
    expect(summary).toContain(
      '  FAIL    test/native/gpu.test.ts (CUDA vs the C++ reference): 10 passed, 1 failed, 1 not run',
    );
  });

  test('targets: met and missed from the figures; all checks passing is exit 0', () => {
    const result = cannedResult(false);
    expect(exitStatus(result)).toBe(EXIT.passed);
    const byWhat = Object.fromEntries(targets(result).map((t) => [t.what, t.met]));
    expect(byWhat).toEqual({
      '--backend cuda at least as many images/s as --cpu': true,
      '--backend cuda fewer CPU seconds per image than --cpu': true,
      'resize horizontal (3 channels) at least 50% of peak bandwidth': true,
      'blur vertical (4 channels) at least 50% of peak bandwidth': false,
    });
    const slower = cannedResult(false);
    slower.measurements.throughput.cuda.imagesPerS = 7;
    expect(targets(slower)[0]).toMatchObject({ met: false, detail: '7.00 vs 7.25 images/s' });
    expect(summaryLines(result)).toContain(
      '  MISSED  target: blur vertical (4 channels) at least 50% of peak bandwidth (900 GB/s, 26.8%)',
    );
  });

  test('nothing measured: the targets say so instead of passing', () => {
    const result = { ...cannedResult(false), measurements: {} };
    expect(targets(result).map((t) => t.met)).toEqual([undefined, undefined]);
    const markdown = readFileSync(
      writeReport(join(scratch, 'report-empty'), result).markdown,
      'utf8',
    );
    expect(markdown).toContain(
      '| --backend cuda at least as many images/s as --cpu | not measured |  |',
    );
  });
});
