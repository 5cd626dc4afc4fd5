import process from 'node:process';
import { toWireError } from '../util/worker-thread.js';
import type { StackProcessInfo } from './api/admin-contract.js';
import { createStackLogger } from './logger.js';
import { REPLICA_SPEC_ENV, type FromChild, type ReplicaSpec, type ToChild } from './replicas.js';
import { startStack, type RunningStack } from './stack.js';

/*
 * One process of a replicated stack (replicas.ts starts it, as a cluster worker for an intake
 * replica or a plain child for a worker process): the stack in its role, on the supervisor's
 * payment gateway, until the supervisor says stop or goes away.
 */

const spec = JSON.parse(process.env[REPLICA_SPEC_ENV] ?? 'null') as ReplicaSpec | null;
if (spec === null) {
  process.stderr.write('surgectl: replica-child is started by `surgectl stack up --intake-replicas/--worker-processes`, not by hand\n');
  process.exit(2);
}
// the spec holds secrets (admin token, store password): not for anything this process starts
delete process.env[REPLICA_SPEC_ENV];

const tell = (m: FromChild) => process.send?.(m);
const logger = createStackLogger({ level: spec.options.logLevel, ...(spec.logFile !== null ? { destination: spec.logFile } : {}) }).child({ process: spec.name });
let processes: readonly StackProcessInfo[] = [];
let stack: RunningStack | undefined;
let stopping: Promise<void> | undefined;

const stop = (drainTimeoutMs: number) => {
  stopping ??= (async () => {
    try {
      await stack?.stop({ drainTimeoutMs });
    } catch (err) {
      logger.error({ err }, 'stopping failed');
    }
    logger.flush();
    process.exit(0);
  })();
  return stopping;
};

process.on('message', (m: ToChild) => {
  if (m.kind === 'processes') processes = m.rows;
  else if (m.kind === 'stop') void stop(m.drainTimeoutMs);
});
// the supervisor went away (killed): no orphan keeps serving
process.on('disconnect', () => void stop(spec.options.drainTimeoutMs));
process.on('SIGTERM', () => void stop(spec.options.drainTimeoutMs));
process.on('SIGINT', () => undefined); // Ctrl+C reaches the whole group: the supervisor decides

try {
  stack = await startStack({
    ...spec.options,
    adminToken: spec.adminToken,
    logger,
    cwd: spec.cwd,
    defaultMetrics: true,
    externalPayment: spec.payment,
    processes: () => processes,
  });
  tell({ kind: 'ready', url: stack.url });
} catch (err) {
  logger.error({ err }, `${spec.name} failed to start`);
  tell({ kind: 'failed', error: toWireError(err) });
  logger.flush();
  setTimeout(() => process.exit(1), 100);
}
