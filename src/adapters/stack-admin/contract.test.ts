import { afterAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../../test/support/stack.js';
import { createFakeStackAdmin } from './fake.js';
import type { StackAdminPort } from './port.js';
import { createStackAdmin } from './stack-admin.js';

/** One suite, two implementations: the fake the runner tests use and the real client against a real stack. */
function contract(name: string, setup: () => Promise<StackAdminPort>) {
  describe(`StackAdminPort contract: ${name}`, () => {
    it('reports status in the documented shape', async () => {
      const admin = await setup();
      const s = await admin.status();
      expect(s).toMatchObject({
        intake: { paused: false, draining: false },
        workers: { size: expect.any(Number), busy: expect.any(Number), paused: false },
        queue: { depth: expect.any(Number), oldestWaitingMs: expect.any(Number) },
        orders: { byStatus: expect.any(Object) },
        oversold: 0,
        breaker: 'closed',
        payment: { failureRate: 0, latencyMs: expect.any(Number) },
        faults: { dropRatio: 0 },
      });
    });

    it('injects and clears faults', async () => {
      const admin = await setup();
      const configured = await admin.paymentFaults();
      expect(await admin.setPaymentFaults({ failureRate: 1 })).toEqual({ ...configured, failureRate: 1 });
      expect(await admin.setPaymentFaults({ latencyMs: 2000 })).toEqual({ failureRate: 1, latencyMs: 2000 });
      expect(await admin.setDropRatio(0.25)).toEqual({ dropRatio: 0.25 });
      expect(await admin.pauseConsumer()).toEqual({ paused: true });
      expect((await admin.status()).workers.paused).toBe(true);
      const cleared = await admin.clearFaults();
      expect(cleared.faults.dropRatio).toBe(0);
      expect(cleared.workers.paused).toBe(false);
      expect(await admin.paymentFaults()).toEqual(configured);
    });

    it('resizes the pool, kills a worker and restarts the store', async () => {
      const admin = await setup();
      expect(await admin.setWorkers(3)).toEqual({ size: 3 });
      expect((await admin.status()).workers.size).toBe(3);
      expect(await admin.killWorker()).toMatchObject({ killed: expect.any(Boolean) });
      expect(await admin.restartStore()).toMatchObject({ restarted: true, downtimeMs: expect.any(Number) });
      expect(await admin.resumeConsumer()).toEqual({ paused: false });
    });

    it('refuses bad values with SRG_STACK_ADMIN', async () => {
      const admin = await setup();
      await expect(admin.setDropRatio(2)).rejects.toMatchObject({ code: 'SRG_STACK_ADMIN' });
      await expect(admin.setWorkers(-1)).rejects.toMatchObject({ code: 'SRG_STACK_ADMIN' });
    });
  });
}

contract('fake', async () => createFakeStackAdmin());

const stacks: TestStack[] = [];
afterAll(async () => {
  await Promise.all(stacks.map((s) => s.dispose()));
});

contract('real client against a real stack', async () => {
  const stack = await startTestStack({ workers: 2, seedInventory: 10 });
  stacks.push(stack);
  return createStackAdmin({ url: stack.url, token: stack.adminToken });
});

describe('real client errors', () => {
  it('names an unreachable stack and a wrong token', async () => {
    await expect(createStackAdmin({ url: 'http://127.0.0.1:9', token: 'x'.repeat(16), timeoutMs: 2_000 }).status()).rejects.toMatchObject({
      code: 'SRG_STACK_UNREACHABLE',
      hint: expect.stringContaining('surgectl stack up'),
    });
    const stack = await startTestStack({ workers: 1, seedInventory: 1 });
    stacks.push(stack);
    await expect(createStackAdmin({ url: stack.url, token: 'wrong-token-0123456789' }).status()).rejects.toMatchObject({
      code: 'SRG_STACK_ADMIN',
      message: expect.stringContaining('HTTP 401'),
      hint: expect.stringContaining('admin token'),
    });
    expect(await createStackAdmin({ url: stack.url, token: stack.adminToken }).metricsText()).toContain('surgectl_http_request_duration_seconds');
  });
});
