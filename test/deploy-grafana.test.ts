import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parsePromText } from '../src/util/prom-text.js';
import { httpClient, REPO_ROOT, startTestStack, tempDir, waitFor, writeSeedFile, type HttpClient, type TestStack } from './support/stack.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource: { type: string; uid: string };
  targets: { refId: string; expr: string }[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
}

const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy', 'grafana', 'surgectl-dashboard.json'), 'utf8')) as Dashboard;
const recording = new Map(
  (parseYaml(readFileSync(join(REPO_ROOT, 'deploy', 'prometheus', 'recording-rules.yaml'), 'utf8')) as { groups: { rules: { record?: string; expr: string }[] }[] }).groups
    .flatMap((g) => g.rules)
    .filter((r) => r.record)
    .map((r) => [r.record as string, r.expr]),
);

/** PromQL functions, aggregations and keywords: every other identifier outside {} and [] is a metric name. */
const NOT_METRICS = new Set(['sum', 'max', 'min', 'avg', 'count', 'by', 'without', 'rate', 'irate', 'increase', 'histogram_quantile', 'or', 'and', 'unless', 'vector', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);

/** Selectors of an expression: metric name and its equality label matchers. */
function selectors(expr: string): { metric: string; labels: Record<string, string> }[] {
  const out: { metric: string; labels: Record<string, string> }[] = [];
  const text = expr.replace(/\[[^\]]*\]/g, '').replace(/\b(by|without)\s*\([^)]*\)/g, '');
  for (const m of text.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g)) {
    const [, name, matchers] = m;
    if (!name || NOT_METRICS.has(name) || /^\d/.test(name)) continue;
    if (text[(m.index ?? 0) + m[0].length] === '(' && !matchers) continue; // a function call
    const labels: Record<string, string> = {};
    for (const l of (matchers ?? '').matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) if (!/[!~]$/.test(l[0].split('=')[0] ?? '')) labels[l[1] as string] = l[2] as string;
    out.push({ metric: name, labels });
  }
  return out;
}

/** Raw metrics behind an expression: recording rules are replaced by the selectors of their expressions. */
function rawSelectors(expr: string): { metric: string; labels: Record<string, string> }[] {
  return selectors(expr).flatMap((s) => {
    const rule = recording.get(s.metric);
    return rule === undefined ? [s] : rawSelectors(rule);
  });
}

let stack: TestStack;
let http: HttpClient;
const seedDir = tempDir('surgectl-seed-');

beforeAll(async () => {
  stack = await startTestStack({ seedInventory: writeSeedFile(seedDir.path, [{ sku: 'SKU-1', stock: 10 }]), workers: 2 });
  http = httpClient(stack.url, { adminToken: stack.adminToken });
});
afterAll(async () => {
  await http?.close();
  await stack?.dispose();
  seedDir.remove();
});

it('is a Grafana dashboard model: schemaVersion, uid, a Prometheus datasource variable, panels with gridPos and targets', () => {
  expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
  expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
  expect(dashboard.title).toBeTruthy();
  expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
  expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
  expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  for (const p of dashboard.panels) {
    expect(p.gridPos, p.title).toEqual({ h: expect.any(Number), w: expect.any(Number), x: expect.any(Number), y: expect.any(Number) });
    expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    expect(p.targets.length, p.title).toBeGreaterThan(0);
    for (const t of p.targets) expect(t.expr, p.title).toMatch(/\S/);
  }
});

it("every metric a panel queries (through the recording rules) is in the real stack's /metrics, with the labels it matches on", async () => {
  for (let i = 0; i < 5; i++) expect((await http.postOrder({ customerId: `c-${i}`, items: [{ sku: 'SKU-1', qty: 1 }] }, `dash-${i}`)).status).toBe(202);
  // One rejection, so the labelled rejection counter has a series.
  expect((await http.postOrder({ customerId: 'c-x', items: [{ sku: 'NO-SUCH-SKU', qty: 1 }] }, 'dash-unknown')).status).toBeGreaterThanOrEqual(400);
  await waitFor('5 orders confirmed', async () => ((await http.call('GET', '/metrics')).text.includes('surgectl_orders_completed_total{status="confirmed"} 5') ? true : undefined), { timeoutMs: 20_000, intervalMs: 100 });
  const scrape = parsePromText((await http.call('GET', '/metrics')).text);
  const queried = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => rawSelectors(t.expr).map((s) => ({ ...s, panel: p.title }))));
  // The extraction itself must find the metrics: a regex that finds nothing would pass everything.
  expect(new Set(queried.map((q) => q.metric))).toEqual(
    new Set([
      'surgectl_orders_accepted_total',
      'surgectl_orders_completed_total',
      'surgectl_orders_rejected_total',
      'surgectl_http_request_duration_seconds_bucket',
      'surgectl_http_request_duration_seconds_count',
      'surgectl_load_shed_total',
      'surgectl_queue_depth',
      'surgectl_queue_oldest_age_seconds',
      'surgectl_workers',
      'surgectl_pipeline_step_duration_seconds_bucket',
      'surgectl_payment_attempts_total',
      'surgectl_payment_breaker_state',
      'surgectl_inventory_oversold_units',
      'surgectl_pipeline_redeliveries_total',
      'surgectl_rate_limited_total',
      'surgectl_flag_enabled',
      'surgectl_store_sync_duration_seconds_bucket',
    ]),
  );
  const missing: string[] = [];
  for (const q of queried) {
    // Status codes come and go with traffic (no 500 on a healthy stack); every other label value must be served.
    const labels = Object.fromEntries(Object.entries(q.labels).filter(([k]) => k !== 'status_code'));
    if (!scrape.samples.some((s) => s.name === q.metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v))) missing.push(`${q.panel}: ${q.metric}${JSON.stringify(labels)}`);
  }
  expect(missing).toEqual([]);
});
