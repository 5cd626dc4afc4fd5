import type { CheckResult, HttpGet, PreflightOptions } from '../types.js';

type Found = Omit<CheckResult, 'name' | 'durationMs'>;

/** Whether a Cache-Control value lets a shared cache (a CDN) keep the answer, and why. */
export function cacheability(cacheControl: string | undefined): { cacheable: boolean; why: string } {
  if (!cacheControl) return { cacheable: false, why: 'no Cache-Control' };
  const directives = new Map<string, string | undefined>();
  for (const part of cacheControl.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k) directives.set(k.toLowerCase(), v?.replace(/^"|"$/g, ''));
  }
  for (const d of ['no-store', 'private', 'no-cache']) if (directives.has(d)) return { cacheable: false, why: d };
  const seconds = (d: string) => {
    const v = directives.get(d);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const shared = seconds('s-maxage');
  const maxAge = seconds('max-age');
  const ttl = shared ?? maxAge;
  if (ttl === undefined || ttl <= 0) return { cacheable: false, why: ttl === undefined ? 'no max-age or s-maxage' : `${shared !== undefined ? 's-maxage' : 'max-age'}=0` };
  return { cacheable: true, why: `${shared !== undefined ? 's-maxage' : 'max-age'}=${ttl}` };
}

/**
 * Static assets answer with a cacheable Cache-Control (max-age or s-maxage > 0, no no-store,
 * private or no-cache) and API URLs do not, one evidence line per URL.
 */
export async function checkCdn(opts: PreflightOptions, get: HttpGet): Promise<Found> {
  if (opts.cacheableUrls.length === 0 && opts.uncacheableUrls.length === 0) {
    return { verdict: 'skipped', evidence: ['no asset or API URLs configured'], fix: 'List asset URLs in preflight.cacheableUrls and API URLs in preflight.uncacheableUrls.' };
  }
  const timeoutMs = opts.httpTimeoutMs ?? 10_000;
  const rows = await Promise.all([
    ...opts.cacheableUrls.map((url) => probe(url, true, get, timeoutMs, opts.signal)),
    ...opts.uncacheableUrls.map((url) => probe(url, false, get, timeoutMs, opts.signal)),
  ]);
  const bad = rows.filter((r) => !r.ok);
  const evidence = rows.map((r) => `${r.ok ? 'ok' : 'BAD'} ${r.url}: ${r.detail}`);
  if (bad.length === 0) return { verdict: 'pass', evidence };
  const wantCacheable = bad.some((r) => r.wantCacheable);
  const wantPrivate = bad.some((r) => !r.wantCacheable);
  const fixes = [
    wantCacheable ? 'serve static assets with `Cache-Control: public, max-age=<seconds>` (fingerprinted files: max-age=31536000, immutable)' : '',
    wantPrivate ? 'serve API answers with `Cache-Control: no-store` (or private) so the CDN never shares one customer\'s answer' : '',
  ].filter(Boolean);
  return { verdict: 'fail', evidence, fix: `${fixes.join('; ')}; set it at the origin or in the CDN's cache rules.` };
}

async function probe(url: string, wantCacheable: boolean, get: HttpGet, timeoutMs: number, signal?: AbortSignal): Promise<{ url: string; ok: boolean; wantCacheable: boolean; detail: string }> {
  try {
    const res = await get(url, { timeoutMs, ...(signal ? { signal } : {}) });
    const cc = res.headers['cache-control'];
    const c = cacheability(cc);
    const shown = `HTTP ${res.status}, Cache-Control: ${cc ?? '(none)'}`;
    if (wantCacheable && (res.status < 200 || res.status >= 400)) return { url, ok: false, wantCacheable, detail: `${shown}: an asset must answer 2xx/3xx` };
    const ok = c.cacheable === wantCacheable;
    return { url, ok, wantCacheable, detail: `${shown} (${c.cacheable ? 'cacheable' : 'not cacheable'}: ${c.why}${ok ? '' : wantCacheable ? '; an asset must be cacheable' : '; an API answer must not be cacheable'})` };
  } catch (err) {
    return { url, ok: false, wantCacheable, detail: `no answer: ${(err as Error).message}` };
  }
}
