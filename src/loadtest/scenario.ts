import { z } from 'zod';
import { SurgeError, isSurgeError } from '../errors.js';
import { aggregationAllowed, aggregationKey, AGGREGATIONS_BY_TYPE, parseDuration, parseMetricSelector, parseThreshold, type MetricSelector, type ThresholdSpec } from '../probes/index.js';
import { BUILTIN_METRICS } from './metrics.js';

/**
 * A load-test scenario file (scenarios/load/*.yaml). Load profiles use k6's executor names and
 * keys so a k6 user can read them, and so `loadtest export --k6` is a straight mapping.
 */

const duration = z.string().refine((s) => parseDuration(s) !== undefined && (parseDuration(s) ?? 0) > 0, {
  message: 'must be a duration such as "30s", "2m" or "1m30s"',
});
const optionalDuration = z.string().refine((s) => parseDuration(s) !== undefined, { message: 'must be a duration such as "0s" or "10s"' });

const common = {
  /** Delay before this scenario starts, k6 duration. Default "0s". */
  startTime: optionalDuration.default('0s'),
  /** How long in-flight requests may finish after the scenario ends, k6 duration. Default "30s". */
  gracefulStop: optionalDuration.default('30s'),
};

const ConstantArrivalRate = z
  .object({
    executor: z.literal('constant-arrival-rate'),
    /** Iterations (requests) started per timeUnit. */
    rate: z.number().positive(),
    /** Default "1s". */
    timeUnit: duration.default('1s'),
    duration,
    /** VUs (in-flight slots) made ready before the start. Default 10. */
    preAllocatedVUs: z.number().int().min(1).default(10),
    /** Most VUs at once; an arrival finding none free is a dropped iteration. Default = preAllocatedVUs. */
    maxVUs: z.number().int().min(1).optional(),
    ...common,
  })
  .strict();

const Stage = z.object({ target: z.number().min(0), duration }).strict();

const RampingArrivalRate = z
  .object({
    executor: z.literal('ramping-arrival-rate'),
    /** Iterations per timeUnit at the start. Default 0. */
    startRate: z.number().min(0).default(0),
    timeUnit: duration.default('1s'),
    /** Linear ramps from the previous rate to each stage's target over its duration. */
    stages: z.array(Stage).min(1),
    preAllocatedVUs: z.number().int().min(1).default(10),
    maxVUs: z.number().int().min(1).optional(),
    ...common,
  })
  .strict();

const ConstantVus = z
  .object({
    executor: z.literal('constant-vus'),
    /** Closed model: each VU sends its next request when the previous one answered. Default 1. */
    vus: z.number().int().min(1).default(1),
    duration,
    ...common,
  })
  .strict();

export const ExecutorSchema = z.discriminatedUnion('executor', [ConstantArrivalRate, RampingArrivalRate, ConstantVus]);

const IntRange = z
  .object({ min: z.number().int().min(1), max: z.number().int().min(1) })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' });

const requestCommon = {
  /** Name used as the `name` tag (thresholds can filter on it: `http_req_duration{name:create_order}`). */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -').optional(),
  /** Relative share of arrivals. */
  weight: z.number().positive().default(1),
};

const CreateOrder = z
  .object({
    kind: z.literal('create-order'),
    ...requestCommon,
    /** Distinct skus per order. Default 1..3. */
    items: IntRange.default({ min: 1, max: 3 }),
    /** Units per line. Default 1..2. */
    qty: IntRange.default({ min: 1, max: 2 }),
  })
  .strict();

const BatchCreate = z
  .object({
    kind: z.literal('batch-create'),
    ...requestCommon,
    /** Orders per batch request, 1..100 (the API's limit). Default 10. */
    batchSize: z.number().int().min(1).max(100).default(10),
    items: IntRange.default({ min: 1, max: 3 }),
    qty: IntRange.default({ min: 1, max: 2 }),
  })
  .strict();

const GetStatus = z.object({ kind: z.literal('get-status'), ...requestCommon }).strict();

const PlainHttp = z
  .object({
    kind: z.literal('http'),
    ...requestCommon,
    method: z.enum(['GET', 'POST', 'PUT', 'DELETE', 'HEAD']).default('GET'),
    path: z.string().startsWith('/', 'must start with /'),
    /** JSON body sent as is. */
    body: z.unknown().optional(),
  })
  .strict();

export const RequestSchema = z.discriminatedUnion('kind', [CreateOrder, BatchCreate, GetStatus, PlainHttp]);

const Payload = z
  .object({
    /** Where skus come from: "inventory" (GET /v1/inventory of the target at start) or a list. Default "inventory". */
    skus: z.union([z.literal('inventory'), z.array(z.string().min(1)).min(1)]).default('inventory'),
    /** Size of the random customer pool (customerId c-1..c-N). Default 10000. */
    customers: z.number().int().min(1).default(10_000),
    /** Share of orders paid with the simulator's declining token `tok_decline`, 0..1. Default 0. */
    declineRatio: z.number().min(0).max(1).default(0),
  })
  .strict();

