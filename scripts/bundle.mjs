#!/usr/bin/env node
// The CLI as the bin runs it: dist/cli/main.js (tsc's output) with the packages named in BUNDLED,
// as one CommonJS file, dist/bundle/main.cjs; and the parts of the AWS SDK that
// src/storage/s3-sdk.ts names, as dist/bundle/s3-sdk.cjs, loaded on the first s3:// location.
// Node then reads and compiles two files instead of about seventy of imgproc's and some hundreds
// of the SDK's, and through its CommonJS loader, which costs less per file than its ES module
// loader: `imgproc` starts in less CPU time. Subcommands stay lazy: the modules of each are
// evaluated, and the packages they use (fastify, ioredis, …) loaded, on first use only.
// Every package not in BUNDLED stays in node_modules, loaded as it is.
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
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
