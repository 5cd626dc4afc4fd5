import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SurgeError } from '../../errors.js';
import { startPrometheus, toOpenMetrics, type BackfillSample, type TestPrometheus } from '../../../test/support/prometheus.js';
import { runCli } from '../../../test/support/forecast-cli.js';
import { readPrometheus } from './prometheus.js';

const MIN = 60_000;
const DAY = 86_400_000;
// History ends on a whole hour a little in the past, so the range queries below see all of it.
const END = Math.floor((Date.now() - 2 * 3_600_000) / 3_600_000) * 3_600_000;
const POINTS = 10 * 24 * 60; // 10 days at 1 minute: more than the 11,000 points Prometheus allows per query
const START = END - (POINTS - 1) * MIN;
/** Orders per second, with a daily peak at 18:00 UTC. */
const rate = (t: number) => 10 + 5 * Math.cos(2 * Math.PI * ((t % DAY) / DAY - 0.75));
const gauge = (i: number) => 1000 + i; // unique per minute, to spot a missing or doubled point

let prom: TestPrometheus;

beforeAll(async () => {
  const samples: BackfillSample[] = [];
  let counter = 0;
  for (let i = 0; i < POINTS; i++) {
    const t = START + i * MIN;
    samples.push({ metric: 'test_gauge', labels: { shop: 'eu' }, value: gauge(i), t });
    // A restart two days before the end resets the counter; rate() must see through it.
    if (t === END - 2 * DAY) counter = 0;
    counter += rate(t) * 60;
    samples.push({ metric: 'orders_accepted_total', value: Math.round(counter), t });
  }
  prom = await startPrometheus(toOpenMetrics(samples, { test_gauge: 'gauge', orders_accepted_total: 'counter' }));
}, 120_000);

afterAll(async () => {
  await prom?.stop();
});

