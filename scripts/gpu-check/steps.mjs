// The GPU check's steps. Each returns { status, summary, data? } and never throws past its caller's
// try/catch; `ctx` carries the paths, the time left and what earlier steps found.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { measure } from '../../bench/lib/measure.mjs';
import { cudaArchitecture, findNvjpeg } from './probe.mjs';

const lines = (text) =>
  String(text ?? '')
    .trim()
    .split('\n');
/** The last line of a tool's output (where errors usually end up), shortened. */
const lastLine = (text) => (lines(text).pop() ?? '').slice(0, 300);
const firstLine = (text) => (lines(text)[0] ?? '').slice(0, 300);

function run(ctx, command, args, { timeoutS, env } = {}) {
  const r = spawnSync(command, args, {
    cwd: ctx.root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: Math.max(1, Math.min(timeoutS ?? 600, ctx.remainingS())) * 1000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { ...r, timedOut: r.error?.code === 'ETIMEDOUT' };
}

export function build(ctx) {
  const arch = cudaArchitecture(ctx.device.computeCap);
  const r = run(ctx, process.execPath, ['scripts/build-native.mjs'], {
    timeoutS: 300,
    env: { IMGPROC_CUDA_ARCHITECTURES: arch },
  });
  if (r.status !== 0) {
    return { status: 'fail', summary: r.timedOut ? 'timed out' : lastLine(r.stderr || r.stdout) };
  }
  const addon = createRequire(import.meta.url)(ctx.addonPath);
  const info = addon.buildInfo();
  if (!info.cuda) return { status: 'fail', summary: 'the addon was built without CUDA' };
  ctx.addon = addon;
  return { status: 'pass', summary: `CUDA ${info.cudaToolkitVersion}, architectures ${arch}` };
}

export function gpuTests(ctx) {
  const r = run(
    ctx,
    process.execPath,
    [
      'node_modules/vitest/vitest.mjs',
      'run',
      'test/native/gpu.test.ts',
      // compute-sanitizer runs as its own step, with racecheck too
      '--testNamePattern',
      '^(?!compute-sanitizer)',
      '--reporter=json',
    ],
    { timeoutS: 180, env: { IMGPROC_REQUIRE_GPU: '1' } },
  );
  if (r.timedOut) return { status: 'fail', summary: 'timed out' };
  let report;
  try {
    report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  } catch {
    return {
      status: 'fail',
      summary: `no vitest report (exit ${r.status}): ${lastLine(r.stderr)}`,
    };
  }
  const failures = report.testResults
    .flatMap((f) => f.assertionResults)
    .filter((a) => a.status === 'failed')
    .map((a) => `${a.fullName}: ${firstLine(a.failureMessages?.[0])}`);
  const ok = r.status === 0 && report.numFailedTests === 0 && report.numPassedTests > 0;
  return {
    status: ok ? 'pass' : 'fail',
    summary: `${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} not run${failures.length ? `; ${failures[0]}` : ''}`,
    data: { failures },
  };
}

/** Minimum PSNR of a cuda output against the cpu one, by output (measured against sharp's lanczos3). */
export const CLI_PSNR = { thumb: 35, blur: 35, lq: 30 };

async function psnrOf(sharp, a, b) {
  const [x, y] = await Promise.all(
    [a, b].map((f) => sharp(f).raw().toBuffer({ resolveWithObject: true })),
  );
  if (x.info.width !== y.info.width || x.info.height !== y.info.height) return -Infinity;
  if (x.info.channels !== y.info.channels) return -Infinity;
  let sum = 0;
  for (let i = 0; i < x.data.length; i++) sum += (x.data[i] - y.data[i]) ** 2;
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255) / (sum / x.data.length));
}

function webpFiles(dir, prefix = '') {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(prefix, e.name);
    if (e.isDirectory()) return webpFiles(dir, rel);
    return e.name.endsWith('.webp') ? [rel] : [];
  });
}

