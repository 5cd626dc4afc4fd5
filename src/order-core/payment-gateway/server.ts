import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import { SurgeError } from '../../errors.js';
import { bearerMatcher } from '../bearer.js';
import { abortableDelay } from '../resilience/retry.js';

export const LEDGER_DB_FILE = 'payment-ledger.db';
/** The token that makes the simulator decline a card. */
export const DECLINE_TOKEN = 'tok_decline';

export interface PaymentGatewayOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Directory of the ledger (payment-ledger.db). */
  dataDir: string;
  /** Share of charge calls answered 503, 0..1. */
  failureRate: number;
  /** Latency added to each charge call, ms. */
  latencyMs: number;
  /** Bearer token for /admin/config. */
  adminToken: string;
  /**
   * Bearer token the charge creator (the stack's workers) sends on POST /v1/charges: a charge
   * without it gets 401, so nothing else that reaches the port can record charges.
   */
  chargeToken: string;
  logger: Logger;
  /** Source of randomness for failure injection (tests pass a fixed one). Default Math.random. */
  random?: () => number;
}

export interface PaymentGatewayHandle {
  url: string;
  getConfig(): { failureRate: number; latencyMs: number };
  setConfig(c: { failureRate?: number; latencyMs?: number }): void;
  close(): Promise<void>;
}

interface ChargeRow {
  charge_id: string;
  idem_key: string;
  order_id: string;
  amount_cents: number;
  status: 'succeeded' | 'declined';
  decline_code: string | null;
  created_at: number;
}

const chargeView = (r: ChargeRow) => ({
  chargeId: r.charge_id,
  orderId: r.order_id,
  amountCents: r.amount_cents,
  status: r.status,
  ...(r.decline_code !== null ? { code: r.decline_code } : {}),
  createdAt: new Date(r.created_at).toISOString(),
});

function validConfig(c: { failureRate?: unknown; latencyMs?: unknown }): string | undefined {
  if (c.failureRate !== undefined && (typeof c.failureRate !== 'number' || !(c.failureRate >= 0 && c.failureRate <= 1))) return 'failureRate must be a number from 0 to 1';
  if (c.latencyMs !== undefined && (typeof c.latencyMs !== 'number' || !Number.isInteger(c.latencyMs) || c.latencyMs < 0 || c.latencyMs > 600_000)) {
    return 'latencyMs must be a whole number of ms from 0 to 600000';
  }
  return undefined;
}

/**
 * The bundled payment gateway simulator: a Stripe-like charges API with idempotency keys, card
 * declines, injected 503s and latency. Its ledger is a SQLite file in the data dir (WAL,
 * synchronous=NORMAL) so a charge recorded before a crash is answered, not repeated, after it.
 */
