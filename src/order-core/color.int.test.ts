import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { httpClient, tempDir } from '../../test/support/stack.js';
import { startStack, type RunningStack } from './stack.js';
import type { StackColor } from './stack-options.js';

/**
 * Blue and green side by side in one working directory, as `stack up --color` runs them on one
 * machine. Ports are 0 here (8080/8081 may be taken on a test machine; the color's default ports
 * are checked in stack-options.test.ts); the data dirs are the colors' defaults, in a temp cwd.
 */

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startColor(color: StackColor, cwd: string, extra: { healthPort?: number } = {}): Promise<RunningStack> {
  const stack = await startStack({ color, port: 0, paymentPort: 0, cwd, workers: 2, paymentLatencyMs: 0, defaultMetrics: false, logger: pino({ level: 'silent' }), ...extra });
  cleanups.push(() => stack.stop({ drainTimeoutMs: 2_000 }));
  return stack;
}

describe('stack color', () => {
  it('runs blue and green side by side, each on its own store, and every answer names its color', async () => {
    const cwd = tempDir('surgectl-colors-');
    cleanups.push(() => cwd.remove());
    const blue = await startColor('blue', cwd.path);
    const green = await startColor('green', cwd.path, { healthPort: 0 });
    expect(blue.options.dataDir).toBe(join(cwd.path, '.surgectl', 'data-blue'));
    expect(green.options.dataDir).toBe(join(cwd.path, '.surgectl', 'data-green'));
    expect(existsSync(join(green.options.dataDir, 'orders.db'))).toBe(true);

    for (const [stack, color] of [
      [blue, 'blue'],
      [green, 'green'],
    ] as const) {
      const http = httpClient(stack.url, { adminToken: stack.adminToken });
      cleanups.push(() => http.close());
      const health = await http.call('GET', '/healthz');
      expect(health.body).toEqual({ status: 'ok', color });
      expect(health.headers['x-surgectl-color']).toBe(color);
      expect((await http.call('GET', '/readyz')).body).toEqual({ status: 'ready', color });
      const status = await http.admin('GET', '/admin/status');
      expect((status.body as { color: string }).color).toBe(color);
      // every API answer carries the header, refusals and 404s included
      const placed = await http.postOrder({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] }, `k-${color}`);
      expect(placed.status).toBe(202);
      expect(placed.headers['x-surgectl-color']).toBe(color);
      expect((await http.call('GET', '/no/such/route')).headers['x-surgectl-color']).toBe(color);
      const metrics = (await http.call('GET', '/metrics')).text;
      expect(metrics).toContain(`surgectl_stack_info{color="${color}"} 1\n`);
      // the color is on that one series only
      expect(metrics.split('\n').filter((l) => l.includes('color=')).length).toBe(1);
    }
    // green's own health listener names it too
    const res = await fetch(`${green.healthUrl!}/healthz`);
    expect(res.headers.get('x-surgectl-color')).toBe('green');
    expect(await res.json()).toEqual({ status: 'ok', color: 'green' });
    // one store each: an order placed on blue is unknown to green
    const blueClient = httpClient(blue.url);
    cleanups.push(() => blueClient.close());
    const onBlue = await blueClient.postOrder({ customerId: 'c', items: [{ sku: 'SKU-0001', qty: 1 }] }, 'only-blue');
    const orderId = (onBlue.body as { orderId: string }).orderId;
    expect((await fetch(`${green.url}/v1/orders/${orderId}`)).status).toBe(404);
    expect((await fetch(`${blue.url}/v1/orders/${orderId}`)).status).toBe(200);
  });

  it('has no color, no header and no info series without one', async () => {
    const dir = tempDir('surgectl-nocolor-');
    cleanups.push(() => dir.remove());
    const stack = await startStack({ port: 0, paymentPort: 0, dataDir: dir.path, workers: 1, defaultMetrics: false, logger: pino({ level: 'silent' }) });
    cleanups.push(() => stack.stop({ drainTimeoutMs: 2_000 }));
    const http = httpClient(stack.url, { adminToken: stack.adminToken });
    cleanups.push(() => http.close());
    const health = await http.call('GET', '/healthz');
    expect(health.body).toEqual({ status: 'ok' });
    expect(health.headers['x-surgectl-color']).toBeUndefined();
    expect(((await http.admin('GET', '/admin/status')).body as { color: unknown }).color).toBeNull();
    expect((await http.call('GET', '/metrics')).text).not.toContain('surgectl_stack_info');
  });
});
