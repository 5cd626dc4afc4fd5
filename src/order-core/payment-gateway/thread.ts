import type { Logger } from 'pino';
import { fromWireError, startModuleWorker, type WireError } from '../../util/worker-thread.js';
import type { PaymentGatewayOptions } from './server.js';

export type GatewaySettings = { failureRate: number; latencyMs: number };

/** What the thread is started with (structured-cloned: no logger, no functions). */
export interface GatewayThreadData {
  options: Omit<PaymentGatewayOptions, 'logger' | 'random'>;
  logLevel: string;
}

export type ToGateway = { kind: 'get'; id: number } | { kind: 'set'; id: number; change: Partial<GatewaySettings> } | { kind: 'close'; id: number };
type FromGateway =
  | { kind: 'ready'; url: string }
  | { kind: 'failed'; error: WireError }
  | { kind: 'reply'; id: number; config?: GatewaySettings; error?: WireError }
  | { kind: 'log'; line: string };

/** The simulator running on its own thread; the same knobs as PaymentGatewayHandle, asynchronous. */
export interface PaymentGatewayThread {
  url: string;
  getConfig(): Promise<GatewaySettings>;
  /** Applies the change and resolves with the settings now in force; rejects (SRG_CONFIG_INVALID) on a bad value. */
  setConfig(change: Partial<GatewaySettings>): Promise<GatewaySettings>;
  close(): Promise<void>;
}

/**
 * Starts the payment gateway simulator on a worker thread of this process. The simulator stands
 * in for a remote payment provider, whose work would not run on our event loop either: serving
 * the charges there (HTTP, ledger commit) cost the loop that intake and workers share about
 * 0.07 ms per confirmed order (bench:pipeline-cpu, main-thread CPU 0.39 -> 0.32 ms). On its own
 * thread it has its own event loop and SQLite connection (its ledger is a separate file), and it
 * still lives and dies with the stack process. Its log lines are written by `opts.logger`.
 * @throws what startPaymentGateway throws (e.g. SurgeError SRG_STACK_PORT_IN_USE), rebuilt on this thread.
 */
export async function startPaymentGatewayThread(opts: Omit<PaymentGatewayOptions, 'random'>): Promise<PaymentGatewayThread> {
  const { logger, ...options } = opts;
  const data: GatewayThreadData = { options, logLevel: logger.level };
  const worker = startModuleWorker(new URL('./thread-entry.js', import.meta.url), import.meta.url, { workerData: data });
  const pending = new Map<number, { resolve: (m: Extract<FromGateway, { kind: 'reply' }>) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  let closeRequested = false;

  let ready = false;
  const url = await new Promise<string>((resolve, reject) => {
    worker.on('message', (m: FromGateway) => {
      if (m.kind === 'ready') {
        ready = true;
        resolve(m.url);
      } else if (m.kind === 'failed') reject(fromWireError(m.error));
      else if (m.kind === 'log') relayLog(logger, m.line);
      else {
        const p = pending.get(m.id);
        pending.delete(m.id);
        p?.resolve(m);
      }
    });
    worker.on('error', (err) => {
      logger.error({ err }, 'payment gateway thread failed');
      reject(err);
    });
    worker.on('exit', (code) => {
      exited = true;
      const err = new Error(`the payment gateway thread exited (code ${code})`);
      // After a start, only close() ends the thread; anything else leaves the stack without payments.
      if (ready && !closeRequested) logger.error({ code }, 'payment gateway thread stopped unexpectedly; charges fail until the stack restarts');
      reject(err);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });

  const call = async (msg: Omit<Extract<ToGateway, { kind: 'get' }>, 'id'> | Omit<Extract<ToGateway, { kind: 'set' }>, 'id'> | { kind: 'close' }) => {
    if (exited) throw new Error('the payment gateway thread is not running');
    const id = nextId++;
    const reply = await new Promise<Extract<FromGateway, { kind: 'reply' }>>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id });
    });
    if (reply.error !== undefined) throw fromWireError(reply.error);
    return reply.config;
  };

  let closing: Promise<void> | undefined;
  return {
    url,
    getConfig: async () => (await call({ kind: 'get' })) as GatewaySettings,
    setConfig: async (change) => (await call({ kind: 'set', change })) as GatewaySettings,
    close() {
      closing ??= (async () => {
        closeRequested = true;
        if (exited) return;
        try {
          await call({ kind: 'close' });
        } catch (err) {
          // the thread ends below either way; a ledger that did not close cleanly is recovered from its WAL
          logger.warn({ err }, 'the payment gateway did not close cleanly');
        } finally {
          await worker.terminate();
        }
      })();
      return closing;
    },
  };
}

/** Writes a JSON log line from the thread through the stack's logger, at its level. */
function relayLog(logger: Logger, line: string): void {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    logger.warn({ line }, 'unreadable log line from the payment gateway thread');
    return;
  }
  const { level, msg, ...fields } = rec;
  const label = typeof level === 'number' ? logger.levels.labels[level] : undefined;
  const log = label === 'fatal' || label === 'error' || label === 'warn' || label === 'info' || label === 'debug' || label === 'trace' ? label : 'info';
  logger[log](fields, typeof msg === 'string' ? msg : '');
}
