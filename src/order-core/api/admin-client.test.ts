import { describe, expect, it } from 'vitest';
import type { AdminStatus } from './admin.js';
import { SurgeError } from '../../errors.js';
import { fetchStackStatus, statusRates } from './admin-client.js';

const status = (byStatus: Partial<AdminStatus['orders']['byStatus']>): AdminStatus =>
  ({
    orders: { byStatus: { accepted: 0, reserved: 0, payment_pending: 0, paid: 0, confirmed: 0, sold_out: 0, payment_failed: 0, cancelled: 0, ...byStatus } },
  }) as AdminStatus;

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
});

describe('fetchStackStatus when nothing can be asked', () => {
  it('says that fetch refuses a blocked port, instead of a bare TypeError', async () => {
    const err = await fetchStackStatus({ url: 'http://127.0.0.1:1', token: undefined }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SurgeError);
    const e = err as SurgeError;
    expect(e.code).toBe('SRG_STACK_UNREACHABLE');
    expect(e.message).not.toContain('TypeError');
    expect(e.message).toContain('port 1');
    expect(e.message).toMatch(/blocked|bad port/);
    expect(e.hint).toMatch(/--url/);
  });

  it('names a refused connection in words', async () => {
    const { createServer } = await import('node:net');
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const err = (await fetchStackStatus({ url: `http://127.0.0.1:${port}`, token: undefined }).catch((e: unknown) => e)) as SurgeError;
    expect(err.code).toBe('SRG_STACK_UNREACHABLE');
    expect(err.message).toContain('connection refused');
  });
});
