import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SurgeError, isSurgeError } from '../errors.js';
import { parseCondition, type Condition } from '../probes/index.js';
import { durationMs } from './duration.js';
import { PROVIDERS, type ProviderType } from './providers/index.js';
import { parseYamlText } from '../util/yaml.js';

/**
 * Chaos experiments in Chaos Toolkit's shape (title, steady-state-hypothesis, method, rollbacks),
 * with surgectl's providers (`stack`, `http`, `kubernetes`, `chaos-mesh`) and an optional `load`
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

const httpProvider = z
  .object({
    type: z.literal('http'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    headers: z.record(z.string(), z.string()).optional(),
    /** Sent as the JSON body. */
    arguments: z.unknown().optional(),
    /** Per-request timeout; default 30 s. */
    timeout: durationMs.optional(),
  })
  .strict();

const provider = z.discriminatedUnion('type', [funcProvider('stack'), funcProvider('kubernetes'), funcProvider('chaos-mesh'), httpProvider], {
  error: (iss) => (iss.code === 'invalid_union' ? 'type must be one of stack, http, kubernetes, chaos-mesh' : undefined),
});

const pauses = z.object({ before: durationMs.optional(), after: durationMs.optional() }).strict();

const activity = z
  .object({
    type: z.enum(['action', 'probe']),
    name: z.string().min(1, 'must not be empty'),
    provider,
    /** Probes only: the condition the output must meet (k6 threshold syntax or a Chaos Toolkit tolerance). */
    tolerance: z.unknown().optional(),
    pauses: pauses.optional(),
    /** Run without waiting for it; the method waits for background activities before the steady state after. */
    background: z.boolean().default(false),
    /** Longest the activity may run; default 60 s plus any `duration` argument. */
    timeout: durationMs.optional(),
  })
  .strict();

const ref = z.object({ ref: z.string().min(1) }).strict();
/** An activity, or `{ref: name}` reusing one defined earlier; told apart by the `ref` key so errors point inside the right shape. */
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

export const ExperimentSchema = z
  .object({
    version: z.union([z.string(), z.number()]).optional(),
    title: z.string().min(1, 'must not be empty'),
    description: z.string().optional(),
    tags: z.array(z.string()).optional(),
    contributions: z.record(z.string(), z.string()).optional(),
    extensions: z.array(z.unknown()).optional(),
    load: load.optional(),
    'steady-state-hypothesis': z
      .object({
        title: z.string().min(1),
        probes: z.array(activity).min(1, 'needs at least one probe'),
      })
      .strict()
      .optional(),
    method: z.array(methodItem).min(1, 'needs at least one activity'),
    rollbacks: z.array(methodItem).default([]),
  })
  .strict();

type RawActivity = z.infer<typeof activity>;

/** One validated activity, with its arguments checked and its tolerance parsed. */
export type Activity = RawActivity & {
  /** Arguments after the provider function's own schema (defaults filled in). */
  args: Record<string, unknown>;
  /** The parsed tolerance, when the activity is a probe with one. */
  condition?: Condition;
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
  /** The document as written, kept for the journal. */
  raw: unknown;
}

/**
 * Validates an experiment document. Every problem is reported at once as
 * SurgeError SRG_CHAOS_EXPERIMENT with one detail line per bad field (`method[1].provider.func: ...`).
 */
export function parseExperiment(doc: unknown, source = 'experiment'): Experiment {
  const parsed = ExperimentSchema.safeParse(doc);
  if (!parsed.success) {
    throw invalid(source, parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const byName = new Map<string, Activity>();

  const check = (a: RawActivity, where: string, inHypothesis: boolean): Activity => {
    const out: Activity = { ...a, args: {} };
    if (inHypothesis && a.type !== 'probe') problems.push(`${where}.type: the steady-state hypothesis holds probes only, got "${a.type}"`);
    if (inHypothesis && a.tolerance === undefined) problems.push(`${where}.tolerance: a steady-state probe needs a tolerance (e.g. "p(99)<500", 0, [0, 0.01])`);
    if (a.type === 'action' && a.tolerance !== undefined) problems.push(`${where}.tolerance: only probes have a tolerance`);
    if (a.tolerance !== undefined) {
      try {
        out.condition = parseCondition(a.tolerance, { context: 'tolerance', where: `${where}.tolerance` });
      } catch (err) {
        if (!isSurgeError(err)) throw err;
        problems.push(err.message);
      }
    }
    if (a.provider.type === 'http') {
      out.args = (a.provider.arguments ?? {}) as Record<string, unknown>;
    } else {
      const type: ProviderType = a.provider.type;
      const funcs = PROVIDERS[type];
      const spec = funcs[a.provider.func];
      if (!spec) {
        problems.push(`${where}.provider.func: unknown ${type} function "${a.provider.func}"; expected one of ${Object.keys(funcs).join(', ')}`);
      } else {
        if (!spec.kinds.includes(a.type)) problems.push(`${where}.provider.func: ${type} "${a.provider.func}" is ${spec.kinds.join('/')}, not ${a.type}`);
        const args = spec.args.safeParse(a.provider.arguments ?? {});
        if (args.success) out.args = args.data as Record<string, unknown>;
        else for (const i of args.error.issues) problems.push(`${where}.provider.arguments${formatPath(i.path, true)}: ${i.message}`);
      }
    }
    if (!byName.has(a.name)) byName.set(a.name, out);
    return out;
  };

  const resolve = (item: z.infer<typeof ref> | RawActivity, where: string): Activity | undefined => {
    if ('ref' in item) {
      const target = byName.get(item.ref);
      if (!target) problems.push(`${where}.ref: no activity named "${item.ref}" is defined before this point`);
      return target;
    }
    return check(item, where, false);
  };

  const hypothesis = e['steady-state-hypothesis'];
  const probes = hypothesis?.probes.map((p, i) => check(p, `steady-state-hypothesis.probes[${i}]`, true)) ?? [];
  const method = e.method.map((m, i) => resolve(m, `method[${i}]`));
  const rollbacks = e.rollbacks.map((m, i) => resolve(m, `rollbacks[${i}]`));
  rollbacks.forEach((r, i) => {
    if (r?.background) problems.push(`rollbacks[${i}].background: rollbacks run one after another; background is not allowed`);
  });
  if (e.load && !usesStack(probes, method, rollbacks)) {
    problems.push('load: background load is sent to the stack target, but no activity uses the stack provider');
  }
  if (problems.length > 0) throw invalid(source, problems);

  return {
    title: e.title,
    description: e.description,
    tags: e.tags ?? [],
    load: e.load,
    hypothesis: hypothesis ? { title: hypothesis.title, probes } : undefined,
    method: method.filter((a): a is Activity => a !== undefined),
    rollbacks: rollbacks.filter((a): a is Activity => a !== undefined),
    raw: doc,
  };
}

/** Reads and validates an experiment file (YAML or JSON). */
export async function loadExperiment(path: string): Promise<Experiment> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new SurgeError('SRG_CHAOS_EXPERIMENT', `Cannot read experiment file ${path}: ${(cause as Error).message}`, {
      hint: 'Pass the path of a YAML experiment, e.g. scenarios/chaos/payment-outage.yaml.',
      cause,
    });
  }
  return parseExperiment(await parseYamlText(text, path, 'SRG_CHAOS_EXPERIMENT'), path);
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
