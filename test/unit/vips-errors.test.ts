import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { explained, withWarnings } from '../../src/backends/vips-errors.js';

const BAD = join(import.meta.dirname, '..', '..', 'fixtures', 'bad');

describe('explained', () => {
  it('puts the first warning where a message stops at its colon', () => {
    const err = explained(new Error('Input buffer has corrupt header:'), [
      'Image width is zero in IHDR',
      'Invalid IHDR data',
    ]);
    expect(err.message).toBe('Input buffer has corrupt header: Image width is zero in IHDR');
  });

  it('adds it in brackets to a message that names no reason of its own', () => {
    const err = explained(new Error('vipspng: libpng read error'), ['IDAT: CRC error']);
    expect(err.message).toBe('vipspng: libpng read error (IDAT: CRC error)');
  });

  it('skips warnings the message already says, blank ones and where a read failed', () => {
    const message = 'VipsJpeg: premature end of JPEG image';
    const warnings = [' ', message, 'error in tile 0 x 136'];
    expect(explained(new Error(message), warnings).message).toBe(message);
    expect(explained(new Error(message), [...warnings, 'Corrupt JPEG data']).message).toBe(
      `${message} (Corrupt JPEG data)`,
    );
  });

  it('leaves the error as it is without warnings', () => {
    const original = new Error('webp: unable to parse image');
    expect(explained(original, [])).toBe(original);
    expect(explained('plain text', []).message).toBe('plain text');
  });
});

describe('withWarnings', () => {
  it("gives libvips' PNG loader's reason for a header it refuses", async () => {
    const png = await readFile(join(BAD, 'zero-width.png'));
    const failure = await withWarnings(sharp(png, { failOn: 'error' }), (image) =>
      image.metadata(),
    ).catch((err: Error) => err);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/corrupt header: .*width/i);
  });

  it('returns what the operation gives when it succeeds', async () => {
    const image = sharp({ create: { width: 2, height: 1, channels: 3, background: '#102030' } });
    const { info } = await withWarnings(image, (s) =>
      s.raw().toBuffer({ resolveWithObject: true }),
    );
    expect([info.width, info.height, info.channels]).toEqual([2, 1, 3]);
  });
});
