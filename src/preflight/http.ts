import type { HttpGet } from './types.js';
import { transportFailureReason } from '../util/transport-failure.js';

/** GET with undici: status, headers (lower-cased, joined with ", " when repeated) and body; rejects with why there was no answer. */
export const undiciGet: HttpGet = async (url, opts) => {
  const { request } = await import('undici');
  try {
    const res = await request(url, { method: 'GET', headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.statusCode, headers, body: await res.body.text() };
  } catch (err) {
    throw new Error(transportFailureReason(err, url, opts.timeoutMs), { cause: err });
  }
};
