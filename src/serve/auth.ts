import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Bearer tokens, compared in constant time (as SHA-256 digests, so that lengths leak nothing).
 * With no token configured every request passes: the server then listens on loopback only.
 */
export class TokenCheck {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = [...new Set(tokens)].map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** Throws a 401 unless `authorization` carries one of the tokens. */
  check(authorization: string | undefined): void {
    if (!this.enabled) return;
    const challenge = { 'www-authenticate': 'Bearer realm="imgproc"' };
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) {
      throw new HttpError(
        401,
        'UNAUTHORIZED',
        'this server needs a token: send "Authorization: Bearer <token>"',
        challenge,
      );
    }
    const given = digest(m[1]!);
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(d, given) || ok;
    if (!ok) {
      throw new HttpError(401, 'INVALID_TOKEN', 'the bearer token is not valid here', {
        ...challenge,
        'www-authenticate': 'Bearer realm="imgproc", error="invalid_token"',
      });
    }
  }
}
