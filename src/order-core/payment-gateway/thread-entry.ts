// The payment gateway simulator's own thread (see thread.ts). Started only by startPaymentGatewayThread.
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { toWireError } from '../../util/worker-thread.js';
import { startPaymentGateway, type PaymentGatewayHandle } from './server.js';
import type { GatewayThreadData, ToGateway } from './thread.js';

const port = parentPort;
if (port === null) throw new Error('thread-entry.ts runs only as a worker thread');
const data = workerData as GatewayThreadData;
// Log lines go to the stack's logger on the main thread, so they land where the stack's do.
const logger = pino({ level: data.logLevel, base: undefined, timestamp: false }, { write: (line: string) => port.postMessage({ kind: 'log', line }) });

let gateway: PaymentGatewayHandle | undefined;
try {
  gateway = await startPaymentGateway({ ...data.options, logger });
  port.postMessage({ kind: 'ready', url: gateway.url });
} catch (err) {
  port.postMessage({ kind: 'failed', error: toWireError(err) });
}

port.on('message', (m: ToGateway) => {
  const g = gateway;
  if (g === undefined) return;
  if (m.kind === 'close') {
    g.close().then(
      () => {
        port.postMessage({ kind: 'reply', id: m.id });
        port.close();
      },
      (err: unknown) => port.postMessage({ kind: 'reply', id: m.id, error: toWireError(err) }),
    );
    return;
  }
  try {
    if (m.kind === 'set') g.setConfig(m.change);
    port.postMessage({ kind: 'reply', id: m.id, config: g.getConfig() });
  } catch (err) {
    port.postMessage({ kind: 'reply', id: m.id, error: toWireError(err) });
  }
});
