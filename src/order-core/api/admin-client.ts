import { SurgeError } from '../../errors.js';
import type { AdminStatus } from './admin.js';

/**
 * GET /admin/status of a running stack, for `surgectl stack status` and scripts.
 * @throws SurgeError SRG_STACK_UNREACHABLE when nothing answers; SRG_STACK_ADMIN on a refusal (e.g. 401).
 */
export async function fetchStackStatus(opts: { url: string; token: string | undefined; timeoutMs?: number; signal?: AbortSignal }): Promise<AdminStatus> {
  const base = opts.url.replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(`${base}/admin/status`);
  } catch {
    throw new SurgeError('SRG_STACK_UNREACHABLE', `Not a URL: '${opts.url}'`, { hint: 'Pass the stack URL printed by `surgectl stack up`, e.g. --url http://127.0.0.1:8080' });
  }
  const signals = [AbortSignal.timeout(opts.timeoutMs ?? 5_000)];
  if (opts.signal) signals.push(opts.signal);
  let res: Response;
  try {
    res = await fetch(parsed, {
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      signal: AbortSignal.any(signals),
    });
  } catch (err) {
    throw unreachable(err, base, parsed);
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text.slice(0, 200);
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // not our error body; show the raw start of it
    }
    throw new SurgeError('SRG_STACK_ADMIN', `The stack at ${base} refused GET /admin/status: ${res.status} ${message}`, {
      hint:
        res.status === 401
          ? 'Give the admin token printed by `surgectl stack up`: export SURGECTL_STACK_ADMIN_TOKEN=<token>, or --token-env NAME for another variable.'
          : undefined,
    });
  }
  return JSON.parse(text) as AdminStatus;
}

/** One `stack status --watch` sample: the status plus the rates since the sample before it. */
export interface StatusSample {
  at: string;
  /** Orders accepted per second since the previous sample (null on the first). */
  acceptedPerSec: number | null;
  /** Orders confirmed per second since the previous sample (null on the first). */
  confirmedPerSec: number | null;
  status: AdminStatus;
}

/**
 * Rates between two status documents taken `seconds` apart: every order counted in any status
 * was accepted once, so the growth of the total is the intake rate. A restarted stack (totals
 * going down) or no time passed gives null rather than a negative or infinite rate.
 */
export function statusRates(prev: AdminStatus | undefined, cur: AdminStatus, seconds: number): { acceptedPerSec: number | null; confirmedPerSec: number | null } {
  if (prev === undefined || !(seconds > 0)) return { acceptedPerSec: null, confirmedPerSec: null };
  const total = (s: AdminStatus) => Object.values(s.orders.byStatus).reduce((a, n) => a + n, 0);
  const rate = (a: number, b: number) => (b >= a ? Math.round(((b - a) / seconds) * 10) / 10 : null);
  return { acceptedPerSec: rate(total(prev), total(cur)), confirmedPerSec: rate(prev.orders.byStatus.confirmed, cur.orders.byStatus.confirmed) };
}

/**
 * What went wrong when fetch could not ask the stack, in words: fetch throws a bare
 * `TypeError: fetch failed` and keeps the reason in `cause` (an errno code, or "bad port" for the
 * ports the Fetch standard blocks, such as 1, 22 and 6000, which it refuses without connecting).
 */
function unreachable(err: unknown, base: string, url: URL): SurgeError {
  const e = err as { name?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const startHint = 'Start one with `surgectl stack up`, or point --url at the URL it printed.';
  if (e.cause?.message === 'bad port') {
    return new SurgeError('SRG_STACK_UNREACHABLE', `Cannot ask the stack at ${base}: port ${port} is one that fetch refuses to connect to (a blocked "bad port")`, {
      hint: 'Use the port the stack listens on (`surgectl stack up` prints its URL) in --url; run the stack on another --port if it listens on this one.',
      cause: err,
    });
  }
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused: nothing listens on that port',
    ENOTFOUND: `host ${url.hostname} not found`,
    EAI_AGAIN: `host ${url.hostname} could not be resolved`,
    ECONNRESET: 'the connection was reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
  };
  let reason: string;
  if (e.name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT') reason = 'no answer in time';
  else if (e.name === 'AbortError') reason = 'interrupted';
  else if (code !== undefined) reason = reasons[code] ?? code;
  else reason = e.cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new SurgeError('SRG_STACK_UNREACHABLE', `No stack answered at ${base} (${reason})`, { hint: startHint, cause: err });
}