const ThresholdEntry = z.union([
  z.string(),
  z.object({ threshold: z.string(), abortOnFail: z.boolean().optional(), delayAbortEval: z.union([z.string(), z.number()]).optional() }).strict(),
]);

const Http = z
  .object({
    /** TCP connections to the target. Default: enough for every VU, at most 256. */
    connections: z.number().int().min(1).max(4096).optional(),
    /** HTTP/1.1 pipelining depth per connection. Default 1 (off). */
    pipelining: z.number().int().min(1).max(64).default(1),
    /** Per-request timeout, k6 duration. Default "10s". */
    timeout: duration.default('10s'),
    /** Extra headers on every request. */
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export const ScenarioSchema = z
  .object({
    /** Shown in reports. Default: the file name. */
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    /** Base URL of the system under test, e.g. http://127.0.0.1:8080. */
    target: z.url({
      protocol: /^https?$/,
      error: (iss) => (iss.input === undefined ? 'required: the base URL of the system under test, e.g. http://127.0.0.1:8080 (or pass --target)' : 'must be an http:// or https:// URL'),
    }),
    /** k6-style load profiles, run side by side; their names become the `scenario` tag. */
    scenarios: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'use letters, digits, _ -'), ExecutorSchema).refine((s) => Object.keys(s).length > 0, {
      message: 'needs at least one scenario',
    }),
    /** The weighted request mix every arrival draws from. */
    requests: z.array(RequestSchema).min(1),
    payload: Payload.default({ skus: 'inventory', customers: 10_000, declineRatio: 0 }),
    http: Http.default({ pipelining: 1, timeout: '10s', headers: {} }),
    /** k6 thresholds: metric key (optionally with {tag:value}) -> list of expressions. */
    thresholds: z.record(z.string(), z.array(ThresholdEntry)).default({}),
    /** Scrape the target's Prometheus /metrics before and after the run (order metrics for thresholds). Default true. */
    scrapeMetrics: z.boolean().default(true),
  })
  .strict();

export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ExecutorConfig = z.infer<typeof ExecutorSchema>;
export type RequestConfig = z.infer<typeof RequestSchema>;

/** A threshold ready to evaluate: which metric (with tag filters) and which condition. */
export interface ParsedThreshold extends ThresholdSpec {
  readonly selector: MetricSelector;
}

/** A validated scenario with its thresholds parsed. */
export interface LoadedScenario {
  readonly scenario: Scenario;
  readonly thresholds: readonly ParsedThreshold[];
  /** Where it was read from, when from a file. */
  readonly file?: string;
}

/**
 * Validates a scenario object. Every bad field is reported at once, one line each with its path
 * (`scenarios.peak.rate: ...`); throws SRG_LOADTEST_SCENARIO.
 */
export function parseScenario(input: unknown, opts: { file?: string; defaultName?: string; target?: string } = {}): LoadedScenario {
  const label = opts.file ?? 'scenario';
  // A target given from outside (--target) stands in for, or replaces, the file's: scenario files need not hard-code URLs.
  if (opts.target !== undefined && input !== null && typeof input === 'object' && !Array.isArray(input)) input = { ...input, target: opts.target };
  const parsed = ScenarioSchema.safeParse(input);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  const thresholds: ParsedThreshold[] = [];
  const rawThresholds =
    input !== null && typeof input === 'object' && 'thresholds' in input ? (input as { thresholds: unknown }).thresholds : undefined;
  if (rawThresholds !== null && typeof rawThresholds === 'object' && !Array.isArray(rawThresholds)) {
    for (const [key, list] of Object.entries(rawThresholds as Record<string, unknown>)) {
      if (!Array.isArray(list)) continue; // zod already reported it
      let selector: MetricSelector;
      try {
        selector = parseMetricSelector(key, `thresholds.${key}`);
      } catch (e) {
        problems.push(isSurgeError(e) ? e.message : String(e));
        continue;
      }
      list.forEach((entry, i) => {
        try {
          const spec = parseThreshold(entry, { where: `thresholds.${key}.${i}` });
          const known = BUILTIN_METRICS[selector.metric];
          if (known && !aggregationAllowed(spec.condition, known.type)) {
            const allowed = AGGREGATIONS_BY_TYPE[known.type].map((a) => (a === 'p' ? 'p(N)' : a)).join(', ');
            problems.push(`thresholds.${key}.${i}: ${aggregationKey(spec.condition)} does not apply to ${selector.metric} (a ${known.type}); use ${allowed}`);
            return;
          }
          thresholds.push({ selector, ...spec });
        } catch (e) {
          problems.push(isSurgeError(e) ? e.message : String(e));
        }
      });
    }
  }
  if (parsed.success) {
    for (const [name, ex] of Object.entries(parsed.data.scenarios)) {
      if (ex.executor !== 'constant-vus' && ex.maxVUs !== undefined && ex.maxVUs < ex.preAllocatedVUs) {
        problems.push(`scenarios.${name}.maxVUs: ${ex.maxVUs} is below preAllocatedVUs (${ex.preAllocatedVUs})`);
      }
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `Invalid load-test scenario ${label}: ${problems.length} problem(s)`, {
      details: problems,
      hint: 'See docs/loadtest.md for the scenario format; executors and thresholds use k6 names.',
    });
  }
  const scenario: Scenario = { ...parsed.data, name: parsed.data.name ?? opts.defaultName ?? 'loadtest' };
  return { scenario, thresholds, ...(opts.file === undefined ? {} : { file: opts.file }) };
}

