import { z } from 'zod';
import { SurgeError, isSurgeError } from '../errors.js';
import { aggregationAllowed, aggregationKey, AGGREGATIONS_BY_TYPE, parseMetricSelector, parseThreshold, type MetricSelector, type ThresholdSpec } from '../probes/index.js';
import { DURATION_EXAMPLES, parseDuration } from '../util/duration.js';
import { BUILTIN_METRICS } from './metrics.js';

/**
 * A load-test scenario file (scenarios/load/*.yaml). Load profiles use k6's executor names and
 * keys so a k6 user can read them, and so `loadtest export --k6` is a straight mapping.
 *
 * Durations are read once, here: every duration key of a parsed {@link Scenario} holds
 * milliseconds (a number, which k6 itself also reads as milliseconds), so the engine, the k6
 * export and overrides never parse text again.
 */

/**
 * A k6 duration as milliseconds: text in the one grammar (`30s`, `1m30s`, `500ms`), or a number,
 * which k6 reads as milliseconds; so does k6 for text without a unit (`"500"` is 500 ms).
 */
function k6Duration(opts: { positive: boolean }) {
  const message = `must be a duration such as ${opts.positive ? '"30s", "2m" or "1m30s", more than zero' : '"0s" or "10s"'}: ${DURATION_EXAMPLES}; a plain number is milliseconds, as in k6`;
  return z.union([z.number(), z.string()], { error: message }).transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : parseDuration(v, { bare: 'ms' });
    if (ms === undefined || !Number.isFinite(ms) || ms < 0 || (opts.positive && ms === 0)) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return ms;
  });
}

/** A length: more than zero, ms. */
const duration = k6Duration({ positive: true });
/** An offset or a grace period: zero or more, ms. */
const optionalDuration = k6Duration({ positive: false });

const common = {
  /** Delay before this scenario starts, ms (k6 duration in the file). Default 0. */
  startTime: optionalDuration.default(0),
  /** How long in-flight requests may finish after the scenario ends, ms (k6 duration in the file). Default 30 s. */
  gracefulStop: optionalDuration.default(30_000),
};

const ConstantArrivalRate = z
  .object({
    executor: z.literal('constant-arrival-rate'),
    /** Iterations (requests) started per timeUnit. */
    rate: z.number().positive(),
    /** The period `rate` counts over, ms. Default 1 s. */
    timeUnit: duration.default(1000),
    /** Length, ms. */
    duration,
    /** VUs (in-flight slots) made ready before the start. Default 10. */
    preAllocatedVUs: z.number().int().min(1).default(10),
    /** Most VUs at once; an arrival finding none free is a dropped iteration. Default = preAllocatedVUs. */
    maxVUs: z.number().int().min(1).optional(),
    ...common,
  })
  .strict();

/** A linear ramp to `target` iterations per timeUnit over `duration` ms. */
const Stage = z.object({ target: z.number().min(0), duration }).strict();

const RampingArrivalRate = z
  .object({
    executor: z.literal('ramping-arrival-rate'),
    /** Iterations per timeUnit at the start. Default 0. */
    startRate: z.number().min(0).default(0),
    /** The period rates count over, ms. Default 1 s. */
    timeUnit: duration.default(1000),
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
    /** Length, ms. */
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
    /** Per-request timeout, ms (k6 duration in the file). Default 10 s. */
    timeout: duration.default(10_000),
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
    http: Http.default({ pipelining: 1, timeout: 10_000, headers: {} }),
    /** k6 thresholds: metric key (optionally with {tag:value}) -> list of expressions. */
    thresholds: z.record(z.string(), z.array(ThresholdEntry)).default({}),
    /** Scrape the target's Prometheus /metrics before and after the run (order metrics for thresholds). Default true. */
    scrapeMetrics: z.boolean().default(true),
  })
  .strict();

/** A scenario as written: durations as k6 text or numbers of milliseconds. */
export type ScenarioInput = z.input<typeof ScenarioSchema>;
/** A validated scenario: defaults filled in, every duration in milliseconds. */
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

/** What `loadtest validate` says about a valid scenario file. */
export interface ScenarioFileCheck {
  readonly valid: true;
  /** The file, absolute. */
  readonly file: string;
  /** Names of its load profiles. */
  readonly scenarios: readonly string[];
  /** How many thresholds it sets. */
  readonly thresholds: number;
  /** Where its last profile ends, ms from the start (without gracefulStop). */
  readonly plannedMs: number;
}

/** Reads and validates a scenario file; throws SRG_LOADTEST_SCENARIO listing every problem (see {@link parseScenario}). */
export async function validateScenarioFile(path: string): Promise<ScenarioFileCheck> {
  const loaded = await loadScenarioFile(path);
  const profiles = Object.values(loaded.scenario.scenarios);
  return { valid: true, file: path, scenarios: Object.keys(loaded.scenario.scenarios), thresholds: loaded.thresholds.length, plannedMs: Math.max(...profiles.map(totalMs)) };
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
  thresholds?: Record<string, readonly (string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: string | number })[]>;
}

/** Returns a new, re-validated scenario with the overrides applied. */
export function applyOverrides(loaded: LoadedScenario, o: ScenarioOverrides): LoadedScenario {
  // A parsed scenario is valid input: its durations are numbers of milliseconds, which the schema reads as such.
  const s = structuredClone(loaded.scenario) as Scenario;
  if (o.target !== undefined) s.target = o.target;
  const longest = Math.max(...Object.values(loaded.scenario.scenarios).map(totalMs));
  for (const ex of Object.values(s.scenarios)) {
    const unitS = ex.executor === 'constant-vus' ? 1 : ex.timeUnit / 1000;
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
      // Whole milliseconds, and never 0 for a length (a zero-length stage is not a stage).
      const scale = (ms: number) => Math.max(1, Math.round(ms * f));
      ex.startTime = ex.startTime === 0 ? 0 : scale(ex.startTime);
      if (ex.executor === 'ramping-arrival-rate') for (const st of ex.stages) st.duration = scale(st.duration);
      else ex.duration = scale(ex.duration);
    }
  }
  const input: ScenarioInput = o.thresholds ? { ...s, thresholds: { ...s.thresholds, ...(o.thresholds as Scenario['thresholds']) } } : s;
  return parseScenario(input, loaded.file === undefined ? { defaultName: loaded.scenario.name ?? 'loadtest' } : { file: loaded.file, defaultName: loaded.scenario.name ?? 'loadtest' });
}

/** Start offset + length of an executor, ms (without gracefulStop). */
export function totalMs(ex: ExecutorConfig): number {
  return ex.startTime + activeMs(ex);
}

/** Length of the executor's active part (without startTime), ms. */
export function activeMs(ex: ExecutorConfig): number {
  return ex.executor === 'ramping-arrival-rate' ? ex.stages.reduce((a, st) => a + st.duration, 0) : ex.duration;
}
