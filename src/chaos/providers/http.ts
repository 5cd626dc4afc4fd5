import { Agent, request } from 'undici';
import { SurgeError } from '../../errors.js';
import type { ProviderContext } from './types.js';

/** Chaos Toolkit's `http` provider: `{type: http, url, method, headers, arguments, timeout, verify_tls, expected_status, max_retries}`. */
export interface HttpProvider {
  url: string;
  /** Upper-case HTTP method. */
  method: string;
  headers?: Record<string, string> | undefined;
  /** GET/HEAD: query parameters; otherwise the body (JSON, or a form with a form content-type). */
  arguments?: unknown;
  /** ms, or `[connect, read]` ms; default 30 000. */
  timeout?: number | [number, number] | undefined;
  /** Check the server's certificate. Default true. */
  verify_tls?: boolean | undefined;
  /** When set, any other status fails the activity. */
  expected_status?: number | undefined;
  /** Retries after a connection failure. Default 0. */
  max_retries?: number | undefined;
}

/** Output: `{status, headers, body}` with body parsed as JSON when it is JSON. */
export async function runHttp(p: HttpProvider, ctx: ProviderContext): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
  const headers: Record<string, string> = { ...(p.headers ?? {}) };
  const contentType = Object.entries(headers).find(([h]) => h.toLowerCase() === 'content-type')?.[1] ?? '';
  const query = p.method === 'GET' || p.method === 'HEAD';
  let url = p.url;
  let body: string | undefined;
  if (p.arguments !== undefined && p.arguments !== null) {
    if (query) {
      if (typeof p.arguments === 'object') {
        const u = new URL(p.url);
        for (const [k, v] of Object.entries(p.arguments as Record<string, unknown>)) u.searchParams.append(k, typeof v === 'string' ? v : JSON.stringify(v));
        url = u.toString();
      }
    } else if (contentType.includes('x-www-form-urlencoded') && typeof p.arguments === 'object') {
      body = new URLSearchParams(Object.entries(p.arguments as Record<string, unknown>).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString();
    } else {
      body = JSON.stringify(p.arguments);
      if (contentType === '') headers['content-type'] = 'application/json';
    }
  }
  const [connectMs, readMs] = Array.isArray(p.timeout) ? p.timeout : [p.timeout ?? 30_000, p.timeout ?? 30_000];
  const dispatcher = new Agent({ connect: { timeout: connectMs, rejectUnauthorized: p.verify_tls !== false }, headersTimeout: readMs, bodyTimeout: readMs });
  try {
    let res: Awaited<ReturnType<typeof request>> | undefined;
    const attempts = 1 + (p.max_retries ?? 0);
    for (let attempt = 1; res === undefined; attempt++) {
      try {
        res = await request(url, { method: p.method as 'GET', headers, body, dispatcher, signal: ctx.signal });
      } catch (cause) {
        if (attempt >= attempts || ctx.signal.aborted) {
          throw new SurgeError('SRG_CHAOS_HTTP', `${p.method} ${p.url} failed${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${(cause as Error).message}`, { cause });
        }
      }
    }
    const text = await res.body.text();
    let parsed: unknown = text;
    if ((res.headers['content-type'] ?? '').toString().includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep the text
      }
    }
    if (p.expected_status !== undefined && res.statusCode !== p.expected_status) {
      throw new Error(`${p.method} ${p.url} answered ${res.statusCode}, expected_status is ${p.expected_status}`);
    }
    const outHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) outHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.statusCode, headers: outHeaders, body: parsed };
  } finally {
    void dispatcher.close();
  }
}
