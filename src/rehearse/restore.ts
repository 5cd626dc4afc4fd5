import { createServer } from 'node:net';
import type { PaymentFaults, StackAdminPort } from '../adapters/stack-admin/port.js';
import type { RunningStack } from '../order-core/stack.js';
import type { RehearsalReport } from './report.js';

/** What {@link restoreStack} puts back. */
export interface RestoreTarget {
  /** The rehearsal's stack: stopped last, after its ports are noted. */
  stack: Pick<RunningStack, 'url' | 'paymentUrl' | 'stop'>;
  /** Payment failure rate and latency the stack was started with: what clearing the faults must bring back. */
  payment: PaymentFaults;
  /** Its admin API; undefined when the rehearsal failed before connecting (faults and workers are then untouched). */
  admin?: StackAdminPort | undefined;
  /** Worker pool size before the rehearsal scaled it; undefined when it was never changed. */
  workersBefore?: number | undefined;
  /** The stack's data dir, named when jobs were left in flight. */
  dataDir: string;
}

/** What the restore did: every check, the problems in words, and the worker pool size it read back. */
export interface RestoreResult {
  restore: NonNullable<RehearsalReport['restore']>;
  /** Workers after restoring them; undefined when they could not be read back. */
  workersNow?: number;
}

/**
 * Puts the stack back and stops it: faults cleared, workers back to their old size, stack stopped,
 * its ports free. Never throws: every step runs even when the one before it failed (a stack left
 * running holds its ports and data dir), and each failure is a problem in the result.
 * The data dir itself is the caller's (it knows whether it made it).
 */
export async function restoreStack(t: RestoreTarget): Promise<RestoreResult> {
  const r: RestoreResult['restore'] = { faultsCleared: false, workersRestored: false, stackStopped: false, portsFreed: false, dataDirRemoved: false, problems: [] };
  let workersNow: number | undefined;
  const { admin, workersBefore } = t;
  if (admin) {
    try {
      const s = await admin.clearFaults();
      // No payment section: the stack runs without the bundled gateway, so there is no payment fault to clear.
      const paymentBack = s.payment === null || (s.payment.failureRate === t.payment.failureRate && s.payment.latencyMs === t.payment.latencyMs);
      r.faultsCleared = s.faults.dropRatio === 0 && paymentBack;
      if (!r.faultsCleared) r.problems.push(`faults still set after clearing: ${JSON.stringify({ payment: s.payment, faults: s.faults })}`);
    } catch (err) {
      r.problems.push(`clearing faults failed: ${(err as Error).message}`);
    }
    if (workersBefore !== undefined) {
      try {
        await admin.setWorkers(workersBefore);
        workersNow = (await admin.status()).workers.size;
        r.workersRestored = workersNow === workersBefore;
        if (!r.workersRestored) r.problems.push(`workers are ${workersNow}, expected ${workersBefore}`);
      } catch (err) {
        r.problems.push(`restoring workers to ${workersBefore} failed: ${(err as Error).message}`);
      }
    } else {
      r.workersRestored = true;
    }
  }
  const ports = stackPorts(t.stack);
  try {
    const stopped = await t.stack.stop({ drainTimeoutMs: 10_000 });
    r.stackStopped = true;
    if (!stopped.drained) r.problems.push(`${stopped.inFlight} jobs were still in flight at stop; they resume on the next start of ${t.dataDir}`);
  } catch (err) {
    r.problems.push(`stopping the stack failed: ${(err as Error).message}`);
  }
  const busy: number[] = [];
  for (const p of ports) if (!(await portFree(p))) busy.push(p);
  r.portsFreed = busy.length === 0;
  if (!r.portsFreed) r.problems.push(`ports still in use after stop: ${busy.join(', ')}`);
  return { restore: r, ...(workersNow !== undefined ? { workersNow } : {}) };
}

/** The intake and payment ports of the stack, as the restore stage names them. */
export function stackPorts(stack: Pick<RunningStack, 'url' | 'paymentUrl'>): number[] {
  return [portOf(stack.url), portOf(stack.paymentUrl)];
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', () => done(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => done(true)));
  });
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}
