// Output settings shared by every contender, and the small argument parser the scripts use.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const IMAGE_EXTENSIONS = [
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
];

const FALLBACK = {
  thumbWidth: 256,
  blurSigma: 6,
  lqScale: 0.5,
  lqMaxWidth: 1280,
  quality: { thumb: 80, blur: 60, lq: 50 },
  effort: { thumb: 4, blur: 4, lq: 2 },
};

/**
 * imgproc's own defaults, read from the built config module so that every contender encodes
 * exactly what imgproc encodes; the fallback applies only when dist/ is not built.
 */
export async function loadDefaults() {
  const built = path.join(REPO_ROOT, 'dist/config/options.js');
  if (existsSync(built)) {
    try {
      const { DEFAULT_OUTPUT_OPTIONS: d } = await import(pathToFileURL(built).href);
      return {
        source: 'dist/config/options.js',
        settings: {
          thumbWidth: d.thumbWidth,
          blurSigma: d.blurSigma,
          lqScale: d.lqScale,
          lqMaxWidth: d.lqMaxWidth,
          quality: { ...d.quality },
          effort:
            typeof d.effort === 'number'
              ? { thumb: d.effort, blur: d.effort, lq: d.effort }
              : { ...d.effort },
        },
      };
    } catch {
      // fall through to the built-in copy
    }
  }
  return { source: 'built-in copy (dist/ not built)', settings: structuredClone(FALLBACK) };
}

/**
 * `--name value`, `--name=value` and `--flag`, plus positionals. Values stay strings. Names in
 * `takesValue` always consume the next argument, even one that starts with `--`.
 */
export function parseArgs(argv, takesValue = ['imgproc-args', 'settings']) {
  const flags = {};
  const positionals = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else if (
        i + 1 < argv.length &&
        (!argv[i + 1].startsWith('--') || takesValue.includes(a.slice(2)))
      )
        flags[a.slice(2)] = argv[++i];
      else flags[a.slice(2)] = true;
    } else positionals.push(a);
  }
  return { flags, positionals };
}

/** The settings a contender script was given on its command line (`--settings JSON`), else the defaults. */
export async function settingsFromFlags(flags) {
  if (typeof flags.settings === 'string') return JSON.parse(flags.settings);
  return (await loadDefaults()).settings;
}

/** Image files under `dir` (recursive), sorted, as absolute paths. */
export function listImages(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const p = path.join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase())) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** `<out>/<relative dir>/<stem>` for an input under `root`. */
export function outputStem(root, file, outDir) {
  const rel = path.relative(root, file);
  const parsed = path.parse(rel);
  return path.join(outDir, parsed.dir, parsed.name);
}

/**
 * The palette output for the plain sharp contenders, so that they make every output imgproc makes:
 * imgproc's own median cut (from dist/) on a ≤64 px sample, and a ≤16 px WebP data URL.
 */
export async function paletteWriter(sharp, s) {
  const built = path.join(REPO_ROOT, 'dist/gradient/index.js');
  const { computeGradient } = await import(pathToFileURL(built).href);
  const paletteSize = s.paletteSize ?? 6;
  return async function writePalette(sample, jsonPath) {
    const { data, info } = sample;
    const image = { data, width: info.width, height: info.height, channels: info.channels };
    const k = Math.min(1, 16 / Math.max(info.width, info.height));
    const tiny = await sharp(data, {
      raw: { width: info.width, height: info.height, channels: info.channels },
    })
      .resize(Math.max(1, Math.round(info.width * k)), Math.max(1, Math.round(info.height * k)), {
        fit: 'fill',
      })
      .webp({ quality: 40, effort: 4 })
      .toBuffer();
    const gradient = {
      ...computeGradient(image, paletteSize),
      blurDataUrl: `data:image/webp;base64,${tiny.toString('base64')}`,
    };
    await writeFile(jsonPath, JSON.stringify({ gradient }, null, 2) + '\n');
  };
}

/** Width scaled to `width`, height from the aspect ratio, at least 1 px, never enlarged. */
export function widthSize(width, height, target) {
  if (width <= target) return { width, height };
  return { width: target, height: Math.max(1, Math.round((height * target) / width)) };
}

/** imgproc's low-quality copy size: `lqScale` of each side, then at most `lqMaxWidth` wide. */
export function lqSize(width, height, s) {
  const scaled =
    s.lqScale >= 1
      ? { width, height }
      : {
          width: Math.max(1, Math.round(width * s.lqScale)),
          height: Math.max(1, Math.round(height * s.lqScale)),
        };
  const cap = s.lqMaxWidth ?? Infinity;
  return scaled.width > cap ? widthSize(width, height, cap) : scaled;
}
