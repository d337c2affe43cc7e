import type { Command } from 'commander';
import type { RawOptions } from '../config/options.js';
import type { AllocatorState, HugePages } from '../native/index.js';
import { formatS3Report, type S3Report } from './doctor-s3.js';

const GIB = 1024 ** 3;

export interface DoctorReport {
  version: string;
  addon:
    | {
        status: 'cuda' | 'reference-only';
        path: string;
        build: Record<string, unknown>;
        hint?: string;
      }
    | { status: 'not-loaded'; reason: string; details: string; hint: string };
  cuda: {
    driverVersion: string | null;
    runtimeVersion: string | null;
    devices: {
      index: number;
      name: string;
      computeCapability: string;
      memoryGiB: number;
      multiprocessors: number;
      /** Peak DRAM bandwidth from the memory clock and bus width. */
      memoryBandwidthGBs: number;
    }[];
    error?: string;
  } | null;
  sharp: { version: string; libvips: string };
  cpu: { cores: number; model: string };
  defaults: {
    backend: string;
    /** What that choice resolves to on this machine, and why. */
    resolved: 'cuda' | 'cpu';
    reason: string;
    gpu: number;
    gpuTimeoutSeconds: number;
    concurrency: number;
    maxPixels: number;
    /** --max-memory in bytes, and the memory it was derived from (RAM or the cgroup limit). */
    maxMemory: number;
    machineMemory: number;
  };
  /** Whether glibc returns image-sized blocks when freed (a long run's memory stays bounded). */
  allocator: AllocatorState;
  /** Whether glibc's malloc takes 2 MiB pages (fewer page faults), and why. */
  hugePages: HugePages;
  /** V8 flags set by the bin at start, and those of them node was given instead. */
  v8: V8Settings;
  /** Object storage (s3:// paths): endpoint, region, addressing, credential source. */
  s3: S3Report;
  /** What became of the V8 code cache of each bundle loaded so far (bin/load-bundle.cjs). */
  codeCache: Record<string, CodeCacheStatus>;
}

export type CodeCacheStatus = 'used' | 'missing' | 'stale' | 'rejected';

export interface V8Settings {
  set: string[];
  given: string[];
}

/** The V8 flags that the bin sets (bin/imgproc.cjs), and any of them given on node's command line. */
const V8_FLAGS = ['--interrupt-budget', '--heap-growing-percent'];

export function v8Settings(): V8Settings {
  const set = (globalThis as Record<symbol, unknown>)[Symbol.for('imgproc.v8Flags')];
  return {
    set: Array.isArray(set) ? set.map(String) : [],
    given: process.execArgv.filter((a) => V8_FLAGS.some((f) => a === f || a.startsWith(`${f}=`))),
  };
}

/** The bundles the bin has loaded, each with what became of its code cache. */
export function codeCacheStatuses(): Record<string, CodeCacheStatus> {
  const found = (globalThis as Record<symbol, unknown>)[Symbol.for('imgproc.codeCache')];
  return found && typeof found === 'object'
    ? { ...(found as Record<string, CodeCacheStatus>) }
    : {};
}

const CACHE_WHY: Record<Exclude<CodeCacheStatus, 'used'>, string> = {
  missing: 'none was built',
  stale: 'built for an earlier bundle',
  rejected: 'built by another Node version or with other V8 flags',
};

function codeCacheLines(statuses: Record<string, CodeCacheStatus>): string[] {
  const names = Object.keys(statuses);
  if (names.length === 0) return ['cache     not used (imgproc was not started by its bin)'];
  const unused = names.filter((n) => statuses[n] !== 'used');
  if (unused.length === 0) return [`cache     V8 code cache used for ${names.join(', ')}`];
  return [
    `cache     V8 code cache not used for ${unused
      .map((n) => `${n} (${CACHE_WHY[statuses[n] as Exclude<CodeCacheStatus, 'used'>]})`)
      .join(', ')}: start-up costs more CPU`,
    '          to fix: npm run build',
  ];
}

function v8Line(v: V8Settings): string {
  const parts = [
    ...(v.set.length > 0 ? [`${v.set.join(' ')} (set by imgproc)`] : []),
    ...(v.given.length > 0 ? [`${v.given.join(' ')} (given to node)`] : []),
  ];
  return `v8        ${parts.length > 0 ? parts.join(', ') : "V8's defaults"}`;
}

/** 12040 -> "12.4" */
function cudaVersion(v: number): string | null {
  return v > 0 ? `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}` : null;
}

