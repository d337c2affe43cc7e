// Finding the benchmark corpus and preparing the exact set of files every contender reads.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { listImages, REPO_ROOT } from './settings.mjs';

const CORPUS_SCRIPT = path.resolve(REPO_ROOT, '../shared/tools/bench-corpus.sh');

/** `--corpus DIR`, else IMGPROC_BENCH_CORPUS, else the corpus script's folder (building it if needed). */
export function resolveCorpus(flagValue) {
  const given = typeof flagValue === 'string' ? flagValue : process.env.IMGPROC_BENCH_CORPUS;
  if (given) {
    if (!existsSync(given) || !statSync(given).isDirectory()) {
      throw new Error(`corpus folder ${given} does not exist`);
    }
    return path.resolve(given);
  }
  if (existsSync(CORPUS_SCRIPT)) {
    process.stderr.write(`bench: corpus from ${CORPUS_SCRIPT} (first run downloads it with apt)\n`);
    try {
      const dir = execFileSync('bash', [CORPUS_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] })
        .toString()
        .trim()
        .split('\n')
        .pop();
      if (dir && existsSync(dir)) return dir;
    } catch {
      process.stderr.write('bench: the corpus script failed (see above)\n');
    }
  }
  throw new Error(
    'no benchmark corpus. Give a folder of photos with --corpus DIR or IMGPROC_BENCH_CORPUS=DIR, ' +
      'or build the standard one with `bash ../shared/tools/bench-corpus.sh` (Debian wallpapers, ' +
      'needs apt) and pass the folder it prints.',
  );
}

/**
 * Up to `limit` files, spread evenly over the sorted list so a subset keeps the corpus's mix of
 * formats and sizes; deterministic for the same corpus.
 */
export function selectFiles(corpusDir, limit) {
  const all = listImages(corpusDir);
  if (!limit || limit >= all.length) return all;
  const step = all.length / limit;
  return Array.from({ length: limit }, (_, i) => all[Math.floor(i * step)]);
}

/** A flat folder holding exactly `files` (hard links where possible, else copies). */
export function stageFiles(files, dir) {
  mkdirSync(dir, { recursive: true });
  const used = new Set();
  for (const f of files) {
    let name = path.basename(f);
    for (let n = 2; used.has(name); n++) name = `${n}-${path.basename(f)}`;
    used.add(name);
    const dest = path.join(dir, name);
    try {
      linkSync(f, dest);
    } catch {
      copyFileSync(f, dest);
    }
  }
  return dir;
}

/** Source pixels (displayed size) and bytes per file; also pulls every file into the page cache. */
export async function describeFiles(files) {
  const rows = [];
  for (const file of files) {
    const buf = readFileSync(file);
    const meta = await sharp(buf).metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.autoOrient?.height ?? meta.pageHeight ?? meta.height;
    rows.push({
      file,
      bytes: buf.length,
      format: meta.format,
      width,
      height,
      mp: (width * height) / 1e6,
    });
  }
  return rows;
}

/** How many files `--encoder-table` tunes the WebP settings on (its default `--limit`). */
const TUNING_FILES = 8;

/**
 * The corpus's JPEG photographs that no default was tuned on: every JPEG outside the files the
 * encoder table picks, so an overhead measured on them is not flattered by the tuning.
 */
export function heldOutPhotos(corpusDir) {
  const tuned = new Set(selectFiles(corpusDir, TUNING_FILES));
  return listImages(corpusDir).filter((f) => /\.jpe?g$/i.test(f) && !tuned.has(f));
}
