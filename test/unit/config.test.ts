import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveBatchConfig } from '../../src/config/batch.js';
import { daemonRequested, resolveDaemonConfig } from '../../src/config/daemon.js';

describe('resolveBatchConfig', () => {
  it('merges flags over IMGPROC_* and resolves paths', () => {
    const cfg = resolveBatchConfig(
      ['photos'],
      { out: 'o', progress: true, quiet: true },
      { IMGPROC_JSON: '1', IMGPROC_REPORT: 'r.json', IMGPROC_NO_PROGRESS: 'yes' },
    );
    expect(cfg).toMatchObject({
      inputs: ['photos'],
      outDir: resolve('o'),
      reportPath: resolve('r.json'),
      json: true,
      quiet: true,
      progress: false,
      dryRun: false,
      failFast: false,
    });
    expect(resolveBatchConfig([], { out: 'o', progress: false, manifest: 'm' }, {})).toMatchObject({
      manifest: 'm',
      progress: false,
    });
  });

  it('refuses a run with no inputs, no --out, or a switch that is not a boolean', () => {
    expect(() => resolveBatchConfig([], { out: 'o' }, {})).toThrow(/^no inputs/);
    expect(() => resolveBatchConfig(['a'], {}, {})).toThrow(/^missing --out DIR/);
    expect(() => resolveBatchConfig(['a'], { out: 'o' }, { IMGPROC_DRY_RUN: 'maybe' })).toThrow(
      'Expected one of true, false, 1, 0 for IMGPROC_DRY_RUN but received "maybe"',
    );
  });
});

describe('daemon settings', () => {
  it('--daemon from the flag or IMGPROC_DAEMON', () => {
    expect(daemonRequested({ daemon: true }, {})).toBe(true);
    expect(daemonRequested({}, { IMGPROC_DAEMON: '1' })).toBe(true);
    expect(daemonRequested({}, {})).toBe(false);
  });

  it('needs --redis', () => {
    expect(() => resolveDaemonConfig({})).toThrow(/--daemon needs --redis <url>/);
  });
});
