import fg from 'fast-glob';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { writeAtomic } from '../storage/atomic-write.js';
import { escapeHtml, hrefOf, PAGE_STYLE } from './html.js';
import { placeholderDataUrl } from './placeholders.js';
import type { LooseSidecar } from './sidecar-fields.js';
import type { InputFailure } from './types.js';

/** The contact sheet's file name, at the root of the folder it shows. */
export const PREVIEW_NAME = 'index.html';

const HEX = /^#[0-9A-Fa-f]{6}$/;
/** Only the gradients imgproc writes go into a style attribute. */
const CSS_GRADIENT = /^linear-gradient\(\d+deg(, #[0-9A-Fa-f]{6} \d+%)+\)$/;

interface Card {
  sidecarPath: string;
  sidecar: LooseSidecar;
  placeholders: { label: string; url: string }[];
  problems: string[];
}

async function loadCard(dir: string, sidecarPath: string): Promise<Card | undefined> {
  let sidecar: LooseSidecar;
  try {
    sidecar = JSON.parse(await readFile(join(dir, sidecarPath), 'utf8')) as LooseSidecar;
  } catch {
    return undefined;
  }
  if (sidecar?.version !== 1 || typeof sidecar.outputs !== 'object') return undefined;
  const problems: string[] = [];
  await Promise.all(
    Object.entries(sidecar.outputs).map(async ([name, o]) => {
      const st = await stat(join(dir, o.path)).catch(() => undefined);
      if (!st) problems.push(`${name}: ${o.path} is missing`);
      else if (st.size !== o.bytes)
        problems.push(`${name}: ${o.path} has ${st.size} bytes, the sidecar says ${o.bytes}`);
    }),
  );
  const placeholders: Card['placeholders'] = [];
  for (const [field, label] of [
    ['blurDataUrl', 'data URL'],
    ['thumbHash', 'ThumbHash'],
    ['blurHash', 'BlurHash'],
  ] as const) {
    const url = sidecar.gradient ? await placeholderDataUrl(field, sidecar.gradient) : undefined;
    if (url) placeholders.push({ label, url });
  }
  return { sidecarPath, sidecar, placeholders, problems };
}

function img(src: string, alt: string, o?: { width: number; height: number }): string {
  const size = o ? ` width="${o.width}" height="${o.height}"` : '';
  return `<img loading="lazy" decoding="async" src="${src}" alt="${escapeHtml(alt)}"${size}>`;
}

function renderCard(card: Card): string {
  const { sidecar } = card;
  const source = String(sidecar.source?.path ?? card.sidecarPath);
  const outs = sidecar.outputs;
  const pics = (['thumb', 'blur'] as const)
    .filter((n) => outs[n])
    .map((n) => img(hrefOf(outs[n]!.path), `${source} ${n}`, outs[n]))
    .join('');
  const placeholders = card.placeholders
    .map(
      (p) =>
        `<figure><img src="${p.url}" alt="${escapeHtml(p.label)}"><figcaption>${p.label}</figcaption></figure>`,
    )
    .join('');
  const g = sidecar.gradient ?? {};
  const palette = Array.isArray(g.palette)
    ? (g.palette as unknown[]).filter((c): c is string => typeof c === 'string' && HEX.test(c))
    : [];
  const swatches = palette.length
    ? `<div class="swatches">${palette.map((c) => `<span style="background:${c}" title="${c}"></span>`).join('')}</div>`
    : '';
  const css = typeof g.css === 'string' && CSS_GRADIENT.test(g.css) ? g.css : undefined;
  const fg = typeof g.foreground === 'string' && HEX.test(g.foreground) ? g.foreground : '#000000';
  const gradient = css
    ? `<div class="gradient" style="background:${css};color:${fg}" title="${escapeHtml(css)}">${escapeHtml(String(g.primary ?? ''))} → ${escapeHtml(String(g.secondary ?? ''))}</div>`
    : '';
  const links = [
    ...Object.entries(outs).map(
      ([n, o]) => `<a href="${hrefOf(o.path)}">${escapeHtml(n)} ${o.width}×${o.height}</a>`,
    ),
    `<a href="${hrefOf(card.sidecarPath)}">json</a>`,
  ].join('');
  const problems = card.problems.length
    ? `<ul class="problems">${card.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>`
    : '';
  return `<article class="card"><h3>${escapeHtml(source)}</h3><div class="pics">${pics}</div><div class="placeholders">${placeholders}</div>${swatches}${gradient}<div class="links">${links}</div>${problems}</article>`;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

export interface PreviewSummary {
  path: string;
  images: number;
  failures: number;
}

/**
 * Writes `<dir>/index.html`: every image of the batch with its thumbnail, blur, placeholders,
 * palette and gradient, links to each output, and the inputs that failed. The page loads nothing
 * from elsewhere; images load lazily, so thousands of cards open quickly.
 */
export async function writePreview(
  dir: string,
  failures: readonly InputFailure[] = [],
): Promise<PreviewSummary> {
  const paths = (
    await fg('**/*.json', { cwd: dir, dot: false, followSymbolicLinks: false })
  ).sort();
  const limit = pLimit(16);
  const cards = (await Promise.all(paths.map((p) => limit(() => loadCard(dir, p))))).filter(
    (c): c is Card => c !== undefined,
  );
  cards.sort((a, b) => {
    const x = String(a.sidecar.source?.path ?? a.sidecarPath);
    const y = String(b.sidecar.source?.path ?? b.sidecarPath);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const broken = cards.filter((c) => c.problems.length > 0).length;
  const failed = failures.length
    ? `<section class="item failing"><h2>${plural(failures.length, 'input')} failed</h2><ul class="problems">${failures
        .map((f) => `<li>${escapeHtml(f.input)}: ${escapeHtml(f.reason)}</li>`)
        .join('')}</ul></section>`
    : '';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>imgproc preview: ${cards.length} images</title><style>${PAGE_STYLE}</style></head>
<body><header class="summary${failures.length || broken ? ' fail' : ''}"><h1>imgproc preview</h1>
<p>${cards.length} images${failures.length ? `, <strong>${plural(failures.length, 'input')} failed</strong>` : ''}${broken ? `, <strong>${broken} with missing or changed outputs</strong>` : ''}</p></header>
<main>${failed}<div class="sheet">
${cards.map(renderCard).join('\n')}
</div></main></body></html>
`;
  const path = join(dir, PREVIEW_NAME);
  await writeAtomic(path, html);
  return { path, images: cards.length, failures: failures.length };
}
