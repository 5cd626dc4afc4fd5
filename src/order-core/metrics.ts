import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';

/**
 * Every metric of the bundled stack, in one registry per stack (tests run several stacks in one
 * process). Names follow Prometheus conventions: base units (seconds), `_total` for counters.
 * Probes, thresholds and `surgectl rehearse` read these names; change them here and there together.
 */
export function createStackMetrics(opts: { defaultMetrics?: boolean; color?: string | undefined } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'surgectl_' });
  const registers = [registry];
  const m = {
    registry,
    httpRequestDuration: new Histogram({
      name: 'surgectl_http_request_duration_seconds',
      help: 'HTTP request duration by route, method and status code.',
      labelNames: ['route', 'method', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    ordersAccepted: new Counter({ name: 'surgectl_orders_accepted_total', help: 'Orders durably accepted.', registers }),
    ordersRejected: new Counter({
      name: 'surgectl_orders_rejected_total',
      help: 'Orders rejected at intake, by reason (validation, unsupported_media_type, too_large, unknown_sku, conflict, rate_limited, shed, paused, draining, dropped, store_unavailable).',
      labelNames: ['reason'] as const,
      registers,
    }),
    storeSync: new Histogram({
      name: 'surgectl_store_sync_duration_seconds',
      help: "Seconds each fdatasync of the SQLite order store's WAL took; every acknowledged order waits for one (the disk's share of intake latency). SQLite store only.",
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    queueDepth: new Gauge({ name: 'surgectl_queue_depth', help: 'Orders waiting for a worker.', registers }),
    queueOldestAge: new Gauge({ name: 'surgectl_queue_oldest_age_seconds', help: 'Age of the oldest waiting order.', registers }),
    workers: new Gauge({ name: 'surgectl_workers', help: 'Pipeline workers by state (busy, idle).', labelNames: ['state'] as const, registers }),
    stepDuration: new Histogram({
      name: 'surgectl_pipeline_step_duration_seconds',
      help: 'Duration of pipeline steps (reserve, pay, confirm, notify).',
      labelNames: ['step', 'outcome'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    ordersCompleted: new Counter({
      name: 'surgectl_orders_completed_total',
      help: 'Orders that reached a final status, by status (confirmed, sold_out, payment_failed, cancelled).',
      labelNames: ['status'] as const,
      registers,
    }),
    oversold: new Gauge({ name: 'surgectl_inventory_oversold_units', help: 'Units sold beyond stock. Must stay 0.', registers }),
    breakerState: new Gauge({
      name: 'surgectl_payment_breaker_state',
      help: 'Payment circuit breaker: 0 closed, 1 half-open, 2 open.',
      registers,
    }),
    paymentAttempts: new Counter({
      name: 'surgectl_payment_attempts_total',
      help: 'Calls to the payment gateway by outcome (ok, declined, error, timeout, breaker_open).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    rateLimited: new Counter({ name: 'surgectl_rate_limited_total', help: 'Requests refused with 429 by the per-client rate limit.', registers }),
    shed: new Counter({ name: 'surgectl_load_shed_total', help: 'Orders refused with 503 because the backlog was over its limit.', registers }),
    redeliveries: new Counter({ name: 'surgectl_pipeline_redeliveries_total', help: 'Jobs taken up again after a lease expired.', registers }),
    flagEnabled: new Gauge({ name: 'surgectl_flag_enabled', help: 'Feature flag value in use: 1 on, 0 off (local or Unleash, see GET /admin/flags).', labelNames: ['flag'] as const, registers }),
  };
  if (opts.color !== undefined) {
    // The one series with the color: a join key for dashboards (`* on() group_left(color)`),
    // so that no other metric needs a label that would split its series.
    new Gauge({ name: 'surgectl_stack_info', help: 'The stack: 1, labelled with its blue-green color (stack up --color).', labelNames: ['color'] as const, registers }).set({ color: opts.color }, 1);
  }
  return m;
}

export type StackMetrics = ReturnType<typeof createStackMetrics>;

/**
 * `observe` through labelled children kept per combination of label values: a plain
 * `histogram.observe(labels, v)` hashes the label object every time, which showed up in the
 * intake and pipeline profiles. `values` are given in the order of `names`.
 */
export function cachedObserver<T extends string>(histogram: Histogram<T>, names: readonly T[]) {
  const children = new Map<string, { observe(v: number): void }>();
  return (values: readonly string[], seconds: number): void => {
    const key = values.join('\u0000');
    let child = children.get(key);
    if (child === undefined) {
      child = histogram.labels(Object.fromEntries(names.map((n, i) => [n, values[i] ?? ''])) as LabelValues<T>);
      children.set(key, child);
    }
    child.observe(seconds);
  };
}
