import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_JS, ensureBuilt, httpClient, spawnStackProcess, waitFor, type StackProcess } from './support/stack.js';

// Issue 17, "Disk full": a real stack (the built CLI) on a small tmpfs that is filled up. Mounting
// needs root; elsewhere the suite is skipped with a message.
const root = process.getuid?.() === 0;
// CI runs as root: there the suite must run, never be skipped quietly.
if (!root && process.env.CI === 'true') throw new Error('stack-disk-full.int.test.ts must run in CI, which needs root to mount a tmpfs');
if (!root) console.warn('stack-disk-full.int.test.ts skipped: mounting a small tmpfs to fill needs root');

const order = { customerId: 'c1', items: [{ sku: 'SKU-0001', qty: 1 }] };

/** Writes a filler file until the disk refuses (ENOSPC); returns its path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler.bin');
  const fd = openSync(path, 'a');
  try {
    for (const size of [256 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          if (writeSync(fd, chunk) < size) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

describe.skipIf(!root)('a stack on a full disk (tmpfs)', () => {
  let mnt: string;
  let proc: StackProcess | undefined;
  const dataDir = () => join(mnt, 'data');

  beforeAll(() => {
    ensureBuilt();
    mnt = mkdtempSync(join(tmpdir(), 'surgectl-diskfull-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
    mkdirSync(dataDir());
  });
  afterAll(() => {
    if (proc !== undefined && proc.child.exitCode === null) proc.child.kill('SIGKILL');
    execFileSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it('refuses orders with 503, logs the refusals aggregated, stops on SIGTERM while full, and starts again once there is room', async () => {
    proc = await spawnStackProcess({ dataDir: dataDir()});
    const http = httpClient(proc.info.url);
    try {
      expect((await http.postOrder(order, 'before')).status).toBe(202);
      // Phase 1: full, then room again: the refusals show up as a count, not a line per order.
      let filler = fillDisk(mnt);
      const refused = [];
      for (let i = 0; i < 60; i++) refused.push((await http.postOrder(order, `full-${i}`)).status);
      expect(new Set(refused)).toEqual(new Set([503]));
      rmSync(filler);
      await waitFor('an order accepted once there is room', async () => (await http.postOrder(order, 'after')).status === 202, { timeoutMs: 10_000 });
      const logPath = join(dataDir(), 'stack.log');
      const lines = () => readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      await waitFor('the refusals in the log once the store accepts again', () => lines().some((l) => l.refused !== undefined && String(l.msg).includes('accepting again')), { timeoutMs: 5_000 });
      const logged = lines();
      const refusalLines = logged.filter((l) => typeof l.refused === 'number');
      // one line when the first order is refused (it may be among the lines dropped while full), one with the rest when orders are accepted again
      expect(refusalLines.length, JSON.stringify(refusalLines)).toBeLessThanOrEqual(2);
      expect(refusalLines.reduce((n, l) => n + (l.refused as number), 0)).toBeGreaterThanOrEqual(59);
      // not a line (with a stack) per refused order, here or in the store
      expect(logged.length, JSON.stringify(logged)).toBeLessThan(30);
      expect(lines().filter((l) => l.msg === 'order store failed to accept an order')).toEqual([]);
      expect(refusalLines.every((l) => l.err === undefined && typeof l.lastError === 'string')).toBe(true);

      // Phase 2: full again, then SIGTERM: a bounded stop, not a write retried forever.
      filler = fillDisk(mnt);
      for (let i = 0; i < 20; i++) expect((await http.postOrder(order, `full2-${i}`)).status).toBe(503);
      const t0 = Date.now();
      proc.child.kill('SIGTERM');
      const exit = await Promise.race([proc.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000).unref())]);
      expect(exit, proc.stderr()).not.toBe('hung');
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(exit, proc.stderr()).toEqual({ code: 0, signal: null });

      // (a) A start on the full disk fails fast with its own code and exit status.
      const t1 = Date.now();
      const failed = spawnSync(process.execPath, [CLI_JS, 'stack', 'up', '--port', '0', '--payment-port', '0', '--data-dir', dataDir()], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, NO_COLOR: '1', SURGECTL_CONFIG: '' } });
      expect(Date.now() - t1).toBeLessThan(10_000);
      expect(failed.stderr).toContain('[SRG_STACK_DISK_FULL]');
      expect(failed.stderr).not.toContain('This is a bug');
      expect(failed.status).toBe(4);

      // Room again: the same data dir starts and takes orders.
      rmSync(filler);
      await http.close();
      proc = await spawnStackProcess({ dataDir: dataDir() });
      const again = httpClient(proc.info.url);
      try {
        expect((await again.postOrder(order, 'restarted')).status).toBe(202);
      } finally {
        await again.close();
      }
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    } finally {
      await http.close().catch(() => undefined);
    }
  }, 60_000);
});
