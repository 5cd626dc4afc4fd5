import { SurgeError } from '../errors.js';
import type { Connections } from './observe.js';
import { readObject } from './observe.js';
import { callOf } from './plan.js';
import type { PlannedObject, Step } from './types.js';

/** What {@link applySteps} did: the steps done, the one that failed, the ones never tried. */
export interface ApplyResult {
  applied: string[];
  failed?: { call: string; error: string; code?: string };
  notApplied: string[];
  interrupted: boolean;
}

/**
 * Runs the steps in order, one write each, stopping at the first failure (or an interrupt): what
 * was done and what was not is in the result, so the outcome can say so and a restore from the
 * snapshot puts the applied part back. Every step sets absolute values: running it again is safe.
 */
export async function applySteps(steps: readonly Step[], conn: Connections, opts: { signal?: AbortSignal; onStep?: (call: string) => void } = {}): Promise<ApplyResult> {
  const result: ApplyResult = { applied: [], notApplied: [], interrupted: false };
  for (const [i, step] of steps.entries()) {
    const call = callOf(step);
    if (opts.signal?.aborted) {
      result.interrupted = true;
      result.notApplied = steps.slice(i).map(callOf);
      return result;
    }
    try {
      await runStep(step, conn);
      result.applied.push(call);
      opts.onStep?.(call);
    } catch (err) {
      result.failed = { call, error: (err as Error).message, ...(err instanceof SurgeError ? { code: err.code } : {}) };
      result.notApplied = steps.slice(i + 1).map(callOf);
      return result;
    }
  }
  return result;
}

async function runStep(step: Step, conn: Connections): Promise<void> {
  switch (step.op) {
    case 'scaleWorkload':
      return (await conn.kubernetes(step.ref.context)).scaleWorkload({ kind: step.ref.kind, namespace: step.ref.namespace, name: step.ref.name }, step.replicas);
    case 'setHpaBounds':
      return (await conn.kubernetes(step.ref.context)).setHpaBounds(step.ref.namespace, step.ref.name, { minReplicas: step.minReplicas, maxReplicas: step.maxReplicas });
    case 'updateGroup':
      return (await conn.autoScaling(step.ref.region)).updateGroup(step.ref.name, step.sizes);
    case 'setWorkers': {
      const stack = await conn.stack(step.ref.url);
      const { size } = await stack.setWorkers(step.count);
      if (size !== step.count) throw new SurgeError('SRG_STACK_ADMIN', `the stack at ${step.ref.url} runs ${size} workers after asking for ${step.count}`);
      return;
    }
  }
}

/** Readiness of one object: ready units against the target. */
export interface ReadinessRow {
  key: string;
  service: string;
  kind: string;
  name: string;
  /** Ready pods, InService instances or running workers. */
  ready: number;
  target: number;
  done: boolean;
}

/** One read of every object that has a readiness target; unreadable objects count as not ready. */
export async function readReadiness(objects: readonly PlannedObject[], conn: Connections): Promise<ReadinessRow[]> {
  const watched = objects.filter((o) => o.readyAt !== undefined);
  return Promise.all(
    watched.map(async (o): Promise<ReadinessRow> => {
      const target = o.readyAt ?? 0;
      const now = await readObject(o.ref, conn).catch(() => undefined);
      const ready = now?.ready ?? 0;
      // A workload is rolled out when its ready and updated pods both reach the target.
      const done = now !== undefined && ready >= target && (now.updated === undefined || now.updated >= target);
      return { key: o.key, service: o.service, kind: o.ref.kind, name: 'namespace' in o.ref ? `${o.ref.namespace}/${o.ref.name}` : o.ref.name, ready, target, done };
    }),
  );
}

/**
 * Polls readiness until every object is done, `timeoutMs` passes, or the signal aborts; calls
 * `onProgress` with each round. Bounded by the deadline; the pause between rounds is `pollMs`.
 */
export async function waitReady(
  objects: readonly PlannedObject[],
  conn: Connections,
  opts: { timeoutMs: number; pollMs: number; now: () => number; signal?: AbortSignal; onProgress?: (rows: ReadinessRow[]) => void },
): Promise<{ rows: ReadinessRow[]; ready: boolean; waitedMs: number }> {
  const start = opts.now();
  const deadline = start + opts.timeoutMs;
  for (;;) {
    const rows = await readReadiness(objects, conn);
    opts.onProgress?.(rows);
    const ready = rows.every((r) => r.done);
    if (ready || opts.now() >= deadline || opts.signal?.aborted) return { rows, ready, waitedMs: opts.now() - start };
    await pause(Math.min(opts.pollMs, Math.max(0, deadline - opts.now())), opts.signal);
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
