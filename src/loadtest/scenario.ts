import { z } from 'zod';
import { SurgeError, isSurgeError } from '../errors.js';
import { aggregationAllowed, aggregationKey, AGGREGATIONS_BY_TYPE, parseMetricSelector, parseThreshold, type MetricSelector, type MetricType, type ThresholdSpec } from '../probes/index.js';
import { DURATION_EXAMPLES, parseDuration } from '../util/duration.js';
import { K6_METRIC_TYPES, normaliseK6Options } from './k6-options.js';
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

/** Text that is a plain number (`"50"`, `" 0.5 "`): YAML/JSON files fed from `__ENV`-style templating hold numbers as strings. */
const NUMERIC_TEXT = /^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/;

/**
 * A number, also written as a numeric string (`"50"`), converted without a warning as k6 scripts
 * that read `__ENV` do; then checked by `inner` (e.g. `z.number().int().min(1)`).
 */
function k6Number<T extends z.ZodType<number, number>>(inner: T) {
  return z
    .union([z.number(), z.string().regex(NUMERIC_TEXT).transform(Number)], { error: 'must be a number (or a numeric string such as "50")' })
    .pipe(inner);
}

const tagName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -');

/** k6's executors that surgectl runs. */
export const EXECUTORS = ['constant-arrival-rate', 'ramping-arrival-rate', 'constant-vus', 'ramping-vus', 'per-vu-iterations', 'shared-iterations'] as const;

const common = {
  /** Delay before this scenario starts, ms (k6 duration in the file). Default 0. */
  startTime: optionalDuration.default(0),
  /** How long in-flight requests may finish after the scenario ends, ms (k6 duration in the file). Default 30 s. */
  gracefulStop: optionalDuration.default(30_000),
  /**
   * The request mix this scenario draws from: a key of `mixes`, or `default` (the `requests`
   * list). In a k6 script it names the exported function; surgectl runs the mix of that name.
   * Default `default`.
   */
  exec: z.string().regex(/^[A-Za-z_$][\w$]*$/, 'must be a JavaScript identifier, as k6 requires').optional(),
  /** Environment of the scenario's VUs (k6 `__ENV`); kept for `export --k6` and k6 runs, the builtin mix has no code to read it. */
  env: z.record(z.string(), z.string()).optional(),
  /** Tags added to every metric of this scenario (usable in thresholds: `http_req_duration{flow:checkout}`). */
  tags: z.record(tagName, z.string()).optional(),
};

const vusCount = k6Number(z.number().int().min(1));

const ConstantArrivalRate = z
  .object({
    executor: z.literal('constant-arrival-rate'),
    /** Iterations (requests) started per timeUnit. */
    rate: k6Number(z.number().positive()),
    /** The period `rate` counts over, ms. Default 1 s. */
    timeUnit: duration.default(1000),
    /** Length, ms. */
    duration,
    /** VUs (in-flight slots) made ready before the start. Default 10. */
    preAllocatedVUs: vusCount.default(10),
    /** Most VUs at once; an arrival finding none free is a dropped iteration. Default = preAllocatedVUs. */
    maxVUs: vusCount.optional(),
    ...common,
  })
  .strict();

/** A linear ramp to `target` (iterations per timeUnit, or VUs for ramping-vus) over `duration` ms. */
const Stage = z.object({ target: k6Number(z.number().min(0)), duration: optionalDuration }).strict();

const RampingArrivalRate = z
  .object({
    executor: z.literal('ramping-arrival-rate'),
    /** Iterations per timeUnit at the start. Default 0. */
    startRate: k6Number(z.number().min(0)).default(0),
    /** The period rates count over, ms. Default 1 s. */
    timeUnit: duration.default(1000),
    /** Linear ramps from the previous rate to each stage's target over its duration. */
    stages: z.array(Stage).min(1),
    preAllocatedVUs: vusCount.default(10),
    maxVUs: vusCount.optional(),
    ...common,
  })
  .strict();

