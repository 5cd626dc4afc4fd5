import { z } from 'zod';
import type { StackAdminPort, StackStatus } from '../../adapters/stack-admin/port.js';
import { SurgeError } from '../../errors.js';
import type { MetricObservation } from '../../probes/index.js';
import { durationMs } from '../duration.js';
import { bucketIncrease, histogramBuckets, histogramQuantile, increase, parsePromText, sumSamples, type PromSample } from '../../util/prom-text.js';
import { defineFunc, type FuncTable, type ProviderContext } from './types.js';

/** The request-duration histogram of the stack (src/order-core/metrics.ts). */
const HTTP_DURATION = 'surgectl_http_request_duration_seconds';

function stackOf(ctx: ProviderContext): StackAdminPort {
  const stack = ctx.targets.stack;
  if (!stack) {
    throw new SurgeError('SRG_STACK_UNREACHABLE', 'This activity acts on the bundled stack, but no stack target was given', {
      hint: 'Pass --url (and --token-env) pointing at a running `surgectl stack up`.',
    });
  }
  return stack;
}

const none = z.object({}).strict();
const windowArgs = {
  /** Measuring window: the probe scrapes /metrics, waits this long and scrapes again. Default 5 s. */
  window: durationMs.default(5_000),
  route: z.string().min(1).default('/v1/orders'),
  method: z.string().min(1).default('POST'),
};

/**
 * Applies a fault for `duration` and then restores what was there before (so an outage "for 30 s"
 * ends by itself); without a duration the fault stays until a rollback clears it.
 */
async function forDuration<T>(ctx: ProviderContext, durationMs: number | undefined, restore: () => Promise<T>): Promise<{ restored?: T }> {
  if (durationMs === undefined) return {};
  try {
    await ctx.sleep(durationMs, ctx.signal);
  } catch (err) {
    // Interrupted mid-fault: the action promised a bounded fault, so restore before giving up.
    await restore().catch(() => undefined);
    throw err;
  }
  return { restored: await restore() };
}

const paymentFault = defineFunc({
  kinds: ['action'],
  summary: 'payment gateway faults: failureRate (0..1) of calls fail with 503 and/or latencyMs added; for `duration`, then restored',
  args: z
    .object({
      failureRate: z.number().min(0).max(1).optional(),
      latencyMs: z.number().int().min(0).max(600_000).optional(),
      duration: durationMs.optional(),
    })
    .strict()
    .refine((a) => a.failureRate !== undefined || a.latencyMs !== undefined, { message: 'set failureRate and/or latencyMs' }),
  extraTimeMs: (a) => a.duration ?? 0,
  describe: (a) =>
    `payment gateway: ${[a.failureRate !== undefined ? `${a.failureRate * 100}% errors` : '', a.latencyMs !== undefined ? `+${a.latencyMs} ms latency` : '']
      .filter(Boolean)
      .join(', ')}${a.duration !== undefined ? ` for ${a.duration / 1000}s, then restored` : ' until rolled back'}`,
  async run(a, ctx) {
    const stack = stackOf(ctx);
    const previous = await stack.paymentFaults();
    const patch: { failureRate?: number; latencyMs?: number } = {};
    if (a.failureRate !== undefined) patch.failureRate = a.failureRate;
    if (a.latencyMs !== undefined) patch.latencyMs = a.latencyMs;
    const applied = await stack.setPaymentFaults(patch);
    return { previous, applied, ...(await forDuration(ctx, a.duration, () => stack.setPaymentFaults(previous))) };
  },
});

const dropRequests = defineFunc({
  kinds: ['action'],
  summary: 'answer a share (ratio 0..1) of intake requests with 503; for `duration`, then restored',
  args: z.object({ ratio: z.number().min(0).max(1), duration: durationMs.optional() }).strict(),
  extraTimeMs: (a) => a.duration ?? 0,
  describe: (a) => `drop ${a.ratio * 100}% of intake requests${a.duration !== undefined ? ` for ${a.duration / 1000}s` : ' until rolled back'}`,
  async run(a, ctx) {
    const stack = stackOf(ctx);
    const previous = (await stack.status()).faults.dropRatio;
    const applied = await stack.setDropRatio(a.ratio);
    return { previous, applied, ...(await forDuration(ctx, a.duration, () => stack.setDropRatio(previous))) };
  },
});

