import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { startPrometheus, toOpenMetrics, type BackfillSample, type TestPrometheus } from './support/prometheus.js';
import { tempDir } from './support/stack.js';

/**
 * `surgectl watch --prometheus` against a real Prometheus, so the PromQL is the one Prometheus
 * runs: the stack's metric names backfilled with known slopes around now, read back as rates.
 */
let prom: TestPrometheus;
const dir = tempDir('surgectl-watch-prom-');

beforeAll(async () => {
  const samples: BackfillSample[] = [];
  const now = Math.floor(Date.now() / 1000) * 1000;
  const intake = { route: '/v1/orders', method: 'POST' };
  // Every 15 s from 6 minutes ago to 2 minutes ahead, so the instant query at "now" has a full window.
  for (let t = now - 360_000; t <= now + 120_000; t += 15_000) {
    const s = (t - (now - 360_000)) / 1000;
    samples.push(
      { metric: 'surgectl_orders_accepted_total', value: 10 * s, t },
      { metric: 'surgectl_orders_completed_total', labels: { status: 'confirmed' }, value: 8 * s, t },
      { metric: 'surgectl_http_request_duration_seconds_count', labels: { ...intake, status_code: '202' }, value: 12 * s, t },
      { metric: 'surgectl_http_request_duration_seconds_count', labels: { ...intake, status_code: '429' }, value: 3 * s, t },
      { metric: 'surgectl_http_request_duration_seconds_count', labels: { route: '/v1/inventory', method: 'GET', status_code: '200' }, value: 100 * s, t },
      { metric: 'surgectl_http_request_duration_seconds_bucket', labels: { ...intake, status_code: '202', le: '0.01' }, value: 6 * s, t },
      { metric: 'surgectl_http_request_duration_seconds_bucket', labels: { ...intake, status_code: '202', le: '0.1' }, value: 12 * s, t },
      { metric: 'surgectl_http_request_duration_seconds_bucket', labels: { ...intake, status_code: '202', le: '+Inf' }, value: 12 * s, t },
      { metric: 'surgectl_queue_depth', value: 42, t },
      { metric: 'surgectl_queue_oldest_age_seconds', value: 1.5, t },
      { metric: 'surgectl_workers', labels: { state: 'busy' }, value: 6, t },
      { metric: 'surgectl_workers', labels: { state: 'idle' }, value: 2, t },
      { metric: 'surgectl_payment_breaker_state', value: 2, t },
      { metric: 'surgectl_flag_enabled', labels: { flag: 'recommendations' }, value: 0, t },
      { metric: 'surgectl_flag_enabled', labels: { flag: 'loyalty-points' }, value: 1, t },
    );
  }
  // Bucket and count series keep their names as gauges; rate() and histogram_quantile() read them alike.
  prom = await startPrometheus(toOpenMetrics(samples, { surgectl_orders_accepted_total: 'counter', surgectl_orders_completed_total: 'counter' }));
});

afterAll(async () => {
  await prom?.stop();
  dir.remove();
});

describe('surgectl watch --prometheus', () => {
  it('--once -o json reads the rates, quantiles, gauges, breaker and flags through PromQL', async () => {
    const r = await runCli(['watch', '--prometheus', prom.url, '--rate-window', '1m', '--once', '-o', 'json'], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      source: prom.url,
      windowSeconds: null,
      acceptedPerSec: 10,
      confirmedPerSec: 8,
      // 12 + 3 per second on the intake route; the inventory reads are left out
      intakePerSec: 15,
      rateLimitedPerSec: 3,
      errorsPerSec: 0,
      queueDepth: 42,
      oldestWaitMs: 1500,
      workersBusy: 6,
      workersSize: 8,
      breaker: 'open',
      hottestStock: null,
      flags: [
        { name: 'loyalty-points', enabled: true },
        { name: 'recommendations', enabled: false },
      ],
      slo: { breaker: 'breach', rateLimitedPerSec: 'breach', queueDepth: 'ok' },
    });
    // Half the requests under 10 ms, the rest up to 100 ms: Prometheus interpolates as we do.
    expect(doc.intakeP50Ms).toBe(10);
    expect(doc.intakeP99Ms).toBeCloseTo(98.2, 1);
  });

  it('a Prometheus that does not answer is exit 3', async () => {
    const r = await runCli(['watch', '--prometheus', 'http://127.0.0.1:9', '--once'], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('SRG_PROMETHEUS_UNREACHABLE');
  });
});
