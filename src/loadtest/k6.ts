import { SurgeError } from '../errors.js';
import { aggregationKey, evaluateCondition, parseCondition, type ThresholdCondition } from '../probes/index.js';
import type { Reporter } from '../reporter.js';
import { formatDuration } from '../util/duration.js';
import { buildMix } from './requests.js';
import { allRequests, isK6Script, loadScenarioFile, mixFor, type ExecutorConfig, type LoadedScenario } from './scenario.js';
import type { K6Metric, K6Summary, LoadTestResult, ThresholdResult } from './summary.js';

/**
 * The k6 engine: export a scenario as a k6 script (and k6-operator manifests), run k6 from PATH,
 * and read its handleSummary JSON back into the same result the builtin engine returns.
 */

/** Metrics k6 records itself; thresholds on anything else need a custom metric in the script. */
const K6_BUILTINS = new Set([
  'http_reqs',
  'http_req_duration',
  'http_req_failed',
  'http_req_blocked',
  'http_req_connecting',
  'http_req_sending',
  'http_req_waiting',
  'http_req_receiving',
  'http_req_tls_handshaking',
  'iterations',
  'iteration_duration',
  'dropped_iterations',
  'data_received',
  'data_sent',
  'vus',
  'vus_max',
  'checks',
  'group_duration',
  'ws_connecting',
  'ws_msgs_received',
  'ws_msgs_sent',
  'ws_ping',
  'ws_session_duration',
  'ws_sessions',
  'grpc_req_duration',
  'grpc_streams',
  'grpc_streams_msgs_received',
  'grpc_streams_msgs_sent',
  'browser_web_vital_lcp',
  'browser_web_vital_fcp',
  'browser_web_vital_cls',
]);

/** The k6 metric type a threshold's aggregation needs: Trend for p(N)/avg/min/max/med, Rate for rate, Counter for count, Gauge for value. */
function metricKindFor(c: ThresholdCondition): 'counter' | 'gauge' | 'trend' | 'rate' {
  switch (c.aggregation) {
    case 'count':
      return 'counter';
    case 'value':
      return 'gauge';
    case 'rate':
      return 'rate';
    default:
      return 'trend';
  }
}

/** Aliases the builtin engine derives from the target's /metrics; the script does the same. */
const SCRAPE_ALIASES: Record<string, { name: string; labels: Record<string, string>; kind: 'counter' | 'gauge' }> = {
  orders_confirmed: { name: 'surgectl_orders_completed_total', labels: { status: 'confirmed' }, kind: 'counter' },
  inventory_oversold_units: { name: 'surgectl_inventory_oversold_units', labels: {}, kind: 'gauge' },
};

export interface K6ExportOptions {
  /** File the script's handleSummary writes (overridable at run time with SURGECTL_SUMMARY). Default "summary.json". */
  summaryFile?: string;
}

/**
 * Milliseconds as a k6 duration string (`30s`, `2m`, `1500ms`, `2d`). k6 would read the number of
 * milliseconds too; text keeps the script readable. k6 has no week unit, so weeks are days.
 */
export function k6Duration(ms: number): string {
  if (ms === 0) return '0s';
  const text = formatDuration(ms);
  return text.endsWith('w') ? `${ms / 86_400_000}d` : text;
}

/** An executor as k6's options.scenarios entry: its durations as k6 text. */
function k6Executor(ex: ExecutorConfig): Record<string, unknown> {
  const common = { startTime: k6Duration(ex.startTime), gracefulStop: k6Duration(ex.gracefulStop) };
  switch (ex.executor) {
    case 'constant-vus':
      return { ...ex, ...common, duration: k6Duration(ex.duration) };
    case 'constant-arrival-rate':
      return { ...ex, ...common, timeUnit: k6Duration(ex.timeUnit), duration: k6Duration(ex.duration) };
    case 'ramping-arrival-rate':
      return { ...ex, ...common, timeUnit: k6Duration(ex.timeUnit), stages: ex.stages.map((st) => ({ ...st, duration: k6Duration(st.duration) })) };
    case 'ramping-vus':
      return { ...ex, ...common, gracefulRampDown: k6Duration(ex.gracefulRampDown), stages: ex.stages.map((st) => ({ ...st, duration: k6Duration(st.duration) })) };
    case 'per-vu-iterations':
    case 'shared-iterations':
      return { ...ex, ...common, maxDuration: k6Duration(ex.maxDuration) };
  }
}

