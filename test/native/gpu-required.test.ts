import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';
import { openBinding } from './helpers.js';

const binding = openBinding();
const gpuHere = binding.buildInfo().cuda && (await binding.cudaStatus()).devices.length > 0;
if (gpuHere) console.log('IMGPROC_REQUIRE_GPU check skipped: this machine has a GPU');

interface VitestJson {
  numTotalTests: number;
  numFailedTests: number;
  numPendingTests: number;
}

test.skipIf(gpuHere)(
  'IMGPROC_REQUIRE_GPU=1 on a machine without a GPU fails every GPU test instead of skipping it',
  () => {
    const r = spawnSync(
      process.execPath,
      [
        resolve('node_modules/vitest/vitest.mjs'),
        'run',
        'test/native/gpu.test.ts',
        '--reporter=json',
      ],
      { encoding: 'utf8', env: { ...process.env, IMGPROC_REQUIRE_GPU: '1' }, timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as VitestJson;
    expect(report.numTotalTests).toBeGreaterThanOrEqual(12);
    expect(report.numPendingTests).toBe(0);
    expect(report.numFailedTests).toBe(report.numTotalTests);
  },
  120_000,
);
