#!/usr/bin/env node
// The CLI as the bin runs it: dist/cli/main.js (tsc's output) with the packages named in BUNDLED,
// as one CommonJS file, dist/bundle/main.cjs; and the parts of the AWS SDK that
// src/storage/s3-sdk.ts names, as dist/bundle/s3-sdk.cjs, loaded on the first s3:// location.
// Node then reads and compiles two files instead of about seventy of imgproc's and some hundreds
// of the SDK's, and through its CommonJS loader, which costs less per file than its ES module
// loader: `imgproc` starts in less CPU time. Subcommands stay lazy: the modules of each are
// evaluated, and the packages they use (fastify, ioredis, …) loaded, on first use only.
// Every package not in BUNDLED stays in node_modules, loaded as it is.
//
// Then V8 code caches for both (bin/load-bundle.cjs): made by the bin itself, so with its V8
// settings, from a batch run over the bundled fixtures and from `imgproc doctor`, which loads the
// SDK. Without them imgproc works the same, and starts in about 25 ms more CPU.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
/** Bundled (tree-shaken): the ES-module-only packages must be, since a CommonJS file cannot require them on Node 20. */
const BUNDLED = [
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  'blurhash',
  'commander',
  'p-limit',
  'pixelmatch',
  'thumbhash',
];
const outdir = `${root}/dist/bundle`;
/** The SDK module, in the main file an external require of its own bundle. */
const SDK_MODULE = /[\\/]storage[\\/]s3-sdk\.js$/;

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // The SDK's ES module build, which tree-shaking can cut to what is used.
  mainFields: ['module', 'main'],
  external: Object.keys(pkg.dependencies).filter((name) => !BUNDLED.includes(name)),
  // import.meta.url, which a CommonJS file has not: this file's own URL.
  banner: { js: "const __imgprocUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__imgprocUrl' },
  // import() as require(): the bin compiles the bundles itself (bin/load-bundle.cjs), where
  // Node 20 supports no import().
  supported: { 'dynamic-import': false },
  legalComments: 'none',
  logLevel: 'warning',
};

rmSync(outdir, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: [`${root}/dist/cli/main.js`],
  outfile: `${outdir}/main.cjs`,
  plugins: [
    {
      name: 'separate-sdk',
      setup(b) {
        b.onResolve({ filter: /s3-sdk\.js$/ }, (args) =>
          SDK_MODULE.test(resolve(args.resolveDir, args.path))
            ? { path: './s3-sdk.cjs', external: true }
            : undefined,
        );
      },
    },
  ],
});
await build({
  ...common,
  entryPoints: [`${root}/dist/storage/s3-sdk.js`],
  outfile: `${outdir}/s3-sdk.cjs`,
});

/** Runs the bin with `args`, writing the caches of the bundles it loads; says what failed. */
function train(args) {
  const run = spawnSync(process.execPath, [`${root}/bin/imgproc.cjs`, ...args], {
    cwd: root,
    env: { ...process.env, IMGPROC_WRITE_CODE_CACHE: '1', NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return run.error ?? (run.status === 0 ? undefined : run.stderr.trim().split('\n')[0]);
}

const scratch = mkdtempSync(join(tmpdir(), 'imgproc-code-cache-'));
try {
  const failed =
    train([`${root}/fixtures/photos`, '--out', scratch, '--cpu', '--quiet', '--no-progress']) ??
    // Exits 1 where it finds a problem with the machine; the caches are written all the same.
    (train(['doctor']), undefined);
  for (const name of ['main.cjs', 's3-sdk.cjs']) {
    if (!existsSync(`${outdir}/${name}.cache`)) {
      console.warn(`bundle: no V8 code cache for ${name}${failed ? ` (${failed})` : ''}`);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
