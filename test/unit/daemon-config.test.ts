import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { daemonRequested, resolveDaemonConfig } from '../../src/config/daemon.js';
import { UsageError } from '../../src/errors.js';

const redis = 'redis://127.0.0.1:6379/0';

// The daemon reads IMGPROC_* from the process environment: none may leak in from the shell.
beforeEach(() => {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('IMGPROC_')) vi.stubEnv(key, undefined);
  }
});
afterEach(() => vi.unstubAllEnvs());

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('resolveDaemonConfig', () => {
  it('uses the documented defaults', () => {
    expect(resolveDaemonConfig({ redis })).toEqual({
      redisUrl: redis,
      queue: undefined,
      prefix: undefined,
      dataDir: resolve('.'),
      allow: [],
      objectStore: {
        endpoint: undefined,
        forcePathStyle: false,
        region: undefined,
        cacheControl: undefined,
      },
      maxRetries: 3,
      maxCrashes: 3,
      shutdownTimeoutMs: 30_000,
      doneCap: 10_000,
      logFormat: 'human',
      metricsPort: undefined,
      metricsHost: '127.0.0.1',
      outputRoots: ['processed'],
      statusTtlMs: 604_800_000,
      // A heartbeat every 5 s that lives 15 s; workers are reaped as often as they beat.
      heartbeatIntervalMs: 5000,
      heartbeatTtlMs: 15_000,
      reapIntervalMs: 5000,
      retryBaseMs: 2000,
      blockTimeoutS: 5,
      testJobDelayMs: 0,
    });
  });

  it('takes every flag, durations given in seconds', () => {
    const cfg = resolveDaemonConfig({
      redis,
      queue: 'thumbs_jobs',
      prefix: 'site:',
      dataDir: 'srv/media',
      maxRetries: '0',
      maxCrashes: '1000',
      shutdownTimeout: '2.5',
      doneCap: '0',
      logFormat: 'json',
      metricsPort: '9100',
      metricsHost: '0.0.0.0',
      statusTtl: '60',
      heartbeatInterval: '0.25',
      heartbeatTtl: '2',
      reapInterval: '0.5',
      retryDelay: '0.1',
      blockTimeout: '0.5',
      testJobDelay: '25',
    });
    expect(cfg).toMatchObject({
      queue: 'thumbs_jobs',
      prefix: 'site:',
      dataDir: resolve('srv/media'),
      maxRetries: 0,
      maxCrashes: 1000,
      shutdownTimeoutMs: 2500,
      doneCap: 0,
      logFormat: 'json',
      metricsPort: 9100,
      metricsHost: '0.0.0.0',
      statusTtlMs: 60_000,
      heartbeatIntervalMs: 250,
      heartbeatTtlMs: 2000,
      reapIntervalMs: 500,
      retryBaseMs: 100,
      blockTimeoutS: 0.5,
      testJobDelayMs: 25,
    });
  });

  it('derives the heartbeat TTL (3 beats) and the reap interval (1 beat) from the interval', () => {
    const cfg = resolveDaemonConfig({ redis, heartbeatInterval: '2' });
    expect([cfg.heartbeatIntervalMs, cfg.heartbeatTtlMs, cfg.reapIntervalMs]).toEqual([
      2000, 6000, 2000,
    ]);
  });

  it('keeps the default of a setting given as a bare switch', () => {
    const cfg = resolveDaemonConfig({
      redis,
      maxRetries: true,
      shutdownTimeout: true,
      queue: true,
      metricsHost: true,
      dataDir: true,
    });
    expect([cfg.maxRetries, cfg.shutdownTimeoutMs]).toEqual([3, 30_000]);
    expect([cfg.queue, cfg.metricsHost, cfg.dataDir]).toEqual([
      undefined,
      '127.0.0.1',
      resolve('.'),
    ]);
  });

  it('reads the settings from IMGPROC_* when no flag is given; a flag wins', () => {
    vi.stubEnv('IMGPROC_REDIS', 'redis://env:6379/1');
    vi.stubEnv('IMGPROC_MAX_RETRIES', '7');
    vi.stubEnv('IMGPROC_DONE_CAP', '50');
    vi.stubEnv('IMGPROC_LOG_FORMAT', 'json');
    vi.stubEnv('IMGPROC_ALLOW', 's3://one/a,s3://two');
    vi.stubEnv('IMGPROC_S3_PATH_STYLE', '1');
    const cfg = resolveDaemonConfig({ doneCap: '5' });
    expect(cfg).toMatchObject({
      redisUrl: 'redis://env:6379/1',
      maxRetries: 7,
      doneCap: 5,
      logFormat: 'json',
      allow: ['s3://one/a', 's3://two'],
      objectStore: { forcePathStyle: true },
    });
  });

  it('splits --output-roots and --allow on commas, trimmed, empty items dropped', () => {
    const cfg = resolveDaemonConfig({
      redis,
      outputRoots: ' web , ,thumbs,',
      allow: ' s3://photos/web/ , ,s3://cdn',
    });
    expect(cfg.outputRoots).toEqual(['web', 'thumbs']);
    // Canonical: no trailing '/', so prefix checks compare like with like.
    expect(cfg.allow).toEqual(['s3://photos/web', 's3://cdn']);
  });

  it('needs --redis, and a non-empty one', () => {
    for (const raw of [{}, { redis: '' }, { redis: true }]) {
      expect(usageError(() => resolveDaemonConfig(raw))).toBe(
        '--daemon needs --redis <url> (or IMGPROC_REDIS), e.g. redis://127.0.0.1:6379/0',
      );
    }
  });

  it('refuses an --allow that is not an s3:// location', () => {
    expect(usageError(() => resolveDaemonConfig({ redis, allow: 's3://photos,/srv/media' }))).toBe(
      'Expected s3://bucket or s3://bucket/prefix for allow but received "/srv/media"',
    );
  });

  it('names the flag of a value out of its range', () => {
    const cases: Array<[string, string, string]> = [
      [
        'maxRetries',
        '101',
        'Expected an integer between 0 and 100 for max-retries but received "101"',
      ],
      [
        'maxCrashes',
        '0',
        'Expected an integer between 1 and 1000 for max-crashes but received "0"',
      ],
      [
        'doneCap',
        '-1',
        'Expected an integer between 0 and 100000000 for done-cap but received "-1"',
      ],
      [
        'testJobDelay',
        '1.5',
        'Expected an integer between 0 and 3600000 for test-job-delay but received "1.5"',
      ],
      [
        'metricsPort',
        '65536',
        'Expected an integer between 0 and 65535 for metrics-port but received "65536"',
      ],
      ['logFormat', 'xml', 'Expected one of human, json for log-format but received "xml"'],
      [
        'shutdownTimeout',
        '-1',
        'Expected a number between 0 and 86400 for shutdown-timeout but received "-1"',
      ],
      [
        'retryDelay',
        '86401',
        'Expected a number between 0 and 86400 for retry-delay but received "86401"',
      ],
      [
        'statusTtl',
        '0.5',
        'Expected a number between 1 and 31622400 for status-ttl but received "0.5"',
      ],
      [
        'heartbeatInterval',
        '0',
        'Expected a number between 0.001 and 86400 for heartbeat-interval but received "0"',
      ],
      [
        'heartbeatTtl',
        'soon',
        'Expected a number between 0.001 and 86400 for heartbeat-ttl but received "soon"',
      ],
      [
        'reapInterval',
        '0',
        'Expected a number between 0.001 and 86400 for reap-interval but received "0"',
      ],
      [
        'blockTimeout',
        '0.005',
        'Expected a number between 0.01 and 86400 for block-timeout but received "0.005"',
      ],
    ];
    for (const [key, value, message] of cases) {
      expect(usageError(() => resolveDaemonConfig({ redis, [key]: value }))).toBe(message);
    }
  });

  it('takes the ends of each range', () => {
    const cfg = resolveDaemonConfig({
      redis,
      maxRetries: '100',
      maxCrashes: '1',
      doneCap: '100000000',
      metricsPort: '0',
      shutdownTimeout: '0',
      statusTtl: '31622400',
      heartbeatInterval: '0.001',
      blockTimeout: '0.01',
      testJobDelay: '3600000',
    });
    expect(cfg).toMatchObject({
      maxRetries: 100,
      maxCrashes: 1,
      doneCap: 100_000_000,
      metricsPort: 0,
      shutdownTimeoutMs: 0,
      statusTtlMs: 366 * 86_400_000,
      heartbeatIntervalMs: 1,
      blockTimeoutS: 0.01,
      testJobDelayMs: 3_600_000,
    });
  });
});

describe('daemonRequested', () => {
  it('reads --daemon or IMGPROC_DAEMON, and names the switch of a bad value', () => {
    expect(daemonRequested({ daemon: true }, {})).toBe(true);
    expect(daemonRequested({ daemon: false }, { IMGPROC_DAEMON: '1' })).toBe(false);
    expect(daemonRequested({}, { IMGPROC_DAEMON: 'yes' })).toBe(true);
    expect(daemonRequested({}, { IMGPROC_DAEMON: '0' })).toBe(false);
    expect(daemonRequested({}, {})).toBe(false);
    expect(usageError(() => daemonRequested({}, { IMGPROC_DAEMON: 'maybe' }))).toBe(
      'Expected one of true, false, 1, 0 for daemon but received "maybe"',
    );
  });
});
