import { describe, expect, it } from 'vitest';
import { checkTokens, isLoopback, resolveServeConfig } from '../../src/config/serve.js';
import { deriveJobId } from '../../src/queue/job.js';
import { TokenCheck } from '../../src/serve/auth.js';
import { requestedJob, uploadFields } from '../../src/serve/job-request.js';
import { sniff } from '../../src/serve/sniff.js';

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(
    parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))),
  );

const OCTETS = 'application/octet-stream';

describe('sniff: content decides, not the name', () => {
  it.each([
    [bytes([0xff, 0xd8, 0xff, 0xe0]), 'jpeg', 'jpg', 'image/jpeg'],
    [bytes([0x89], 'PNG\r\n\x1a\n'), 'png', 'png', 'image/png'],
    [bytes('GIF89a'), 'gif', 'gif', 'image/gif'],
    [bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 '), 'webp', 'webp', 'image/webp'],
    [bytes('II*\0'), 'tiff', 'tif', 'image/tiff'],
    [bytes('MM\0*'), 'tiff', 'tif', 'image/tiff'],
    [bytes([0, 0, 0, 0x1c], 'ftypavif'), 'avif', 'avif', 'image/avif'],
    [bytes([0, 0, 0, 0x18], 'ftypheic'), 'heif', 'heic', 'image/heic'],
    [bytes('<svg xmlns="http://www.w3.org/2000/svg">'), 'unknown', 'bin', OCTETS],
    [bytes('RIFF', [1, 2, 3, 4], 'WAVE'), 'unknown', 'bin', OCTETS],
    [bytes([0xff, 0xd8]), 'unknown', 'bin', OCTETS],
    [Buffer.alloc(0), 'unknown', 'bin', OCTETS],
  ])('%#: %s', (head, format, ext, type) => {
    expect(sniff(head)).toEqual({ format, ext, type });
  });
});

describe('upload fields and the job they make', () => {
  it('takes id, ops and options (JSON text) and refuses anything else', () => {
    expect(uploadFields({ id: '42', ops: 'thumb,lq', options: '{"thumbWidth":320}' })).toEqual({
      id: '42',
      ops: 'thumb,lq',
      options: { thumbWidth: 320 },
    });
    expect(() => uploadFields({ opts: 'thumb' })).toThrow(
      /unknown field "opts"; valid fields are id, ops, options/,
    );
    expect(() => uploadFields({ out: 'x' })).toThrow(/unknown field "out"/);
    expect(() => uploadFields({ input: '/etc/passwd' })).toThrow(/unknown field "input"/);
    expect(() => uploadFields({ options: '{bad' })).toThrow(/"options" must be a JSON object/);
    expect(() => uploadFields({ options: '{"thumbWidth":0}' })).toThrow(/thumb-width/);
    expect(() => uploadFields({ ops: 'thumbs' })).toThrow(/thumb/);
    expect(() => uploadFields({ id: '../x' })).toThrow(/unsafe id/);
    expect(() => uploadFields({ id: ['a', 'b'] })).toThrow(/more than once/);
  });

  it('a job without an id gets the id enqueue derives for the same job', () => {
    const job = requestedJob({ ops: 'thumb' }, 'uploads/ab/abc.jpg');
    expect(job.id).toBe(deriveJobId({ ops: 'thumb', input: 'uploads/ab/abc.jpg' }));
    expect(JSON.parse(job.raw)).toEqual({ ops: 'thumb', input: 'uploads/ab/abc.jpg', id: job.id });
    expect(requestedJob({}, 'uploads/ab/abc.jpg').id).not.toBe(job.id);
    expect(requestedJob({ id: 'x1' }, 'a.jpg').id).toBe('x1');
  });
});

describe('serve settings', () => {
  const env = { ...process.env };
  const resolve = (raw: Record<string, string>) => {
    for (const k of Object.keys(process.env)) if (k.startsWith('IMGPROC_')) delete process.env[k];
    try {
      return resolveServeConfig(raw);
    } finally {
      Object.assign(process.env, env);
    }
  };

  it('defaults: loopback, port 8080, 50 MiB, 300 s uploads, 30 s requests, 60 s waits', () => {
    expect(resolve({ redis: 'redis://h:6379' })).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      uploadDir: 'uploads',
      tokens: [],
      maxUploadBytes: 50 * 1024 * 1024,
      uploadTimeoutMs: 300_000,
      requestTimeoutMs: 30_000,
      maxWaitMs: 60_000,
      statusTtlMs: 7 * 86_400_000,
      allow: [],
      outputCacheControl: 'public, max-age=3600',
    });
  });

  it('refuses bad values with one message shape', () => {
    expect(() => resolve({})).toThrow(/serve needs --redis/);
    expect(() => resolve({ redis: 'redis://h', maxUpload: 'lots' })).toThrow(
      /Expected a size like 50MiB.*max-upload but received "lots"/,
    );
    expect(() => resolve({ redis: 'redis://h', port: '70000' })).toThrow(/port/);
    expect(() => resolve({ redis: 'redis://h', allow: '/srv' })).toThrow(/s3:\/\/bucket/);
    expect(resolve({ redis: 'redis://h', maxUpload: '2MiB', token: 'a'.repeat(16) })).toMatchObject(
      {
        maxUploadBytes: 2 * 1024 * 1024,
        tokens: ['a'.repeat(16)],
      },
    );
  });

  it('an s3:// upload prefix: canonical, and inside --allow (where the daemons read)', () => {
    const up = (uploadDir: string, allow: string) =>
      resolve({ redis: 'redis://h', uploadDir, allow }).uploadDir;
    expect(up('s3://media/up/', 's3://media')).toBe('s3://media/up');
    expect(up('s3://media/', 's3://media/up,s3://media')).toBe('s3://media');
    expect(up('s3://media/up/in', 's3://media/up')).toBe('s3://media/up/in');
    expect(() => up('s3://media/up', 's3://media/web')).toThrow(
      /--upload-dir s3:\/\/media\/up is outside --allow \(s3:\/\/media\/web\): the daemons read uploads only under the prefixes they allow/,
    );
    expect(() => up('s3://media/upload', 's3://media/up')).toThrow(/outside --allow/);
    expect(() => up('s3://media/../x', 's3://media')).toThrow(/outside --allow/);
    expect(() => resolve({ redis: 'redis://h', uploadDir: 's3://m' })).toThrow(
      /does not name a bucket/,
    );
    expect(() => resolve({ redis: 'redis://h', uploadDir: 's3://media/up' })).toThrow(
      /outside --allow \(none given\)/,
    );
    expect(up('uploads/in', '')).toBe('uploads/in');
  });

  it('tokens: RFC 6750 characters, at least 16 of them', () => {
    expect(checkTokens(['abcDEF0123456789-._~+/=='], 't')).toHaveLength(1);
    expect(() => checkTokens(['short'], 't')).toThrow(/at least 16/);
    expect(() => checkTokens(['has space in it 0123'], 't')).toThrow(/other characters/);
  });

  it('loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost'])
      expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1']) expect(isLoopback(h)).toBe(false);
  });
});

describe('bearer token check', () => {
  const check = new TokenCheck(['a'.repeat(20), 'b'.repeat(20)]);
  it('accepts each configured token, refuses others with a code', () => {
    expect(() => check.check(`Bearer ${'a'.repeat(20)}`)).not.toThrow();
    expect(() => check.check(`bearer ${'b'.repeat(20)}`)).not.toThrow();
    expect(() => check.check(undefined)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
    expect(() => check.check('Basic abc')).toThrow(
      expect.objectContaining({ code: 'UNAUTHORIZED' }),
    );
    expect(() => check.check(`Bearer ${'a'.repeat(19)}`)).toThrow(
      expect.objectContaining({ status: 401, code: 'INVALID_TOKEN' }),
    );
  });
  it('with no token configured, every request passes', () => {
    expect(() => new TokenCheck([]).check(undefined)).not.toThrow();
  });
});
