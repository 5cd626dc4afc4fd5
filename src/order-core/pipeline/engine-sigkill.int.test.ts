import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { chargesFor, stackConfig, startEngine, startGateway, tempDir, waitFor } from '../../../test/support/order-engine.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const register = fileURLToPath(new URL('../../../test/support/ts-register.mjs', import.meta.url));
const child = fileURLToPath(new URL('../../../test/support/engine-crash-child.ts', import.meta.url));

describe('durability under SIGKILL (real child process)', () => {
  it('loses no acknowledged order, oversells nothing and charges each order at most once after kill -9 mid-surge', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const gateway = await startGateway(tmp.dir, { latencyMs: 5 });
    cleanups.push(() => gateway.close());
    const dataDir = `${tmp.dir}/data`;

    const proc = spawn(process.execPath, ['--import', register, child, dataDir, gateway.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    const acked: string[] = [];
    let stderr = '';
    let buf = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('ACK ')) acked.push(l.slice(4));
    });
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));

    // kill once a few hundred orders are acknowledged and the workers are busy confirming them
    await waitFor(`300 acknowledged orders from the child (stderr: ${stderr.slice(0, 500)})`, () => acked.length >= 300 || proc.exitCode !== null, 30_000);
    expect(proc.exitCode, stderr).toBeNull();
    proc.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const engine = await startEngine(stackConfig({ dataDir, workers: 8, seedInventory: 150 }), gateway.url);
    cleanups.push(() => engine.close());
    const missing = acked.filter((id) => engine.store.orderView(id) === undefined);
    expect(missing).toEqual([]);
    await waitFor('every stored order final', () => {
      const s = engine.store.statsNow();
      return s.queueDepth === 0 && s.byStatus.accepted + s.byStatus.reserved + s.byStatus.paid + s.byStatus.payment_pending === 0;
    }, 30_000);
    const stats = engine.store.statsNow();
    expect(stats.oversold).toBe(0);
    expect(stats.byStatus.confirmed).toBe(150);
    expect(engine.store.inventoryNow().find((i) => i.sku === 'SKU-0001')).toEqual({ sku: 'SKU-0001', available: 0, reserved: 0, sold: 150 });
    // at most one successful charge per order, and exactly one for each confirmed order (sample of acked ones)
    for (const id of acked.slice(0, 200)) {
      const ok = (await chargesFor(gateway.url, id)).filter((c) => c.status === 'succeeded').length;
      expect(ok).toBe(engine.store.orderView(id)!.status === 'confirmed' ? 1 : 0);
    }
  });
});