/** Reads and validates a scenario YAML/JSON file; `target` replaces (or supplies) its target URL. */
export async function loadScenarioFile(path: string, opts: { target?: string } = {}): Promise<LoadedScenario> {
  const { readFile } = await import('node:fs/promises');
  const { basename, extname } = await import('node:path');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `Cannot read scenario ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, {
      cause,
      hint: 'Pass a path to a scenario file such as scenarios/load/flash-sale.yaml.',
    });
  }
  const { parse } = await import('yaml');
  let value: unknown;
  try {
    value = parse(text);
  } catch (cause) {
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `${path} is not valid YAML: ${(cause as Error).message.split('\n')[0] ?? ''}`, { cause });
  }
  return parseScenario(value, { file: path, defaultName: basename(path, extname(path)), ...(opts.target === undefined ? {} : { target: opts.target }) });
}

/** Changes a program (e.g. `surgectl rehearse`) or a flag may make to a scenario before it runs. */
export interface ScenarioOverrides {
  /** Base URL of the target. */
  target?: string;
  /**
   * Peak arrival rate, iterations per second. Arrival-rate scenarios are scaled so their highest
   * rate becomes this (a ramp keeps its shape); constant-vus scenarios are left as they are.
   */
  rate?: number;
  /** Total length in milliseconds; every scenario's stages/duration are scaled to fit. */
  durationMs?: number;
  /** Thresholds added to (or replacing the list of) a metric key. */
  thresholds?: Record<string, readonly (string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string })[]>;
}

/** Returns a new, re-validated scenario with the overrides applied. */
export function applyOverrides(loaded: LoadedScenario, o: ScenarioOverrides): LoadedScenario {
  const s: ScenarioInput = structuredClone(loaded.scenario) as ScenarioInput;
  if (o.target !== undefined) s.target = o.target;
  const longest = Math.max(...Object.values(loaded.scenario.scenarios).map(totalMs));
  for (const ex of Object.values(s.scenarios) as ExecutorConfig[]) {
    const unitS = 'timeUnit' in ex ? (parseDuration(ex.timeUnit) ?? 1000) / 1000 : 1;
    if (o.rate !== undefined && ex.executor === 'constant-arrival-rate') {
      ex.rate = o.rate * unitS;
    } else if (o.rate !== undefined && ex.executor === 'ramping-arrival-rate') {
      const peak = Math.max(ex.startRate, ...ex.stages.map((st) => st.target));
      const f = peak > 0 ? (o.rate * unitS) / peak : 0;
      ex.startRate *= f;
      for (const st of ex.stages) st.target *= f;
    }
    if (o.durationMs !== undefined && longest > 0) {
      const f = o.durationMs / longest;
      const fmt = (ms: number) => `${Math.max(1, Math.round(ms * f))}ms`;
      const startMs = parseDuration(ex.startTime ?? '0s') ?? 0;
      ex.startTime = startMs === 0 ? '0s' : fmt(startMs);
      if (ex.executor === 'ramping-arrival-rate') for (const st of ex.stages) st.duration = fmt(parseDuration(st.duration) ?? 0);
      else ex.duration = fmt(parseDuration(ex.duration) ?? 0);
    }
  }
  if (o.thresholds) s.thresholds = { ...s.thresholds, ...(o.thresholds as Scenario['thresholds']) };
  return parseScenario(s, loaded.file === undefined ? { defaultName: loaded.scenario.name ?? 'loadtest' } : { file: loaded.file, defaultName: loaded.scenario.name ?? 'loadtest' });
}

/** Start offset + length of an executor, ms (without gracefulStop). */
export function totalMs(ex: ExecutorConfig): number {
  const start = parseDuration(ex.startTime) ?? 0;
  if (ex.executor === 'ramping-arrival-rate') return start + ex.stages.reduce((a, st) => a + (parseDuration(st.duration) ?? 0), 0);
  return start + (parseDuration(ex.duration) ?? 0);
}
