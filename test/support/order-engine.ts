import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { StackConfigSchema, type StackConfig } from '../../src/config/schema.js';
import { requestHash } from '../../src/order-core/domain/idempotency.js';
import type { NewOrder } from '../../src/order-core/domain/types.js';
import { createStackMetrics } from '../../src/order-core/metrics.js';
import { startPaymentGateway, type PaymentGatewayHandle } from '../../src/order-core/payment-gateway/server.js';
import type { AcceptRequest } from '../../src/order-core/storage/ports.js';
import { createEngine, type PipelineOptions, type SqliteEngine } from '../../src/order-core/pipeline/create-engine.js';

/** Test helpers shared by the engine's integration tests (not part of the product). */

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** The bearer token the test gateways require on POST /v1/charges (and the engines send). */
export const CHARGE_TOKEN = 'test-charge-token-0123456789';

export function tempDir(prefix = 'surgectl-engine-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const silentLogger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A pino logger at `level` whose JSON lines are kept in `lines`, to assert what was logged. */
export function capturingLogger(level = 'info'): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

export function stackConfig(overrides: Partial<StackConfig> & { dataDir: string }): StackConfig {
  return StackConfigSchema.parse({ workers: 4, leaseMs: 400, reservationTtlMs: 60_000, paymentTimeoutMs: 1_000, drainTimeoutMs: 2_000, logLevel: 'silent', ...overrides });
}

export async function startGateway(dataDir: string, opts: { failureRate?: number; latencyMs?: number } = {}): Promise<PaymentGatewayHandle> {
  return startPaymentGateway({ host: '127.0.0.1', port: 0, dataDir, failureRate: opts.failureRate ?? 0, latencyMs: opts.latencyMs ?? 0, adminToken: ADMIN_TOKEN, chargeToken: CHARGE_TOKEN, logger: silentLogger() });
}

/** Starts an engine on the SQLite store in config.dataDir (the engine's own tests are SQLite's; the PostgreSQL ones run at the store and stack level). */
export async function startEngine(config: StackConfig, gatewayUrl: string, extra: Partial<Omit<PipelineOptions, 'store'>> = {}): Promise<SqliteEngine & { metrics: ReturnType<typeof createStackMetrics> }> {
  const metrics = createStackMetrics({ defaultMetrics: false });
  // stack.store/storePool are the CLI's spelling of the store choice; the engine takes a StoreOption.
  const { store: _store, storePool: _storePool, ...settings } = config;
  const engine = await createEngine({
    ...settings,
    store: { kind: 'sqlite' },
    paymentUrl: gatewayUrl,
    paymentAuthToken: CHARGE_TOKEN,
    logger: silentLogger(),
    metrics,
    breaker: { resetTimeoutMs: 300, volumeThreshold: 3, rollingCountTimeoutMs: 2_000 },
    paymentRetry: { maxAttempts: 2, policy: { baseMs: 5, capMs: 20 } },
    deferPolicy: { baseMs: 50, capMs: 200 },
    sweepIntervalMs: 100,
    pollMs: 20,
    ...extra,
  });
  return Object.assign(engine, { metrics });
}

let keySeq = 0;
export function acceptRequest(order: NewOrder, key = `key-${process.pid}-${++keySeq}`): AcceptRequest {
  return { order, idempotencyKey: key, requestHash: requestHash(order) };
}

/** Polls `cond` until it is truthy or `timeoutMs` passes; fails with `what` and the last value. */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await cond();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

export async function chargesFor(gatewayUrl: string, orderId: string): Promise<{ chargeId: string; status: string }[]> {
  const res = await fetch(`${gatewayUrl}/v1/charges?orderId=${encodeURIComponent(orderId)}`);
  return ((await res.json()) as { charges: { chargeId: string; status: string }[] }).charges;
}

/** The pid of a process that has exited: a real dead pid, for a lock left behind by a "crash". */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}
