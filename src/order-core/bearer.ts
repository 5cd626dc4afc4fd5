import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A check of `Authorization: Bearer <token>` against one secret: the scheme name in any case
 * (RFC 9110, 11.1), and the token compared by its sha256 digest in constant time, so neither the
 * content nor the length of the secret leaks through timing. The expected digest is made once.
 */
export function bearerMatcher(secret: string): (authorization: string | undefined) => boolean {
  const expected = createHash('sha256').update(secret).digest();
  return (authorization) => {
    if (typeof authorization !== 'string' || authorization.length < 8 || !/^bearer /i.test(authorization)) return false;
    const token = authorization.slice(7).trim();
    if (token === '') return false;
    return timingSafeEqual(createHash('sha256').update(token).digest(), expected);
  };
}
