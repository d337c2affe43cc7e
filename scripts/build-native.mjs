#!/usr/bin/env node
// Builds native/build/Release/imgproc_native.node with cmake-js.
//   node scripts/build-native.mjs             fails loudly (npm run build:native)
//   node scripts/build-native.mjs --optional  never fails: `npm install` must succeed without cmake,
//                                             a compiler or nvcc; imgproc then runs on sharp.
// Environment: IMGPROC_SKIP_NATIVE_BUILD=1 skips the build, IMGPROC_NO_CUDA=1 builds the C++
// reference only, CUDACXX=/path/to/nvcc picks the CUDA compiler, IMGPROC_CUDA_ARCHITECTURES
// overrides the CMake architecture list (e.g. "86-real" for a faster local build),
// IMGPROC_NATIVE_BUILD_DIR builds somewhere other than native/build (load it with
// IMGPROC_NATIVE_PATH=<dir>/Release/imgproc_native.node).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const buildDir = process.env.IMGPROC_NATIVE_BUILD_DIR
  ? resolve(process.env.IMGPROC_NATIVE_BUILD_DIR)
  : join(nativeDir, 'build');
const logPath = join(buildDir, 'build.log');
const optional = process.argv.includes('--optional');
const say = (line) => process.stderr.write(`imgproc: ${line}\n`);

function works(command, args) {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.status === 0;
}

function findCompiler() {
  const candidates = [process.env.CXX, 'c++', 'g++', 'clang++'].filter(Boolean);
  return candidates.find((cxx) => works(cxx, ['--version']));
}

function findNvcc() {
  const candidates = [process.env.CUDACXX, 'nvcc', '/usr/local/cuda/bin/nvcc'].filter(Boolean);
  return candidates.find((nvcc) => works(nvcc, ['--version']));
}

function giveUp(reason, hint) {
  if (optional) {
    say(`native addon not built (${reason}); imgproc will run on the CPU backend (sharp). ${hint}`);
    process.exit(0);
  }
  say(`cannot build the native addon: ${reason}. ${hint}`);
  process.exit(1);
}

if (process.env.IMGPROC_SKIP_NATIVE_BUILD === '1') {
  if (optional) {
    say(
      'native addon build skipped (IMGPROC_SKIP_NATIVE_BUILD=1); imgproc will run on the CPU backend (sharp).',
    );
    process.exit(0);
  }
  say(
    'IMGPROC_SKIP_NATIVE_BUILD=1 is set, but `build:native` was asked for explicitly: building anyway.',
  );
}

if (!works('cmake', ['--version'])) {
  giveUp(
    'cmake not found',
    'Install cmake >= 3.18 and a C++17 compiler, then run `npm run build:native`.',
  );
}
if (!findCompiler()) {
  giveUp('no C++ compiler found', 'Install g++ or clang++, then run `npm run build:native`.');
}

let cmakeJs;
try {
  cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
} catch {
  giveUp('cmake-js is not installed', 'Run `npm install` first.');
}

const nvcc = process.env.IMGPROC_NO_CUDA === '1' ? undefined : findNvcc();
const args = [
  cmakeJs,
  'compile',
  '-d',
  nativeDir,
  '--out',
  buildDir,
  '--parallel',
  String(availableParallelism()),
];
// Every cached choice is passed each time, so a rebuild never keeps a stale one.
if (nvcc) {
  args.push('--CDIMGPROC_CUDA=ON', `--CDCMAKE_CUDA_COMPILER=${nvcc}`);
  args.push(
    `--CDIMGPROC_CUDA_ARCHITECTURES=${process.env.IMGPROC_CUDA_ARCHITECTURES || 'default'}`,
  );
} else {
  args.push('--CDIMGPROC_CUDA=OFF');
}
const flavour = nvcc
  ? `with CUDA (${nvcc})`
  : `C++ reference only (${process.env.IMGPROC_NO_CUDA === '1' ? 'IMGPROC_NO_CUDA=1' : 'no nvcc found'})`;

const started = Date.now();
let status;
if (optional) {
  // npm hides install output anyway: keep the whole log in a file and print one line.
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  // Written after the build: cmake-js may wipe the build folder on a failed first attempt.
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(logPath, `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`);
  status = r.status;
} else {
  say(`building the native addon, ${flavour}`);
  status = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status;
}

const addon = join(buildDir, 'Release', 'imgproc_native.node');
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (status === 0 && existsSync(addon)) {
  say(`native addon built, ${flavour}, in ${seconds} s: ${relative(root, addon)}`);
  process.exit(0);
}
if (optional) {
  say(
    `native addon build failed (see ${relative(root, logPath)}); imgproc will run on the CPU backend (sharp). ` +
      'Run `npm run build:native` to see the error.',
  );
  process.exit(0);
}
say('native addon build failed (see the output above).');
process.exit(1);
