// The GPU check's report: its exit status, the targets it measures against, and one Markdown and
// one JSON file. Everything here is a pure function of the result object, so CI renders canned ones.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Exit statuses of `npm run gpu:check` (the README lists them). */
export const EXIT = Object.freeze({
  /** Every check passed (performance targets are reported, not enforced). */
  passed: 0,
  /** A check failed: the report says which. */
  failed: 1,
  /** The check itself could not run (no node_modules, dist or native sources; a crash). */
  broken: 2,
  /** No NVIDIA GPU here: nothing was checked (77 is the "skipped" status of automake and ctest). */
  noGpu: 77,
});

/** Each kernel's bandwidth must reach this share of the device's peak on an 8+ Mpx image. */
export const KERNEL_SHARE_TARGET = 0.5;

export function exitStatus(result) {
  return result.steps.some((s) => s.status === 'fail') ? EXIT.failed : EXIT.passed;
}

/** The issue's performance targets, each met, missed, or not measured (met: undefined). */
export function targets(result) {
  const m = result.measurements ?? {};
  const cuda = m.throughput?.cuda;
  const cpu = m.throughput?.cpu;
  const both = cuda && cpu && cuda.imagesPerS !== undefined && cpu.imagesPerS !== undefined;
  const list = [
    {
      what: '--backend cuda at least as many images/s as --cpu',
      met: both ? cuda.imagesPerS >= cpu.imagesPerS : undefined,
      detail: both ? `${fixed(cuda.imagesPerS, 2)} vs ${fixed(cpu.imagesPerS, 2)} images/s` : '',
    },
    {
      what: '--backend cuda fewer CPU seconds per image than --cpu',
      met: both ? cuda.cpuSPerImage < cpu.cpuSPerImage : undefined,
      detail: both ? `${fixed(cuda.cpuSPerImage, 3)} vs ${fixed(cpu.cpuSPerImage, 3)} s` : '',
    },
  ];
  for (const k of m.kernels?.list ?? []) {
    list.push({
      what: `${k.name} (${k.channels} channels) at least ${KERNEL_SHARE_TARGET * 100}% of peak bandwidth`,
      met: k.shareOfPeak >= KERNEL_SHARE_TARGET,
      detail: `${fixed(k.GBs, 0)} GB/s, ${fixed(k.shareOfPeak * 100, 1)}%`,
    });
  }
  return list;
}

function fixed(value, digits) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

const MARK = { pass: 'pass', fail: 'FAIL', skipped: 'skipped' };

/** The few lines printed at the end of the run. */
export function summaryLines(result) {
  const failed = result.steps.filter((s) => s.status === 'fail');
  const device = result.device
    ? `${result.device.name} (compute ${result.device.computeCap}, driver ${result.device.driver})`
    : 'no device';
  const lines = [
    `gpu:check on ${device}: ${failed.length === 0 ? 'every check passed' : `${failed.length} check(s) failed`}`,
  ];
  for (const s of result.steps)
    lines.push(`  ${MARK[s.status].padEnd(7)} ${s.title}: ${s.summary}`);
  for (const t of targets(result)) {
    if (t.met !== undefined)
      lines.push(`  ${(t.met ? 'met' : 'MISSED').padEnd(7)} target: ${t.what} (${t.detail})`);
  }
  return lines;
}

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderMarkdown(result) {
  const m = result.measurements ?? {};
  const out = [`# imgproc GPU check`, ''];
  if (result.device) {
    const d = result.device;
    out.push(
      `${d.name}, ${d.memoryMiB} MiB, compute ${d.computeCap}, driver ${d.driver}; ${d.cores} CPU cores; imgproc ${result.version}.`,
      '',
    );
  }
  out.push(
    '## Checks',
    '',
    table(
      ['check', 'result', 'seconds', 'summary'],
      result.steps.map((s) => [s.title, MARK[s.status], fixed(s.seconds, 1), s.summary]),
    ),
    '',
  );
  const t = targets(result);
  if (t.length > 0) {
    out.push(
      '## Targets',
      '',
      table(
        ['target', 'result', 'measured'],
        t.map((x) => [
          x.what,
          x.met === undefined ? 'not measured' : x.met ? 'met' : 'missed',
          x.detail,
        ]),
      ),
      '',
    );
  }
  if (m.corpus) {
    const c = m.corpus;
    out.push(
      '## Measurements',
      '',
      `Corpus: ${c.files} images, ${fixed(c.megapixels, 1)} Mpx in all, ${fixed(c.bytes / 2 ** 20, 1)} MiB (${c.source}).`,
      '',
    );
  }
  if (m.throughput) {
    out.push(
      table(
        ['backend', 'images/s', 'CPU s per image', 'peak RSS MiB', 'wall s'],
        Object.entries(m.throughput).map(([name, r]) => [
          name,
          fixed(r.imagesPerS, 2),
          fixed(r.cpuSPerImage, 3),
          fixed(r.peakRssMiB, 0),
          fixed(r.wallS, 1),
        ]),
      ),
      '',
    );
  }
  if (m.gpuPerImage) {
    const g = m.gpuPerImage;
    out.push(
      `GPU time per image (mean of ${g.images}): upload ${fixed(g.uploadMs, 2)} ms, kernels ${fixed(g.kernelsMs, 2)} ms, download ${fixed(g.downloadMs, 2)} ms; host staging ${fixed(g.stagingMs, 2)} ms.`,
      '',
    );
  }
  if (m.kernels) {
    out.push(
      `Kernels on a ${m.kernels.width}x${m.kernels.height} image, device peak ${fixed(m.kernels.peakGBs, 0)} GB/s:`,
      '',
      table(
        ['kernel', 'channels', 'ms', 'GB/s', 'share of peak'],
        m.kernels.list.map((k) => [
          k.name,
          String(k.channels),
          fixed(k.ms, 3),
          fixed(k.GBs, 0),
          `${fixed(k.shareOfPeak * 100, 1)}%`,
        ]),
      ),
      '',
    );
  }
  if (m.nvjpeg) {
    const n = m.nvjpeg;
    out.push('## nvJPEG', '');
    out.push(n.paths.length > 0 ? `Found: ${n.paths.join(', ')}.` : 'Not found.');
    if (n.decode) {
      out.push(
        '',
        `Decoding ${n.decode.files} JPEGs: nvJPEG (${n.decode.via}) ${fixed(n.decode.nvjpegS, 3)} s, sharp ${fixed(n.decode.sharpS, 3)} s.`,
      );
    }
    if (n.note) out.push('', n.note);
    out.push('');
  }
  return out.join('\n');
}

/** Writes gpu-check.md and gpu-check.json into `dir`; returns their paths. */
export function writeReport(dir, result) {
  mkdirSync(dir, { recursive: true });
  const markdown = path.join(dir, 'gpu-check.md');
  const json = path.join(dir, 'gpu-check.json');
  writeFileSync(markdown, renderMarkdown(result));
  writeFileSync(json, JSON.stringify({ ...result, targets: targets(result) }, null, 2) + '\n');
  return { markdown, json };
}
