#!/usr/bin/env node
// Kernel micro-benchmark (needs an NVIDIA GPU and an addon built with nvcc):
//   npm run build:native && node bench/kernels.mjs [--gpu N] [--iterations N] [--width W --height H]
// Reports each kernel's effective bandwidth (compulsory bytes: every input read once, every output
// written once) as a share of the device's peak DRAM bandwidth, then one whole image job (thumb,
// blur, lq, sample) split into host staging, upload, kernels and download. Writes the figures to
// bench/results/kernels-<gpu>.json as well.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    gpu: { type: 'string', default: '0' },
    iterations: { type: 'string', default: '20' },
    width: { type: 'string', default: '4000' },
    height: { type: 'string', default: '3000' },
  },
});
const device = Number(values.gpu);
const iterations = Number(values.iterations);
const width = Number(values.width);
const height = Number(values.height);

function fail(message) {
  process.stderr.write(`bench/kernels: ${message}\n`);
  process.exit(1);
}

const addonPath =
  process.env.IMGPROC_NATIVE_PATH ??
  join(root, 'native', 'build', 'Release', 'imgproc_native.node');
let addon;
try {
  addon = createRequire(import.meta.url)(addonPath);
} catch (err) {
  fail(`cannot load ${addonPath} (${err.message.split('\n')[0]}); run npm run build:native first`);
}
if (!addon.buildInfo().cuda) fail('the addon was built without CUDA (no nvcc at build time)');
const status = await addon.cudaStatus();
const gpu = status.devices.find((d) => d.index === device);
if (!gpu) fail(`no CUDA device ${device}: ${status.error ?? `found ${status.devices.length}`}`);

const peakGBs = (2 * gpu.memoryClockKHz * 1e3 * (gpu.memoryBusWidthBits / 8)) / 1e9;
const mp = ((width * height) / 1e6).toFixed(1);
console.log(
  `${gpu.name} (compute ${gpu.computeCapability}), peak DRAM ~${peakGBs.toFixed(0)} GB/s`,
);
console.log(`image ${width}x${height} (${mp} MP), ${iterations} launches per kernel, averages\n`);

const results = { device: gpu, peakGBs, width, height, iterations, kernels: [], jobs: [] };
const pad = (s, n) => String(s).padEnd(n);
const num = (v, d = 3) => v.toFixed(d).padStart(9);

for (const channels of [3, 4]) {
  const kernels = await addon.cudaBenchKernels({ device, width, height, channels, iterations });
  console.log(`${channels === 4 ? 'RGBA' : 'RGB'}  ${pad('kernel', 30)}      ms     GB/s  of peak`);
  for (const k of kernels) {
    const gbs = k.bytes / (k.ms * 1e6);
    const share = gbs / peakGBs;
    results.kernels.push({ channels, ...k, GBs: gbs, shareOfPeak: share });
    console.log(
      `      ${pad(k.name, 30)}${num(k.ms)}${num(gbs, 1)}${(share * 100).toFixed(1).padStart(8)}%`,
    );
  }
  console.log('');
}

// One whole image job, as the pipeline sends it: upload once, four outputs, download once.
for (const channels of [3, 4]) {
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const source = { data, width, height, channels };
  const thumb = { width: 256, height: Math.round((height * 256) / width) };
  const request = {
    thumb,
    blur: { size: thumb, sigma: 6 },
    lq: { width: Math.round(width / 2), height: Math.round(height / 2) },
    sample: { width: 64, height: Math.round((height * 64) / width) },
  };
  await addon.cudaResample(source, request, { device });
  const sum = { stagingMs: 0, uploadMs: 0, kernelsMs: 0, downloadMs: 0, wallMs: 0 };
  let last;
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    last = await addon.cudaResample(source, request, { device });
    sum.wallMs += performance.now() - t0;
    for (const k of ['stagingMs', 'uploadMs', 'kernelsMs', 'downloadMs']) sum[k] += last.timings[k];
  }
  const avg = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, v / iterations]));
  const gpuMs = avg.uploadMs + avg.kernelsMs + avg.downloadMs;
  results.jobs.push({
    channels,
    ...avg,
    uploadBytes: last.timings.uploadBytes,
    downloadBytes: last.timings.downloadBytes,
  });
  console.log(
    `job ${channels === 4 ? 'RGBA' : 'RGB '} thumb+blur+lq+sample: GPU ${gpuMs.toFixed(2)} ms = ` +
      `upload ${avg.uploadMs.toFixed(2)} (${(last.timings.uploadBytes / (avg.uploadMs * 1e6)).toFixed(1)} GB/s) + ` +
      `kernels ${avg.kernelsMs.toFixed(2)} + download ${avg.downloadMs.toFixed(2)} ms; ` +
      `host staging ${avg.stagingMs.toFixed(2)} ms; wall ${avg.wallMs.toFixed(2)} ms per image`,
  );
}

await addon.cudaRelease(device);
const outDir = join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `kernels-gpu${device}.json`);
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
console.log(`\nwritten ${file}`);
