import { describe, expect, it } from 'vitest';
import { createFakeStackAdmin } from '../adapters/stack-admin/fake.js';
import type { StackAdminPort, StackStatus } from '../adapters/stack-admin/port.js';
import { SurgeError } from '../errors.js';
import { statusRates, watchStatus } from './watch.js';

const ZERO = { accepted: 0, reserved: 0, payment_pending: 0, paid: 0, confirmed: 0, sold_out: 0, payment_failed: 0, cancelled: 0 };
const status = (byStatus: Partial<typeof ZERO>): StackStatus => ({ ...createFakeStackAdmin().state, orders: { byStatus: { ...ZERO, ...byStatus } } });

/** A clock the test moves: each read returns the next of `times` (ms), then stays at the last. */
const clock = (...times: number[]) => {
  let i = 0;
  return () => times[Math.min(i++, times.length - 1)] ?? 0;
};

describe('statusRates (stack status --watch)', () => {
  it('counts every order in any status as accepted once, and confirmed orders apart', () => {
    const before = status({ accepted: 10, confirmed: 5 });
    // 6 new orders; 4 of the waiting ones were confirmed, 1 sold out
    const after = status({ accepted: 11, confirmed: 9, sold_out: 1 });
    expect(statusRates(before, after, 2)).toEqual({ acceptedPerSec: 3, confirmedPerSec: 2 });
  });

  it('has no rate for the first sample, for no time passed, or across a restart that lost counts', () => {
    const s = status({ accepted: 3 });
    expect(statusRates(undefined, s, 1)).toEqual({ acceptedPerSec: null, confirmedPerSec: null });
    expect(statusRates(s, s, 0)).toEqual({ acceptedPerSec: null, confirmedPerSec: null });
    expect(statusRates(status({ accepted: 5, confirmed: 4 }), status({ accepted: 1, confirmed: 2 }), 1)).toEqual({ acceptedPerSec: null, confirmedPerSec: null });
  });

  it('rounds to one decimal', () => {
    expect(statusRates(status({}), status({ confirmed: 1 }), 3)).toEqual({ acceptedPerSec: 0.3, confirmedPerSec: 0.3 });
  });

  it('reads a status without a confirmed count (an older or newer stack) as zero confirmed', () => {
    const bare = (n: number): StackStatus => ({ ...status({}), orders: { byStatus: { accepted: n } } });
    expect(statusRates(bare(1), bare(3), 1)).toEqual({ acceptedPerSec: 2, confirmedPerSec: 0 });
  });
});

describe('watchStatus', () => {
  it('yields a sample per read with the rates since the one before, stamped with the clock', async () => {
    const fake = createFakeStackAdmin();
    const ac = new AbortController();
    const samples = watchStatus(fake, { intervalMs: 1, signal: ac.signal, now: clock(Date.UTC(2025, 10, 28, 9, 0, 0), Date.UTC(2025, 10, 28, 9, 0, 2)) });

    const first = await samples.next();
    expect(first.value).toMatchObject({ at: '2025-11-28T09:00:00.000Z', acceptedPerSec: null, confirmedPerSec: null, status: { workers: { size: 8 } } });
    Object.assign(fake.state.orders.byStatus, { accepted: 4, confirmed: 2 });
    fake.state.workers.busy = 3;
    const second = await samples.next();
    expect(second.value).toMatchObject({ at: '2025-11-28T09:00:02.000Z', acceptedPerSec: 3, confirmedPerSec: 1, status: { workers: { busy: 3 } } });
    // A sample is a copy: later changes to the stack do not rewrite what was yielded.
    fake.state.workers.busy = 0;
    expect(second.value).toMatchObject({ status: { workers: { busy: 3 } } });
    ac.abort();
  });

  it('gives null rates for the sample after a restart that lost the counts', async () => {
    const fake = createFakeStackAdmin();
    Object.assign(fake.state.orders.byStatus, { confirmed: 50 });
    const ac = new AbortController();
    const samples = watchStatus(fake, { intervalMs: 1, signal: ac.signal, now: clock(0, 1_000, 2_000) });
    await samples.next();
    fake.state.orders.byStatus.confirmed = 1; // a fresh stack on the same URL
    expect((await samples.next()).value).toMatchObject({ acceptedPerSec: null, confirmedPerSec: null });
    fake.state.orders.byStatus.confirmed = 3;
    expect((await samples.next()).value).toMatchObject({ acceptedPerSec: 2, confirmedPerSec: 2 });
    ac.abort();
  });

  it('ends quietly when the signal aborts during the wait, without asking again', async () => {
    const fake = createFakeStackAdmin();
    const ac = new AbortController();
    // An hour between samples: only the abort can end this wait within the test's time limit.
    const samples = watchStatus(fake, { intervalMs: 3_600_000, signal: ac.signal });
    await samples.next();
    const next = samples.next();
    ac.abort();
    expect(await next).toEqual({ done: true, value: undefined });
    expect(fake.calls).toEqual(['status()']);
  });

  it('ends quietly when the signal aborts while the stack is being asked', async () => {
    const fake = createFakeStackAdmin();
    let asked = 0;
    const hanging: StackAdminPort = {
      ...fake,
      // Like the real client: a call its signal aborts rejects as an interruption.
      status: (o) =>
        new Promise((_resolve, reject) => {
          asked++;
          o?.signal?.addEventListener('abort', () => reject(new SurgeError('SRG_CLI_INTERRUPTED', 'interrupted')), { once: true });
        }),
    };
    const ac = new AbortController();
    const next = watchStatus(hanging, { intervalMs: 1, signal: ac.signal }).next();
    ac.abort();
    expect(await next).toEqual({ done: true, value: undefined });
    expect(asked).toBe(1);
  });

  it('yields nothing when the signal is already aborted', async () => {
    const fake = createFakeStackAdmin();
    const ac = new AbortController();
    ac.abort();
    const all = [];
    for await (const s of watchStatus(fake, { intervalMs: 1, signal: ac.signal })) all.push(s);
    expect(all).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it('ends with the error of a stack that stops answering', async () => {
    const fake = createFakeStackAdmin();
    const ac = new AbortController();
    const samples = watchStatus(fake, { intervalMs: 1, signal: ac.signal });
    await samples.next();
    fake.down = true;
    await expect(samples.next()).rejects.toMatchObject({ code: 'SRG_STACK_UNREACHABLE' });
    expect(await samples.next()).toEqual({ done: true, value: undefined });
  });
});
