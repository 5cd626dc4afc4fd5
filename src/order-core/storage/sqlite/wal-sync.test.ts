import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/support/order-engine.js';
import { WalSync } from './wal-sync.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A WalSync over a real file whose fdatasync completes only when the test says so. */
function controlled() {
  const tmp = tempDir('surgectl-wal-');
  cleanups.push(() => tmp.remove());
  const file = join(tmp.dir, 'orders.db-wal');
  writeFileSync(file, '');
  const calls: ((err: NodeJS.ErrnoException | null) => void)[] = [];
  const wal = new WalSync(file, ((_fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => calls.push(cb)) as never);
  cleanups.push(() => wal.close());
  return { wal, calls, finish: (i: number, err: NodeJS.ErrnoException | null = null) => calls[i]!(err) };
}

const settled = async (ps: Promise<unknown>[]) => {
  await new Promise((r) => setImmediate(r));
  return Promise.allSettled(ps.map((p) => Promise.race([p, new Promise((r) => setImmediate(() => r('pending')))])));
};

describe('WalSync', () => {
  it('runs one fdatasync at a time; callers arriving meanwhile share the next one, started after the running one ends', async () => {
    const { wal, calls, finish } = controlled();
    const first = wal.sync();
    expect(calls).toHaveLength(1);
    const later = [wal.sync(), wal.sync(), wal.sync()];
    // nobody is told "durable" by a sync that may have started before their commit
    expect(calls).toHaveLength(1);
    finish(0);
    await first;
    expect((await settled(later)).map((r) => (r as PromiseFulfilledResult<unknown>).value)).toEqual(['pending', 'pending', 'pending']);
    expect(calls).toHaveLength(2);
    finish(1);
    await Promise.all(later);
    expect(wal.syncs).toBe(2);
  });

  it('after a failed fdatasync rejects its callers, those waiting and every later caller with that error (fail-stop)', async () => {
    const { wal, calls, finish } = controlled();
    const a = wal.sync();
    const b = wal.sync();
    const eio = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    finish(0, eio);
    await expect(a).rejects.toThrow('EIO');
    // b committed while the failed sync ran: a later fdatasync could succeed without covering it
    await expect(b).rejects.toThrow('EIO');
    await expect(wal.sync()).rejects.toThrow('EIO');
    expect(() => wal.syncNow()).toThrow('EIO');
    expect(calls).toHaveLength(1);
  });

  it('reports how long each successful fdatasync took, the blocking ones too, and not a failed one', async () => {
    const { wal, finish } = controlled();
    const seen: number[] = [];
    wal.onSynced = (s) => seen.push(s);
    const first = wal.sync();
    await new Promise((r) => setTimeout(r, 20));
    finish(0);
    await first;
    expect(seen).toHaveLength(1);
    // the controlled fdatasync answered after ~20 ms: the duration runs from its start to its answer
    expect(seen[0]!).toBeGreaterThanOrEqual(0.015);
    expect(seen[0]!).toBeLessThan(5);
    wal.syncNow(); // a real fdatasyncSync of the file
    expect(seen).toHaveLength(2);
    expect(seen[1]!).toBeGreaterThanOrEqual(0);
    const failing = wal.sync();
    finish(1, Object.assign(new Error('EIO'), { code: 'EIO' }));
    await expect(failing).rejects.toThrow('EIO');
    expect(seen).toHaveLength(2);
  });

  it('after close refuses new syncs but still runs the ones already promised', async () => {
    const { wal, calls, finish } = controlled();
    const a = wal.sync();
    const b = wal.sync();
    wal.close();
    await expect(wal.sync()).rejects.toThrow(/closed/);
    finish(0);
    await a;
    expect(calls).toHaveLength(2);
    finish(1);
    await b;
    await expect(wal.sync()).rejects.toThrow(/closed/);
  });
});
