import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ResourceError, resourceCode, writeError } from '../../src/errors.js';

/** An fs error as Node builds it from libuv: negative errno, and a code that may be no name. */
function fsError(errno: number, code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ..., rename '/out/.imgproc-tmp-1' -> '/out/a.webp'`), {
    errno: -errno,
    code,
    syscall: 'rename',
  });
}

describe('full, over-quota and read-only file systems', () => {
  it('are recognised by name', () => {
    for (const code of ['ENOSPC', 'EDQUOT', 'EROFS'] as const)
      expect(resourceCode(Object.assign(new Error(code), { code }))).toBe(code);
  });

  it('are recognised by errno number, as Node reports EDQUOT on Linux', () => {
    const edquot = constants.errno.EDQUOT;
    // What Node says today; if it learns the name, the name is recognised as well.
    const name = getSystemErrorName(-edquot);
    expect(['EDQUOT', `Unknown system error -${edquot}`]).toContain(name);
    expect(resourceCode(fsError(edquot, name))).toBe('EDQUOT');
    expect(resourceCode(fsError(edquot, `Unknown system error -${edquot}`))).toBe('EDQUOT');
    expect(resourceCode(fsError(constants.errno.ENOSPC, 'ENOSPC'))).toBe('ENOSPC');
    expect(resourceCode(fsError(constants.errno.EROFS, 'EROFS'))).toBe('EROFS');
  });

  it('leave other errors alone', () => {
    expect(resourceCode(fsError(constants.errno.EACCES, 'EACCES'))).toBeUndefined();
    expect(resourceCode(new Error('boom'))).toBeUndefined();
    expect(resourceCode(undefined)).toBeUndefined();
    expect(writeError(fsError(constants.errno.EACCES, 'EACCES'), '/out/sub').message).toBe(
      'cannot write to /out/sub: permission denied',
    );
  });

  it('become one line naming the folder, the reason and what to do, never the errno text', () => {
    const cases = [
      [constants.errno.EDQUOT, `Unknown system error -${constants.errno.EDQUOT}`, 'EDQUOT'],
      [constants.errno.ENOSPC, 'ENOSPC', 'ENOSPC'],
      [constants.errno.EROFS, 'EROFS', 'EROFS'],
    ] as const;
    const lines: string[] = [];
    for (const [errno, name, code] of cases) {
      const err = writeError(fsError(errno, name), '/srv/web/processed');
      expect(err).toBeInstanceOf(ResourceError);
      expect((err as ResourceError).code).toBe(code);
      expect(err.message).not.toMatch(/Unknown system error|imgproc-tmp|-\d+/);
      lines.push(err.message);
    }
    expect(lines).toEqual([
      'disk quota exceeded in /srv/web/processed: free some space under the quota or choose another --out; no new images were started',
      'no space left on the device in /srv/web/processed: free some space or choose another --out; no new images were started',
      'read-only file system in /srv/web/processed: choose a writable --out; no new images were started',
    ]);
  });
});
