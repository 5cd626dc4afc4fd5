import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SurgeError, isSurgeError } from '../errors.js';
import { parseCondition, type Condition } from '../probes/index.js';
import { durationMs } from './duration.js';
import { maskSecretsBlock, resolveValues, substitute } from './configuration.js';
import { HYPOTHESIS_STRATEGIES, ROLLBACK_STRATEGIES } from './journal.js';
import { PROVIDERS, type ProviderType } from './providers/index.js';
import type { LocalRunner } from './providers/local.js';
import { moduleHint } from './providers/python-hints.js';
import { parseYamlText } from '../util/yaml.js';

/**
 * Chaos experiments in Chaos Toolkit's shape (title, configuration, secrets, steady-state-hypothesis,
 * method, rollbacks, runtime, controls), with Chaos Toolkit's providers (`http`, `python`,
 * `process`), surgectl's own (`stack`, `kubernetes`, `chaos-mesh`) and an optional `load`
 * section that drives modest traffic at the bundled stack so the probes have something to measure.
 * Durations are seconds (Chaos Toolkit) or strings such as `500ms`, `30s`, `2m`.
 */

const funcProvider = (type: 'stack' | 'kubernetes' | 'chaos-mesh') =>
  z
    .object({
      type: z.literal(type),
      func: z.string().min(1, 'must name a function'),
      arguments: z.record(z.string(), z.unknown()).optional(),
    })
    .strict();

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** Chaos Toolkit's secret scopes a provider may read (`secrets: [scope, ...]`). */
const secretScopes = z.array(z.string().min(1)).optional();

const httpProvider = z
  .object({
    type: z.literal('http'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    /** Any case, as Chaos Toolkit upper-cases it. */
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(HTTP_METHODS, { error: `must be one of ${HTTP_METHODS.join(', ')}` }))
      .default('GET'),
    headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
    /** GET/HEAD: query parameters; other methods: the JSON body (a form body with a form content-type). */
    arguments: z.unknown().optional(),
    /** Seconds, or Chaos Toolkit's `[connect, read]` pair; default 30 s. */
    timeout: z.union([durationMs, z.tuple([durationMs, durationMs])]).optional(),
    /** Check the server's TLS certificate. Default true. */
    verify_tls: z.boolean().default(true),
    /** When set, any other status fails the activity. */
    expected_status: z.number().int().min(100).max(599).optional(),
    /** Retries after a connection failure (not after an HTTP status). Default 0. */
    max_retries: z.number().int().min(0).max(10).default(0),
    secrets: secretScopes,
  })
  .strict();

const pythonProvider = z
  .object({
    type: z.literal('python'),
    /** Dotted module path, importable by the interpreter (`python3` or --python). */
    module: z.string().regex(/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/, 'must be a dotted Python module path, e.g. chaosk8s.pod.actions'),
    func: z.string().regex(/^[A-Za-z_]\w*$/, 'must be a Python function name'),
    /** Keyword arguments of the function. */
    arguments: z.record(z.string(), z.unknown()).optional(),
    secrets: secretScopes,
  })
  .strict();

const processProvider = z
  .object({
    type: z.literal('process'),
    /** Program: a name looked up on PATH or a path (`~` expanded). */
    path: z.string().min(1, 'must name a program'),
    /** A string is passed through the shell after the program; a list or mapping as separate arguments. */
    arguments: z.union([z.string(), z.array(z.unknown()), z.record(z.string(), z.unknown())]).optional(),
    /** Seconds; past it the activity fails ("took too long"). Default: the activity's timeout. */
    timeout: durationMs.optional(),
    secrets: secretScopes,
  })
  .strict();

const PROVIDER_TYPES = 'stack, http, python, process, kubernetes, chaos-mesh';
const provider = z.discriminatedUnion(
  'type',
  [funcProvider('stack'), funcProvider('kubernetes'), funcProvider('chaos-mesh'), httpProvider, pythonProvider, processProvider],
  {
    error: (iss) => (iss.code === 'invalid_union' ? `type must be one of ${PROVIDER_TYPES}` : undefined),
  },
);

