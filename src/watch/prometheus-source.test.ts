import { describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { createFakePrometheus } from '../adapters/prometheus/fake.js';
import type { PromSample } from '../adapters/prometheus/port.js';
import { createPrometheusWatchSource, prometheusWatchSource, watchQueries } from './prometheus-source.js';

/** The answer of each of {@link watchQueries}, by key. */
const ANSWERS: Record<string, PromSample[]> = {
  accepted: [{ metric: {}, value: 10 }],
  confirmed: [{ metric: {}, value: 8 }],
  intake: [{ metric: {}, value: 15 }],
  p50: [{ metric: {}, value: 0.01 }],
  // histogram_quantile answers +Inf when the quantile falls in the +Inf bucket: unknown, not a number to draw.
  p99: [{ metric: {}, value: Infinity }],
  errors: [{ metric: {}, value: 0 }],
  rateLimited: [{ metric: {}, value: 3 }],
  unavailable: [{ metric: {}, value: 0 }],
  queueDepth: [{ metric: {}, value: 42 }],
  oldestWait: [{ metric: {}, value: 1.5 }],
  workersBusy: [{ metric: {}, value: 6 }],
  workersSize: [{ metric: {}, value: 8 }],
  breaker: [],
  flags: [{ metric: { flag: 'recommendations' }, value: 1 }],
  acceptedTotal: [{ metric: {}, value: 600 }],
  confirmedTotal: [{ metric: {}, value: 480 }],
};

describe('the Prometheus watch source on the PrometheusPort', () => {
  it('asks every watch query once per reading, over the rate window, and builds the sample from the answers', async () => {
    const queries = watchQueries('30s');
    const byQuery = new Map(Object.entries(queries).map(([k, q]) => [q, ANSWERS[k] ?? []]));
    const prom = createFakePrometheus((q) => byQuery.get(q) ?? new Error(`unexpected query ${q}`));
    const source = prometheusWatchSource(prom, { rateWindow: '30s', now: () => 7_000 });
    expect(source.describe).toBe(prom.url);
    const s = await source.read();
    expect([...prom.queries].sort()).toEqual(Object.values(queries).sort());
    expect(s).toMatchObject({
      at: 7_000,
      acceptedPerSec: 10,
      intakeP50Ms: 10,
      intakeP99Ms: null,
      queueDepth: 42,
      oldestWaitMs: 1500,
      breaker: null,
      flags: [{ name: 'recommendations', enabled: true }],
      totals: { accepted: 600, confirmed: 480 },
    });
  });

  it('passes the adapter errors and the interrupt signal through', async () => {
    const down = createFakePrometheus(() => new SurgeError('SRG_PROMETHEUS_UNREACHABLE', 'Prometheus at http://prometheus.fake did not answer'));
    await expect(prometheusWatchSource(down, { now: () => 0 }).read()).rejects.toMatchObject({ code: 'SRG_PROMETHEUS_UNREACHABLE' });
    const ok = createFakePrometheus(() => []);
    const ac = new AbortController();
    ac.abort();
    await expect(prometheusWatchSource(ok, { now: () => 0 }).read({ signal: ac.signal })).rejects.toMatchObject({ code: 'SRG_CLI_INTERRUPTED' });
  });

  it('shows the URL without its credentials and refuses one that is not http(s)', () => {
    expect(createPrometheusWatchSource({ url: 'http://me:s3cret@127.0.0.1:9090/', now: () => 0 }).describe).toBe('http://127.0.0.1:9090');
    expect(() => createPrometheusWatchSource({ url: 'localhost:9090', now: () => 0 })).toThrow(expect.objectContaining({ code: 'SRG_CLI_USAGE' }));
  });
});