export async function buildDoctorReport(raw: RawOptions): Promise<DoctorReport> {
  const [
    { availableParallelism, cpus },
    { default: sharp },
    native,
    select,
    options,
    version,
    memory,
    s3,
  ] = await Promise.all([
    import('node:os'),
    import('../sharp.js'),
    import('../native/index.js'),
    import('../backends/select.js'),
    import('../config/options.js'),
    import('../version.js'),
    import('../pipeline/memory-budget.js'),
    import('./doctor-s3.js'),
  ]);
  const processing = options.resolveProcessingOptions(raw);
  const load = native.nativeAddon();

  let addon: DoctorReport['addon'];
  let cuda: DoctorReport['cuda'] = null;
  if (!load.ok) {
    addon = {
      status: 'not-loaded',
      reason: load.reason,
      details: load.details,
      hint: load.reason.includes('IMGPROC_NATIVE=')
        ? 'unset IMGPROC_NATIVE to use the addon'
        : 'run `npm run build:native` (cmake and a C++17 compiler; nvcc for the GPU), or use --cpu',
    };
  } else {
    const binding = new native.NativeBinding(load.addon);
    const build = binding.buildInfo();
    addon = build.cuda
      ? { status: 'cuda', path: load.path, build: { ...build } }
      : {
          status: 'reference-only',
          path: load.path,
          build: { ...build },
          hint: 'install the CUDA toolkit (nvcc) and run `npm run build:native` to build the GPU kernels',
        };
    if (build.cuda) {
      const status = await binding.cudaStatus();
      cuda = {
        driverVersion: cudaVersion(status.driverVersion),
        runtimeVersion: cudaVersion(status.runtimeVersion),
        devices: status.devices.map((d) => ({
          index: d.index,
          name: d.name,
          computeCapability: d.computeCapability,
          memoryGiB: Math.round((d.totalMemory / GIB) * 10) / 10,
          multiprocessors: d.multiprocessors,
          memoryBandwidthGBs: Math.round(
            (2 * d.memoryClockKHz * 1e3 * (d.memoryBusWidthBits / 8)) / 1e9,
          ),
        })),
        ...(status.error ? { error: status.error } : {}),
      };
    }
  }

  let resolved: 'cuda' | 'cpu' = 'cpu';
  let reason = 'asked for';
  if (processing.backend !== 'cpu') {
    const probe = await select.probeCuda(processing.gpu, processing.gpuTimeoutMs);
    resolved = probe.ok ? 'cuda' : 'cpu';
    reason = probe.ok ? probe.backend.description : probe.reason;
    if (probe.ok) await probe.backend.close();
  }

  return {
    version: version.VERSION,
    addon,
    cuda,
    sharp: { version: sharp.versions.sharp ?? 'unknown', libvips: sharp.versions.vips },
    cpu: { cores: availableParallelism(), model: cpus()[0]?.model.trim() ?? 'unknown' },
    defaults: {
      backend: processing.backend,
      resolved,
      reason,
      gpu: processing.gpu,
      gpuTimeoutSeconds: processing.gpuTimeoutMs / 1000,
      concurrency: processing.concurrency,
      maxPixels: processing.maxPixels,
      maxMemory: processing.maxMemory,
      machineMemory: memory.machineMemory(),
    },
    allocator: native.tuneAllocator(),
    hugePages: native.hugePages(),
    v8: v8Settings(),
    s3: await s3.buildS3Report(raw),
    // After the S3 report, which loads the SDK's bundle.
    codeCache: codeCacheStatuses(),
  };
}

function addonLine(a: DoctorReport['addon']): string[] {
  switch (a.status) {
    case 'cuda':
      return [
        `addon     loaded with CUDA ${String(a.build.cudaToolkitVersion)} kernels ` +
          `(${String(a.build.cudaArchitectures)}): ${a.path}`,
      ];
    case 'reference-only':
      return [
        `addon     CPU reference only, no CUDA kernels in this build: ${a.path}`,
        `          to fix: ${a.hint}`,
      ];
    case 'not-loaded':
      return [`addon     not loaded: ${a.reason}`, `          to fix: ${a.hint}`];
  }
}

const gib = (bytes: number) => (bytes / GIB).toFixed(1);

function allocatorLines(a: AllocatorState): string[] {
  if (a.tuned) return [`malloc    glibc: ${a.how}`];
  if (!a.hint) return [`malloc    left as it is (${a.why})`];
  return [
    `malloc    glibc defaults (${a.why}): a long run may keep freed memory`,
    `          to fix: ${a.hint}`,
  ];
}

export function formatDoctorReport(r: DoctorReport): string {
  const lines = [`imgproc ${r.version}`, ...addonLine(r.addon)];
  if (r.cuda) {
    lines.push(
      `cuda      driver ${r.cuda.driverVersion ?? 'not installed'}, runtime ${r.cuda.runtimeVersion ?? '?'}`,
    );
    for (const d of r.cuda.devices) {
      lines.push(
        `  gpu ${d.index}   ${d.name}, compute ${d.computeCapability}, ${d.memoryGiB} GiB, ` +
          `${d.multiprocessors} SMs, ~${d.memoryBandwidthGBs} GB/s`,
      );
    }
    if (r.cuda.error) lines.push(`          no device: ${r.cuda.error}`);
  } else {
    lines.push('cuda      not available (no CUDA kernels loaded)');
  }
  lines.push(
    `sharp     ${r.sharp.version} (libvips ${r.sharp.libvips})`,
    `cpu       ${r.cpu.cores} cores, ${r.cpu.model}`,
    `backend   ${r.defaults.backend} -> ${r.defaults.resolved} (${r.defaults.reason})`,
    `defaults  gpu ${r.defaults.gpu}, gpu-timeout ${r.defaults.gpuTimeoutSeconds} s, ` +
      `concurrency ${r.defaults.concurrency}, max-pixels ${r.defaults.maxPixels}`,
    `memory    max-memory ${gib(r.defaults.maxMemory)} GiB for the images in flight ` +
      `(default: half of ${gib(r.defaults.machineMemory)} GiB, this machine's RAM or cgroup limit)`,
    ...allocatorLines(r.allocator),
    `pages     ${r.hugePages.state === 'on' ? 'transparent huge pages for malloc' : '4 KiB pages for malloc'} (${r.hugePages.why})`,
    v8Line(r.v8),
    ...codeCacheLines(r.codeCache),
    ...formatS3Report(r.s3),
  );
  return lines.join('\n') + '\n';
}

/** `imgproc doctor`: what this machine will run on, and why. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'report the native addon, CUDA devices, sharp/libvips, the backend auto picks and the S3 settings',
    )
    .option('--json', 'print JSON on stdout')
    .action(async (_opts: RawOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RawOptions>();
      const report = await buildDoctorReport(opts);
      process.stdout.write(
        opts.json ? JSON.stringify(report, null, 2) + '\n' : formatDoctorReport(report),
      );
    });
}