/** A k6 script equivalent to the scenario: options.scenarios, thresholds, and the request mix in JS. */
export function exportK6Script(loaded: LoadedScenario, opts: K6ExportOptions = {}): string {
  const s = loaded.scenario;
  const scenarios: Record<string, unknown> = {};
  // Every scenario runs the script's one `mix` function, which draws from the mix its exec names.
  const mixOf: Record<string, string> = {};
  const mixes: Record<string, unknown[]> = {};
  for (const [name, ex] of Object.entries(s.scenarios)) {
    scenarios[name] = { ...k6Executor(ex), exec: 'mix' };
    const mixName = ex.exec ?? 'default';
    mixOf[name] = mixName;
    mixes[mixName] ??= buildMix(mixFor(s, ex)).map((e) => ({ name: e.name, upTo: e.upTo, ...e.config }));
  }
  const thresholds: Record<string, unknown> = s.thresholds;

  // Custom metrics for thresholds k6 does not know: order counters from responses, the rest scraped in teardown.
  const scraped: { metric: string; name: string; labels: Record<string, string>; kind: 'counter' | 'gauge' | 'trend' | 'rate' }[] = [];
  for (const t of loaded.thresholds) {
    const m = t.selector.metric;
    if (K6_BUILTINS.has(m) || m === 'orders_accepted' || m === 'orders_rejected' || scraped.some((x) => x.metric === m)) continue;
    const alias = SCRAPE_ALIASES[m];
    const kind = alias?.kind ?? metricKindFor(t.condition);
    scraped.push({ metric: m, name: alias?.name ?? m, labels: alias?.labels ?? {}, kind });
  }
  const createsOrders = allRequests(s).some((r) => r.kind === 'create-order' || r.kind === 'batch-create');
  const j = (v: unknown) => JSON.stringify(v, null, 2);

  return `// Generated by surgectl loadtest export --k6 from scenario "${s.name}". Edit the scenario, not this file.
// Run: k6 run -e TARGET=${s.target} script.js   (exit 99 = a threshold failed)
import http from 'k6/http';
import exec from 'k6/execution';
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';

export const options = {
  scenarios: ${indent(j(scenarios), 2)},
  thresholds: ${indent(j(thresholds), 2)},
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const TARGET = (__ENV.TARGET || ${JSON.stringify(s.target)}).replace(/\\/$/, '');
const RUN_ID = __ENV.RUN_ID || String(Date.now());
const MIXES = ${indent(j(mixes), 0)};
const MIX_OF = ${indent(j(mixOf), 0)};
const PAYLOAD = ${j(s.payload)};
const HEADERS = ${j(s.http.headers)};
const TIMEOUT = ${JSON.stringify(k6Duration(s.http.timeout))};

const ordersAccepted = new Counter('orders_accepted');
const ordersRejected = new Counter('orders_rejected');
const SCRAPED = ${indent(j(scraped), 0)};
const scrapedMetrics = {};
const KINDS = { counter: Counter, gauge: Gauge, trend: Trend, rate: Rate };
for (const m of SCRAPED) scrapedMetrics[m.metric] = new KINDS[m.kind](m.metric);

// Order ids this VU created, for get-status.
const recent = [];

function between(min, max) {
  return min + Math.floor(Math.random() * (max - min + 1));
}

function pick(mix) {
  const r = Math.random();
  for (const e of mix) if (r < e.upTo) return e;
  return mix[mix.length - 1];
}

function order(skus, e) {
  const n = Math.min(skus.length, between(e.items.min, e.items.max));
  const start = Math.floor(Math.random() * skus.length);
  const items = [];
  for (let i = 0; i < n; i++) items.push({ sku: skus[(start + i) % skus.length], qty: between(e.qty.min, e.qty.max) });
  const o = { customerId: 'c-' + between(1, PAYLOAD.customers), items };
  if (PAYLOAD.declineRatio > 0 && Math.random() < PAYLOAD.declineRatio) o.paymentToken = 'tok_decline';
  return o;
}

function key(i) {
  return RUN_ID + '-' + exec.scenario.name + '-' + exec.scenario.iterationInTest + '-' + i;
}

function scrape() {
  const res = http.get(TARGET + '/metrics', { tags: { name: 'scrape' }, responseCallback: http.expectedStatuses(200, 404) });
  const out = [];
  if (res.status !== 200 || typeof res.body !== 'string') return out;
  for (const line of res.body.split('\\n')) {
    const m = /^([A-Za-z_:][\\w:]*)(?:\\{(.*)\\})?\\s+(\\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || '').matchAll(/([A-Za-z_]\\w*)="((?:[^"\\\\]|\\\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

export function setup() {
  let skus = PAYLOAD.skus;
  if (skus === 'inventory' && ${createsOrders}) {
    const res = http.get(TARGET + '/v1/inventory', { tags: { name: 'setup_inventory' } });
    skus = (res.json('items') || []).map((i) => i.sku);
    if (skus.length === 0) exec.test.abort('no skus in ' + TARGET + '/v1/inventory');
  }
  return { skus, before: SCRAPED.length ? scrape() : [] };
}

export function mix(data) {
  const entries = MIXES[MIX_OF[exec.scenario.name]];
  let e = pick(entries);
  const fallback = entries.find((x) => x.kind === 'create-order' || x.kind === 'batch-create');
  if (e.kind === 'get-status' && recent.length === 0 && fallback) e = fallback;
  const params = { headers: Object.assign({}, HEADERS), tags: { name: e.name }, timeout: TIMEOUT };
  if (e.kind === 'create-order') {
    params.headers['Content-Type'] = 'application/json';
    params.headers['Idempotency-Key'] = key(0);
    const res = http.post(TARGET + '/v1/orders', JSON.stringify(order(data.skus, e)), params);
    if (res.status === 200 || res.status === 202) {
      ordersAccepted.add(1);
      const id = res.json('orderId');
      if (id) recent.push(id) > 1024 && recent.shift();
    } else ordersRejected.add(1);
  } else if (e.kind === 'batch-create') {
    params.headers['Content-Type'] = 'application/json';
    const orders = [];
    for (let i = 0; i < e.batchSize; i++) orders.push(Object.assign({ idempotencyKey: key(i) }, order(data.skus, e)));
    const res = http.post(TARGET + '/v1/orders/batch', JSON.stringify({ orders }), params);
    let accepted = 0;
    if (res.status === 207) {
      for (const r of res.json('results') || []) {
        if (r.status === 200 || r.status === 202) {
          accepted++;
          if (r.orderId) recent.push(r.orderId) > 1024 && recent.shift();
        }
      }
    }
    ordersAccepted.add(accepted);
    ordersRejected.add(e.batchSize - accepted);
  } else if (e.kind === 'get-status') {
    const id = recent[Math.floor(Math.random() * recent.length)] || 'none';
    http.get(TARGET + '/v1/orders/' + encodeURIComponent(id), params);
  } else {
    const body = e.body === undefined ? null : JSON.stringify(e.body);
    if (body !== null) params.headers['Content-Type'] = 'application/json';
    http.request(e.method, TARGET + e.path, body, params);
  }
}

export function teardown(data) {
  if (SCRAPED.length === 0) return;
  const after = scrape();
  const matches = (s, name, labels) => s.name === name && Object.keys(labels).every((k) => s.labels[k] === labels[k]);
  for (const m of SCRAPED) {
    for (const s of after.filter((x) => matches(x, m.name, m.labels))) {
      const prev = data.before.find((b) => matches(b, m.name, s.labels));
      const v = m.kind === 'counter' ? Math.max(0, s.value - (prev ? prev.value : 0)) : s.value;
      scrapedMetrics[m.metric].add(v, s.labels);
    }
  }
}

export function handleSummary(data) {
  return { [__ENV.SURGECTL_SUMMARY || ${JSON.stringify(opts.summaryFile ?? 'summary.json')}]: JSON.stringify(data, null, 2) };
}
`;
}

