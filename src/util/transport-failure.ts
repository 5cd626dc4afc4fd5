/**
 * Why an HTTP request got no answer, in words an operator can act on, from what undici or fetch
 * threw: they keep the errno in `code` or `cause.code` (`connect ECONNREFUSED 127.0.0.1:1`).
 * Shared by every HTTP adapter, so "connection refused" reads the same for the stack, Unleash
 * and anything added later.
 * @param base the server's base URL, named in the reason.
 * @param timeoutMs the request's time limit, named when it ran out.
 */
export function transportFailureReason(err: unknown, base: string, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  let host = base;
  try {
    host = new URL(base).host;
  } catch {
    // not a URL: name it as given
  }
  const hostname = host.replace(/:\d+$/, '');
  const reasons: Record<string, string> = {
    ECONNREFUSED: `connection refused: nothing listens on ${host}`,
    ENOTFOUND: `host ${hostname} not found`,
    EAI_AGAIN: `host ${hostname} could not be resolved`,
    ECONNRESET: 'the connection was reset',
    UND_ERR_SOCKET: 'the connection was closed before the answer was complete',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
  };
  const timedOut = e.name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
  if (timedOut) return `no answer in ${timeoutMs / 1000} s`;
  if (code !== undefined && reasons[code] !== undefined) return reasons[code];
  return e.cause?.message ?? e.message ?? String(err);
}
