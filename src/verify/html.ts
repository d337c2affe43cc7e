/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A path relative to the page, as a URL: each segment percent-encoded, '/' kept. */
export function hrefOf(relPath: string): string {
  return relPath.split('/').map(encodeURIComponent).join('/');
}

/** One stylesheet for the verify report and the contact sheet; pages load nothing else. */
export const PAGE_STYLE = `
:root { color-scheme: light dark; --fg: #1b1b1f; --bg: #fafafa; --card: #fff; --line: #d9d9de; --bad: #c62828; --good: #2e7d32; --warn: #b26a00; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6ea; --bg: #121214; --card: #1d1d21; --line: #34343a; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header.summary { padding: 16px 24px; border-bottom: 4px solid var(--good); background: var(--card); }
header.summary.fail { border-bottom-color: var(--bad); }
h1 { margin: 0 0 4px; font-size: 20px; }
main { padding: 8px 24px 48px; }
code { font-size: 12px; }
.status { font-size: 12px; font-weight: 600; padding: 1px 6px; border-radius: 8px; border: 1px solid currentColor; }
.status.identical, .status.within { color: var(--good); }
.status.differs, .status.missing, .status.extra, .status.failed { color: var(--bad); }
.item { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 16px; margin: 12px 0; }
.item.failing { border-left: 4px solid var(--bad); }
.figures { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; }
figure img { display: block; max-width: 420px; max-height: 420px; image-rendering: pixelated; background: repeating-conic-gradient(#bbb 0 25%, #eee 0 50%) 0 0 / 16px 16px; }
figcaption { font-size: 12px; opacity: .8; }
.none { width: 120px; height: 80px; display: grid; place-items: center; border: 1px dashed var(--line); }
.output.placeholder figure img { width: 160px; height: auto; image-rendering: auto; }
.measures { font-weight: 400; font-size: 12px; opacity: .8; }
details.passing { margin-top: 24px; }
table { border-collapse: collapse; margin-top: 8px; }
td, th { border-bottom: 1px solid var(--line); padding: 2px 8px; text-align: left; vertical-align: top; }
.sheet { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px; content-visibility: auto; contain-intrinsic-size: 290px 420px; }
.card h3 { margin: 0 0 6px; font-size: 13px; word-break: break-all; }
.pics { display: flex; gap: 4px; align-items: flex-start; }
.pics img { width: 100%; height: auto; max-width: 136px; background: repeating-conic-gradient(#bbb 0 25%, #eee 0 50%) 0 0 / 12px 12px; }
.placeholders { display: flex; gap: 4px; margin-top: 4px; }
.placeholders figure img { width: 64px; height: 48px; object-fit: cover; image-rendering: auto; }
.swatches { display: flex; margin-top: 6px; border-radius: 4px; overflow: hidden; border: 1px solid var(--line); }
.swatches span { flex: 1; height: 20px; }
.gradient { height: 28px; border-radius: 4px; margin-top: 6px; display: flex; align-items: center; padding: 0 8px; font-size: 12px; }
.links { font-size: 12px; margin-top: 4px; }
.links a { margin-right: 8px; white-space: nowrap; }
.problems li { color: var(--bad); }
`;