const pauses = z.object({ before: durationMs.optional(), after: durationMs.optional() }).strict();

/** A Chaos Toolkit control: a Python module with hooks around the experiment and its activities. */
const control = z
  .object({
    /** Controls are configured and cleaned up once per name; an activity's or the hypothesis' control overrides a root one of the same name. */
    name: z.string().min(1),
    provider: z.object({ type: z.literal('python'), module: z.string().min(1), arguments: z.record(z.string(), z.unknown()).optional() }).strict(),
    /** Only the `before_*` or only the `after_*` hooks. Default both. */
    scope: z.enum(['before', 'after']).optional(),
    /** A root control with `automatic: false` applies to the experiment level only. Default true. */
    automatic: z.boolean().optional(),
  })
  .strict();

const activity = z
  .object({
    type: z.enum(['action', 'probe']),
    name: z.string().min(1, 'must not be empty'),
    provider,
    /** Probes only: the condition the output must meet (k6 threshold syntax or a Chaos Toolkit tolerance, including a probe). */
    tolerance: z.unknown().optional(),
    pauses: pauses.optional(),
    /** Run without waiting for it; the method waits for background activities before the steady state after. */
    background: z.boolean().default(false),
    /** Longest the activity may run; default 60 s plus any `duration` argument. */
    timeout: durationMs.optional(),
    /** Journal the activity without running it. Default false. */
    dry: z.boolean().default(false),
    controls: z.array(control).optional(),
  })
  .strict();

