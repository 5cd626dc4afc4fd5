import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type pino from 'pino';
import { SurgeError } from '../errors.js';
import { fromWireError, type WireError } from '../util/worker-thread.js';
import type { StackProcessInfo } from './api/admin-contract.js';
import { defaultCatalog, type CatalogEntry } from './catalog.js';
import type { PaymentGatewayThread } from './payment-gateway/thread.js';
import type { ResolvedStackOptions, StackOptionLabels } from './stack-options.js';
import { optionLabel } from './stack-options.js';

/*
 * A stack of several processes on one machine (`stack up --intake-replicas N --worker-processes M`),
 * on the PostgreSQL store they share:
 * - N intake replicas, cluster workers sharing the API port (the primary hands out connections);
 *   with worker processes they run no workers of their own;
 * - M worker processes, each running `workers` pipeline workers and no API;
 * - the payment gateway simulator, once, on a thread of this supervisor (every process charges
 *   through it, so a charge is idempotent across processes as it is with a real provider).
 * Every child is a `replica-child.js` process started with its role and the resolved options. A
 * child that dies (kill -9 included) is started again with backoff; an acknowledged order is in
 * PostgreSQL already, and a job a dead worker held comes back when its lease runs out.
 */

/** What a child is started with (JSON in its environment: the options hold secrets, never argv). */
export interface ReplicaSpec {
  role: 'intake' | 'worker';
  name: string;
  options: ResolvedStackOptions;
  adminToken: string;
  payment: { url: string; chargeToken: string };
  logFile: string | null;
  cwd: string;
}

export const REPLICA_SPEC_ENV = 'SURGECTL_STACK_REPLICA_SPEC';

/** Messages between the supervisor and its children. */
export type FromChild = { kind: 'ready'; url: string } | { kind: 'failed'; error: WireError };
export type ToChild = { kind: 'processes'; rows: StackProcessInfo[] } | { kind: 'stop'; drainTimeoutMs: number };

interface Slot {
  role: 'intake' | 'worker';
  name: string;
  proc: ChildProcess | ClusterWorker | undefined;
  pid: number | null;
  state: StackProcessInfo['state'];
  restarts: number;
  since: string;
  failures: number;
}

export interface ReplicatedStackOptions {
  options: ResolvedStackOptions;
  intakeReplicas: number;
  workerProcesses: number;
  adminToken: string;
  logFile: string | null;
  cwd: string;
  logger: pino.Logger;
  seedEntries: CatalogEntry[] | undefined;
  labels?: StackOptionLabels | undefined;
}

export interface ReplicatedStack {
  url: string;
  paymentUrl: string;
  processes(): StackProcessInfo[];
  stop(drainTimeoutMs?: number): Promise<{ drained: boolean; inFlight: number }>;
}

const CHILD_ENTRY = fileURLToPath(new URL('./replica-child.js', import.meta.url));

/** Refuses the combinations a replicated stack cannot run, naming the flag to change. */
export function checkReplicaOptions(options: ResolvedStackOptions, intakeReplicas: number, workerProcesses: number, labels?: StackOptionLabels): void {
  if (intakeReplicas === 1 && workerProcesses === 0) return;
  if (options.store.kind !== 'postgres') {
    throw new SurgeError('SRG_CONFIG_INVALID', 'intake replicas and worker processes share one order store: they need a PostgreSQL store', {
      hint: `Add ${optionLabel(labels, 'store')} postgres://user@host:port/database; the SQLite store belongs to one process.`,
    });
  }
  if (options.healthPort !== 'off') {
    throw new SurgeError('SRG_CONFIG_INVALID', `${optionLabel(labels, 'healthPort')} is not available with intake replicas or worker processes`, {
      hint: `Leave ${optionLabel(labels, 'healthPort')} off: /healthz and /readyz are served on the shared API port by every replica.`,
    });
  }
}

/**
 * Starts the supervisor's gateway and every child, and resolves once all answer; a child that
 * fails its first start fails the whole start (its error, rebuilt), after the others are stopped.
 */