describe('Prometheus source (real Prometheus)', () => {
  it('Prometheus itself refuses the whole range in one query, so chunking is needed', async () => {
    const u = new URL(`${prom.url}/api/v1/query_range`);
    u.search = new URLSearchParams({ query: 'test_gauge', start: String(START / 1000), end: String(END / 1000), step: '60' }).toString();
    const res = await fetch(u);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/11,?000 points/);
  });

  it('reads the range in chunks with every point exactly once', async () => {
    for (const maxPointsPerQuery of [10_000, 997]) {
      const [s, ...rest] = await readPrometheus({ url: prom.url, query: 'test_gauge', start: START, end: END, stepMs: MIN, maxPointsPerQuery });
      expect(rest).toHaveLength(0);
      expect(s?.name).toBe('{__name__="test_gauge",shop="eu"}');
      expect(s?.points).toHaveLength(POINTS);
      s?.points.forEach((p, i) => {
        expect(p.t).toBe(START + i * MIN);
        expect(p.v).toBe(gauge(i));
      });
    }
  });

  it('reports a PromQL error as SRG_DATA_SOURCE and an unreachable server as SRG_PROMETHEUS_UNREACHABLE (exit 3)', async () => {
    const bad = await readPrometheus({ url: prom.url, query: 'sum(', start: START, end: END, stepMs: 300_000 }).catch((e: unknown) => e);
    expect((bad as SurgeError).code).toBe('SRG_DATA_SOURCE');
    expect((bad as SurgeError).message).toMatch(/bad_data/);
    const empty = await readPrometheus({ url: prom.url, query: 'no_such_metric', start: START, end: END, stepMs: 300_000 }).catch((e: unknown) => e);
    expect((empty as SurgeError).code).toBe('SRG_DATA_EMPTY');
    const down = await readPrometheus({ url: 'http://127.0.0.1:9', query: 'up', start: START, end: END, stepMs: 300_000, timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect((down as SurgeError).code).toBe('SRG_PROMETHEUS_UNREACHABLE');
    expect((down as SurgeError).exitCode).toBe(3);
  });

  it('an interrupted read is an interruption (exit 130), not an unreachable server', async () => {
    const ac = new AbortController();
    ac.abort(new Error('received SIGINT'));
    const err = await readPrometheus({ url: prom.url, query: 'test_gauge', start: START, end: END, stepMs: MIN, signal: ac.signal }).catch((e: unknown) => e);
    expect((err as SurgeError).code).toBe('SRG_CLI_INTERRUPTED');
    expect((err as SurgeError).exitCode).toBe(130);
  });

  it('surgectl forecast reads orders from Prometheus and finds the daily peak', async () => {
    const r = await runCli(
      ['forecast', '--prometheus', prom.url, '--query', 'sum(rate(orders_accepted_total[5m]))', '--lookback', '9d', '--step', '5m', '--horizon', '1d', '-o', 'json', '--header', 'X-Scope-OrgID: test'],
      { cwd: process.cwd(), now: END },
    );
    expect(r.stderr).toMatch(/read 1 series/);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { series: { seasonality: number[]; peak: { t: string; value: number }; points: unknown[]; history: { hygiene: { counterResets: number } } }[] };
    const s = doc.series[0];
    expect(s?.points).toHaveLength(288);
    expect(s?.seasonality).toContain(288);
    expect(s?.peak.value).toBeGreaterThan(13.5);
    expect(s?.peak.value).toBeLessThan(17);
    // The daily maximum of the order rate is at 18:00 UTC; allow the 5m rate window and noise some slack.
    const hour = new Date(s?.peak.t ?? 0).getUTCHours() + new Date(s?.peak.t ?? 0).getUTCMinutes() / 60;
    expect(Math.abs(hour - 18)).toBeLessThanOrEqual(1.5);
  });
});

/** A Prometheus holding one gauge at `value` every 5 minutes from `start` to END. */
function startFlatGauge(metric: string, value: number, start: number, opts: Parameters<typeof startPrometheus>[1]): Promise<TestPrometheus> {
  const samples: BackfillSample[] = [];
  for (let t = start; t <= END; t += 300_000) samples.push({ metric, value, t });
  return startPrometheus(toOpenMetrics(samples, { [metric]: 'gauge' }), opts);
}

describe('Prometheus source behind basic auth (real Prometheus with basic_auth_users)', () => {
  // The example user of the Prometheus documentation: password "test" and its bcrypt hash.
  const user = { user: 'admin', password: 'test', bcryptHash: '$2b$12$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay' };
  let auth: TestPrometheus;
  const start = END - DAY;
  beforeAll(async () => {
    auth = await startFlatGauge('auth_gauge', 3, start, { basicAuth: user });
  }, 120_000);
  afterAll(async () => {
    await auth?.stop();
  });

  it('a 401 in plain text is reported as refused, with the hint to pass credentials', async () => {
    const err = await readPrometheus({ url: auth.url, query: 'auth_gauge', start, end: END, stepMs: 300_000 }).catch((e: unknown) => e);
    expect((err as SurgeError).code).toBe('SRG_DATA_SOURCE');
    expect((err as SurgeError).message).toBe(`Prometheus at ${auth.url} refused the query (HTTP 401)`);
    expect((err as SurgeError).hint).toMatch(/--bearer-token-file or --header/);
  });

  it('credentials in the URL are sent as basic auth and never printed', async () => {
    const withCreds = auth.url.replace('://', `://${user.user}:${user.password}@`);
    const [s] = await readPrometheus({ url: withCreds, query: 'auth_gauge', start, end: END, stepMs: 300_000 });
    expect(s?.points).toHaveLength(289);
    const r = await runCli(['forecast', '--prometheus', withCreds, '--query', 'auth_gauge', '--lookback', '1d', '--step', '5m', '--horizon', '1h', '-o', 'json'], { cwd: process.cwd(), now: END });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`read 1 series from ${auth.url}`);
    expect(r.stderr + r.stdout).not.toContain(`${user.user}:${user.password}`);
    const wrong = await runCli(['forecast', '--prometheus', auth.url.replace('://', '://admin:n0t-the-pa55@'), '--query', 'auth_gauge', '--lookback', '1d', '--horizon', '1h'], { cwd: process.cwd(), now: END });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/refused the query \(HTTP 401\)/);
    expect(wrong.stderr).not.toContain('n0t-the-pa55');
    const down = await readPrometheus({ url: 'http://admin:n0t-the-pa55@127.0.0.1:9', query: 'up', start, end: END, stepMs: 300_000, timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect((down as SurgeError).code).toBe('SRG_PROMETHEUS_UNREACHABLE');
    expect((down as SurgeError).exitCode).toBe(3);
    expect((down as SurgeError).message).toMatch(/cannot reach Prometheus at http:\/\/127\.0\.0\.1:9:/);
    expect((down as SurgeError).message).not.toContain('n0t-the-pa55');
  });
});

describe('Prometheus source over TLS (real Prometheus with a self-signed certificate)', () => {
  let tls: TestPrometheus;
  const start = END - DAY;
  beforeAll(async () => {
    tls = await startFlatGauge('tls_gauge', 7, start, { tls: true });
  }, 120_000);
  afterAll(async () => {
    await tls?.stop();
  });

  it('verifies the server with --ca-file, refuses an unknown CA, and can skip verification when told', async () => {
    expect(tls.url).toMatch(/^https:/);
    const q = { url: tls.url, query: 'tls_gauge', start, end: END, stepMs: 300_000, timeoutMs: 5_000 };
    const [s] = await readPrometheus({ ...q, caFile: tls.certFile as string });
    expect(s?.points).toHaveLength(289);
    expect(s?.points.every((p) => p.v === 7)).toBe(true);
    const refused = await readPrometheus(q).catch((e: unknown) => e);
    expect((refused as SurgeError).code).toBe('SRG_DATA_SOURCE');
    expect((refused as SurgeError).message).toMatch(/cannot reach Prometheus.*(self.signed|certificate)/i);
    const [insecure] = await readPrometheus({ ...q, insecureSkipVerify: true });
    expect(insecure?.points).toHaveLength(289);
  });
});