const ref = z.object({ ref: z.string().min(1) }).strict();
/** An activity, or `{ref: name}` reusing one defined elsewhere in the experiment; told apart by the `ref` key so errors point inside the right shape. */
const methodItem = z.unknown().transform((v, ctx) => {
  const schema = v !== null && typeof v === 'object' && 'ref' in v ? ref : activity;
  const r = schema.safeParse(v);
  if (r.success) return r.data;
  for (const i of r.error.issues) ctx.addIssue({ ...i, path: i.path } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

const load = z
  .object({
    /** Orders per second sent to the stack's POST /v1/orders while the drill runs (open model). */
    rate: z.number().positive().max(500),
    /** Upper bound on requests sent in total. Default rate × maxDuration. */
    maxRequests: z.number().int().positive().max(1_000_000).optional(),
    /** Upper bound on the time load runs; default 600 s. */
    maxDuration: durationMs.default(600_000),
    /** Orders in flight at once; arrivals beyond it are dropped and counted. Default 64. */
    maxInFlight: z.number().int().positive().max(1024).default(64),
    /** Time between starting the load and the first steady-state check, so windows see steady traffic, not connection set-up. Default 3 s. */
    warmup: durationMs.default(3_000),
  })
  .strict();

/** Chaos Toolkit's `runtime`: strategies written in the experiment; command-line flags win over them. */
const runtime = z
  .object({
    rollbacks: z.object({ strategy: z.enum(ROLLBACK_STRATEGIES) }).strict().optional(),
    hypothesis: z
      .object({
        strategy: z.enum(HYPOTHESIS_STRATEGIES).optional(),
        /** Seconds between checks during the method. */
        frequency: durationMs.optional(),
        fail_fast: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const ExperimentSchema = z
  .object({
    version: z.union([z.string(), z.number()]).optional(),
    title: z.string().min(1, 'must not be empty'),
    description: z.string().optional(),
    tags: z.array(z.string()).optional(),
    contributions: z.record(z.string(), z.string()).optional(),
    extensions: z.array(z.unknown()).optional(),
    /** Resolved by configuration.ts before this schema; kept for the journal. */
    configuration: z.record(z.string(), z.unknown()).optional(),
    secrets: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    controls: z.array(control).optional(),
    runtime: runtime.optional(),
    load: load.optional(),
    'steady-state-hypothesis': z
      .object({
        title: z.string().min(1),
        probes: z.array(methodItem).min(1, 'needs at least one probe'),
        controls: z.array(control).optional(),
      })
      .strict()
      .optional(),
    method: z.array(methodItem).min(1, 'needs at least one activity'),
    rollbacks: z.array(methodItem).default([]),
  })
  .strict();

type RawActivity = z.infer<typeof activity>;

/** A Chaos Toolkit control as declared: a Python module whose hooks run around the experiment, hypothesis, method, rollbacks and activities. */
export type Control = z.infer<typeof control>;

/** One validated activity, with its arguments checked and its tolerance parsed. */
export type Activity = RawActivity & {
  /** Arguments after the provider function's own schema (defaults filled in); for http, python and process the arguments as written, substituted. */
  args: Record<string, unknown>;
  /** The parsed tolerance, when the activity is a probe with one. */
  condition?: Condition;
  /** A probe tolerance (Chaos Toolkit): this probe gets the output as its `value` argument; a truthy result meets the tolerance. */
  toleranceProbe?: Activity;
  /** Where it is defined, e.g. `method[2]`, for messages. */
  where: string;
};

/** A validated experiment: refs resolved, every provider argument checked. */
export interface Experiment {
  title: string;
  description?: string | undefined;
  tags: string[];
  load?: z.infer<typeof load> | undefined;
  hypothesis?: { title: string; probes: Activity[] } | undefined;
  method: Activity[];
  rollbacks: Activity[];
  /** Resolved configuration (env entries read), passed to python functions that take `configuration`. */
  configuration: Record<string, unknown>;
  /** Resolved secrets by scope. */
  secrets: Record<string, Record<string, unknown>>;
  /** Secret values, redacted from the journal and from progress messages. */
  secretValues: string[];
  /** Strategies the experiment asks for (`runtime`); flags win over them. */
  runtime: z.infer<typeof runtime>;
  /** Controls declared at the root (they apply at every level) and on the hypothesis; an activity's own are in `Activity.controls`. */
  controls: { root: Control[]; hypothesis: Control[] };
  /** The document as written (secret values masked), kept for the journal. */
  raw: unknown;
}

/** Options of {@link parseExperiment}. */
export interface ParseExperimentOptions {
  /** Environment for `{type: env}` configuration and secrets. Default: none (entries need a default). */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Validates an experiment document. Every problem is reported at once as
 * SurgeError SRG_CHAOS_EXPERIMENT with one detail line per bad field (`method[1].provider.func: ...`).
 */
export function parseExperiment(doc: unknown, source = 'experiment', opts: ParseExperimentOptions = {}): Experiment {
  const problems: string[] = [];
  // Chaos Toolkit substitutes ${name} before it validates an activity, so substitute first and report an undefined name as such.
  const d: Record<string, unknown> = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? { ...(doc as Record<string, unknown>) } : {};
  const values = resolveValues(d.configuration, d.secrets, opts.env ?? {});
  problems.push(...values.problems);
  const substitutionProblems: string[] = [];
  for (const key of ['controls', 'steady-state-hypothesis', 'method', 'rollbacks']) {
    if (d[key] !== undefined) d[key] = substitute(d[key], values, key, substitutionProblems);
  }
  problems.push(...substitutionProblems);
  const substituted = new Set(substitutionProblems.map((p) => p.slice(0, p.indexOf(': '))));
  const parsed = ExperimentSchema.safeParse(Array.isArray(doc) || doc === null || typeof doc !== 'object' ? doc : d);
  if (!parsed.success) {
    const schemaProblems = parsed.error.issues.map((i) => ({ at: formatPath(i.path), message: i.message })).filter((p) => !substituted.has(p.at));
    throw invalid(source, [...problems, ...schemaProblems.map((p) => `${p.at}: ${p.message}`)]);
  }
  const e = parsed.data;
  const byName = new Map<string, Activity>();

  const check = (a: RawActivity, where: string, inHypothesis: boolean): Activity => {
    const out: Activity = { ...a, args: {}, where };
    if (inHypothesis && a.type !== 'probe') problems.push(`${where}.type: the steady-state hypothesis holds probes only, got "${a.type}"`);
    if (inHypothesis && a.tolerance === undefined) problems.push(`${where}.tolerance: a steady-state probe needs a tolerance (e.g. "p(99)<500", 0, [200, 503])`);
    if (a.type === 'action' && a.tolerance !== undefined) problems.push(`${where}.tolerance: only probes have a tolerance`);
    const t = a.tolerance;
    if (t !== null && typeof t === 'object' && !Array.isArray(t) && (t as { type?: unknown }).type === 'probe') {
      const r = activity.safeParse(t);
      if (!r.success) for (const i of r.error.issues) problems.push(`${where}.tolerance${formatPath(i.path, true)}: ${i.message}`);
      else if (!['python', 'http', 'process'].includes(r.data.provider.type)) {
        problems.push(`${where}.tolerance.provider.type: a probe tolerance passes the value as its "value" argument, which needs a python, http or process provider, got ${r.data.provider.type}`);
      } else out.toleranceProbe = check(r.data, `${where}.tolerance`, false);
    } else if (t !== undefined) {
      try {
        out.condition = parseCondition(t, { context: 'tolerance', where: `${where}.tolerance` });
      } catch (err) {
        if (!isSurgeError(err)) throw err;
        problems.push(err.message);
      }
    }
    const p = a.provider;
    if (p.type === 'http' || p.type === 'python' || p.type === 'process') {
      out.args = p.type === 'process' || p.arguments === undefined || p.arguments === null || typeof p.arguments !== 'object' ? {} : (p.arguments as Record<string, unknown>);
      for (const scope of ('secrets' in p ? p.secrets : undefined) ?? []) {
        if (!(scope in values.secrets)) problems.push(`${where}.provider.secrets: no secret scope "${scope}" is declared under secrets`);
      }
    } else {
      const type: ProviderType = p.type;
      const funcs = PROVIDERS[type];
      const spec = funcs[p.func];
      if (!spec) {
        problems.push(`${where}.provider.func: unknown ${type} function "${p.func}"; expected one of ${Object.keys(funcs).join(', ')}`);
      } else {
        if (!spec.kinds.includes(a.type)) problems.push(`${where}.provider.func: ${type} "${p.func}" is ${spec.kinds.join('/')}, not ${a.type}`);
        const args = spec.args.safeParse(p.arguments ?? {});
        if (args.success) out.args = args.data as Record<string, unknown>;
        else for (const i of args.error.issues) problems.push(`${where}.provider.arguments${formatPath(i.path, true)}: ${i.message}`);
      }
    }
    if (!byName.has(a.name)) byName.set(a.name, out);
    return out;
  };

  // Chaos Toolkit looks a ref up among every activity of the experiment, so define them all before resolving any.
  type Item = z.infer<typeof ref> | RawActivity;
  const hypothesis = e['steady-state-hypothesis'];
  const define = (items: Item[], base: string, inHypothesis: boolean) => items.map((m, i) => ('ref' in m ? m : check(m, `${base}[${i}]`, inHypothesis)));
  const defined = {
    probes: define((hypothesis?.probes ?? []) as Item[], 'steady-state-hypothesis.probes', true),
    method: define(e.method as Item[], 'method', false),
    rollbacks: define(e.rollbacks as Item[], 'rollbacks', false),
  };
  const resolveAll = (items: (Activity | z.infer<typeof ref>)[], base: string, inHypothesis: boolean): (Activity | undefined)[] =>
    items.map((m, i) => {
      if (!('ref' in m)) return m;
      const target = byName.get(m.ref);
      if (!target) problems.push(`${base}[${i}].ref: no activity named "${m.ref}" is defined in this experiment`);
      else if (inHypothesis && (target.type !== 'probe' || (target.tolerance === undefined && !target.toleranceProbe))) {
        problems.push(`${base}[${i}].ref: "${m.ref}" is ${target.type === 'probe' ? 'a probe without a tolerance' : 'an action'}; the steady-state hypothesis needs probes with a tolerance`);
      }
      return target;
    });
  const probes = resolveAll(defined.probes, 'steady-state-hypothesis.probes', true);
  const method = resolveAll(defined.method, 'method', false);
  const rollbacks = resolveAll(defined.rollbacks, 'rollbacks', false);
  rollbacks.forEach((r, i) => {
    if (r?.background) problems.push(`rollbacks[${i}].background: rollbacks run one after another; background is not allowed`);
  });
  if (e.load && !usesStack(probes, method, rollbacks)) {
    problems.push('load: background load is sent to the stack target, but no activity uses the stack provider');
  }
  if (problems.length > 0) throw invalid(source, problems);

  const present = (l: (Activity | undefined)[]) => l.filter((a): a is Activity => a !== undefined);
  return {
    title: e.title,
    description: e.description,
    tags: e.tags ?? [],
    load: e.load,
    hypothesis: hypothesis ? { title: hypothesis.title, probes: present(probes) } : undefined,
    method: present(method),
    rollbacks: present(rollbacks),
    configuration: values.configuration,
    secrets: values.secrets,
    secretValues: values.secretValues,
    runtime: e.runtime ?? {},
    controls: { root: e.controls ?? [], hypothesis: e['steady-state-hypothesis']?.controls ?? [] },
    raw: maskSecretsBlock(doc),
  };
}

/** Every activity of an experiment, including probe tolerances, once each. */
export function allActivities(e: Experiment): Activity[] {
  const seen = new Set<Activity>();
  const add = (a: Activity) => {
    if (seen.has(a)) return;
    seen.add(a);
    if (a.toleranceProbe) add(a.toleranceProbe);
  };
  [...(e.hypothesis?.probes ?? []), ...e.method, ...e.rollbacks].forEach(add);
  return [...seen];
}

/** A control declared somewhere in the experiment, with where. */
export interface DeclaredControl {
  control: Control;
  /** `controls[0]`, `method[1].controls[0]`, ... for messages. */
  where: string;
}

/** Every control declared (root, hypothesis, then each activity), in Chaos Toolkit's order; the same name may appear more than once. */
export function declaredControls(e: Experiment): DeclaredControl[] {
  const out: DeclaredControl[] = [];
  e.controls.root.forEach((c, i) => out.push({ control: c, where: `controls[${i}]` }));
  e.controls.hypothesis.forEach((c, i) => out.push({ control: c, where: `steady-state-hypothesis.controls[${i}]` }));
  // As chaoslib's get_controls: the activities of the hypothesis, method and rollbacks (a ref is the activity it names, once).
  const activities = new Set([...(e.hypothesis?.probes ?? []), ...e.method, ...e.rollbacks]);
  for (const a of activities) (a.controls ?? []).forEach((c, i) => out.push({ control: c, where: `${a.where}.controls[${i}]` }));
  return out;
}

/** What {@link checkLocalProviders} learnt: the control hooks each control module defines. */
export interface LocalCheck {
  /** Module -> the hooks it defines (e.g. `before_activity_control`). */
  controlHooks: Record<string, string[]>;
}

/**
 * Checks what only this machine can tell, as `chaos validate` does in Chaos Toolkit: every python
 * module imports and its function takes the arguments given, every process program exists. Each
 * failure names the module and the package that usually provides it, and surgectl's native
 * equivalent where there is one. Every control module must import too (Chaos Toolkit only warns and
 * runs without it; a drill whose safeguards or notifications silently do not run is worse than one
 * that does not start). Throws SRG_CHAOS_EXPERIMENT listing every problem.
 */
export async function checkLocalProviders(e: Experiment, runner: LocalRunner, source: string, signal?: AbortSignal): Promise<LocalCheck> {
  const problems: string[] = [];
  const python = allActivities(e).filter((a) => a.provider.type === 'python');
  const calls = python.map((a) => {
    const p = a.provider as Extract<Activity['provider'], { type: 'python' }>;
    const args = { ...a.args };
    if (a.where.endsWith('.tolerance')) args.value = null;
    return { module: p.module, func: p.func, arguments: args, ...(p.secrets ? { secrets: {} } : {}) };
  });
  const answers = await runner.checkPython(calls, signal);
  python.forEach((a, i) => {
    const r = answers[i];
    const p = a.provider as Extract<Activity['provider'], { type: 'python' }>;
    if (!r || r.ok) return;
    if (r.kind === 'import') problems.push(`${a.where}.provider.module: Python module "${p.module}" cannot be imported (${r.message}); ${moduleHint(p.module, p.func)}`);
    else if (r.kind === 'func') problems.push(`${a.where}.provider.func: ${r.message}`);
    else if (r.kind === 'arguments') problems.push(`${a.where}.provider.arguments: ${p.module}.${p.func} does not take these arguments: ${r.message}`);
    else problems.push(`${a.where}.provider: ${r.message}`);
  });
  for (const a of allActivities(e)) {
    if (a.provider.type !== 'process') continue;
    if (!(await runner.which(a.provider.path))) problems.push(`${a.where}.provider.path: program "${a.provider.path}" cannot be found on PATH or is not executable`);
  }
  const declared = declaredControls(e);
  const modules = [...new Set(declared.map((d) => d.control.provider.module))];
  const checks = await runner.checkControlModules(modules, signal);
  const controlHooks: Record<string, string[]> = {};
  modules.forEach((m, i) => {
    const r = checks[i];
    if (!r) return;
    if (r.ok) {
      controlHooks[m] = r.hooks;
      return;
    }
    const d = declared.find((x) => x.control.provider.module === m);
    const at = `${d?.where ?? 'controls'}.provider`;
    if (r.kind === 'import') problems.push(`${at}.module: control "${d?.control.name ?? m}": Python module "${m}" cannot be imported (${r.message}); ${moduleHint(m, '')}`);
    else problems.push(`${at}: ${r.message}`);
  });
  if (problems.length > 0) throw invalid(source, problems);
  return { controlHooks };
}

/** Reads and validates an experiment file (YAML or JSON). */
export async function loadExperiment(path: string, opts: ParseExperimentOptions = {}): Promise<Experiment> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new SurgeError('SRG_CHAOS_EXPERIMENT', `Cannot read experiment file ${path}: ${(cause as Error).message}`, {
      hint: 'Pass the path of a YAML experiment, e.g. scenarios/chaos/payment-outage.yaml.',
      cause,
    });
  }
  return parseExperiment(await parseYamlText(text, path, 'SRG_CHAOS_EXPERIMENT'), path, opts);
}

function usesStack(...lists: (Activity | undefined)[][]): boolean {
  return lists.some((l) => l.some((a) => a?.provider.type === 'stack'));
}

function invalid(source: string, details: string[]): SurgeError {
  return new SurgeError('SRG_CHAOS_EXPERIMENT', `${source}: the experiment is invalid (${details.length} problem${details.length === 1 ? '' : 's'})`, {
    details,
    hint: 'See docs/chaos.md for the experiment format; `surgectl chaos validate <file>` checks a file without running it.',
  });
}

/** `['method', 0, 'provider', 'func']` -> `method[0].provider.func`. */
function formatPath(path: readonly PropertyKey[], continued = false): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' && !continued ? String(p) : `.${String(p)}`;
  return out === '' ? (continued ? '' : '(root)') : out;
}