export async function startReplicatedStack(o: ReplicatedStackOptions): Promise<ReplicatedStack> {
  const { options, logger } = o;
  // one schema migration and one seed, before any child opens the store (they then keep the stock)
  const { PostgresOrderStore } = await import('./storage/postgres/order-store.js');
  const storeUrl = (options.store as { url: string }).url;
  const store = await PostgresOrderStore.open({ url: storeUrl, logger, now: Date.now, reservationTtlMs: options.reservationTtlMs, throughputPerSec: () => 0, poolSize: 2 });
  try {
    await store.seed(o.seedEntries, () => defaultCatalog());
  } finally {
    await store.close();
  }
  if (options.queue !== undefined) {
    const { migrateMessaging } = await import('./messaging/schema.js');
    await migrateMessaging(storeUrl);
  }

  const chargeToken = randomBytes(32).toString('base64url');
  const { startPaymentGatewayThread } = await import('./payment-gateway/thread.js');
  const gateway: PaymentGatewayThread = await startPaymentGatewayThread({
    host: options.paymentHost,
    port: options.paymentPort,
    dataDir: options.dataDir,
    failureRate: options.paymentFailureRate,
    latencyMs: options.paymentLatencyMs,
    adminToken: o.adminToken,
    chargeToken,
    logger,
  });

  const slots: Slot[] = [
    ...Array.from({ length: o.intakeReplicas }, (_, i): Slot => newSlot('intake', `intake-${i + 1}`)),
    ...Array.from({ length: o.workerProcesses }, (_, i): Slot => newSlot('worker', `worker-${i + 1}`)),
  ];
  let stopping = false;
  const table = (): StackProcessInfo[] => slots.map((s) => ({ role: s.role, name: s.name, pid: s.pid, state: s.state, restarts: s.restarts, since: s.since }));
  const broadcast = () => {
    const rows = table();
    for (const s of slots) send(s, { kind: 'processes', rows });
  };
  const publishing = setInterval(broadcast, 1_000);
  publishing.unref();

  const specOf = (s: Slot): ReplicaSpec => ({
    role: s.role,
    name: s.name,
    // with worker processes the replicas only take orders; else each runs its own workers
    options: s.role === 'intake' ? { ...options, workers: o.workerProcesses > 0 ? 0 : options.workers, seedInventory: undefined } : { ...options, port: 0, seedInventory: undefined },
    adminToken: o.adminToken,
    payment: { url: gateway.url, chargeToken },
    logFile: o.logFile,
    cwd: o.cwd,
  });

  /** Starts the slot's process; resolves with its URL once it answers, rejects with its start error. */
  const launch = (s: Slot): Promise<string> => {
    const env = { ...process.env, [REPLICA_SPEC_ENV]: JSON.stringify(specOf(s)) };
    let proc: ChildProcess | ClusterWorker;
    if (s.role === 'intake') {
      // cluster workers share the listening port: the primary accepts and hands out connections
      cluster.setupPrimary({ exec: CHILD_ENTRY, args: [], silent: false });
      proc = cluster.fork(env);
    } else {
      proc = fork(CHILD_ENTRY, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    }
    s.proc = proc;
    s.state = 'starting';
    s.since = new Date().toISOString();
    const child = 'process' in proc ? proc.process : proc;
    s.pid = child.pid ?? null;
    return new Promise<string>((resolve, reject) => {
      let settled = false;
      proc.on('message', (m: FromChild) => {
        if (m.kind === 'ready' && !settled) {
          settled = true;
          s.state = 'running';
          s.failures = 0;
          broadcast();
          resolve(m.url);
        } else if (m.kind === 'failed' && !settled) {
          settled = true;
          reject(fromWireError(m.error));
        }
      });
      child.once('exit', (code, signal) => {
        if (s.proc === proc) {
          s.proc = undefined;
          s.pid = null;
        }
        if (!settled) {
          settled = true;
          reject(new SurgeError('SRG_STACK_REPLICA_FAILED', `${s.name} exited (${signal ?? `code ${code}`}) before it answered`));
          return;
        }
        if (stopping) return;
        // died after it started (kill -9, a crash): start it again, backing off while it keeps dying
        s.state = 'restarting';
        s.restarts++;
        s.failures++;
        const waitMs = Math.min(5_000, 100 * 2 ** Math.min(6, s.failures - 1));
        logger.warn({ process: s.name, pid: child.pid, code, signal, restartInMs: waitMs }, `${s.name} died (${signal ?? `exit code ${code}`}); starting it again`);
        broadcast();
        setTimeout(() => {
          if (stopping) return;
          launch(s).catch((err: unknown) => logger.error({ err, process: s.name }, `${s.name} failed to start again; retrying`));
        }, waitMs).unref();
      });
    });
  };

  const stopAll = async (drainTimeoutMs: number): Promise<void> => {
    stopping = true;
    clearInterval(publishing);
    await Promise.all(
      slots.map(async (s) => {
        const proc = s.proc;
        if (proc === undefined) return;
        const child = 'process' in proc ? proc.process : proc;
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        send(s, { kind: 'stop', drainTimeoutMs });
        const timer = setTimeout(() => child.kill('SIGKILL'), drainTimeoutMs + 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  };

  let urls: string[];
  try {
    urls = await Promise.all(slots.map(launch));
  } catch (err) {
    await stopAll(0);
    await gateway.close();
    throw err;
  }
  const url = urls[0]!;
  logger.info({ url, processes: table() }, `replicated order stack started: ${o.intakeReplicas} intake replica(s), ${o.workerProcesses} worker process(es)`);
  return {
    url,
    paymentUrl: gateway.url,
    processes: table,
    async stop(drainTimeoutMs = options.drainTimeoutMs) {
      await stopAll(drainTimeoutMs);
      await gateway.close();
      return { drained: true, inFlight: 0 };
    },
  };
}

function newSlot(role: 'intake' | 'worker', name: string): Slot {
  return { role, name, proc: undefined, pid: null, state: 'starting', restarts: 0, since: new Date().toISOString(), failures: 0 };
}

function send(s: Slot, m: ToChild): void {
  const proc = s.proc;
  if (proc === undefined) return;
  try {
    if ('isConnected' in proc ? proc.isConnected() : proc.connected) proc.send(m);
  } catch {
    // gone meanwhile: its exit handler takes over
  }
}