export async function cliCompare(ctx) {
  const sharp = (await import('sharp')).default;
  const outs = { cuda: path.join(ctx.work, 'cli-cuda'), cpu: path.join(ctx.work, 'cli-cpu') };
  for (const [backend, out] of Object.entries(outs)) {
    const r = run(
      ctx,
      process.execPath,
      ['bin/imgproc.cjs', 'fixtures/photos', '--out', out, '--backend', backend, '--no-progress'],
      { timeoutS: 120 },
    );
    if (r.status !== 0) {
      return {
        status: 'fail',
        summary: `--backend ${backend} exit ${r.status}: ${lastLine(r.stderr)}`,
      };
    }
  }
  const worst = {};
  const failures = [];
  for (const rel of webpFiles(outs.cpu)) {
    const kind = /_(thumb|blur|lq)\.webp$/.exec(rel)?.[1];
    if (!kind) continue;
    const other = path.join(outs.cuda, rel);
    const score = existsSync(other)
      ? await psnrOf(sharp, path.join(outs.cpu, rel), other)
      : -Infinity;
    worst[kind] = Math.min(worst[kind] ?? Infinity, score);
    if (!(score >= CLI_PSNR[kind])) failures.push(`${rel} ${score.toFixed(1)} dB`);
  }
  const sidecars = readdirSync(outs.cuda).filter((f) => f.endsWith('.json'));
  const onCpu = sidecars.filter(
    (f) => JSON.parse(readFileSync(path.join(outs.cuda, f), 'utf8')).backend !== 'cuda',
  );
  if (onCpu.length > 0) failures.push(`resampled on the CPU after all: ${onCpu.join(', ')}`);
  // imgproc verify holds CPU and CUDA outputs to its own per-output tolerances.
  const verify = run(
    ctx,
    process.execPath,
    ['bin/imgproc.cjs', 'verify', '--actual', outs.cuda, '--expected', outs.cpu],
    {
      timeoutS: 60,
    },
  );
  if (verify.status !== 0)
    failures.push(`imgproc verify exit ${verify.status}: ${lastLine(verify.stderr)}`);
  const scores = Object.entries(worst).map(([k, v]) => `${k} ${v.toFixed(1)} dB`);
  return {
    status: failures.length === 0 && scores.length > 0 ? 'pass' : 'fail',
    summary: `${lastLine(verify.stderr)}; PSNR against --cpu, worst ${scores.join(', ')}${failures.length ? `; ${failures.length} problem(s): ${failures[0]}` : ''}`,
    data: { worstPsnr: worst, failures },
  };
}

export function sanitizer(tool) {
  return (ctx) => {
    const check = path.join(ctx.root, 'native/build/Release/imgproc_kernel_check');
    const bin = ['compute-sanitizer', '/usr/local/cuda/bin/compute-sanitizer'].find(
      (b) => spawnSync(b, ['--version']).status === 0,
    );
    if (!bin) return { status: 'fail', summary: 'compute-sanitizer not found' };
    const r = run(ctx, bin, ['--tool', tool, '--error-exitcode', '9', check], { timeoutS: 180 });
    const text = `${r.stdout}\n${r.stderr}`;
    const summary = /(ERROR|RACECHECK) SUMMARY:[^\n]*/.exec(text)?.[0] ?? lastLine(text);
    const ok = r.status === 0 && /0 of \d+ cases failed/.test(text);
    return { status: ok ? 'pass' : 'fail', summary: r.timedOut ? 'timed out' : summary };
  };
}

const IMAGE = /\.(jpe?g|png|webp)$/i;