const ConstantVus = z
  .object({
    executor: z.literal('constant-vus'),
    /** Closed model: each VU sends its next request when the previous one answered. Default 1. */
    vus: vusCount.default(1),
    /** Length, ms. */
    duration,
    ...common,
  })
  .strict();

const RampingVus = z
  .object({
    executor: z.literal('ramping-vus'),
    /** VUs at the start. Default 1 (k6's). */
    startVUs: k6Number(z.number().int().min(0)).default(1),
    /** Linear ramps of the VU count from the previous target to each stage's over its duration. */
    stages: z.array(Stage.extend({ target: k6Number(z.number().int().min(0)) })).min(1),
    /**
     * How long a VU ramped down may finish its iteration, ms. Default 30 s. A builtin iteration is
     * one request, which http.timeout already bounds; a ramped-down VU finishes it and stops.
     */
    gracefulRampDown: optionalDuration.default(30_000),
    ...common,
  })
  .strict();

const iterationExecutor = <E extends 'per-vu-iterations' | 'shared-iterations'>(executor: E) =>
  z
    .object({
      executor: z.literal(executor),
      /** VUs running iterations side by side. Default 1. */
      vus: vusCount.default(1),
      /** Iterations: of each VU (per-vu-iterations) or of all VUs together (shared-iterations). Default 1. */
      iterations: vusCount.default(1),
      /** The longest the scenario may run before it is stopped with iterations left, ms. Default 10 min (k6's). */
      maxDuration: duration.default(600_000),
      ...common,
    })
    .strict();

const PerVuIterations = iterationExecutor('per-vu-iterations');
const SharedIterations = iterationExecutor('shared-iterations');

/** k6's `externally-controlled` needs k6's REST API to change VUs at run time; refused by name with what to use instead. */
const ExternallyControlled = z
  .object({ executor: z.literal('externally-controlled') })
  .passthrough()
  .transform((_v, ctx) => {
    ctx.addIssue({
      code: 'custom',
      message: 'the externally-controlled executor is not supported (nothing changes VUs from outside during a surgectl run); use constant-vus, or ramping-vus with stages for a changing VU count',
    });
    return z.NEVER;
  });

export const ExecutorSchema = z.discriminatedUnion('executor', [ConstantArrivalRate, RampingArrivalRate, ConstantVus, RampingVus, PerVuIterations, SharedIterations, ExternallyControlled], {
  error: (iss) =>
    iss.code === 'invalid_union' || iss.code === 'invalid_value' || iss.input === undefined
      ? `executor must be one of ${EXECUTORS.join(', ')}`
      : undefined,
});

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
    customers: k6Number(z.number().int().min(1)).default(10_000),
    /** Share of orders paid with the simulator's declining token `tok_decline`, 0..1. Default 0. */
    declineRatio: k6Number(z.number().min(0).max(1)).default(0),
  })
  .strict();

const ThresholdEntry = z.union([
  z.string(),
  z.object({ threshold: z.string(), abortOnFail: z.boolean().optional(), delayAbortEval: z.union([z.string(), z.number()]).optional() }).strict(),
]);

