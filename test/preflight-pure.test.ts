import { describe, expect, it } from 'vitest';
import { cacheability } from '../src/preflight/checks/cdn.js';
import { readResult } from '../src/preflight/checks/loadtest.js';
import { checkAlerts } from '../src/preflight/checks/alerts.js';
import type { PreflightOptions } from '../src/preflight/types.js';

describe('cacheability (what a shared cache may keep)', () => {
  it.each([
    ['public, max-age=31536000, immutable', true, 'max-age=31536000'],
    ['max-age=0, s-maxage=600', true, 's-maxage=600'],
    ['s-maxage=0, max-age=600', false, 's-maxage=0'],
    ['public, max-age=0', false, 'max-age=0'],
    ['no-store', false, 'no-store'],
    ['private, max-age=600', false, 'private'],
    ['no-cache, max-age=600', false, 'no-cache'],
    ['public', false, 'no max-age or s-maxage'],
    ['max-age="120"', true, 'max-age=120'],
    [undefined, false, 'no Cache-Control'],
  ])('%s -> cacheable %s (%s)', (header, cacheable, why) => {
    expect(cacheability(header)).toEqual({ cacheable, why });
  });
});

describe('readResult (load-test files)', () => {
  it("takes surgectl's verdict and the iterations rate", () => {
    expect(readResult({ metrics: { iterations: { values: { rate: 12.5 } }, http_reqs: { values: { rate: 40 } } }, surgectl: { passed: false } })).toEqual({ passed: false, rate: 12.5, metric: 'iterations' });
  });
  it('a k6 summary passes only when every threshold is ok; --summary-export keeps rate at the top', () => {
    expect(readResult({ metrics: { http_reqs: { rate: 30, thresholds: { 'rate>10': { ok: true } } }, http_req_duration: { thresholds: { 'p(95)<200': { ok: false } } } } })).toEqual({ passed: false, rate: 30, metric: 'http_reqs' });
    expect(readResult({ metrics: {} })).toEqual({ passed: true, rate: undefined, metric: undefined });
  });
});

it('alerts: shipped rules that cannot be read fail the check (an installation without deploy/), never pass it', async () => {
  const opts = { prometheusUrl: 'http://127.0.0.1:9', rulesDir: '/nonexistent/deploy/prometheus' } as PreflightOptions;
  const found = await checkAlerts(opts, () => Promise.reject(new Error('not called')));
  expect(found).toMatchObject({ verdict: 'fail', evidence: ['cannot read the shipped rules in /nonexistent/deploy/prometheus: ENOENT'] });
});