const pauseConsumer = defineFunc({
  kinds: ['action'],
  summary: 'pause the queue consumer (workers take no new jobs); for `duration`, then resumed',
  args: z.object({ duration: durationMs.optional() }).strict(),
  extraTimeMs: (a) => a.duration ?? 0,
  describe: (a) => `pause the queue consumer${a.duration !== undefined ? ` for ${a.duration / 1000}s` : ' until rolled back'}`,
  async run(a, ctx) {
    const stack = stackOf(ctx);
    const applied = await stack.pauseConsumer();
    return { applied, ...(await forDuration(ctx, a.duration, () => stack.resumeConsumer())) };
  },
});

const killWorker = defineFunc({
  kinds: ['action'],
  summary: 'kill `count` pipeline workers mid-job (their jobs are redelivered after the lease)',
  args: z.object({ count: z.number().int().min(1).max(64).default(1) }).strict(),
  describe: (a) => `kill ${a.count} worker${a.count === 1 ? '' : 's'}`,
  async run(a, ctx) {
    const stack = stackOf(ctx);
    const kills = [];
    for (let i = 0; i < a.count; i++) kills.push(await stack.killWorker());
    return { killed: kills.filter((k) => k.killed).length, kills };
  },
});

const simple = (summary: string, describe: string, run: (s: StackAdminPort) => Promise<unknown>) =>
  defineFunc({ kinds: ['action'], summary, args: none, describe: () => describe, run: (_a, ctx) => run(stackOf(ctx)) });

const setWorkers = defineFunc({
  kinds: ['action'],
  summary: 'set the number of pipeline workers',
  args: z.object({ count: z.number().int().min(0).max(512) }).strict(),
  describe: (a) => `set workers to ${a.count}`,
  run: (a, ctx) => stackOf(ctx).setWorkers(a.count),
});

/**
 * A value from GET /admin/status. With `until`, polls (every 250 ms, up to `timeout`) until the
 * value equals it, so a drill can wait for the breaker to open or to close again; the last value
 * seen is returned either way and the tolerance decides.
 */
const statusProbe = (summary: string, pick: (s: StackStatus) => unknown, untilSchema: z.ZodType<string | number | undefined> = z.never().optional()) =>
  defineFunc({
    kinds: ['probe'],
    summary,
    args: z.object({ until: untilSchema, timeout: durationMs.default(30_000) }).strict(),
    extraTimeMs: (a) => (a.until === undefined ? 0 : a.timeout),
    describe: (a) => (a.until === undefined ? summary : `${summary}; wait up to ${a.timeout / 1000}s for ${JSON.stringify(a.until)}`),
    async run(a, ctx) {
      const stack = stackOf(ctx);
      const deadline = ctx.now() + a.timeout;
      for (;;) {
        const v = pick(await stack.status());
        if (a.until === undefined || v === a.until || ctx.now() >= deadline) return v;
        await ctx.sleep(250, ctx.signal);
      }
    },
  });

async function scrape(ctx: ProviderContext): Promise<readonly PromSample[]> {
  return parsePromText(await stackOf(ctx).metricsText()).samples;
}

/** Two scrapes `window` apart: what happened in between. */
async function scrapeWindow(ctx: ProviderContext, windowMs: number): Promise<[readonly PromSample[], readonly PromSample[]]> {
  const before = await scrape(ctx);
  await ctx.sleep(windowMs, ctx.signal);
  return [before, await scrape(ctx)];
}

const acceptanceLatency = defineFunc({
  kinds: ['probe'],
  summary: 'latency of order intake (POST /v1/orders) over a window, ms: a trend for p(N)/avg/med/max tolerances',
  args: z.object(windowArgs).strict(),
  extraTimeMs: (a) => a.window,
  describe: (a) => `${a.method} ${a.route} latency over ${a.window / 1000}s (ms)`,
  async run(a, ctx): Promise<MetricObservation & { values: Record<string, number> }> {
    const [before, after] = await scrapeWindow(ctx, a.window);
    const filter = { route: a.route, method: a.method };
    const buckets = bucketIncrease(histogramBuckets(before, HTTP_DURATION, filter), histogramBuckets(after, HTTP_DURATION, filter));
    const count = increase(sumSamples(before, `${HTTP_DURATION}_count`, filter), sumSamples(after, `${HTTP_DURATION}_count`, filter));
    const sum = increase(sumSamples(before, `${HTTP_DURATION}_sum`, filter), sumSamples(after, `${HTTP_DURATION}_sum`, filter));
    const values: Record<string, number> = { count };
    if (count > 0) {
      values.avg = (sum / count) * 1000;
      for (const p of [50, 90, 95, 99]) {
        const q = histogramQuantile(p / 100, buckets);
        if (q !== undefined) values[`p(${p})`] = q * 1000;
      }
      if (values['p(50)'] !== undefined) values.med = values['p(50)'];
    }
    return {
      type: 'trend',
      values,
      // Not serialised into the journal; lets a tolerance ask for any p(N).
      percentile: (p: number) => (histogramQuantile(p / 100, buckets) ?? NaN) * 1000,
    };
  },
});