const Http = z
  .object({
    /** TCP connections to the target. Default: enough for every VU, at most 256. */
    connections: k6Number(z.number().int().min(1).max(4096)).optional(),
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
    /** The weighted request mix every arrival draws from: the `default` mix. Required unless `mixes` names every scenario's `exec`. */
    requests: z.array(RequestSchema).min(1).optional(),
    /** More request mixes by name, for scenarios that set `exec` (k6's exported function names). */
    mixes: z.record(z.string().regex(/^[A-Za-z_$][\w$]*$/, 'must be a JavaScript identifier, as exec names are'), z.array(RequestSchema).min(1)).optional(),
    /** Types of custom metrics the thresholds use (a k6 script declares them with `new Trend(name)` etc.), so aggregations are checked before the run. */
    metrics: z.record(z.string().regex(/^[A-Za-z_][\w]*$/, 'use letters, digits and _'), z.enum(['trend', 'rate', 'counter', 'gauge'])).optional(),
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
  /** Things to tell the user that do not stop the run (k6 options surgectl does not act on). Default none. */
  readonly warnings?: readonly string[];
}

/** Options of {@link parseScenario}. */
export interface ParseScenarioOptions {
  /** Where the input was read from, for messages. */
  file?: string;
  /** The name when the input has none. */
  defaultName?: string;
  /** Replaces (or supplies) the target URL. */
  target?: string;
  /**
   * Check a k6 script's options alone: no target or request mix is needed and `exec` names are
   * not resolved (they name the script's functions; `--mix` supplies the mixes at run time).
   */
  optionsOnly?: boolean;
  /** Custom metric types declared outside the input (a k6 script's `new Trend('x')`). */
  declaredMetrics?: Readonly<Record<string, MetricType>>;
  /** A k6 script's exported function names: every `exec` (default `default`) must name one, as k6 requires. */
  scriptExports?: readonly string[];
}

/** The request mix a scenario draws from: `mixes[exec]`, or `requests` for no exec / `default`. */
export function mixFor(scenario: Scenario, ex: ExecutorConfig): readonly RequestConfig[] {
  const name = ex.exec ?? 'default';
  const mix = scenario.mixes?.[name] ?? (name === 'default' ? scenario.requests : undefined);
  if (!mix) throw new SurgeError('SRG_LOADTEST_SCENARIO', `no request mix named "${name}"`);
  return mix;
}

/** Every request kind any scenario may send. */
export function allRequests(scenario: Scenario): readonly RequestConfig[] {
  return [...(scenario.requests ?? []), ...Object.values(scenario.mixes ?? {}).flat()];
}

/**
 * Validates a scenario object. Every bad field is reported at once, one line each with its path
 * (`scenarios.peak.rate: ...`); throws SRG_LOADTEST_SCENARIO.
 */
export function parseScenario(input: unknown, opts: ParseScenarioOptions = {}): LoadedScenario {
  const label = opts.file ?? 'scenario';
  const problems: string[] = [];
  let warnings: readonly string[] = [];
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    const n = normaliseK6Options(input as Record<string, unknown>);
    input = n.input;
    warnings = n.warnings;
    problems.push(...n.problems);
    // A target given from outside (--target) stands in for, or replaces, the file's: scenario files need not hard-code URLs.
    if (opts.target !== undefined) input = { ...n.input, target: opts.target };
    // Options alone stand for a script: placeholders for what --mix supplies at run time.
    if (opts.optionsOnly) input = { target: 'http://127.0.0.1', requests: [{ kind: 'http', path: '/' }], ...(input as object) };
  }
  const parsed = ScenarioSchema.safeParse(input);
  if (!parsed.success) {
    // Shortcuts that conflict derived no scenarios: that is already said once, naming the keys.
    const shortcutConflict = problems.length > 0;
    for (const issue of parsed.error.issues) {
      if (shortcutConflict && issue.path.length === 1 && issue.path[0] === 'scenarios') continue;
      problems.push(`${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    }
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
          const type = metricTypeOf(selector.metric, input, opts.declaredMetrics);
          if (type && !aggregationAllowed(spec.condition, type)) {
            const allowed = AGGREGATIONS_BY_TYPE[type].map((a) => (a === 'p' ? 'p(N)' : a)).join(', ');
            problems.push(`thresholds.${key}.${i}: ${aggregationKey(spec.condition)} does not apply to ${selector.metric} (a ${type}); use ${allowed}`);
            return;
          }
          thresholds.push({ selector, ...spec });
        } catch (e) {
          problems.push(isSurgeError(e) ? e.message : String(e));
        }
      });
    }
  }
  if (parsed.success) problems.push(...crossFieldProblems(parsed.data, opts));
  if (problems.length > 0 || !parsed.success) {
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `Invalid load-test scenario ${label}: ${problems.length} problem(s)`, {
      details: problems,
      hint: 'See docs/loadtest.md for the scenario format; executors and thresholds use k6 names.',
    });
  }
  const scenario: Scenario = { ...parsed.data, name: parsed.data.name ?? opts.defaultName ?? 'loadtest' };
  return { scenario, thresholds, ...(opts.file === undefined ? {} : { file: opts.file }), ...(warnings.length === 0 ? {} : { warnings }) };
}

/** The type of a metric a threshold names: k6's and surgectl's built-ins, then the declared custom ones; undefined when unknown. */
function metricTypeOf(metric: string, input: unknown, declared: Readonly<Record<string, MetricType>> | undefined): MetricType | undefined {
  const inFile = input !== null && typeof input === 'object' ? (input as { metrics?: unknown }).metrics : undefined;
  const fromFile = inFile !== null && typeof inFile === 'object' ? (inFile as Record<string, unknown>)[metric] : undefined;
  const custom = declared?.[metric] ?? (typeof fromFile === 'string' ? (fromFile as MetricType) : undefined);
  return BUILTIN_METRICS[metric]?.type ?? K6_METRIC_TYPES[metric] ?? custom;
}

/** Rules across fields, as k6 checks them: VU bounds, iteration counts, exec names, redeclared built-ins. */
function crossFieldProblems(s: Scenario, opts: ParseScenarioOptions): string[] {
  const problems: string[] = [];
  for (const [name, ex] of Object.entries(s.scenarios)) {
    const at = `scenarios.${name}`;
    if ((ex.executor === 'constant-arrival-rate' || ex.executor === 'ramping-arrival-rate') && ex.maxVUs !== undefined && ex.maxVUs < ex.preAllocatedVUs) {
      problems.push(`${at}.maxVUs: ${ex.maxVUs} is below preAllocatedVUs (${ex.preAllocatedVUs})`);
    }
    if (ex.executor === 'shared-iterations' && ex.iterations < ex.vus) {
      problems.push(`${at}.iterations: ${ex.iterations} is below vus (${ex.vus}); k6 needs at least one iteration per VU`);
    }
    if (ex.executor === 'ramping-vus' && ex.startVUs === 0 && ex.stages.every((st) => st.target === 0)) {
      problems.push(`${at}: startVUs or a stage's target must be above 0`);
    }
    if (opts.scriptExports && !opts.scriptExports.includes(ex.exec ?? 'default')) {
      problems.push(
        ex.exec === undefined
          ? `${at}: the script has no default export to run; set exec to one of its exported functions (${opts.scriptExports.join(', ') || 'none'})`
          : `${at}.exec: the script exports no function "${ex.exec}" (exports: ${opts.scriptExports.join(', ') || 'none'})`,
      );
    }
    if (!opts.optionsOnly) {
      const exec = ex.exec ?? 'default';
      if (!s.mixes?.[exec] && !(exec === 'default' && s.requests)) {
        const known = [...(s.requests ? ['default (requests)'] : []), ...Object.keys(s.mixes ?? {})];
        problems.push(
          exec === 'default'
            ? `${at}: no request mix to run; add "requests" (the default mix) or set exec to one of: ${known.join(', ') || 'none declared'}`
            : `${at}.exec: no request mix named "${exec}"; declare it under "mixes" (declared: ${known.join(', ') || 'none'})`,
        );
      }
    }
  }
  for (const [metric, type] of Object.entries({ ...(s.metrics ?? {}), ...(opts.declaredMetrics ?? {}) })) {
    const builtin = BUILTIN_METRICS[metric]?.type ?? K6_METRIC_TYPES[metric];
    if (builtin && builtin !== type) problems.push(`metrics.${metric}: a built-in ${builtin} metric cannot be redeclared as a ${type}`);
  }
  return problems;
}

/** Options of {@link loadScenarioFile}. */
export interface LoadScenarioFileOptions {
  /** Replaces (or supplies) the target URL. */
  target?: string | undefined;
  /**
   * For a k6 script: the surgectl request mix to run it with, a file (YAML/JSON with `requests`
   * and/or `mixes`, `payload`, `http`, `target`: any scenario file will do) or a name, which is
   * `scenarios/load/<name>.yaml` under `cwd`. Without it a script's options are checked alone.
   */
  mix?: string | undefined;
  /** Directory `mix` is resolved against. Default: the script's directory. */
  cwd?: string | undefined;
  /** k6's `__ENV` for a script's options. Default: empty. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** Whether a path is a k6 script (read with the JS parser) rather than a YAML/JSON scenario. */
export function isK6Script(path: string): boolean {
  return /\.m?js$/i.test(path);
}

/** Keys a mix file gives a k6 script's options: how to send requests, not how much load. */
const MIX_KEYS = ['target', 'requests', 'mixes', 'payload', 'http', 'scrapeMetrics', 'metrics'] as const;

/**
 * Reads and validates a scenario: a YAML/JSON file, or a k6 script (`.js`) whose `options` are
 * read without running it (see k6-script.ts) and joined with the request mix of `opts.mix`.
 */
export async function loadScenarioFile(path: string, opts: LoadScenarioFileOptions = {}): Promise<LoadedScenario> {
  const { basename, extname, dirname, resolve } = await import('node:path');
  const text = await readText(path, 'scenario', 'Pass a path to a scenario file such as scenarios/load/flash-sale.yaml, or a k6 script.');
  const name = basename(path, extname(path));
  const target = opts.target === undefined ? {} : { target: opts.target };
  if (!isK6Script(path)) return parseScenario(parseYaml(await yamlParser(), text, path), { file: path, defaultName: name, ...target });

  const { readK6Script } = await import('./k6-script.js');
  const script = await readK6Script(text, path, opts.env ?? {});
  const common = { file: path, defaultName: name, declaredMetrics: script.metrics, scriptExports: script.exports, ...target };
  if (opts.mix === undefined) return parseScenario(script.options, { ...common, optionsOnly: true });

  const mixPath = /^[A-Za-z0-9_-]+$/.test(opts.mix) ? resolve(opts.cwd ?? dirname(path), 'scenarios', 'load', `${opts.mix}.yaml`) : resolve(opts.cwd ?? dirname(path), opts.mix);
  const mixDoc = parseYaml(await yamlParser(), await readText(mixPath, 'request mix', 'Pass --mix <file> (a YAML file with requests or mixes, such as a scenario file) or --mix <name> for scenarios/load/<name>.yaml.'), mixPath);
  if (mixDoc === null || typeof mixDoc !== 'object' || Array.isArray(mixDoc)) {
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `${mixPath}: a request mix must be a mapping with "requests" and/or "mixes"`);
  }
  const doc = mixDoc as Record<string, unknown>;
  const fromMix: Record<string, unknown> = {};
  for (const k of MIX_KEYS) if (doc[k] !== undefined) fromMix[k] = doc[k];
  const loaded = parseScenario({ ...script.options, ...fromMix }, common);
  const unused = Object.keys(doc).filter((k) => !(MIX_KEYS as readonly string[]).includes(k) && k !== 'name' && k !== 'description');
  if (unused.length === 0) return loaded;
  return { ...loaded, warnings: [...(loaded.warnings ?? []), `${mixPath}: ${unused.join(', ')} not used; the load profiles and thresholds come from ${path}`] };
}

async function readText(path: string, what: string, hint: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `Cannot read ${what} ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause, hint });
  }
}

async function yamlParser(): Promise<(text: string) => unknown> {
  return (await import('yaml')).parse;
}

function parseYaml(parse: (text: string) => unknown, text: string, path: string): unknown {
  try {
    return parse(text);
  } catch (cause) {
    throw new SurgeError('SRG_LOADTEST_SCENARIO', `${path} is not valid YAML: ${(cause as Error).message.split('\n')[0] ?? ''}`, { cause });
  }
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
  /** Where its last profile ends, ms from the start (without gracefulStop); iteration executors count their maxDuration. */
  readonly plannedMs: number;
  /** Accepted with a warning (k6 options surgectl does not act on). */
  readonly warnings: readonly string[];
}

/**
 * Reads and validates a scenario file or a k6 script (with `opts.mix`, also the mix it would run
 * with); throws SRG_LOADTEST_SCENARIO listing every problem (see {@link parseScenario}).
 */
export async function validateScenarioFile(path: string, opts: LoadScenarioFileOptions = {}): Promise<ScenarioFileCheck> {
  const loaded = await loadScenarioFile(path, opts);
  const profiles = Object.values(loaded.scenario.scenarios);
  return {
    valid: true,
    file: path,
    scenarios: Object.keys(loaded.scenario.scenarios),
    thresholds: loaded.thresholds.length,
    plannedMs: Math.max(...profiles.map(totalMs)),
    warnings: loaded.warnings ?? [],
  };
}

/** Changes a program (e.g. `surgectl rehearse`) or a flag may make to a scenario before it runs. */
export interface ScenarioOverrides {
  /** Base URL of the target. */
  target?: string;
  /**
   * Peak arrival rate, iterations per second. Arrival-rate scenarios are scaled so their highest
   * rate becomes this (a ramp keeps its shape); VU-based (closed-model) scenarios are left as they are.
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
    if (o.rate !== undefined && ex.executor === 'constant-arrival-rate') {
      ex.rate = o.rate * (ex.timeUnit / 1000);
    } else if (o.rate !== undefined && ex.executor === 'ramping-arrival-rate') {
      const peak = Math.max(ex.startRate, ...ex.stages.map((st) => st.target));
      const f = peak > 0 ? (o.rate * (ex.timeUnit / 1000)) / peak : 0;
      ex.startRate *= f;
      for (const st of ex.stages) st.target *= f;
    }
    if (o.durationMs !== undefined && longest > 0) {
      const f = o.durationMs / longest;
      // Whole milliseconds, and never 0 for a length (a zero-length stage is not a stage).
      const scale = (ms: number) => Math.max(1, Math.round(ms * f));
      ex.startTime = ex.startTime === 0 ? 0 : scale(ex.startTime);
      if (ex.executor === 'ramping-arrival-rate' || ex.executor === 'ramping-vus') for (const st of ex.stages) st.duration = st.duration === 0 ? 0 : scale(st.duration);
      else if (ex.executor === 'per-vu-iterations' || ex.executor === 'shared-iterations') ex.maxDuration = scale(ex.maxDuration);
      else ex.duration = scale(ex.duration);
    }
  }
  const input: ScenarioInput = o.thresholds ? { ...s, thresholds: { ...s.thresholds, ...(o.thresholds as Scenario['thresholds']) } } : s;
  const again = parseScenario(input, loaded.file === undefined ? { defaultName: loaded.scenario.name ?? 'loadtest' } : { file: loaded.file, defaultName: loaded.scenario.name ?? 'loadtest' });
  return loaded.warnings ? { ...again, warnings: loaded.warnings } : again;
}

/** Start offset + length of an executor, ms (without gracefulStop). */
export function totalMs(ex: ExecutorConfig): number {
  return ex.startTime + activeMs(ex);
}

/** Length of the executor's active part (without startTime), ms. */
export function activeMs(ex: ExecutorConfig): number {
  switch (ex.executor) {
    case 'ramping-arrival-rate':
    case 'ramping-vus':
      return ex.stages.reduce((a, st) => a + st.duration, 0);
    case 'per-vu-iterations':
    case 'shared-iterations':
      // At most: they end as soon as their iterations are done.
      return ex.maxDuration;
    default:
      return ex.duration;
  }
}
