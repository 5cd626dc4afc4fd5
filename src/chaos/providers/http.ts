import { request } from 'undici';
import { SurgeError } from '../../errors.js';
import type { ProviderContext } from './types.js';

/** The `http` provider (Chaos Toolkit's shape): `{type: http, url, method, headers, arguments, timeout}`. */
export interface HttpProvider {
  url: string;
  method: string;
  headers?: Record<string, string> | undefined;
  /** Sent as a JSON body. */
  arguments?: unknown;
  /** Per-request timeout, ms (default 30 000). */
  timeout?: number | undefined;
}

/** Output: `{status, headers, body}` with body parsed as JSON when it is JSON. */
export async function runHttp(p: HttpProvider, ctx: ProviderContext): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
  const headers: Record<string, string> = { ...(p.headers ?? {}) };
  const hasBody = p.arguments !== undefined && p.method !== 'GET' && p.method !== 'HEAD';
  if (hasBody && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(p.url, {
      method: p.method as 'GET',
      headers,
      body: hasBody ? JSON.stringify(p.arguments) : undefined,
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(p.timeout ?? 30_000)]),
    });
  } catch (cause) {
    throw new SurgeError('SRG_CHAOS_HTTP', `${p.method} ${p.url} failed: ${(cause as Error).message}`, { cause });
  }
  const text = await res.body.text();
  let body: unknown = text;
  if ((res.headers['content-type'] ?? '').toString().includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
  }
  const outHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) outHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.statusCode, headers: outHeaders, body };
}