const errorRate = defineFunc({
  kinds: ['probe'],
  summary: 'share of intake requests answered with status >= minStatus (default 500) over a window: a rate',
  args: z.object({ ...windowArgs, minStatus: z.number().int().min(100).max(599).default(500) }).strict(),
  extraTimeMs: (a) => a.window,
  describe: (a) => `share of ${a.method} ${a.route} answered >= ${a.minStatus} over ${a.window / 1000}s`,
  async run(a, ctx) {
    const [before, after] = await scrapeWindow(ctx, a.window);
    let total = 0;
    let errors = 0;
    const name = `${HTTP_DURATION}_count`;
    for (const s of after) {
      if (s.name !== name || s.labels.route !== a.route || s.labels.method !== a.method) continue;
      const prev = before.find((b) => b.name === name && sameLabels(b.labels, s.labels));
      const n = increase(prev?.value, s.value);
      total += n;
      if (Number(s.labels.status_code) >= a.minStatus) errors += n;
    }
    const values: Record<string, number> = { errors, total };
    if (total > 0) values.rate = errors / total;
    return { type: 'rate' as const, values };
  },
});

const metricProbe = defineFunc({
  kinds: ['probe'],
  summary: 'a metric from /metrics: the sum of matching series, or its increase over `window` when given',
  args: z
    .object({ name: z.string().min(1), labels: z.record(z.string(), z.string()).default({}), window: durationMs.optional() })
    .strict(),
  extraTimeMs: (a) => a.window ?? 0,
  describe: (a) => `${a.name}${Object.keys(a.labels).length ? JSON.stringify(a.labels) : ''}${a.window !== undefined ? ` increase over ${a.window / 1000}s` : ''}`,
  async run(a, ctx) {
    if (a.window === undefined) {
      const v = sumSamples(await scrape(ctx), a.name, a.labels);
      if (v === undefined) throw new SurgeError('SRG_STACK_ADMIN', `The stack exposes no metric ${a.name} matching ${JSON.stringify(a.labels)}`);
      return v;
    }
    const [before, after] = await scrapeWindow(ctx, a.window);
    return increase(sumSamples(before, a.name, a.labels), sumSamples(after, a.name, a.labels));
  },
});

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** `provider: {type: stack, func: <name>, arguments: {...}}` */
export const STACK_FUNCS: FuncTable = {
  'payment-fault': paymentFault,
  'drop-requests': dropRequests,
  'pause-consumer': pauseConsumer,
  'resume-consumer': simple('resume the queue consumer', 'resume the queue consumer', (s) => s.resumeConsumer()),
  'kill-worker': killWorker,
  'restart-store': simple('close and reopen the order store (SQLite)', 'restart the order store', (s) => s.restartStore()),
  'set-workers': setWorkers,
  'clear-faults': simple(
    'clear every fault: drop ratio 0, consumer resumed, payment back to its configured values',
    'clear every stack fault',
    (s) => s.clearFaults(),
  ),
  status: statusProbe('the whole GET /admin/status document', (s) => s),
  'breaker-state': statusProbe('payment circuit breaker: closed, half_open or open', (s) => s.breaker, z.enum(['closed', 'half_open', 'open']).optional()),
  oversold: statusProbe('units sold beyond stock (must stay 0)', (s) => s.oversold, z.number().optional()),
  'queue-age': statusProbe('age of the oldest waiting order, ms', (s) => s.queue.oldestWaitingMs),
  'queue-depth': statusProbe('orders waiting for a worker', (s) => s.queue.depth, z.number().int().min(0).optional()),
  'acceptance-latency': acceptanceLatency,
  'error-rate': errorRate,
  metric: metricProbe,
};
