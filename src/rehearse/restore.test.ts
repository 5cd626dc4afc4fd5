import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/ports.js';
import { createFakeStackAdmin } from '../adapters/stack-admin/fake.js';
import { restoreStack, stackPorts } from './restore.js';

const CONFIGURED = { failureRate: 0, latencyMs: 5 };

function listen(port: number): Promise<Server> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen({ port, host: '127.0.0.1' }, () => done(srv));
  });
}

/** A stack stand-in: its URLs and a stop() that records being called. */
async function stubStack(stop: () => Promise<{ drained: boolean; inFlight: number }> = async () => ({ drained: true, inFlight: 0 })) {
  const calls: string[] = [];
  return {
    calls,
    url: `http://127.0.0.1:${await freePort()}`,
    paymentUrl: `http://127.0.0.1:${await freePort()}`,
    stop: async () => {
      calls.push('stop');
      return stop();
    },
  };
}

let held: Server | undefined;
afterEach(async () => {
  await new Promise<void>((done) => (held ? held.close(() => done()) : done()));
  held = undefined;
});

describe('restoreStack', () => {
  it('clears the faults, puts the workers back, stops the stack and finds its ports free', async () => {
    const admin = createFakeStackAdmin({ payment: CONFIGURED });
    admin.state.workers.size = 3;
    admin.state.faults.dropRatio = 0.5;
    await admin.setPaymentFaults({ failureRate: 1 });
    const stack = await stubStack();

    const { restore, workersNow } = await restoreStack({ stack, payment: CONFIGURED, admin, workersBefore: 8, dataDir: '/tmp/d' });

    expect(restore).toEqual({ faultsCleared: true, workersRestored: true, stackStopped: true, portsFreed: true, dataDirRemoved: false, problems: [] });
    expect(workersNow).toBe(8);
    expect(admin.state.payment).toEqual(CONFIGURED);
    expect(admin.calls).toEqual(expect.arrayContaining(['clearFaults()', 'setWorkers(8)']));
    expect(stack.calls).toEqual(['stop']);
  });

  it('still stops the stack when its admin API does not answer, and says what could not be restored', async () => {
    const admin = createFakeStackAdmin({ payment: CONFIGURED });
    admin.down = true;
    const stack = await stubStack();

    const { restore, workersNow } = await restoreStack({ stack, payment: CONFIGURED, admin, workersBefore: 8, dataDir: '/tmp/d' });

    expect(restore).toMatchObject({ faultsCleared: false, workersRestored: false, stackStopped: true, portsFreed: true });
    expect(restore.problems).toEqual([expect.stringMatching(/^clearing faults failed: No stack answered/), expect.stringMatching(/^restoring workers to 8 failed: No stack answered/)]);
    expect(workersNow).toBeUndefined();
    expect(stack.calls).toEqual(['stop']);
  });

  it('reports faults the stack kept after clearing them', async () => {
    const admin = createFakeStackAdmin({ payment: CONFIGURED });
    // The stack was started with a 10% failure rate: clearing brings the fake back to 0%, which is not what it ran with.
    const { restore } = await restoreStack({ stack: await stubStack(), payment: { failureRate: 0.1, latencyMs: 5 }, admin, workersBefore: undefined, dataDir: '/tmp/d' });
    expect(restore.faultsCleared).toBe(false);
    expect(restore.problems[0]).toMatch(/^faults still set after clearing: .*"failureRate":0\b/);
    // Workers that were never changed need no restoring.
    expect(restore.workersRestored).toBe(true);
    expect(admin.calls).not.toContain('setWorkers(8)');
  });

  it('without an admin connection touches neither faults nor workers, and still stops the stack', async () => {
    const stack = await stubStack();
    const { restore } = await restoreStack({ stack, payment: CONFIGURED, admin: undefined, workersBefore: undefined, dataDir: '/tmp/d' });
    expect(restore).toMatchObject({ faultsCleared: false, workersRestored: false, stackStopped: true, portsFreed: true, problems: [] });
  });

  it('names jobs left in flight, a stop that failed and a port still taken', async () => {
    const inFlight = await stubStack(async () => ({ drained: false, inFlight: 4 }));
    const a = await restoreStack({ stack: inFlight, payment: CONFIGURED, dataDir: '/tmp/kept' });
    expect(a.restore.stackStopped).toBe(true);
    expect(a.restore.problems).toEqual(['4 jobs were still in flight at stop; they resume on the next start of /tmp/kept']);

    const broken = await stubStack(async () => {
      throw new Error('store close timed out');
    });
    const [intakePort] = stackPorts(broken);
    held = await listen(intakePort as number);
    const b = await restoreStack({ stack: broken, payment: CONFIGURED, dataDir: '/tmp/d' });
    expect(b.restore).toMatchObject({ stackStopped: false, portsFreed: false });
    expect(b.restore.problems).toEqual(['stopping the stack failed: store close timed out', `ports still in use after stop: ${intakePort}`]);
  });
});
