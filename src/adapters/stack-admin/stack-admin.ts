import { request } from 'undici';
import { SurgeError } from '../../errors.js';
import { isHttpUrl } from '../../util/url.js';
import type { InventoryItem, PaymentFaults, StackAdminPort, StackFlag, StackFlagList, StackStatus } from './port.js';
import { transportFailureReason } from '../../util/transport-failure.js';

export interface StackAdminOptions {
  /** Base URL of the stack's intake + admin listener, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Bearer token of the admin API; without one, the admin calls get 401 (SRG_STACK_ADMIN). */
  token?: string;
  /** Per-call timeout, ms. Default 10 000 (a store restart takes a moment). */
  timeoutMs?: number;
}

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

const START_HINT = 'Start one with `surgectl stack up`, or pass --url with the URL it printed.';

/**
 * The real admin API client, on undici.
 * @throws SurgeError SRG_CLI_USAGE when `url` is not an http(s) URL (before any request).
 */
export function createStackAdmin(opts: StackAdminOptions): StackAdminPort {
  if (!isHttpUrl(opts.url)) {
    throw new SurgeError('SRG_CLI_USAGE', `Not a URL: '${opts.url}'`, { hint: 'Pass the stack URL printed by `surgectl stack up`, e.g. --url http://127.0.0.1:8080' });
  }
  const base = opts.url.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function call<T>(method: Method, path: string, c: { body?: unknown; auth?: boolean; text?: boolean; signal?: AbortSignal | undefined } = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (c.auth !== false && opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (c.body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(timeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await request(base + path, {
        method,
        headers,
        body: c.body === undefined ? undefined : JSON.stringify(c.body),
        signal: c.signal ? AbortSignal.any([timeout, c.signal]) : timeout,
      });
      status = res.statusCode;
      // Inside the try: the connection can still drop, or the signal fire, while the body streams.
      text = await res.body.text();
    } catch (err) {
      throw transportError(err, { base, method, path, timeoutMs, interrupted: c.signal?.aborted === true });
    }
    if (status >= 400) throw refusal(status, text, base, method, path);
    if (c.text === true) return text as T;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new SurgeError('SRG_STACK_ADMIN', `The stack at ${base} answered ${method} ${path} with a body that is not JSON`, {
        hint: 'Check that --url points at a surgectl stack and not at another server.',
        cause,
      });
    }
  }

  const flagPath = (name: string) => `/admin/flags/${encodeURIComponent(name)}`;
  return {
    url: base,
    status: async (o = {}) => withColor(await call<StackStatus>('GET', '/admin/status', { signal: o.signal })),
    metricsText: () => call<string>('GET', '/metrics', { auth: false, text: true }),
    inventory: async (o = {}) => (await call<{ items: InventoryItem[] }>('GET', '/v1/inventory', { auth: false, signal: o.signal })).items,
    setWorkers: (count) => call('PUT', '/admin/workers', { body: { count } }),
    killWorker: () => call('POST', '/admin/faults/kill-worker'),
    pauseConsumer: () => call('POST', '/admin/faults/consumer/pause'),
    pauseIntake: () => call('POST', '/admin/intake/pause'),
    resumeIntake: () => call('POST', '/admin/intake/resume'),
    resumeConsumer: () => call('POST', '/admin/faults/consumer/resume'),
    setDropRatio: (ratio) => call('PUT', '/admin/faults/drop-requests', { body: { ratio } }),
    paymentFaults: () => call<PaymentFaults>('GET', '/admin/faults/payment'),
    setPaymentFaults: (faults) => call<PaymentFaults>('PUT', '/admin/faults/payment', { body: faults }),
    restartStore: () => call('POST', '/admin/faults/restart-store'),
    clearFaults: async () => withColor(await call<StackStatus>('DELETE', '/admin/faults')),
    flags: async () => (await call<{ flags: StackFlag[] }>('GET', '/admin/flags')).flags,
    flagList: (o = {}) => call<StackFlagList>('GET', '/admin/flags', { signal: o.signal }),
    setFlag: (name, enabled) => call<StackFlag>('PUT', flagPath(name), { body: { enabled } }),
    clearFlag: (name) => call<StackFlag>('DELETE', flagPath(name)),
  };
}

/** The order API's error body (`{error: {code, message, details?}}`, docs/order-api.md). */
interface ErrorBody {
  code?: string;
  message?: string;
  details?: { path?: string; message?: string }[];
}

function errorBody(text: string): ErrorBody | undefined {
  try {
    return (JSON.parse(text) as { error?: ErrorBody }).error;
  } catch {
    return undefined;
  }
}

/** An answer with an error status, in the words of the stack's own error body when it has one. */
function refusal(status: number, text: string, base: string, method: Method, path: string): SurgeError {
  const body = errorBody(text);
  if (status === 404 && body?.code === 'ORDER_FLAG_NOT_FOUND') {
    const name = decodeURIComponent(path.slice('/admin/flags/'.length));
    // The stack lists its flags in the details ("known flags: a, b"); pass that on as the hint.
    const known = body.details?.find((d) => d.path === 'params.name')?.message;
    return new SurgeError('SRG_STACK_UNKNOWN_FLAG', `The stack at ${base} has no flag named '${name}'`, {
      hint: known ?? 'List the flags it knows with GET /admin/flags.',
    });
  }
  const said = body?.message ? `${body.code ?? ''} ${body.message}`.trim() : text.slice(0, 200);
  return new SurgeError('SRG_STACK_ADMIN', `The stack at ${base} refused ${method} ${path}: HTTP ${status} ${said}`.trimEnd(), {
    hint:
      status === 401
        ? 'Give the admin token printed by `surgectl stack up`: export SURGECTL_STACK_ADMIN_TOKEN=<token>, or --token-env NAME for another variable.'
        : undefined,
  });
}

/**
 * What went wrong when no answer came, in words: undici throws errors that name only an errno
 * code (`connect ECONNREFUSED 127.0.0.1:1`) or an abort. A call the caller aborted (Ctrl+C) is an
 * interruption, not a stack that is down.
 */
function transportError(
  err: unknown,
  at: { base: string; method: string; path: string; timeoutMs: number; interrupted: boolean },
): SurgeError {
  const what = `${at.method} ${at.path}`;
  if (at.interrupted) return new SurgeError('SRG_CLI_INTERRUPTED', `Interrupted while asking the stack at ${at.base} (${what})`, { cause: err });
  const reason = transportFailureReason(err, at.base, at.timeoutMs);
  return new SurgeError('SRG_STACK_UNREACHABLE', `No stack answered ${what} at ${at.base} (${reason})`, { hint: START_HINT, cause: err });
}

/** A stack from before `color` existed sends none: it has no color. */
function withColor(s: StackStatus): StackStatus {
  return s.color === 'blue' || s.color === 'green' ? s : { ...s, color: null };
}
