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
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new SurgeError('SRG_STACK_UNREACHABLE', `No stack answered at ${base} (${cause})`, {
      hint: 'Start one with `surgectl stack up`, or point --url at the URL it printed.',
      cause: err,
    });
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
