#!/usr/bin/env node
'use strict';
// sharp's work runs on libuv's pool, which is sized once, on first use: size it before anything
// async runs, for the images in flight (-j/--concurrency) times the three encodes each may run.
if (!process.env.UV_THREADPOOL_SIZE) {
  const args = process.argv.slice(2);
  let inFlight = Number(process.env.IMGPROC_CONCURRENCY) || 0;
  for (let i = 0; i < args.length; i++) {
    const m = /^(?:-j|--concurrency)(?:=(.*))?$/.exec(args[i]);
    if (m) inFlight = Number(m[1] ?? args[i + 1]) || inFlight;
  }
  const cores = require('node:os').availableParallelism();
  // The default is two images per core (DEFAULT_CONCURRENCY_PER_CORE in src/config/options.ts).
  process.env.UV_THREADPOOL_SIZE = String(Math.min(1024, Math.max(4, (inFlight || cores * 2) * 3)));
}
// The V8 settings below, unless node was given the same flag; `imgproc doctor` lists what was set.
const v8Set = (globalThis[Symbol.for('imgproc.v8Flags')] = []);
function setV8Flag(flag) {
  const name = flag.slice(0, flag.indexOf('='));
  if (process.execArgv.some((a) => a === name || a.startsWith(`${name}=`))) return;
  require('node:v8').setFlagsFromString(flag);
  v8Set.push(flag);
}
// V8 hands a function to its optimising compiler once it has run for a while, a threshold set for
// web pages. imgproc's own JavaScript is a small kernel per image (palette, placeholders), which
// that threshold compiles, often more than once, within the first dozen images: more CPU than a
// short run ever gets back. At 30 times the threshold, the palettes and placeholders of 12 cold
// samples cost about a third less CPU, and warm code is as fast as before.
setV8Flag('--interrupt-budget=2000000');
// imgproc's JavaScript heap is small (about 7 MiB live, 12 with the AWS SDK) while requests and
// images churn through it, and V8 grows a small heap's limit slowly: an s3:// run of 42 photos
// made 20 full collections (about 200 ms of pauses alone). Growing the limit to 4 times what is
// live, V8's own ceiling for a heap it collects quickly, leaves 7, at a few tens of MiB of heap.
setV8Flag('--heap-growing-percent=300');
// glibc gives each thread its arena on its first allocation, so the arena limit that the native
// addon sets (src/native/allocator.ts, reported by `imgproc doctor`) is set here, before any
// thread starts; a limit the user set, or an addon that is missing or turned off, is left alone.
const env = process.env;
let addon;
if (process.platform === 'linux' && env.IMGPROC_NATIVE !== '0' && env.IMGPROC_NATIVE !== 'off') {
  try {
    addon = require(
      env.IMGPROC_NATIVE_PATH ||
        require('node:path').join(__dirname, '../native/build/Release/imgproc_native.node'),
    );
  } catch {
    // No addon: imgproc runs with glibc's defaults, and doctor says how to fix it.
  }
}
// Huge pages, by starting again with GLIBC_TUNABLES set (bin/huge-pages.cjs); `imgproc doctor`
// says which. Before the arena limit: a process that starts again sets it then.
globalThis[Symbol.for('imgproc.hugePages')] = require('./huge-pages.cjs').withHugePages(addon);
if (
  addon &&
  typeof addon.setArenaMax === 'function' &&
  env.MALLOC_ARENA_MAX === undefined &&
  !/glibc\.malloc\.arena_max/.test(env.GLIBC_TUNABLES || '')
) {
  addon.setArenaMax(Math.max(1, require('node:os').availableParallelism()));
}
const main = require('node:path').join(__dirname, '../dist/bundle/main.cjs');
if (!require('node:fs').existsSync(main)) {
  process.stderr.write(`imgproc: cannot start: ${main} is missing\n`);
  process.stderr.write('Run `npm run build` (or reinstall) so that dist/ exists.\n');
  process.exit(1);
}
require('./load-bundle.cjs').loadBundle(main);
