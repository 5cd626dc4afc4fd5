import { z } from 'zod';
import { SurgeError } from '../errors.js';
import { ScaleTargetSchema, ScaleTargetsSchema, type ScaleTarget } from '../scale/plan-file.js';
import { isoTime } from './series.js';
import type { ForecastPoint, ForecastResult, SeriesForecast } from './types.js';
import { FORECAST_UNITS, unitLabel, unitSeconds } from './units.js';

/** One service to size. */
export interface ServiceDemand {
  name: string;
  /** Requests per second one replica sustains (from a load test). */
  perReplicaRps: number;
  /** Requests this service handles per forecast unit (per order). Default 1. */
  requestsPerOrder?: number;
}

/** Which forecast value replicas are sized on: the point forecast or the upper bound of an interval. */
export type SizeOn = 'point' | 'p80' | 'p95';

/** Options of {@link capacityPlan}. */
export interface CapacityPlanOptions {
  forecast: ForecastResult;
  /** Which series of the forecast; required when it holds more than one. */
  series?: string;
  services: readonly ServiceDemand[];
  /** Spare capacity on top of the sized demand, as a fraction (0.3 = 30%). Default 0.3. */
  headroom?: number;
  /** Default `p95`: the upper end of the 95% interval at the busiest step. */
  sizeOn?: SizeOn;
  /** ASG max = ceil(desired x maxFactor), room for the autoscaler above the plan. Default 1.5. */
  maxFactor?: number;
  /** How long before the busy window capacity must be in place, ms. Default 30 minutes. */
  leadMs?: number;
  /** Share of the peak above which a step counts as busy (defines the window). Default 0.8. */
  busyShare?: number;
  /** Name of the plan. Default `surge-<peak date>`. */
  name?: string;
  /** Clock for `generatedAt`, epoch ms. */
  now?: () => number;
}

/** Replica counts of one service, with the arithmetic that produced them. */
export const ServicePlanSchema = z.object({
  name: z.string(),
  perReplicaRps: z.number().positive(),
  requestsPerOrder: z.number().positive(),
  /** Request rate the service must carry at the sized peak, per second. */
  demandRps: z.number().nonnegative(),
  replicas: z.number().int().positive(),
  asg: z.object({ min: z.number().int().positive(), desired: z.number().int().positive(), max: z.number().int().positive() }),
  arithmetic: z.array(z.string()),
  /** The live objects `surgectl scale` changes for this service (`capacity plan --targets`). */
  targets: z.array(ScaleTargetSchema).optional(),
});

/**
 * The scale plan file (`apiVersion: surgectl/v1`, `kind: ScalePlan`), applied by `surgectl scale
 * apply` / `scale schedule` (src/scale/, which reads only the fields it needs) or by other tooling: before `spec.window.start` every service gets
 * `asg.min/desired/max` (or Kubernetes replicas = `replicas`), and after `spec.window.end` the
 * previous values are restored.
 */
export const ScalePlanSchema = z.object({
  apiVersion: z.literal('surgectl/v1'),
  kind: z.literal('ScalePlan'),
  metadata: z.object({ name: z.string().min(1), generatedAt: z.string() }),
  spec: z.object({
    source: z.object({ series: z.string(), model: z.string(), forecastGeneratedAt: z.string() }),
    /** ISO-8601 times: when the capacity must be in place (lead time included) and until when. */
    window: z.object({ start: z.string(), end: z.string() }),
    demand: z.object({
      peakAt: z.string(),
      point: z.number(),
      lo95: z.number(),
      hi95: z.number(),
      sizedOn: z.enum(['point', 'p80', 'p95']),
      /** Orders per second the plan is sized for (point, lo95 and hi95 are per second too). */
      sizedValue: z.number(),
      /** Unit of the forecast values (`per-hour`...); absent or `per-second` when they were rates. */
      unit: z.enum(FORECAST_UNITS).optional(),
      /** The sized value in the forecast's own unit (e.g. orders per hour), before conversion. */
      sizedInUnit: z.number().optional(),
      /** True when the forecast had no unit and per-second was assumed. */
      unitAssumed: z.boolean().optional(),
      /** When assumed and the values looked like counts: that unit, and the per-second rate if it were right. */
      likelyUnit: z.enum(FORECAST_UNITS).optional(),
      sizedIfLikelyUnit: z.number().optional(),
    }),
    headroom: z.number().min(0),
    services: z.array(ServicePlanSchema).min(1),
  }),
});

export type ScalePlan = z.infer<typeof ScalePlanSchema>;
export type ServicePlan = z.infer<typeof ServicePlanSchema>;