export async function startPaymentGateway(opts: PaymentGatewayOptions): Promise<PaymentGatewayHandle> {
  const bad = validConfig(opts);
  if (bad !== undefined) throw new SurgeError('SRG_CONFIG_INVALID', `payment gateway: ${bad}`);
  mkdirSync(opts.dataDir, { recursive: true });
  const db = new Database(join(opts.dataDir, LEDGER_DB_FILE));
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a killed process (commits are in the OS page cache), which is
  // what "never charge twice across a crash" needs; only an OS crash or power cut could lose the
  // last commits of the simulator. FULL would put an fsync per charge on the engine's event loop.
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS charges (
    charge_id TEXT PRIMARY KEY,
    idem_key TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    status TEXT NOT NULL,
    decline_code TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS charges_order ON charges (order_id);`);
  const byKey = db.prepare<[string], ChargeRow>('SELECT * FROM charges WHERE idem_key = ?');
  const byOrder = db.prepare<[string], ChargeRow>('SELECT * FROM charges WHERE order_id = ? ORDER BY created_at');
  const insert = db.prepare('INSERT INTO charges (charge_id, idem_key, order_id, amount_cents, status, decline_code, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');

  const config = { failureRate: opts.failureRate, latencyMs: opts.latencyMs };
  const random = opts.random ?? Math.random;
  const closing = new AbortController();
  // Every charge in its simulated latency listens on it: hundreds at a surge, none leaked.
  setMaxListeners(0, closing.signal);
  const authorized = bearerMatcher(opts.adminToken);
  const chargeAuthorized = bearerMatcher(opts.chargeToken);

  const app = Fastify({ loggerInstance: opts.logger.child({ component: 'payment-gateway' }), logController: new LogController({ disableRequestLogging: true }), bodyLimit: 16 * 1024 });
  const fail = (code: string, message: string) => ({ error: { code, message } });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.post('/v1/charges', async (req, reply) => {
    if (!chargeAuthorized(req.headers.authorization)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="surgectl-payment-gateway"').send(fail('unauthorized', 'charges need the bearer token the stack gave its workers'));
    }
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
      return reply.code(400).send(fail('idempotency_key_required', 'the Idempotency-Key header is required (1..255 characters)'));
    }
    const body = (req.body ?? {}) as { orderId?: unknown; amountCents?: unknown; token?: unknown };
    if (typeof body.orderId !== 'string' || body.orderId === '' || typeof body.amountCents !== 'number' || !Number.isInteger(body.amountCents) || body.amountCents < 0) {
      return reply.code(400).send(fail('invalid_request', 'body must be {orderId: string, amountCents: integer >= 0, token?: string}'));
    }
    if (body.token !== undefined && typeof body.token !== 'string') return reply.code(400).send(fail('invalid_request', 'token must be a string'));
    if (config.latencyMs > 0) {
      try {
        await abortableDelay(config.latencyMs, closing.signal);
      } catch {
        return reply.code(503).send(fail('shutting_down', 'the gateway is shutting down'));
      }
    }
    // Injected failures come before the ledger: an outage answers nothing about past charges.
    if (config.failureRate > 0 && random() < config.failureRate) {
      return reply.code(503).send(fail('unavailable', 'injected failure'));
    }
    const result = await ledgerWrite(() => recordCharge(key, body.orderId as string, body.amountCents as number, body.token as string | undefined));
    return reply.code(result.code).send(result.body);
  });

  /**
   * Check-and-insert for one charge, run inside a group transaction: the idempotency check sees
   * every charge committed or queued before it, so concurrent calls with one key charge once.
   */
  function recordCharge(key: string, orderId: string, amountCents: number, token: string | undefined): { code: number; body: unknown } {
    const existing = byKey.get(key);
    if (existing !== undefined) {
      if (existing.order_id !== orderId || existing.amount_cents !== amountCents) {
        return { code: 409, body: fail('idempotency_conflict', `Idempotency-Key ${key} was used for another charge`) };
      }
      return existing.status === 'declined' ? { code: 402, body: { code: existing.decline_code, ...chargeView(existing) } } : { code: 200, body: chargeView(existing) };
    }
    const declined = token === DECLINE_TOKEN;
    const row: ChargeRow = {
      // 76 random bits (was 80), from randomUUID's pre-filled entropy cache: randomBytes per charge
      // was the simulator's largest JavaScript cost after its ledger commit
      charge_id: `ch_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
      idem_key: key,
      order_id: orderId,
      amount_cents: amountCents,
      status: declined ? 'declined' : 'succeeded',
      decline_code: declined ? 'card_declined' : null,
      created_at: Date.now(),
    };
    insert.run(row.charge_id, row.idem_key, row.order_id, row.amount_cents, row.status, row.decline_code, row.created_at);
    return declined ? { code: 402, body: { code: 'card_declined', ...chargeView(row) } } : { code: 201, body: chargeView(row) };
  }

  // Group commit, as in the order store: one fsync for all charges of an event-loop turn, and
  // each answer only after its charge is on disk.
  const queued: { run: () => { code: number; body: unknown }; resolve: (r: { code: number; body: unknown }) => void; reject: (e: unknown) => void }[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    const batch = queued.splice(0);
    if (batch.length === 0) return;
    try {
      const results = db.transaction(() => batch.map((op) => op.run())).immediate();
      batch.forEach((op, i) => op.resolve(results[i] as { code: number; body: unknown }));
    } catch (err) {
      for (const op of batch) op.reject(err);
    }
  };
  function ledgerWrite(run: () => { code: number; body: unknown }): Promise<{ code: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      queued.push({ run, resolve, reject });
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    });
  }

  app.get('/v1/charges', async (req, reply) => {
    const orderId = (req.query as { orderId?: unknown }).orderId;
    if (typeof orderId !== 'string' || orderId === '') return reply.code(400).send(fail('invalid_request', 'query parameter orderId is required'));
    return { charges: byOrder.all(orderId).map(chargeView) };
  });

  app.get('/admin/config', async (req, reply) => {
    if (!authorized(req.headers.authorization)) return reply.code(401).send(fail('unauthorized', 'a valid bearer token is required'));
    return { ...config };
  });

  app.put('/admin/config', async (req, reply) => {
    if (!authorized(req.headers.authorization)) return reply.code(401).send(fail('unauthorized', 'a valid bearer token is required'));
    const body = (req.body ?? {}) as { failureRate?: unknown; latencyMs?: unknown };
    const problem = validConfig(body);
    if (problem !== undefined) return reply.code(400).send(fail('invalid_request', problem));
    setConfig(body as { failureRate?: number; latencyMs?: number });
    return { ...config };
  });

  function setConfig(c: { failureRate?: number; latencyMs?: number }): void {
    const problem = validConfig(c);
    if (problem !== undefined) throw new SurgeError('SRG_CONFIG_INVALID', `payment gateway: ${problem}`);
    if (c.failureRate !== undefined) config.failureRate = c.failureRate;
    if (c.latencyMs !== undefined) config.latencyMs = c.latencyMs;
  }

  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    db.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new SurgeError('SRG_STACK_PORT_IN_USE', `The payment gateway cannot listen on ${opts.host}:${opts.port}: the port is already in use`, {
        // No option name here: the simulator does not know how its caller lets users set the port (startStack re-hints).
        hint: 'Stop whatever holds the port, or pick another port (0 picks a free one).',
      });
    }
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    getConfig: () => ({ ...config }),
    setConfig,
    async close() {
      closing.abort();
      await app.close();
      flush();
      db.close();
    },
  };
}