/** The carried corpus (real photographs), else one made here from the fixtures. */
export async function prepareCorpus(ctx) {
  if (ctx.corpusDir && existsSync(ctx.corpusDir)) {
    const files = readdirSync(ctx.corpusDir)
      .filter((f) => IMAGE.test(f))
      .sort();
    if (files.length > 0) {
      return describeCorpus(
        ctx,
        ctx.corpusDir,
        files,
        `real photographs carried in ${ctx.corpusDir}`,
      );
    }
  }
  const sharp = (await import('sharp')).default;
  const dir = path.join(ctx.work, 'corpus');
  mkdirSync(dir, { recursive: true });
  const seeds = ['meadow.jpg', 'harbour.jpg'];
  const files = [];
  for (let i = 0; i < 16; i++) {
    const name = `synthetic-${String(i).padStart(2, '0')}.jpg`;
    await sharp(path.join(ctx.root, 'fixtures/photos', seeds[i % seeds.length]))
      .resize(4000, 3000, { fit: 'fill' })
      .modulate({ hue: i * 20 })
      .jpeg({ quality: 90 })
      .toFile(path.join(dir, name));
    files.push(name);
  }
  return describeCorpus(
    ctx,
    dir,
    files,
    'no photographs carried: 12 Mpx JPEGs made here from the fixtures',
  );
}

async function describeCorpus(ctx, dir, files, source) {
  const sharp = (await import('sharp')).default;
  let pixels = 0;
  let bytes = 0;
  for (const f of files) {
    const meta = await sharp(path.join(dir, f)).metadata();
    pixels += (meta.width ?? 0) * (meta.height ?? 0);
    bytes += statSync(path.join(dir, f)).size;
  }
  ctx.corpus = { dir, files };
  return { files: files.length, megapixels: pixels / 1e6, bytes, source };
}

export async function throughput(ctx) {
  const results = {};
  for (const backend of ['cuda', 'cpu']) {
    const out = path.join(ctx.work, `bench-${backend}`);
    const r = await measure(
      process.execPath,
      ['bin/imgproc.cjs', ctx.corpus.dir, '--out', out, '--backend', backend, '--no-progress'],
      { cwd: ctx.root, timeoutS: Math.min(150, ctx.remainingS()) },
    );
    const n = ctx.corpus.files.length;
    results[backend] = {
      exit: r.code,
      imagesPerS: n / r.wallS,
      cpuSPerImage: r.cpuS / n,
      peakRssMiB: r.peakRssKiB / 1024,
      wallS: r.wallS,
    };
    if (r.code !== 0) {
      ctx.measurements.throughput = results;
      return {
        status: 'fail',
        summary: `--backend ${backend} exit ${r.code}: ${lastLine(r.stderr)}`,
      };
    }
  }
  ctx.measurements.throughput = results;
  const { cuda, cpu } = results;
  return {
    status: 'pass',
    summary: `cuda ${cuda.imagesPerS.toFixed(2)} images/s, ${cuda.cpuSPerImage.toFixed(3)} CPU s/image; cpu ${cpu.imagesPerS.toFixed(2)} images/s, ${cpu.cpuSPerImage.toFixed(3)} CPU s/image`,
  };
}

/** Upload, kernels and download per image, over the corpus, through the pipeline's own sizes. */
export async function gpuPerImage(ctx) {
  const sharp = (await import('sharp')).default;
  const { planOutputSizes } = await import(
    pathToFileURL(path.join(ctx.root, 'dist/pipeline/process-image.js')).href
  );
  const { DEFAULT_OUTPUT_OPTIONS } = await import(
    pathToFileURL(path.join(ctx.root, 'dist/config/options.js')).href
  );
  const task = { ops: ['thumb', 'blur', 'lq', 'gradient'], options: DEFAULT_OUTPUT_OPTIONS };
  const sum = { stagingMs: 0, uploadMs: 0, kernelsMs: 0, downloadMs: 0 };
  const files = ctx.corpus.files.slice(0, 16);
  for (const [i, f] of files.entries()) {
    const { data, info } = await sharp(path.join(ctx.corpus.dir, f))
      .rotate()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const source = { data, width: info.width, height: info.height, channels: info.channels };
    const sizes = planOutputSizes(source, task);
    const request = {
      thumb: sizes.thumb,
      blur: { size: sizes.blur, sigma: DEFAULT_OUTPUT_OPTIONS.blurSigma },
      lq: sizes.lq,
      sample: sizes.sample,
    };
    // The first image also pays for the context and the buffers: run it twice, count the second.
    if (i === 0) await ctx.addon.cudaResample(source, request, { device: 0 });
    const { timings } = await ctx.addon.cudaResample(source, request, { device: 0 });
    for (const k of Object.keys(sum)) sum[k] += timings[k];
  }
  const mean = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, v / files.length]));
  ctx.measurements.gpuPerImage = { images: files.length, ...mean };
  return {
    status: 'pass',
    summary: `upload ${mean.uploadMs.toFixed(2)} + kernels ${mean.kernelsMs.toFixed(2)} + download ${mean.downloadMs.toFixed(2)} ms per image`,
  };
}

