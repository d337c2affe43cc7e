'use strict';
// Loads dist/bundle/*.cjs as require() would, but compiled from V8's code cache where the build
// left one that fits: V8 then skips parsing and compiling the functions a batch run calls, which
// is most of what imgproc's own start-up costs. The build (scripts/bundle.mjs) writes the caches
// by running the bin over the bundled fixtures with IMGPROC_WRITE_CODE_CACHE=1.
//
// A cache starts with the SHA-256 of the source it was made from: V8 itself checks only the
// source's length, and a rebuilt bundle of the same length must not run the old code. V8 rejects
// a cache made by another Node version or with other V8 flags; the bundle is then compiled as
// usual. Nothing is written at run time unless the build asks for it.
const { createHash } = require('node:crypto');
const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const Module = require('node:module');
const { basename, dirname, join } = require('node:path');
const { Script } = require('node:vm');

const HASH_BYTES = 32;
const writeCaches = process.env.IMGPROC_WRITE_CODE_CACHE === '1';
/** Bundles loaded here, by file name: each is evaluated once, as require() would. */
const loaded = new Map();
/** What became of each bundle's cache, by file name: used, missing, stale or rejected (by V8). */
const statuses = (globalThis[Symbol.for('imgproc.codeCache')] = {});

/** The V8 data of `cacheFile` when it was made from `source`, and what became of it. */
function cacheFor(source, cacheFile) {
  const digest = sha256(source);
  let cache;
  try {
    cache = readFileSync(cacheFile);
  } catch {
    return { digest, status: 'missing' };
  }
  if (cache.length <= HASH_BYTES || !cache.subarray(0, HASH_BYTES).equals(digest)) {
    return { digest, status: 'stale' };
  }
  return { digest, status: 'used', cachedData: cache.subarray(HASH_BYTES) };
}

function sha256(text) {
  return createHash('sha256').update(text).digest();
}

/** Writes the cache beside the bundle when the process exits, with what it has compiled by then. */
function writeAtExit(script, digest, cacheFile) {
  process.once('exit', () => {
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.concat([digest, script.createCachedData()]));
    renameSync(tmp, cacheFile);
  });
}

/**
 * The exports of the CommonJS bundle `filename`. Inside it, `require` of another bundle that
 * sits beside it (`./<name>.cjs`) goes through here too, so each gets its cache.
 */
function loadBundle(filename) {
  const done = loaded.get(filename);
  if (done) return done.exports;
  const source = readFileSync(filename, 'utf8');
  const cacheFile = `${filename}.cache`;
  const { digest, cachedData, status } = cacheFor(source, cacheFile);
  const script = new Script(Module.wrap(source), { filename, cachedData });
  const rejected = cachedData !== undefined && script.cachedDataRejected === true;
  statuses[basename(filename)] = rejected ? 'rejected' : status;
  if (writeCaches && (rejected || status !== 'used')) writeAtExit(script, digest, cacheFile);
  const dir = dirname(filename);
  const mod = new Module(filename, module);
  mod.filename = filename;
  mod.paths = Module._nodeModulePaths(dir);
  mod.loaded = true;
  loaded.set(filename, mod);
  const plain = Module.createRequire(filename);
  const bundleRequire = (id) =>
    /^\.\/[\w-]+\.cjs$/.test(id) ? loadBundle(join(dir, id)) : plain(id);
  Object.assign(bundleRequire, plain);
  script.runInThisContext().call(mod.exports, mod.exports, bundleRequire, mod, filename, dir);
  return mod.exports;
}

module.exports = { loadBundle };
