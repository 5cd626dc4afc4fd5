import type { StackAdminPort, StackStatus } from '../adapters/stack-admin/port.js';
import { setTimeout as delay } from 'node:timers/promises';

/** One `stack status --watch` sample: the status plus the rates since the sample before it. */
export interface StatusSample {
  /** When the status was read, ISO 8601 UTC. */
  at: string;
  /** Orders accepted per second since the previous sample; null on the first and across a restart. */
  acceptedPerSec: number | null;
  /** Orders confirmed per second since the previous sample; null on the first and across a restart. */
  confirmedPerSec: number | null;
  status: StackStatus;
}

export interface WatchStatusOptions {
  /** Time between the end of one sample and the next read, ms. */
  intervalMs: number;
  /** Ends the watch: a pending read or wait stops at once and the iteration ends without an error. */
  signal: AbortSignal;
  /** ms since the epoch; default Date.now. */
  now?: () => number;
}

/**
 * The status of a running stack every `intervalMs` until `signal` aborts (kubectl get -w): each
 * sample carries the rates since the previous one. An unreachable or refusing stack ends the
 * iteration with its SurgeError; an abort ends it quietly, since that is how a watch stops.
 */
export async function* watchStatus(port: StackAdminPort, opts: WatchStatusOptions): AsyncGenerator<StatusSample, void, undefined> {
  const now = opts.now ?? Date.now;
  const { signal } = opts;
  let prev: { status: StackStatus; at: number } | undefined;
  while (!signal.aborted) {
    let status: StackStatus;
    try {
      status = await port.status({ signal });
    } catch (err) {
      if (signal.aborted) return; // Ctrl+C while asking: the normal end of a watch
      throw err;
    }
    const at = now();
    const rates = statusRates(prev?.status, status, prev === undefined ? 0 : (at - prev.at) / 1000);
    prev = { status, at };
    yield { at: new Date(at).toISOString(), ...rates, status };
    // An abort ends the wait early; the loop then sees the signal and stops.
    await delay(opts.intervalMs, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * Rates between two status documents taken `seconds` apart, rounded to 0.1: every order counted
 * in any status was accepted once, so the growth of the total is the intake rate. A restarted
 * stack (totals going down) or no time passed gives null rather than a negative or infinite rate.
 */
export function statusRates(prev: StackStatus | undefined, cur: StackStatus, seconds: number): { acceptedPerSec: number | null; confirmedPerSec: number | null } {
  if (prev === undefined || !(seconds > 0)) return { acceptedPerSec: null, confirmedPerSec: null };
  const total = (s: StackStatus) => Object.values(s.orders.byStatus).reduce((a, n) => a + n, 0);
  const rate = (a: number, b: number) => (b >= a ? Math.round(((b - a) / seconds) * 10) / 10 : null);
  return { acceptedPerSec: rate(total(prev), total(cur)), confirmedPerSec: rate(prev.orders.byStatus.confirmed ?? 0, cur.orders.byStatus.confirmed ?? 0) };
}