const ForecastFileSchema = z.object({
  apiVersion: z.literal('surgectl/v1'),
  kind: z.literal('Forecast'),
  generatedAt: z.string(),
  series: z
    .array(
      z.object({
        name: z.string(),
        model: z.string(),
        stepSeconds: z.number().positive(),
        unit: z.enum(FORECAST_UNITS).optional(),
        points: z.array(z.object({ t: z.string(), value: z.number(), lo80: z.number(), hi80: z.number(), lo95: z.number(), hi95: z.number() }).passthrough()).min(1),
      }).passthrough(),
    )
    .min(1),
}).passthrough();

/** Validates a parsed forecast document (the JSON `surgectl forecast --out` writes). */
export function parseForecastDocument(doc: unknown, where = 'forecast'): ForecastResult {
  const r = ForecastFileSchema.safeParse(doc);
  if (!r.success) {
    throw new SurgeError('SRG_CAPACITY_INPUT', `${where} is not a surgectl forecast`, {
      details: r.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      hint: 'Write one with `surgectl forecast ... --out f.json`.',
    });
  }
  return r.data as unknown as ForecastResult;
}

/**
 * Why a load test's achieved rate is not a per-replica capacity, when its summary shows the service
 * was never pushed: an arrival-rate test that met its rate with idle VUs and no dropped iterations
 * (peak busy `vus` below `vus_max`), or closed-model VUs that spent most of each iteration outside
 * requests (sleeps: `http_req_duration` avg × requests per iteration under half of `iteration_duration` avg).
 */
