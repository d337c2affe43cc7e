import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveBatchConfig } from '../../src/config/batch.js';
import { daemonRequested, resolveDaemonConfig } from '../../src/config/daemon.js';
import { resolveObjectStoreSettings } from '../../src/config/object-store.js';

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

  it('with nothing but inputs and --out: progress on, every switch off, no report', () => {
    expect(resolveBatchConfig(['a'], { out: 'o' }, {})).toMatchObject({
      manifest: undefined,
      reportPath: undefined,
      dryRun: false,
      failFast: false,
      json: false,
      quiet: false,
      progress: true,
    });
  });

  it('takes each switch from its flag or its IMGPROC_* variable', () => {
    const flags = { out: 'o', dryRun: true, failFast: true, json: true, quiet: true };
    expect(resolveBatchConfig(['a'], flags, {})).toMatchObject({
      dryRun: true,
      failFast: true,
      json: true,
      quiet: true,
    });
    const env = {
      IMGPROC_DRY_RUN: '1',
      IMGPROC_FAIL_FAST: 'true',
      IMGPROC_JSON: 'on',
      IMGPROC_QUIET: 'yes',
    };
    expect(resolveBatchConfig(['a'], { out: 'o' }, env)).toMatchObject({
      dryRun: true,
      failFast: true,
      json: true,
      quiet: true,
    });
  });

  it('an empty IMGPROC_* value or a bare switch is no path', () => {
    expect(() => resolveBatchConfig(['a'], {}, { IMGPROC_OUT: '' })).toThrow(/^missing --out DIR/);
    expect(() => resolveBatchConfig([], { out: 'o' }, { IMGPROC_MANIFEST: '' })).toThrow(
      /^no inputs/,
    );
    expect(() => resolveBatchConfig([], { out: 'o', manifest: true }, {})).toThrow(/^no inputs/);
    expect(resolveBatchConfig(['a'], { out: 'o' }, { IMGPROC_REPORT: '' }).reportPath).toBe(
      undefined,
    );
  });

  it('--report - is stdout, which --json cannot share', () => {
    expect(resolveBatchConfig(['a'], { out: 'o', report: '-' }, {}).reportPath).toBe('-');
    expect(() => resolveBatchConfig(['a'], { out: 'o', report: '-', json: true }, {})).toThrow(
      '--report - and --json both write to stdout; give --report a file name',
    );
    expect(
      resolveBatchConfig(['a'], { out: 'o', report: 'r.json', json: true }, {}).reportPath,
    ).toBe(resolve('r.json'));
  });

  it('an s3:// --out is kept as a location, not resolved as a folder', () => {
    expect(resolveBatchConfig(['a'], { out: 's3://photos/web/' }, {}).outDir).toBe(
      's3://photos/web',
    );
  });
});

describe('resolveObjectStoreSettings', () => {
  it('is all off without flags or variables', () => {
    expect(resolveObjectStoreSettings({}, {})).toEqual({
      endpoint: undefined,
      forcePathStyle: false,
      region: undefined,
      cacheControl: undefined,
    });
  });

  it('takes flags over IMGPROC_* variables', () => {
    const env = {
      IMGPROC_S3_ENDPOINT: 'http://env:9000',
      IMGPROC_S3_REGION: 'eu-west-1',
      IMGPROC_CACHE_CONTROL: 'no-cache',
    };
    expect(resolveObjectStoreSettings({}, env)).toEqual({
      endpoint: 'http://env:9000',
      forcePathStyle: false,
      region: 'eu-west-1',
      cacheControl: 'no-cache',
    });
    expect(
      resolveObjectStoreSettings(
        {
          s3Endpoint: 'HTTPS://minio.local',
          s3PathStyle: true,
          s3Region: 'auto',
          cacheControl: 'public, max-age=31536000',
        },
        env,
      ),
    ).toEqual({
      endpoint: 'HTTPS://minio.local',
      forcePathStyle: true,
      region: 'auto',
      cacheControl: 'public, max-age=31536000',
    });
  });

  it('reads IMGPROC_S3_PATH_STYLE as a boolean, naming the variable of a bad value', () => {
    expect(resolveObjectStoreSettings({}, { IMGPROC_S3_PATH_STYLE: '1' }).forcePathStyle).toBe(
      true,
    );
    expect(resolveObjectStoreSettings({}, { IMGPROC_S3_PATH_STYLE: 'off' }).forcePathStyle).toBe(
      false,
    );
    expect(resolveObjectStoreSettings({ s3PathStyle: false }, {}).forcePathStyle).toBe(false);
    expect(() => resolveObjectStoreSettings({}, { IMGPROC_S3_PATH_STYLE: 'maybe' })).toThrow(
      'Expected one of true, false, 1, 0 for IMGPROC_S3_PATH_STYLE but received "maybe"',
    );
  });

  it('a bare switch is no value', () => {
    expect(resolveObjectStoreSettings({ s3Region: true, cacheControl: true }, {})).toMatchObject({
      region: undefined,
      cacheControl: undefined,
    });
  });

  it('an empty variable is unset', () => {
    const env = { IMGPROC_S3_ENDPOINT: '', IMGPROC_S3_REGION: '', IMGPROC_CACHE_CONTROL: '' };
    expect(resolveObjectStoreSettings({}, env)).toMatchObject({
      endpoint: undefined,
      region: undefined,
      cacheControl: undefined,
    });
  });

  it('refuses an endpoint that is not an http(s) URL with a host', () => {
    for (const endpoint of [
      'minio:9000',
      'ftp://minio',
      'http://',
      'http:///bucket',
      'xhttp://h',
    ]) {
      expect(() => resolveObjectStoreSettings({ s3Endpoint: endpoint }, {})).toThrow(
        `Expected an http:// or https:// URL for s3-endpoint but received "${endpoint}"`,
      );
    }
    expect(resolveObjectStoreSettings({ s3Endpoint: 'http://127.0.0.1:9000' }, {}).endpoint).toBe(
      'http://127.0.0.1:9000',
    );
  });

  it('refuses a Cache-Control of more than one line (no header injection)', () => {
    for (const value of ['no-cache\r\nX-Evil: 1', 'no-cache\nx']) {
      expect(() => resolveObjectStoreSettings({ cacheControl: value }, {})).toThrow(
        'cache-control must be one line',
      );
    }
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