function indent(text: string, spaces: number): string {
  return text.replace(/\n/g, '\n' + ' '.repeat(spaces));
}

const CONFIGMAP_LIMIT = 1_048_576;

export interface K6OperatorOptions {
  /** k6 runners (pods); each gets an equal execution segment. */
  parallelism: number;
  /** metadata.name of the TestRun; the ConfigMap is `<name>-script`. Default: the scenario name. */
  name?: string;
  namespace?: string;
  /** Runner image. Default grafana/k6. */
  image?: string;
}

/**
 * A k6-operator TestRun (k6.io/v1alpha1) and the ConfigMap holding the script, as one
 * multi-document YAML. Throws SRG_LOADTEST_EXPORT when the script exceeds a ConfigMap's 1 MiB.
 */
export async function exportK6Operator(loaded: LoadedScenario, opts: K6OperatorOptions): Promise<string> {
  if (!Number.isInteger(opts.parallelism) || opts.parallelism < 1) {
    throw new SurgeError('SRG_LOADTEST_EXPORT', `--parallelism must be a whole number >= 1, got ${opts.parallelism}`);
  }
  const { stringify } = await import('yaml');
  const name = dns1123(opts.name ?? loaded.scenario.name ?? 'loadtest');
  const script = exportK6Script(loaded, { summaryFile: '/tmp/summary.json' });
  const size = Buffer.byteLength(script);
  if (size > CONFIGMAP_LIMIT) {
    throw new SurgeError('SRG_LOADTEST_EXPORT', `The k6 script is ${size} bytes; a ConfigMap holds at most ${CONFIGMAP_LIMIT}`, {
      hint: 'Shrink the scenario (inline bodies, sku lists) or mount the script from a volumeClaim instead.',
    });
  }
  const meta = (n: string) => ({ name: n, ...(opts.namespace ? { namespace: opts.namespace } : {}), labels: { 'app.kubernetes.io/managed-by': 'surgectl' } });
  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${name}-script`), data: { 'script.js': script } };
  const testRun = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: meta(name),
    spec: {
      parallelism: opts.parallelism,
      script: { configMap: { name: `${name}-script`, file: 'script.js' } },
      separate: false,
      arguments: `-e TARGET=${loaded.scenario.target} --tag testid=${name}`,
      ...(opts.image ? { runner: { image: opts.image } } : {}),
      cleanup: 'post',
    },
  };
  return `${stringify(configMap, { lineWidth: 0 })}---\n${stringify(testRun, { lineWidth: 0 })}`;
}

/** Options of {@link exportScenarioFile}: which export (exactly one of `k6`, `k6Operator`) and its settings. */
export interface ExportScenarioFileOptions {
  /** A k6 script. */
  k6?: boolean | undefined;
  /** k6-operator manifests (a TestRun and its ConfigMap). */
  k6Operator?: boolean | undefined;
  /** Base URL the script targets; replaces (or supplies) the scenario's. */
  target?: string | undefined;
  /** k6 runners, for k6Operator. Default 1. */
  parallelism?: number | undefined;
  /** TestRun name, for k6Operator. Default: the scenario name. */
  name?: string | undefined;
  /** Namespace of the manifests, for k6Operator. */
  namespace?: string | undefined;
  /** For a k6 script: the request mix (file or name) the exported script sends. Required then. */
  mix?: string | undefined;
  /** Directory `mix` is resolved against. */
  cwd?: string | undefined;
  /** k6's `__ENV` for the script's options. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * Reads a scenario file and exports it as a k6 script or as k6-operator manifests (text for
 * stdout). Asking for both or neither is a usage error naming the flags.
 */
export async function exportScenarioFile(path: string, opts: ExportScenarioFileOptions): Promise<string> {
  if (Boolean(opts.k6) === Boolean(opts.k6Operator)) throw new SurgeError('SRG_CLI_USAGE', 'Pass exactly one of --k6 or --k6-operator');
  if (isK6Script(path) && opts.mix === undefined) {
    throw new SurgeError('SRG_CLI_USAGE', `Exporting the k6 script ${path} needs --mix: the surgectl request mix the exported script sends`, {
      hint: 'A k6 script already runs with k6 as it is (k6 run script.js); --mix <file|name> writes its options together with a surgectl mix.',
    });
  }
  const loaded = await loadScenarioFile(path, { target: opts.target, mix: opts.mix, cwd: opts.cwd, env: opts.env });
  if (opts.k6) return exportK6Script(loaded);
  return exportK6Operator(loaded, {
    parallelism: opts.parallelism ?? 1,
    ...(opts.name ? { name: opts.name } : {}),
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
  });
}

function dns1123(s: string): string {
  const out = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 52);
  return out || 'loadtest';
}

/**
 * Reads k6's handleSummary JSON (the `data` object) into a load-test result. Threshold verdicts
 * are k6's own (`ok`); the observed value is read from the metric's values when present.
 * When the JSON is not in that shape it throws SRG_LOADTEST_K6_FAILED (k6 itself wrote it), or,
 * with `meta.file` (a file the user gave, `loadtest import`), SRG_LOADTEST_SCENARIO naming it.
 */
export function importK6Summary(data: unknown, meta: { scenario: string; target: string; exitCode?: number; file?: string }): LoadTestResult {
  const hint = 'Use the summary written by handleSummary(data) => JSON.stringify(data), not --summary-export (its threshold booleans are inverted).';
  const bad = (why: string) =>
    meta.file === undefined
      ? new SurgeError('SRG_LOADTEST_K6_FAILED', `The k6 summary is not in handleSummary's shape: ${why}`, { hint })
      : new SurgeError('SRG_LOADTEST_SCENARIO', `${meta.file} is not a k6 summary: ${why}; expected the JSON of k6's handleSummary(data), an object with a "metrics" object`, { hint });
  if (data === null || typeof data !== 'object') throw bad('expected an object');
  const d = data as Partial<K6Summary>;
  if (!d.metrics || typeof d.metrics !== 'object') throw bad('no "metrics" object');
  const thresholds: ThresholdResult[] = [];
  for (const [metric, raw] of Object.entries(d.metrics)) {
    const m = raw as Partial<K6Metric> & Record<string, unknown>;
    if (typeof m !== 'object' || typeof m.type !== 'string' || typeof m.values !== 'object' || m.values === null) {
      throw bad(`metrics["${metric}"] needs "type" and "values"`);
    }
    for (const [expr, verdict] of Object.entries(m.thresholds ?? {})) {
      if (typeof verdict !== 'object' || verdict === null || typeof (verdict as { ok?: unknown }).ok !== 'boolean') {
        throw bad(`metrics["${metric}"].thresholds["${expr}"] needs a boolean "ok" (the --summary-export format has plain booleans)`);
      }
      const ok = (verdict as { ok: boolean }).ok;
      let value: number | undefined;
      let message: string | undefined;
      try {
        const cond = parseCondition(expr) as ThresholdCondition;
        value = m.values[aggregationKey(cond)];
        if (!ok && value !== undefined) message = evaluateCondition(cond, value).message;
      } catch {
        // k6 accepted it; we only lose the observed value.
      }
      thresholds.push({ metric, threshold: expr, ok, phase: ok ? 'pass' : 'fail', ...(value === undefined ? {} : { value }), ...(message ? { message } : {}), abortOnFail: false });
    }
  }
  const summary: K6Summary = {
    root_group: d.root_group ?? { name: '', path: '', id: '', groups: [], checks: [] },
    options: d.options ?? { summaryTrendStats: [], summaryTimeUnit: '', noColor: false },
    state: d.state ?? { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 0 },
    metrics: d.metrics,
  };
  const passed = thresholds.every((t) => t.ok) && meta.exitCode !== 99;
  return {
    engine: 'k6',
    scenario: meta.scenario,
    target: meta.target,
    passed,
    thresholds,
    summary,
    scenarios: [],
    timeline: [],
    durationMs: summary.state.testRunDurationMs ?? 0,
    warnings: [],
  };
}

