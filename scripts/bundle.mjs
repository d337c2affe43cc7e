#!/usr/bin/env node
// The CLI as the bin runs it: dist/cli/main.js (tsc's output) and the AWS SDK parts it uses, bundled
// into dist/bundle/ with one file per lazily loaded part (subcommands, object storage). Node then
// resolves, reads and compiles a handful of files instead of about seventy of imgproc's and some
// hundreds of the SDK's: `imgproc` starts in less CPU time, and an s3:// run loads the SDK in about
// half of it. Every other package stays in node_modules, loaded as it is.
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
/** Bundled, tree-shaken to what src/storage/s3-sdk.ts names; the rest of the SDK is never loaded. */
const BUNDLED = [
  '@aws-sdk/client-s3',
  '@aws-sdk/lib-storage',
  'blurhash',
  'commander',
  'p-limit',
  'thumbhash',
];
const outdir = `${root}/dist/bundle`;

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${root}/dist/cli/main.js`],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The SDK's ES module build, which tree-shaking can cut to what is used.
  mainFields: ['module', 'main'],
  external: Object.keys(pkg.dependencies).filter((name) => !BUNDLED.includes(name)),
  // CommonJS code in the bundled SDK may call require(): give the ES module chunks one.
  banner: {
    js: "import { createRequire as __imgprocCreateRequire } from 'node:module'; const require = __imgprocCreateRequire(import.meta.url);",
  },
  chunkNames: 'chunk-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