export function kernels(ctx) {
  const r = run(ctx, process.execPath, ['bench/kernels.mjs', '--iterations', '10'], {
    timeoutS: 120,
  });
  if (r.status !== 0) return { status: 'fail', summary: lastLine(r.stderr || r.stdout) };
  const json = JSON.parse(
    readFileSync(path.join(ctx.root, 'bench/results/kernels-gpu0.json'), 'utf8'),
  );
  ctx.measurements.kernels = {
    width: json.width,
    height: json.height,
    peakGBs: json.peakGBs,
    list: json.kernels.map((k) => ({
      name: k.name,
      channels: k.channels,
      ms: k.ms,
      GBs: k.GBs,
      shareOfPeak: k.shareOfPeak,
    })),
  };
  const low = json.kernels.filter((k) => k.shareOfPeak < 0.5).length;
  return {
    status: 'pass',
    summary: `${json.kernels.length} kernels timed, ${low} under 50% of peak`,
  };
}

const TORCH_DECODE = `
import sys, time, torch, torchvision
from torchvision.io import decode_jpeg, read_file
datas = [read_file(p) for p in sys.argv[1:]]
decode_jpeg(datas[0], device='cuda'); torch.cuda.synchronize()
t = time.perf_counter()
for d in datas: decode_jpeg(d, device='cuda')
torch.cuda.synchronize()
print(time.perf_counter() - t)
`;

export async function nvjpeg(ctx) {
  const text = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
    } catch {
      return '';
    }
  };
  const ldconfigText = text('ldconfig', ['-p']) || text('/sbin/ldconfig', ['-p']);
  const sitePackages = text('python3', [
    '-c',
    'import site; print("\\n".join(site.getsitepackages()))',
  ])
    .split('\n')
    .filter(Boolean);
  const paths = findNvjpeg({
    ldconfigText,
    cudaHome: process.env.CUDA_HOME ?? process.env.CUDA_PATH,
    sitePackages,
  });
  const record = { paths };
  ctx.measurements.nvjpeg = record;
  if (paths.length === 0) return { status: 'pass', summary: 'nvJPEG not found' };
  const jpegs = ctx.corpus.files
    .filter((f) => /\.jpe?g$/i.test(f))
    .map((f) => path.join(ctx.corpus.dir, f));
  if (jpegs.length === 0) {
    record.note = 'The corpus holds no JPEG: decode not timed.';
    return { status: 'pass', summary: `nvJPEG found (${paths.length} files); no JPEG to time` };
  }
  const r = run(ctx, 'python3', ['-c', TORCH_DECODE, ...jpegs], { timeoutS: 120 });
  const sharp = (await import('sharp')).default;
  const t0 = performance.now();
  for (const f of jpegs) await sharp(f).raw().toBuffer();
  const sharpS = (performance.now() - t0) / 1000;
  const nvjpegS = Number(String(r.stdout).trim().split('\n').pop());
  if (r.status !== 0 || !Number.isFinite(nvjpegS)) {
    record.note = `nvJPEG decode not timed: torchvision failed (${lastLine(r.stderr)}); sharp took ${sharpS.toFixed(3)} s.`;
    return { status: 'pass', summary: `nvJPEG found; decode not timed (torchvision failed)` };
  }
  record.decode = {
    files: jpegs.length,
    via: 'torchvision.io.decode_jpeg on cuda, one at a time',
    nvjpegS,
    sharpS,
  };
  return {
    status: 'pass',
    summary: `nvJPEG found; ${jpegs.length} JPEGs decode in ${nvjpegS.toFixed(3)} s with nvJPEG, ${sharpS.toFixed(3)} s with sharp`,
  };
}