/**
 * Reads a k6 handleSummary JSON file (`loadtest import`) into a load-test result. A file that
 * cannot be read, is not JSON or is not in handleSummary's shape is an input error naming it
 * (SRG_LOADTEST_SCENARIO, exit 10), with a hint on how to write one from a k6 script.
 */
export async function readK6SummaryFile(path: string): Promise<LoadTestResult> {
  const { readFile } = await import('node:fs/promises');
  const { basename } = await import('node:path');
  const expected = 'expected the JSON of k6\'s handleSummary(data), an object with a "metrics" object';
  const hint = 'Write it from the k6 script: export function handleSummary(data) { return { "summary.json": JSON.stringify(data) }; }';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `Cannot read the k6 summary ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause, hint });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `${path} is not valid JSON (${(cause as Error).message}); ${expected}`, { cause, hint });
  }
  return importK6Summary(data, { scenario: basename(path), target: '-', file: path });
}

/** Where the k6 binary is, or undefined. PATH is passed in: domain code does not read process.env. */
export async function findK6(pathEnv: string | undefined, binary = 'k6'): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  const { delimiter, join, isAbsolute } = await import('node:path');
  if (isAbsolute(binary)) return access(binary, constants.X_OK).then(() => binary, () => undefined);
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface RunK6Options {
  /** The PATH to search for k6. */
  pathEnv: string | undefined;
  /** Extra environment for k6 (PATH, HOME, ... are taken from here too). */
  env: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  reporter?: Reporter;
}

/**
 * Runs `k6 run` on the exported script and imports its handleSummary JSON. k6's exit 99
 * (thresholds failed) becomes `passed: false`; any other non-zero exit is SRG_LOADTEST_K6_FAILED;
 * no k6 on PATH is SRG_LOADTEST_K6_MISSING.
 */
export async function runK6(loaded: LoadedScenario, opts: RunK6Options): Promise<LoadTestResult> {
  const k6 = await requireK6(opts.pathEnv);
  const { mkdtemp, writeFile, readFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'surgectl-k6-'));
  try {
    const script = join(dir, 'script.js');
    const summaryPath = join(dir, 'summary.json');
    await writeFile(script, exportK6Script(loaded));
    const { code, stderrTail } = await spawnK6(k6, ['run', '--quiet', script], { ...opts.env, TARGET: loaded.scenario.target, SURGECTL_SUMMARY: summaryPath }, opts);
    if (opts.signal?.aborted) {
      // Stopped by us (Ctrl-C, SIGTERM): k6 still runs handleSummary and exits 105 (external abort).
      // That is an interrupted run whose summary covers the part that ran, not a k6 failure.
      let partial: unknown;
      try {
        partial = JSON.parse(await readFile(summaryPath, 'utf8'));
      } catch {
        partial = undefined;
      }
      if (partial === undefined) throw new SurgeError('SRG_CLI_INTERRUPTED', 'The load test was interrupted before k6 wrote its summary.');
      return { ...importK6Summary(partial, { scenario: loaded.scenario.name ?? 'loadtest', target: loaded.scenario.target, exitCode: code }), aborted: 'interrupted' };
    }
    if (code !== 0 && code !== 99) {
      throw new SurgeError('SRG_LOADTEST_K6_FAILED', `k6 exited with ${code}`, { details: stderrTail.slice(-10) });
    }
    let text: string;
    try {
      text = await readFile(summaryPath, 'utf8');
    } catch {
      throw new SurgeError('SRG_LOADTEST_K6_FAILED', `k6 exited with ${code} but wrote no summary (handleSummary did not run)`, { details: stderrTail.slice(-10) });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SurgeError('SRG_LOADTEST_K6_FAILED', 'k6 wrote a summary that is not JSON');
    }
    return importK6Summary(parsed, { scenario: loaded.scenario.name ?? 'loadtest', target: loaded.scenario.target, exitCode: code });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function requireK6(pathEnv: string | undefined): Promise<string> {
  const k6 = await findK6(pathEnv);
  if (!k6) {
    throw new SurgeError('SRG_LOADTEST_K6_MISSING', 'The k6 engine needs the k6 binary, and there is none on PATH', {
      hint: 'Install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/) or use --engine builtin (a k6 script then needs --mix).',
    });
  }
  return k6;
}

/** Runs k6 with `args`, forwarding its output as debug notices; SIGINT on abort. Resolves with its exit code and last lines. */
async function spawnK6(
  k6: string,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  opts: { signal?: AbortSignal | undefined; reporter?: Reporter | undefined },
): Promise<{ code: number; stderrTail: string[] }> {
  const { spawn } = await import('node:child_process');
  const stderrTail: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(k6, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const onAbort = () => child.kill('SIGINT');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
        opts.reporter?.notify(`k6: ${line}`, 'debug');
      }
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    child.once('error', reject);
    child.once('close', (c, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(c ?? (sig ? 128 + 2 : 1));
    });
  });
  return { code, stderrTail };
}

/**
 * k6's `--summary-export` JSON (metrics flattened: `{avg, p(95), thresholds: {expr: failed}}`,
 * rates as `{passes, fails, value}`) in handleSummary's shape, so one reader judges both. The
 * booleans are inverted there (true = the threshold failed); here `ok` is restored.
 */
export function fromSummaryExport(data: unknown): unknown {
  const metrics = (data as { metrics?: unknown } | null)?.metrics;
  if (metrics === null || typeof metrics !== 'object') return data;
  const out: Record<string, K6Metric> = {};
  for (const [name, raw] of Object.entries(metrics as Record<string, Record<string, unknown>>)) {
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'number') values[k] = v;
    const type: K6Metric['type'] = 'count' in values ? 'counter' : 'avg' in values ? 'trend' : 'passes' in values ? 'rate' : 'gauge';
    if (type === 'rate' && values.value !== undefined) values.rate = values.value;
    const thresholds: Record<string, { ok: boolean }> = {};
    for (const [expr, failed] of Object.entries((raw.thresholds ?? {}) as Record<string, unknown>)) thresholds[expr] = { ok: failed !== true };
    out[name] = { type, contains: type === 'trend' ? 'time' : 'default', values, ...(Object.keys(thresholds).length > 0 ? { thresholds } : {}) };
  }
  return { ...(data as object), metrics: out };
}

/** Options of {@link runK6Script}. */
export interface RunK6ScriptOptions extends RunK6Options {
  /** Passed to the script as `-e TARGET=<url>` when given. */
  target?: string | undefined;
}

/**
 * Runs a user's k6 script as written (`k6 run --summary-export`), its own options and thresholds
 * deciding; k6's exit 99 (thresholds crossed) is `passed: false`. The script's own handleSummary,
 * if any, still runs; surgectl reads the summary export beside it.
 */
export async function runK6Script(file: string, opts: RunK6ScriptOptions): Promise<LoadTestResult> {
  const k6 = await requireK6(opts.pathEnv);
  const { mkdtemp, readFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { basename, join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'surgectl-k6-'));
  try {
    const summaryPath = join(dir, 'summary-export.json');
    const args = ['run', '--quiet', '--summary-export', summaryPath, ...(opts.target ? ['-e', `TARGET=${opts.target}`] : []), file];
    const { code, stderrTail } = await spawnK6(k6, args, opts.env, opts);
    let data: unknown;
    try {
      data = JSON.parse(await readFile(summaryPath, 'utf8'));
    } catch {
      if (opts.signal?.aborted) throw new SurgeError('SRG_CLI_INTERRUPTED', 'The load test was interrupted before k6 wrote its summary.');
      // k6 refuses invalid options with 104 before writing anything: that is the script's fault.
      if (code === 104) throw new SurgeError('SRG_LOADTEST_SCENARIO', `k6 refused the options of ${file}`, { details: stderrTail.slice(-10) });
      throw new SurgeError('SRG_LOADTEST_K6_FAILED', `k6 exited with ${code} and wrote no summary`, { details: stderrTail.slice(-10) });
    }
    const meta = { scenario: basename(file), target: opts.target ?? '-', exitCode: code };
    const result = importK6Summary(fromSummaryExport(data), meta);
    if (opts.signal?.aborted) return { ...result, aborted: 'interrupted' };
    if (code !== 0 && code !== 99) throw new SurgeError('SRG_LOADTEST_K6_FAILED', `k6 exited with ${code}`, { details: stderrTail.slice(-10) });
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
