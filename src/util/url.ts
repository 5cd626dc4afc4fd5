/** True when `text` parses as an absolute http: or https: URL (flag checks before any request). */
export function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * `text` with a URL's user info (`user:pass@`) taken out, or replaced by `mark` (`<redacted>`),
 * for anything shown to a person: a URL's credentials are a secret. Text that is not a URL with
 * user info comes back as it is; a malformed URL loses everything between `//` and `@`.
 */
export function withoutUrlCredentials(text: string, mark = ''): string {
  const at = mark === '' ? '' : `${mark}@`;
  try {
    const u = new URL(text);
    if (u.username === '' && u.password === '') return text;
    u.username = '';
    u.password = '';
    return u.href.replace('://', `://${at}`);
  } catch {
    return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, `$1${at}`);
  }
}

/**
 * A connection URL (postgres://, amqp://, redis://) as it may be shown and logged: the password
 * left out, the user kept (it says who connects and is no secret). Text that does not parse as a
 * URL is not echoed (it may hold a password): `(unparseable <what> URL)`.
 */
export function withoutPassword(url: string, what = 'connection'): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return `(unparseable ${what} URL)`;
  }
}

/** The URL as it may be shown: without user and password, and without a trailing slash. */
export function withoutCredentials(url: string): string {
  return withoutUrlCredentials(url).replace(/\/+$/, '');
}

/**
 * A Basic Authorization header from a URL's user info (`http://user:pass@host`: fetch clients
 * ignore it), or undefined when it has none. Percent-escapes in the user info are decoded.
 */
export function basicAuthorization(url: string): string | undefined {
  const u = new URL(url);
  if (!u.username && !u.password) return undefined;
  return `Basic ${Buffer.from(`${decodeUserinfo(u.username)}:${decodeUserinfo(u.password)}`).toString('base64')}`;
}

function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
