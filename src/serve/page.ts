/**
 * The page at `/`: drop a photo, watch its job, see its outputs and placeholders. One HTML file
 * and one script from this server, nothing from elsewhere (the CSP says so).
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imgproc</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  label.token { display: block; margin-bottom: 1rem; color: #555; }
  label.token input { width: 22rem; max-width: 100%; font: inherit; }
  #drop { border: 2px dashed #999; border-radius: 8px; padding: 2.5rem 1rem; text-align: center; cursor: pointer; }
  #drop.over { border-color: #2a6df4; background: #eef3fe; }
  #status { margin: 1rem 0; min-height: 1.4em; }
  #status[data-state="failed"], #status[data-state="error"] { color: #b00020; }
  .row { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
  figure { margin: 0; }
  figure img { display: block; max-width: 100%; background: #f3f3f3; }
  figcaption { font-size: 0.85rem; color: #555; }
  #gradient { width: 12rem; height: 6rem; border-radius: 6px; }
  #palette span { display: inline-block; width: 2rem; height: 2rem; margin-right: 2px; border-radius: 4px; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<h1>imgproc</h1>
<label class="token">Token (only if the server asks for one): <input id="token" type="password" autocomplete="off"></label>
<div id="drop" tabindex="0">Drop a photo here, or click to choose one
  <input id="file" type="file" accept="image/*" hidden>
</div>
<p id="status" data-state="idle" role="status"></p>
<section id="result" hidden>
  <h2>Placeholders</h2>
  <div class="row">
    <figure><img id="blur-data-url" alt="inline blur placeholder" width="160"><figcaption>blurDataUrl</figcaption></figure>
    <figure><div id="gradient"></div><figcaption id="gradient-css"></figcaption></figure>
    <figure><div id="palette"></div><figcaption>palette</figcaption></figure>
  </div>
  <h2>Outputs</h2>
  <div id="outputs" class="row"></div>
</section>
<script src="/app.js"></script>
</body>
</html>
`;

export const PAGE_SCRIPT = `'use strict';
const $ = (id) => document.getElementById(id);
const token = $('token');
token.value = sessionStorage.getItem('imgproc-token') || '';
token.addEventListener('change', () => sessionStorage.setItem('imgproc-token', token.value.trim()));

function auth(extra) {
  const h = Object.assign({}, extra);
  if (token.value.trim()) h.authorization = 'Bearer ' + token.value.trim();
  return h;
}
function say(text, state) {
  $('status').textContent = text;
  $('status').dataset.state = state;
}
const kib = (n) => (n / 1024).toFixed(1) + ' KiB';

async function call(url, opts) {
  const res = await fetch(url, opts);
  const body = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(body && body.error ? body.error + ' (' + body.code + ')' : 'HTTP ' + res.status);
  return body;
}

async function showOutputs(view) {
  const g = view.gradient || {};
  $('blur-data-url').src = g.blurDataUrl || '';
  if (g.blurDataUrl) await $('blur-data-url').decode();
  $('gradient').style.background = g.css || 'none';
  $('gradient-css').textContent = g.css || '';
  $('palette').replaceChildren(...(g.palette || []).map((c) => {
    const s = document.createElement('span');
    s.style.background = c;
    s.title = c;
    return s;
  }));
  const figures = [];
  for (const [name, out] of Object.entries(view.outputs || {})) {
    if (name === 'sidecar') continue;
    const res = await fetch(out.url, { headers: auth() });
    if (!res.ok) throw new Error(name + ': HTTP ' + res.status);
    const img = document.createElement('img');
    img.alt = name;
    img.dataset.output = name;
    img.src = URL.createObjectURL(await res.blob());
    await img.decode();
    const fig = document.createElement('figure');
    const cap = document.createElement('figcaption');
    cap.textContent = name + ' ' + out.width + '\\u00d7' + out.height + ', ' + kib(out.bytes);
    fig.append(img, cap);
    figures.push(fig);
  }
  $('outputs').replaceChildren(...figures);
  $('result').hidden = false;
}

async function submit(file) {
  $('result').hidden = true;
  try {
    say('uploading ' + file.name + ' (' + kib(file.size) + ')…', 'uploading');
    const type = file.type && file.type.startsWith('image/') ? file.type : 'application/octet-stream';
    const job = await call('/v1/jobs', { method: 'POST', headers: auth({ 'content-type': type }), body: file });
    say('job ' + job.id + ': queued', 'queued');
    let view;
    do {
      view = await call(job.links.self + '?wait=20', { headers: auth() });
      // "done" is said only once the outputs are on the page.
      say('job ' + view.id + ': ' + view.state, view.state === 'done' ? 'loading' : view.state);
    } while (view.state !== 'done' && view.state !== 'failed');
    if (view.state === 'failed') {
      say('job ' + view.id + ' failed: ' + view.error + ' (' + view.code + ')', 'failed');
      return;
    }
    await showOutputs(view);
    say('job ' + view.id + ': done', 'done');
  } catch (err) {
    say(String(err.message || err), 'error');
  }
}

const drop = $('drop');
drop.addEventListener('click', () => $('file').click());
drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') $('file').click(); });
$('file').addEventListener('change', () => { if ($('file').files[0]) submit($('file').files[0]); });
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer && e.dataTransfer.files[0];
  if (file) submit(file);
});
`;
