import { request } from 'undici';
import { SurgeError } from '../../errors.js';
import type { PaymentFaults, StackAdminPort, StackStatus } from './port.js';

export interface StackAdminOptions {
  /** Base URL of the stack's intake + admin listener, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Bearer token of the admin API; without one, the admin calls get 401 (SRG_STACK_ADMIN). */
  token?: string;
  /** Per-call timeout, ms. Default 10 000 (a store restart takes a moment). */
  timeoutMs?: number;
}

/** The real admin API client, on undici. */
export function createStackAdmin(opts: StackAdminOptions): StackAdminPort {
  const base = opts.url.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function call<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown, auth = true): Promise<T> {
    const headers: Record<string, string> = {};
    if (auth && opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw new SurgeError('SRG_STACK_UNREACHABLE', `The stack at ${base} did not answer ${method} ${path}: ${(cause as Error).message}`, {
        hint: 'Start it with `surgectl stack up`, or pass --url with the address it listens on.',
        cause,
      });
    }
    const text = await res.body.text();
    if (res.statusCode >= 400) {
      throw new SurgeError('SRG_STACK_ADMIN', `The stack refused ${method} ${path}: HTTP ${res.statusCode} ${errorMessage(text)}`, {
        hint: res.statusCode === 401 ? 'Check the admin token (--token-env, default SURGECTL_STACK_ADMIN_TOKEN).' : undefined,
      });
    }
    if (path === '/metrics') return text as T;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new SurgeError('SRG_STACK_ADMIN', `The stack answered ${method} ${path} with a body that is not JSON`, { cause });
    }
  }

  return {
    url: base,
    status: () => call<StackStatus>('GET', '/admin/status'),
    metricsText: () => call<string>('GET', '/metrics', undefined, false),
    setWorkers: (count) => call('PUT', '/admin/workers', { count }),
    killWorker: () => call('POST', '/admin/faults/kill-worker'),
    pauseConsumer: () => call('POST', '/admin/faults/consumer/pause'),
    resumeConsumer: () => call('POST', '/admin/faults/consumer/resume'),
    setDropRatio: (ratio) => call('PUT', '/admin/faults/drop-requests', { ratio }),
    paymentFaults: () => call<PaymentFaults>('GET', '/admin/faults/payment'),
    setPaymentFaults: (faults) => call<PaymentFaults>('PUT', '/admin/faults/payment', faults),
    restartStore: () => call('POST', '/admin/faults/restart-store'),
    clearFaults: () => call<StackStatus>('DELETE', '/admin/faults'),
  };
}

/** The order API's error body is `{error: {code, message}}`; fall back to the raw text. */
function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return `${body.error.code ?? ''} ${body.error.message}`.trim();
  } catch {
    // not JSON: show the start of the text
  }
  return text.slice(0, 200);
}
