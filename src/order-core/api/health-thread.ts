import type { Logger } from 'pino';
import { fromWireError, startModuleWorker, type WireError } from '../../util/worker-thread.js';
import type { StackColor } from '../stack-options.js';

/** What the health thread is started with (structured-cloned). */
export interface HealthThreadData {
  host: string;
  port: number;
  color: StackColor | undefined;
  /**
   * Int32Array over a SharedArrayBuffer: [0] the not-ready bits of readiness.ts, written by the
   * main thread and read by the health thread on every /readyz, with Atomics (no messages, so a
   * busy main loop delays nothing on the health thread's side).
   */
  state: Int32Array;
}

type FromHealth = { kind: 'ready'; url: string } | { kind: 'failed'; error: WireError } | { kind: 'closed' };

/** The /healthz + /readyz listener on its own thread. */
export interface HealthThread {
  /** Base URL, e.g. http://127.0.0.1:8088 (no trailing slash). */
  readonly url: string;
  /** Publishes the readiness the health thread answers with: the not-ready bits, 0 = ready. */
  publish(bits: number): void;
  close(): Promise<void>;
}

/**
 * Starts GET /healthz and /readyz on a worker thread of this process, on its own port. Why a
 * thread and not a second listener on the main loop: under a surge the main loop is saturated by
 * intake and workers, and a new connection waits behind every socket that is ready before it
 * (measured: p99 14 s on a new connection at 7x capacity). The thread has its own event loop and
 * accepts on its own socket, so a probe's latency is that of a tiny server, whatever the API's
 * load; it answers from the readiness the main thread publishes (publish()), so /readyz still
 * says when the store cannot commit or the stack drains. It is outside the API's connection
 * limits (its own, small, bound: a few probes, not clients). It lives and dies with the process.
 * @throws the listen error rebuilt on this thread (EADDRINUSE and the like, with its code).
 */
export async function startHealthThread(opts: { host: string; port: number; color: StackColor | undefined; logger: Logger }): Promise<HealthThread> {
  const state = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const data: HealthThreadData = { host: opts.host, port: opts.port, color: opts.color, state };
  const worker = startModuleWorker(new URL('./health-thread-entry.js', import.meta.url), import.meta.url, {
    workerData: data,
    // a tiny server: a small heap is plenty and keeps the stack's memory bound
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
  });
  let ready = false;
  let closeRequested = false;
  const url = await new Promise<string>((resolve, reject) => {
    worker.on('message', (m: FromHealth) => {
      if (m.kind === 'ready') {
        ready = true;
        resolve(m.url);
      } else if (m.kind === 'failed') reject(fromWireError(m.error));
    });
    worker.on('error', (err) => {
      opts.logger.error({ err }, 'health thread failed');
      reject(err);
    });
    worker.on('exit', (code) => {
      if (ready && !closeRequested) opts.logger.error({ code }, 'health thread stopped unexpectedly; /healthz and /readyz answer on the API port only');
      reject(new Error(`the health thread exited (code ${code})`));
    });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  // Nothing to wait for at exit: the thread holds no data.
  worker.unref();
  let closing: Promise<void> | undefined;
  return {
    url,
    publish(bits) {
      Atomics.store(state, 0, bits);
    },
    close() {
      closing ??= (async () => {
        closeRequested = true;
        await worker.terminate();
      })();
      return closing;
    },
  };
}
