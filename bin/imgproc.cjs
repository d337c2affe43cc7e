#!/usr/bin/env node
'use strict';
// sharp's work runs on libuv's pool, which is sized once, on first use: set it before anything async.
if (!process.env.UV_THREADPOOL_SIZE) {
  const cores = require('node:os').availableParallelism();
  process.env.UV_THREADPOOL_SIZE = String(Math.max(4, cores * 3));
}
import('../dist/cli/main.js').catch((err) => {
  process.stderr.write(`imgproc: cannot start: ${err && err.message ? err.message : err}\n`);
  process.stderr.write('Run `npm run build` (or reinstall) so that dist/ exists.\n');
  process.exit(1);
});
