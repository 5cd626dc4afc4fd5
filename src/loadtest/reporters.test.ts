import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { createPaint } from '../ui/color.js';
import { renderHtml, renderJUnit, renderProgress, renderText } from './reporters.js';
import type { LoadTestResult } from './summary.js';

const result: LoadTestResult = {
  engine: 'builtin',
  scenario: 'flash <sale> & "co"',
  target: 'http://127.0.0.1:8080',
  passed: false,
  aborted: 'threshold http_req_failed: rate<0.01 failed (abortOnFail)',
  thresholds: [
    { metric: 'http_req_duration{scenario:sale}', threshold: 'p(95)<200', ok: false, phase: 'fail', value: 312.5, message: 'observed p(95)=312.5, wanted p(95)<200', abortOnFail: false },
    { metric: 'http_req_failed', threshold: 'rate<0.01', ok: true, phase: 'pass', value: 0, abortOnFail: true },
    { metric: 'orders_confirmed', threshold: 'count>0', ok: false, phase: 'error', message: 'metric orders_confirmed was not recorded', abortOnFail: false },
  ],
  summary: {
    root_group: { name: '', path: '', id: '', groups: [], checks: [] },
    options: { summaryTrendStats: [], summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 12_000 },
    metrics: {
      http_req_duration: { type: 'trend', contains: 'time', values: { avg: 100, min: 1, med: 90, max: 400, 'p(90)': 250, 'p(95)': 312.5, 'p(99)': 390 } },
      http_req_failed: { type: 'rate', contains: 'default', values: { rate: 0, passes: 0, fails: 100 } },
      http_reqs: { type: 'counter', contains: 'default', values: { count: 100, rate: 8.3 } },
    },
  },
  scenarios: [{ name: 'sale', executor: 'constant-arrival-rate', scheduled: 120, arrivals: 120, iterations: 100, dropped: 20, vusAllocated: 10, activeMs: 12_000 }],
  timeline: [
    { t: 1, requests: 10, failed: 0, dropped: 0, p50Ms: 50, p95Ms: 90, p99Ms: 100, vus: 2 },
    { t: 2, requests: 12, failed: 1, dropped: 3, p50Ms: 60, p95Ms: 300, p99Ms: 390, vus: 9 },
  ],
  durationMs: 12_000,
  warnings: [],
};

describe('reporters', () => {
  it('JUnit: valid XML, a testcase per threshold, failures name the threshold and value, an abort is a failure', () => {
    const xml = renderJUnit(result);
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as {
      testsuites: { failures: string; testsuite: { name: string; testcase: { name: string; failure?: { message: string } }[] } };
    };
    expect(doc.testsuites.failures).toBe('3');
    expect(doc.testsuites.testsuite.name).toBe('flash <sale> & "co"');
    const cases = doc.testsuites.testsuite.testcase;
    expect(cases.map((c) => c.name)).toEqual(['http_req_duration{scenario:sale}: p(95)<200', 'http_req_failed: rate<0.01', 'orders_confirmed: count>0', 'run completed']);
    expect(cases[0]!.failure!.message).toBe('threshold p(95)<200 on http_req_duration{scenario:sale} failed: observed 312.5');
    expect(cases[2]!.failure!.message).toContain('was not recorded');
    expect(cases[3]!.failure!.message).toContain('abortOnFail');
  });

  it('HTML: self-contained, escaped, with latency and throughput charts', () => {
    const html = renderHtml(result);
    expect(html).toContain('flash &lt;sale&gt; &amp; &quot;co&quot;');
    expect(html).not.toContain('<script');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toMatch(/<polyline[^>]*><title>p95<\/title>/);
    expect(html).toMatch(/<polyline[^>]*><title>dropped<\/title>/);
  });

  it('text: k6-like marks, no colour codes when colour is off', () => {
    const text = renderText(result, createPaint(false));
    expect(text).toContain('✗ http_req_duration{scenario:sale} p(95)<200  observed 312.5');
    expect(text).toContain('✓ http_req_failed rate<0.01');
    expect(text).toContain('sale (constant-arrival-rate): 120/120 arrivals, 20 dropped');
    expect(text).toContain('FAILED: 2 threshold(s) failed (run aborted)');
    expect(text).not.toContain('\u001b[');
  });

  it('progress line', () => {
    expect(renderProgress({ elapsedMs: 12_000, plannedMs: 60_000, rps: 5012.4, p95Ms: 3.21, requests: 1000, failed: 5, dropped: 2, vus: 14 })).toBe(
      '12.0s/60s  5012 req/s  p95 3.21ms  errors 0.50%  dropped 2  vus 14',
    );
  });
});
