import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../storage/atomic-write.js';
import { escapeHtml, PAGE_STYLE } from './html.js';
import { decodeRgba, heatMap } from './pixels.js';
import { decodePlaceholder, placeholderDataUrl } from './placeholders.js';
import { differenceLine } from './report-text.js';
import type { ItemComparison, OutputComparison, VerifyResult } from './types.js';

const MIME: Record<string, string> = { webp: 'image/webp', png: 'image/png', jpg: 'image/jpeg' };

async function dataUrl(path: string): Promise<string | undefined> {
  const bytes = await readFile(path).catch(() => undefined);
  if (!bytes) return undefined;
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return `data:${MIME[ext] ?? 'application/octet-stream'};base64,${bytes.toString('base64')}`;
}

function figure(caption: string, src: string | undefined): string {
  const body = src
    ? `<img src="${src}" alt="${escapeHtml(caption)}">`
    : '<div class="none">none</div>';
  return `<figure>${body}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** Expected, actual and a heat map of the difference, each inlined so the page stands alone. */
async function outputPanel(o: OutputComparison, result: VerifyResult): Promise<string> {
  const ePath = join(result.expectedDir, o.path);
  const aPath = join(result.actualDir, o.path);
  const [eUrl, aUrl] = await Promise.all([
    o.status === 'extra' ? undefined : dataUrl(ePath),
    o.status === 'missing' ? undefined : dataUrl(aPath),
  ]);
  let heat: string | undefined;
  if (eUrl && aUrl) {
    const [e, a] = await Promise.all([decodeRgba(ePath), decodeRgba(aPath)]);
    if (e.width === a.width && e.height === a.height) {
      heat = `data:image/png;base64,${(await heatMap(e, a)).toString('base64')}`;
    }
  }
  const measures = o.measures
    ? Object.entries(o.measures)
        .map(([k, v]) => `${k} ${Number(v).toPrecision(4)}`)
        .join(', ')
    : '';
  return `<div class="output"><h4>${escapeHtml(o.name)} <span class="status ${o.status}">${o.status}</span> <span class="measures">${escapeHtml(measures)}</span></h4>
<div class="figures">${figure('expected', eUrl)}${figure('actual', aUrl)}${figure('difference (heat map)', heat)}</div></div>`;
}

async function gradientOf(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const sidecar = JSON.parse(await readFile(path, 'utf8')) as { gradient?: unknown };
    const g = sidecar?.gradient;
    return g && typeof g === 'object' ? (g as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const PLACEHOLDER = /^gradient\.(blurDataUrl|thumbHash|blurHash)$/;

/** A placeholder that differs, drawn from both sidecars (as a page would draw it) with a heat map. */
async function placeholderPanel(field: string, item: ItemComparison, result: VerifyResult) {
  const [e, a] = await Promise.all([
    gradientOf(join(result.expectedDir, item.sidecar)),
    gradientOf(join(result.actualDir, item.sidecar)),
  ]);
  const [eUrl, aUrl, eImg, aImg] = await Promise.all([
    e && placeholderDataUrl(field, e),
    a && placeholderDataUrl(field, a),
    e && decodePlaceholder(field, e),
    a && decodePlaceholder(field, a),
  ]);
  const heat =
    eImg && aImg && eImg.width === aImg.width && eImg.height === aImg.height
      ? `data:image/png;base64,${(await heatMap(eImg, aImg)).toString('base64')}`
      : undefined;
  return `<div class="output placeholder"><h4>gradient.${escapeHtml(field)}</h4>
<div class="figures">${figure('expected', eUrl)}${figure('actual', aUrl)}${figure('difference (heat map)', heat)}</div></div>`;
}

async function failingItem(item: ItemComparison, result: VerifyResult): Promise<string> {
  const failing = item.outputs.filter((o) => o.status !== 'identical' && o.status !== 'within');
  const placeholders = [
    ...new Set(item.differences.flatMap((d) => PLACEHOLDER.exec(d.output)?.[1] ?? [])),
  ];
  const panels = await Promise.all([
    ...failing.map((o) => outputPanel(o, result)),
    ...placeholders.map((f) => placeholderPanel(f, item, result)),
  ]);
  const lines = item.differences.map((d) => `<li>${escapeHtml(differenceLine(d))}</li>`).join('');
  return `<section class="item failing" id="${escapeHtml(item.sidecar)}"><h3>${escapeHtml(item.item)} <span class="status ${item.status}">${item.status}</span></h3>
<ul class="differences">${lines}</ul>${panels.join('\n')}</section>`;
}

function passingRow(item: ItemComparison): string {
  const outs = item.outputs
    .map((o) => {
      const m = o.measures
        ? ' (' +
          Object.entries(o.measures)
            .map(([k, v]) => `${k} ${Number(v).toPrecision(3)}`)
            .join(', ') +
          ')'
        : '';
      return `${o.name}: ${o.status}${m}`;
    })
    .join('; ');
  return `<tr><td>${escapeHtml(item.item)}</td><td class="status ${item.status}">${item.status}</td><td>${escapeHtml(outs)}</td></tr>`;
}

/** The whole report as one HTML string: summary on top, failing items open, passing ones folded. */
export async function renderHtmlReport(result: VerifyResult): Promise<string> {
  const s = result.summary;
  const failing = result.items.filter((i) => i.status !== 'identical' && i.status !== 'within');
  const passing = result.items.filter((i) => i.status === 'identical' || i.status === 'within');
  // One item at a time: each inlines and decodes its images, which can be large.
  const sections: string[] = [];
  for (const item of failing) sections.push(await failingItem(item, result));
  const verdict = result.passed ? 'pass' : 'FAIL';
  const list = (title: string, lines: string[]) =>
    lines.length
      ? `<h2>${escapeHtml(title)}</h2><ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>imgproc verify: ${verdict}</title><style>${PAGE_STYLE}</style></head>
<body>
<header class="summary ${result.passed ? 'pass' : 'fail'}">
<h1>imgproc verify: <span id="verdict">${verdict}</span></h1>
<p>${s.items} items: ${s.identical} identical, ${s.within} within tolerance, <strong>${s.differs} differ</strong>, ${s.missing} missing, ${s.extra} extra${s.inputsFailed ? `, <strong>${s.inputsFailed} inputs failed</strong>` : ''} (${result.seconds.toFixed(1)} s)</p>
<p class="dirs">expected: <code>${escapeHtml(result.expectedDir)}</code></p>
</header>
<main>
${list(
  'Inputs that failed to process',
  result.failures.map((f) => `${f.input}: ${f.reason}`),
)}
${list('Other files', result.files.map(differenceLine))}
${list(
  'Options that differ',
  result.options.map(
    (o) => `${o.option}: expected run ${o.expected}, this run ${o.actual} (${o.items} items)`,
  ),
)}
${list('Notes', result.notes)}
${failing.length ? '<h2>Differences</h2>' : ''}
${sections.join('\n')}
<details class="passing"><summary>${passing.length} passing items</summary>
<table><thead><tr><th>item</th><th>status</th><th>outputs</th></tr></thead><tbody>
${passing.map(passingRow).join('\n')}
</tbody></table></details>
</main></body></html>
`;
}

export async function writeHtmlReport(result: VerifyResult, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeAtomic(join(dir, 'index.html'), await renderHtmlReport(result));
}