function unsaturatedWarning(metrics: Record<string, unknown>, where: string): string | undefined {
  const value = (name: string, key: string): number | undefined => {
    const m = metrics[name] as Record<string, unknown> | undefined;
    const v = (m?.values as Record<string, unknown> | undefined)?.[key] ?? m?.[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  const advice = 'its rate is what was offered, not what one replica can serve; re-run until latency rises or iterations drop (more rate, fewer VUs, no sleeps), or give --per-replica-rps';
  const dropped = value('dropped_iterations', 'count') ?? 0;
  const busyPeak = value('vus', 'max');
  const allocated = value('vus_max', 'value') ?? value('vus_max', 'max');
  if (dropped === 0 && busyPeak !== undefined && allocated !== undefined && busyPeak < allocated) {
    return `${where}: the service was never saturated (no dropped iterations, at most ${busyPeak} of ${allocated} VUs busy); ${advice}`;
  }
  const reqAvg = value('http_req_duration', 'avg');
  const iterAvg = value('iteration_duration', 'avg');
  const reqs = value('http_reqs', 'count');
  const iterations = value('iterations', 'count');
  if (reqAvg !== undefined && iterAvg !== undefined && iterAvg > 0 && reqs !== undefined && iterations !== undefined && iterations > 0) {
    const busyShare = (reqAvg * (reqs / iterations)) / iterAvg;
    if (busyShare < 0.5) return `${where}: the service was never saturated (VUs spent ${Math.round((1 - busyShare) * 100)}% of each iteration outside requests, e.g. sleeping); ${advice}`;
  }
  return undefined;
}

/**
 * Per-replica throughput from a k6 summary: `metrics.http_reqs` (or `iterations`) `.rate`, either as
 * in `--summary-export` ({rate}) or handleSummary ({values: {rate}}), divided by the replicas that served it.
 */
export function perReplicaFromLoadTest(doc: unknown, replicasUnderTest = 1, where = 'load-test result'): { rps: number; metric: string; total: number; warning?: string } {
  const metrics = (doc as { metrics?: Record<string, unknown> } | null)?.metrics;
  for (const metric of ['http_reqs', 'iterations']) {
    const m = metrics?.[metric] as { rate?: unknown; values?: { rate?: unknown } } | undefined;
    const rate = typeof m?.rate === 'number' ? m.rate : m?.values?.rate;
    if (typeof rate === 'number' && rate > 0) {
      if (!(replicasUnderTest >= 1)) throw new SurgeError('SRG_CAPACITY_INPUT', 'replicas under test must be at least 1');
      const warning = unsaturatedWarning(metrics ?? {}, where);
      return { rps: rate / replicasUnderTest, metric, total: rate, ...(warning ? { warning } : {}) };
    }
  }
  throw new SurgeError('SRG_CAPACITY_INPUT', `${where} has no positive metrics.http_reqs.rate or metrics.iterations.rate`, {
    hint: 'Give a k6 summary (--summary-export or handleSummary JSON) or --per-replica-rps.',
  });
}

/**
 * Sizes each service for the forecast peak: replicas = ceil(demand x requestsPerOrder / perReplicaRps
 * x (1 + headroom)); the ASG minimum covers the point forecast, desired the sized bound, max leaves
 * the autoscaler room. Pure: returns the plan, writes nothing.
 */
export function capacityPlan(opts: CapacityPlanOptions): ScalePlan {
  const headroom = opts.headroom ?? 0.3;
  const sizeOn = opts.sizeOn ?? 'p95';
  const maxFactor = opts.maxFactor ?? 1.5;
  const leadMs = opts.leadMs ?? 30 * 60_000;
  const busyShare = opts.busyShare ?? 0.8;
  if (!(headroom >= 0) || !Number.isFinite(headroom)) throw new SurgeError('SRG_CLI_USAGE', `headroom must be a finite number >= 0, got ${headroom}`);
  if (!(maxFactor >= 1) || !Number.isFinite(maxFactor)) throw new SurgeError('SRG_CLI_USAGE', `max factor must be a finite number >= 1, got ${maxFactor}`);
  if (opts.services.length === 0) throw new SurgeError('SRG_CLI_USAGE', 'no services to plan', { hint: 'Pass --services intake,worker' });
  for (const s of opts.services) {
    if (!(s.perReplicaRps > 0) || !Number.isFinite(s.perReplicaRps)) throw new SurgeError('SRG_CAPACITY_INPUT', `service ${s.name}: per-replica throughput must be a finite positive number, got ${s.perReplicaRps}`);
    if (s.requestsPerOrder !== undefined && (!(s.requestsPerOrder > 0) || !Number.isFinite(s.requestsPerOrder))) {
      throw new SurgeError('SRG_CAPACITY_INPUT', `service ${s.name}: requests per order must be a finite positive number`);
    }
  }
  const sf = pickSeries(opts.forecast, opts.series);
  const sized = (p: ForecastPoint) => (sizeOn === 'point' ? p.value : sizeOn === 'p80' ? p.hi80 : p.hi95);
  const peak = sf.points.reduce((a, b) => (sized(b) > sized(a) ? b : a), sf.points[0] as ForecastPoint);
  // Forecast values are counts per unit (orders per hour from a BI export); replicas are sized on
  // requests per second, so convert here, where no caller can forget to.
  const unit = sf.unit ?? 'per-second';
  const perUnitSeconds = unitSeconds(unit, sf.stepSeconds);
  const toRate = (v: number) => v / perUnitSeconds;
  const sizedInUnit = sized(peak);
  const sizedValue = toRate(sizedInUnit);
  // reduce, not Math.max(...): a 1-minute forecast for a month has more points than a call may take arguments.
  const pointPeak = toRate(sf.points.reduce((m, p) => Math.max(m, p.value), -Infinity));
  const stepMs = sf.stepSeconds * 1000;
  const busy = sf.points.filter((p) => sized(p) >= busyShare * sizedInUnit).map((p) => Date.parse(p.t));
  const windowStart = busy.reduce((m, t) => Math.min(m, t), Infinity) - leadMs;
  const windowEnd = busy.reduce((m, t) => Math.max(m, t), -Infinity) + stepMs;
  const fmt = (v: number) => String(Math.round(v * 100) / 100);
  const label = sizeOn === 'point' ? 'point forecast' : `${sizeOn} upper bound`;
  const ul = unitLabel(unit, sf.stepSeconds);
  // Each service's arithmetic starts from the per-second rate, saying how it was obtained.
  const rateLines =
    unit !== 'per-second'
      ? [`rate    = ${label} ${fmt(sizedInUnit)}${ul} / ${fmt(perUnitSeconds)} s = ${fmt(sizedValue)}/s`]
      : sf.unitAssumed
        ? [
            `rate    = ${label} ${fmt(sizedValue)}/s: the forecast has no unit, per-second assumed` +
              (sf.likelyUnit ? `; if its values are ${sf.likelyUnit} it would be ${fmt(sizedInUnit / unitSeconds(sf.likelyUnit, sf.stepSeconds))}/s (forecast again with --unit ${sf.likelyUnit})` : ''),
          ]
        : [];

  const services: ServicePlan[] = opts.services.map((s) => {
    const rpo = s.requestsPerOrder ?? 1;
    const demandRps = sizedValue * rpo;
    const rawDesired = (demandRps / s.perReplicaRps) * (1 + headroom);
    const desired = Math.max(1, Math.ceil(rawDesired - 1e-9));
    const rawMin = ((pointPeak * rpo) / s.perReplicaRps) * (1 + headroom);
    const min = Math.min(desired, Math.max(1, Math.ceil(rawMin - 1e-9)));
    const max = Math.max(desired, Math.ceil(desired * maxFactor - 1e-9));
    return {
      name: s.name,
      perReplicaRps: s.perReplicaRps,
      requestsPerOrder: rpo,
      demandRps: Math.round(demandRps * 1e4) / 1e4,
      replicas: desired,
      asg: { min, desired, max },
      arithmetic: [
        ...rateLines,
        `demand  = ${label} ${fmt(sizedValue)}/s x ${fmt(rpo)} req/order = ${fmt(demandRps)} req/s`,
        `desired = ceil(${fmt(demandRps)} / ${fmt(s.perReplicaRps)} x ${fmt(1 + headroom)}) = ceil(${fmt(rawDesired)}) = ${desired}`,
        `min     = ceil(point peak ${fmt(pointPeak * rpo)} / ${fmt(s.perReplicaRps)} x ${fmt(1 + headroom)}) = ceil(${fmt(rawMin)}) = ${min}`,
        `max     = ceil(${desired} x ${fmt(maxFactor)}) = ${max}`,
      ],
    };
  });
  const generatedAt = new Date((opts.now ?? Date.now)()).toISOString();
  return {
    apiVersion: 'surgectl/v1',
    kind: 'ScalePlan',
    metadata: { name: opts.name ?? `surge-${peak.t.slice(0, 10)}`, generatedAt },
    spec: {
      source: { series: sf.name, model: sf.model, forecastGeneratedAt: opts.forecast.generatedAt },
      window: { start: isoTime(windowStart), end: isoTime(windowEnd) },
      demand: {
        peakAt: peak.t,
        point: round4(toRate(peak.value)),
        lo95: round4(toRate(peak.lo95)),
        hi95: round4(toRate(peak.hi95)),
        sizedOn: sizeOn,
        sizedValue,
        ...(sf.unit !== undefined ? { unit: sf.unit } : {}),
        sizedInUnit,
        ...(sf.unitAssumed ? { unitAssumed: true } : {}),
        ...(sf.unitAssumed && sf.likelyUnit ? { likelyUnit: sf.likelyUnit, sizedIfLikelyUnit: sizedInUnit / unitSeconds(sf.likelyUnit, sf.stepSeconds) } : {}),
      },
      headroom,
      services,
    },
  };
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

function pickSeries(f: ForecastResult, name: string | undefined): SeriesForecast {
  if (name !== undefined) {
    const s = f.series.find((x) => x.name === name);
    if (!s) throw new SurgeError('SRG_CAPACITY_INPUT', `the forecast has no series "${name}"`, { details: f.series.map((x) => x.name) });
    return s;
  }
  if (f.series.length !== 1) {
    throw new SurgeError('SRG_CAPACITY_INPUT', `the forecast holds ${f.series.length} series; say which one with --series`, {
      details: f.series.slice(0, 20).map((x) => x.name),
    });
  }
  return f.series[0] as SeriesForecast;
}

/**
 * `capacity plan --targets <file>`: the file maps service names to their live objects (the shape
 * of surgectl.yaml's `scale.targets`); each service of the plan gets its own. A service the plan
 * does not size is an error naming it, so a typo cannot leave a service unscaled.
 */
export function embedTargets(plan: ScalePlan, doc: unknown, where: string): ScalePlan {
  const parsed = ScaleTargetsSchema.safeParse(doc);
  if (!parsed.success) {
    throw new SurgeError('SRG_CAPACITY_INPUT', `${where} is not a map of service name -> targets`, {
      details: parsed.error.issues.slice(0, 20).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      hint: 'e.g. worker: [{kind: Deployment, name: worker, namespace: shop}]; kinds: Deployment, StatefulSet, HorizontalPodAutoscaler, AutoScalingGroup, BundledStack.',
    });
  }
  const names = plan.spec.services.map((s) => s.name);
  const unknown = Object.keys(parsed.data).filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    throw new SurgeError('SRG_CAPACITY_INPUT', `${where} names service(s) the plan does not size: ${unknown.join(', ')}`, { hint: `The plan's services: ${names.join(', ')} (--services).` });
  }
  const targets: Record<string, ScaleTarget[]> = parsed.data;
  return { ...plan, spec: { ...plan.spec, services: plan.spec.services.map((s) => (targets[s.name] ? { ...s, targets: targets[s.name] } : s)) } };
}
