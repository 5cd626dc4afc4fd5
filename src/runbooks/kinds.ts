import { z } from 'zod';
import { evaluateCondition, parseCondition } from '../probes/index.js';
import type { Reporter } from '../reporter.js';
import { parseAnalysisMetric, runAnalysis, type AnalysisMetric } from './analysis.js';
import { duration, ms, str } from './fields.js';
import { POSTGRES_STEP_KINDS } from './kinds-postgres.js';
import type { RunbookPorts } from './ports.js';
import type { ActionSpec } from './types.js';

/**
 * The step kinds a runbook composes. Each kind declares its fields (a zod schema, so a bad field
 * is named with its path), whether it changes a live system, how it reads in a dry run, how it
 * runs, and — for kinds that change something — how to undo the change from what it recorded
 * before making it (the `auto` rollback) and how to say that undo in words when it must be done
 * by hand.
 */

/** What a step's action may use while it runs. */
export interface StepContext {
  ports: RunbookPorts;
  /** Aborted on Ctrl-C and when the step's timeout passes. */
  signal: AbortSignal;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  reporter: Reporter;
  /** Environment variables a `shell` step passes on (PATH and the like), from the caller. */
  env: Readonly<Record<string, string | undefined>>;
}

/** What an action returns: `passed: false` fails the step (a check that did not hold). */
export interface KindResult {
  passed: boolean;
  output?: unknown;
  /** Recorded before the change: what an `auto` rollback puts back. */
  undo?: unknown;
  /** Why it did not pass, in words. */
  message?: string;
}

export interface StepKind<S = Record<string, unknown>> {
  readonly name: string;
  readonly summary: string;
  readonly schema: z.ZodType<S>;
  /** Changes a live system (confirmed on a TTY, journaled before it runs). */
  mutating(spec: S): boolean;
  /** One line for dry runs and `runbook show`: what it would do, with values. */
  describe(spec: S): string;
  /**
   * Reads what the action is about to change (the input of an `auto` rollback). The engine
   * journals it before the action runs, so a crash in the middle still leaves the way back.
   * Throws when the action cannot run at all (e.g. the named server does not exist).
   */
  before?(spec: S, ctx: StepContext): Promise<unknown>;
  run(spec: S, ctx: StepContext): Promise<KindResult>;
  /** Puts back what `undo` recorded. Absent: the kind changes nothing or cannot be undone automatically. */
  undo?(spec: S, undo: unknown, ctx: StepContext): Promise<void>;
  /** The undo in words, for the list of what is left to do by hand. */
  describeUndo?(spec: S, undo: unknown): string;
  /**
   * A point of no return (a PostgreSQL promotion): once it ran, a rollback undoes only the steps
   * after it. Undoing the ones before (unfencing the old primary, giving it its workers and its
   * intake back) would put two primaries, or orders on a fenced one, in play.
   */
  readonly irreversible?: boolean;
}

const label = z.record(z.string(), z.string());

const brief = (v: unknown, max = 2_000): unknown => {
  if (typeof v !== 'string') return v;
  return v.length > max ? `${v.slice(0, max)}… (${v.length} bytes)` : v;
};
const parseBody = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return brief(text);
  }
};

// ── http ──────────────────────────────────────────────────────────────────────────────────────
const HttpSchema = z.strictObject({
  url: z.url(),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.unknown().optional(),
  /** Statuses that count as success; default any 2xx. */
  expectStatus: z.union([z.number().int(), z.array(z.number().int()).min(1)]).optional(),
});
const http: StepKind<z.infer<typeof HttpSchema>> = {
  name: 'http',
  summary: 'an HTTP request; passes on the expected status (default 2xx)',
  schema: HttpSchema,
  mutating: (s) => s.method !== 'GET' && s.method !== 'HEAD',
  describe: (s) => `${s.method} ${s.url}${s.expectStatus === undefined ? '' : ` expecting ${[s.expectStatus].flat().join(' or ')}`}`,
  async run(s, ctx) {
    const body = s.body === undefined ? undefined : typeof s.body === 'string' ? s.body : JSON.stringify(s.body);
    const headers = { ...(body !== undefined && typeof s.body !== 'string' ? { 'content-type': 'application/json' } : {}), ...s.headers };
    const r = await ctx.ports.http({ url: s.url, method: s.method, headers, body, signal: ctx.signal });
    const ok = s.expectStatus === undefined ? r.status >= 200 && r.status < 300 : [s.expectStatus].flat().includes(r.status);
    return { passed: ok, output: { status: r.status, body: parseBody(r.body) }, ...(ok ? {} : { message: `${s.method} ${s.url} answered ${r.status}, expected ${s.expectStatus === undefined ? '2xx' : [s.expectStatus].flat().join(' or ')}` }) };
  },
};

// ── analysis (Prometheus gate, Argo Rollouts semantics) ───────────────────────────────────────
const AnalysisSchema = z.strictObject({
  prometheus: z.url(),
  metrics: z.array(z.record(z.string(), z.unknown())).min(1),
});
function analysisMetrics(s: z.infer<typeof AnalysisSchema>): AnalysisMetric[] {
  const out: AnalysisMetric[] = [];
  s.metrics.forEach((m, i) => {
    const { metric, problems } = parseAnalysisMetric(m, `metrics[${i}]`);
    if (!metric) throw new Error(problems.join('; '));
    out.push(metric);
  });
  return out;
}
const analysis: StepKind<z.infer<typeof AnalysisSchema>> = {
  name: 'analysis',
  summary: 'Prometheus queries measured count times at an interval; fails past failureLimit (Argo Rollouts AnalysisTemplate semantics)',
  schema: AnalysisSchema.superRefine((s, zctx) => {
    s.metrics.forEach((m, i) => {
      for (const p of parseAnalysisMetric(m, `metrics[${i}]`).problems) zctx.addIssue({ code: 'custom', message: p, path: [] });
    });
  }),
  mutating: () => false,
  describe: (s) =>
    `analysis on ${s.prometheus}: ${analysisMetrics(s)
      .map((m) => `${m.name} ${[m.successCondition && `success ${m.successCondition}`, m.failureCondition && `failure ${m.failureCondition}`].filter(Boolean).join(', ')} ×${m.count} every ${m.intervalMs} ms`)
      .join('; ')}`,
  async run(s, ctx) {
    const prometheus = await ctx.ports.prometheus(s.prometheus);
    const run = await runAnalysis(analysisMetrics(s), {
      prometheus,
      now: ctx.now,
      sleep: ctx.sleep,
      signal: ctx.signal,
      onMeasurement: (metric, m) => ctx.reporter.notify(`  ${metric}: ${m.value ?? 'no value'} → ${m.phase}${m.message ? ` (${m.message})` : ''}`, 'debug'),
    });
    const bad = run.metrics.filter((m) => m.phase !== 'successful');
    return {
      passed: run.phase === 'successful',
      output: run,
      ...(run.phase === 'successful' ? {} : { message: `analysis ${run.phase}: ${bad.map((m) => `${m.name} ${m.phase}${m.message ? ` (${m.message})` : ''}`).join('; ') || run.message}` }),
    };
  },
};

// ── wait-until ────────────────────────────────────────────────────────────────────────────────
const WaitUntilSchema = z
  .strictObject({
    url: z.url().optional(),
    prometheus: z.url().optional(),
    query: str.optional(),
    /** A tolerance or threshold in the shared condition syntax, against the status/body (url) or the number (query). */
    condition: z.unknown(),
    interval: duration.default('1s'),
  })
  .refine((s) => (s.url === undefined) !== (s.query === undefined), { message: 'give either url or prometheus + query' })
  .refine((s) => s.query === undefined || s.prometheus !== undefined, { message: 'a query needs prometheus: <url>' });
const waitUntil: StepKind<z.infer<typeof WaitUntilSchema>> = {
  name: 'wait-until',
  summary: 'polls a URL or a Prometheus query until a condition holds (bounded by the step timeout)',
  schema: WaitUntilSchema.superRefine((s, zctx) => {
    try {
      parseCondition(s.condition, { context: 'tolerance' });
    } catch (err) {
      zctx.addIssue({ code: 'custom', message: (err as Error).message, path: ['condition'] });
    }
  }),
  mutating: () => false,
  describe: (s) => `wait until ${s.url ?? s.query} meets ${JSON.stringify(s.condition)}, checking every ${s.interval}`,
  async run(s, ctx) {
    const cond = parseCondition(s.condition, { context: 'tolerance' });
    const every = ms(s.interval, 1_000);
    let last: unknown = null;
    let polls = 0;
    while (!ctx.signal.aborted) {
      polls += 1;
      try {
        if (s.url !== undefined) {
          const r = await ctx.ports.http({ url: s.url, method: 'GET', headers: {}, signal: ctx.signal });
          last = { status: r.status, body: parseBody(r.body) };
        } else {
          const prom = await ctx.ports.prometheus(s.prometheus as string);
          last = (await prom.query(s.query as string, { signal: ctx.signal }))[0]?.value ?? null;
        }
        if (evaluateCondition(cond, last).phase === 'pass') return { passed: true, output: { value: last, polls } };
      } catch (err) {
        last = { error: (err as Error).message };
      }
      await ctx.sleep(every, ctx.signal).catch(() => undefined);
    }
    // The step's timeout (or Ctrl-C) ended the wait: say what was seen last.
    return { passed: false, output: { value: last, polls }, message: `${s.url ?? s.query} did not meet ${JSON.stringify(s.condition)} in time (${polls} check(s); last: ${JSON.stringify(last)})` };
  },
};

// ── wait ──────────────────────────────────────────────────────────────────────────────────────
const WaitSchema = z.strictObject({ duration });
const wait: StepKind<z.infer<typeof WaitSchema>> = {
  name: 'wait',
  summary: 'waits a fixed time (e.g. for caches, DNS TTLs or a scale-down delay)',
  schema: WaitSchema,
  mutating: () => false,
  describe: (s) => `wait ${s.duration}`,
  async run(s, ctx) {
    await ctx.sleep(ms(s.duration, 0), ctx.signal);
    return { passed: true };
  },
};

// ── ask (a human confirms) ────────────────────────────────────────────────────────────────────
const AskSchema = z.strictObject({ question: str });
const ask: StepKind<z.infer<typeof AskSchema>> = {
  name: 'ask',
  summary: 'a person confirms something surgectl cannot check (answered yes by --yes)',
  schema: AskSchema,
  mutating: () => false,
  describe: (s) => `ask: ${s.question}`,
  async run(s, ctx) {
    const yes = await ctx.reporter.confirm(s.question, false);
    return { passed: yes, output: { answer: yes ? 'yes' : 'no' }, ...(yes ? {} : { message: `the answer to "${s.question}" was no` }) };
  },
};

// ── shell ─────────────────────────────────────────────────────────────────────────────────────
const ShellSchema = z.strictObject({
  command: z.union([str, z.array(z.string()).min(1)]),
  env: z.record(z.string(), z.string()).default({}),
});
const shell: StepKind<z.infer<typeof ShellSchema>> = {
  name: 'shell',
  summary: 'runs a program (argv list) or a shell line; passes on exit status 0',
  schema: ShellSchema,
  mutating: () => true,
  describe: (s) => `run ${Array.isArray(s.command) ? s.command.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ') : s.command}`,
  async run(s, ctx) {
    const r = await ctx.ports.shell({ command: s.command, env: s.env, signal: ctx.signal });
    const tail = (t: string) => (t.length > 4_000 ? `…${t.slice(-4_000)}` : t);
    return { passed: r.exitCode === 0, output: { exitCode: r.exitCode, stdout: tail(r.stdout), stderr: tail(r.stderr) }, ...(r.exitCode === 0 ? {} : { message: `exited with status ${r.exitCode}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-1)[0]}` : ''}` }) };
  },
};

// ── haproxy-weight ────────────────────────────────────────────────────────────────────────────
const weight = z.number().int().min(0).max(256);
const HaproxyWeightSchema = z
  .strictObject({
    endpoint: str,
    backend: str,
    /** Server → weight (0..256). */
    weights: z.record(z.string(), weight).optional(),
    /** Move `percent` of the traffic to `to`: `to` gets weight percent, `from` 100 − percent. */
    shift: z.strictObject({ from: str, to: str, percent: z.number().min(0).max(100) }).optional(),
  })
  .refine((s) => (s.weights === undefined) !== (s.shift === undefined), { message: 'give either weights or shift' });
type HaproxyWeightSpec = z.infer<typeof HaproxyWeightSchema>;
const targetWeights = (s: HaproxyWeightSpec): Record<string, number> =>
  s.weights ?? (s.shift ? { [s.shift.from]: Math.round(100 - s.shift.percent), [s.shift.to]: Math.round(s.shift.percent) } : {});
const haproxyWeight: StepKind<HaproxyWeightSpec> = {
  name: 'haproxy-weight',
  summary: "sets server weights through HAProxy's runtime API (no reload); undone by putting the old weights back",
  schema: HaproxyWeightSchema,
  mutating: () => true,
  describe: (s) => `haproxy ${s.endpoint} backend ${s.backend}: ${Object.entries(targetWeights(s)).map(([k, v]) => `${k} weight ${v}`).join(', ')}${s.shift ? ` (${s.shift.percent}% to ${s.shift.to})` : ''}`,
  async before(s, ctx) {
    const servers = await (await ctx.ports.haproxy(s.endpoint)).servers(s.backend);
    const undo: Record<string, number> = {};
    for (const name of Object.keys(targetWeights(s))) {
      const srv = servers.find((b) => b.name === name);
      if (!srv) throw new Error(`backend ${s.backend} has no server ${name} (servers: ${servers.map((b) => b.name).join(', ') || 'none'})`);
      undo[name] = srv.weight;
    }
    return undo;
  },
  async run(s, ctx) {
    const hp = await ctx.ports.haproxy(s.endpoint);
    // The server that gains weight first, then the one that loses it: the backend's total weight
    // never dips in between, so the server still up never has to take more than its share.
    const now = new Map((await hp.servers(s.backend)).map((b) => [b.name, b.weight]));
    const order = Object.entries(targetWeights(s)).sort(([n1, a], [n2, b]) => b - (now.get(n2) ?? 0) - (a - (now.get(n1) ?? 0)));
    for (const [name, w] of order) await hp.setWeight(s.backend, name, w);
    const after = await hp.servers(s.backend);
    return { passed: true, output: { weights: Object.fromEntries(after.map((a) => [a.name, a.weight])), up: Object.fromEntries(after.map((a) => [a.name, a.up])) } };
  },
  async undo(s, undo, ctx) {
    const hp = await ctx.ports.haproxy(s.endpoint);
    const now = new Map((await hp.servers(s.backend)).map((b) => [b.name, b.weight]));
    const back = Object.entries(undo as Record<string, number>).sort(([n1, a], [n2, b]) => b - (now.get(n2) ?? 0) - (a - (now.get(n1) ?? 0)));
    for (const [name, w] of back) await hp.setWeight(s.backend, name, w);
  },
  describeUndo: (s, undo) => Object.entries(undo as Record<string, number>).map(([n, w]) => `echo "set server ${s.backend}/${n} weight ${w}" | socat stdio ${socat(s.endpoint)}`).join(' && '),
};

// ── haproxy-state ─────────────────────────────────────────────────────────────────────────────
const HaproxyStateSchema = z.strictObject({ endpoint: str, backend: str, server: str, state: z.enum(['ready', 'drain', 'maint']) });
const haproxyState: StepKind<z.infer<typeof HaproxyStateSchema>> = {
  name: 'haproxy-state',
  summary: 'sets a server ready, drain (finish open connections) or maint; undone by the old state',
  schema: HaproxyStateSchema,
  mutating: () => true,
  describe: (s) => `haproxy ${s.endpoint}: ${s.backend}/${s.server} state ${s.state}`,
  async before(s, ctx) {
    const srv = (await (await ctx.ports.haproxy(s.endpoint)).servers(s.backend)).find((b) => b.name === s.server);
    if (!srv) throw new Error(`backend ${s.backend} has no server ${s.server}`);
    return srv.admin;
  },
  async run(s, ctx) {
    await (await ctx.ports.haproxy(s.endpoint)).setState(s.backend, s.server, s.state);
    return { passed: true, output: { server: s.server, state: s.state } };
  },
  async undo(s, undo, ctx) {
    await (await ctx.ports.haproxy(s.endpoint)).setState(s.backend, s.server, undo as 'ready' | 'drain' | 'maint');
  },
  describeUndo: (s, undo) => `echo "set server ${s.backend}/${s.server} state ${String(undo)}" | socat stdio ${socat(s.endpoint)}`,
};

// ── haproxy-up (check) ────────────────────────────────────────────────────────────────────────
const HaproxyUpSchema = z.strictObject({ endpoint: str, backend: str, server: str });
const haproxyUp: StepKind<z.infer<typeof HaproxyUpSchema>> = {
  name: 'haproxy-up',
  summary: "passes when HAProxy's health check sees the server up",
  schema: HaproxyUpSchema,
  mutating: () => false,
  describe: (s) => `haproxy ${s.endpoint}: ${s.backend}/${s.server} is up`,
  async run(s, ctx) {
    const srv = (await (await ctx.ports.haproxy(s.endpoint)).servers(s.backend)).find((b) => b.name === s.server);
    if (!srv) return { passed: false, message: `backend ${s.backend} has no server ${s.server}` };
    return { passed: srv.up, output: srv, ...(srv.up ? {} : { message: `${s.backend}/${s.server} is down in HAProxy (its health check fails)` }) };
  },
};

// ── kubernetes-selector ───────────────────────────────────────────────────────────────────────
const KubeSelectorSchema = z.strictObject({ context: z.string().optional(), namespace: str, service: str, selector: label.refine((l) => Object.keys(l).length > 0, { message: 'a selector needs at least one label' }) });
const kubernetesSelector: StepKind<z.infer<typeof KubeSelectorSchema>> = {
  name: 'kubernetes-selector',
  summary: "sets keys of a Service's selector, keeping the others (blue-green on Kubernetes); undone by the old selector",
  schema: KubeSelectorSchema,
  mutating: () => true,
  describe: (s) => `service ${s.namespace}/${s.service}: selector ${fmtLabels(s.selector)} (other keys kept)`,
  async before(s, ctx) {
    const svc = await (await ctx.ports.kubernetes({ context: s.context || undefined, namespace: s.namespace })).getService(s.namespace, s.service);
    if (!svc) throw new Error(`service ${s.namespace}/${s.service} does not exist`);
    return svc.selector;
  },
  async run(s, ctx) {
    const k8s = await ctx.ports.kubernetes({ context: s.context || undefined, namespace: s.namespace });
    const svc = await k8s.getService(s.namespace, s.service);
    if (!svc) return { passed: false, message: `service ${s.namespace}/${s.service} does not exist` };
    // Only the named keys change (color: blue -> green); app=orders and the like stay.
    const selector = { ...svc.selector, ...s.selector };
    // A selector that matches no ready pod would take the Service down: refuse before writing.
    const pods = await k8s.listPods(s.namespace, fmtLabels(selector));
    const ready = pods.filter((p) => p.ready && p.phase === 'Running').length;
    if (ready === 0) return { passed: false, message: `the selector ${fmtLabels(selector)} matches no ready pod in ${s.namespace} (${pods.length} pod(s), none ready): the Service was not changed` };
    await k8s.setServiceSelector(s.namespace, s.service, selector);
    // The endpoints controller follows a moment later: wait (within the step's time) until the
    // Service has ready endpoints again; none means the selector matches no ready pod.
    for (;;) {
      const after = await k8s.getService(s.namespace, s.service);
      if (after && after.endpoints.ready > 0) return { passed: true, output: { selector: after.selector, endpoints: after.endpoints } };
      if (ctx.signal.aborted) return { passed: false, output: { selector: after?.selector, endpoints: after?.endpoints }, message: `service ${s.namespace}/${s.service} has no ready endpoints after the switch: its selector matches no ready pod` };
      await ctx.sleep(200, ctx.signal).catch(() => undefined);
    }
  },
  async undo(s, undo, ctx) {
    await (await ctx.ports.kubernetes({ context: s.context || undefined, namespace: s.namespace })).setServiceSelector(s.namespace, s.service, undo as Record<string, string>);
  },
  describeUndo: (s, undo) => `kubectl${s.context ? ` --context ${s.context}` : ''} -n ${s.namespace} patch service ${s.service} --type=json -p '[{"op":"replace","path":"/spec/selector","value":${JSON.stringify(undo)}}]'`,
};
/** A socat address for the runtime API: a unix socket path or host:port. */
const socat = (endpoint: string) => (endpoint.startsWith('/') ? `unix-connect:${endpoint}` : `tcp:${endpoint}`);
const fmtLabels = (l: Record<string, string>) => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',');

// ── kubernetes-ready (check) ──────────────────────────────────────────────────────────────────
const KubeReadySchema = z.strictObject({ context: z.string().optional(), namespace: str, kind: z.enum(['Deployment', 'StatefulSet']).default('Deployment'), name: str, minReady: z.number().int().min(1).optional() });
const kubernetesReady: StepKind<z.infer<typeof KubeReadySchema>> = {
  name: 'kubernetes-ready',
  summary: 'passes when a Deployment/StatefulSet has its ready replicas (all of spec.replicas, or minReady)',
  schema: KubeReadySchema,
  mutating: () => false,
  describe: (s) => `${s.kind} ${s.namespace}/${s.name} has ${s.minReady === undefined ? 'all its replicas' : `≥ ${s.minReady} replicas`} ready`,
  async run(s, ctx) {
    const k8s = await ctx.ports.kubernetes({ context: s.context || undefined, namespace: s.namespace });
    const w = await k8s.getWorkload({ kind: s.kind, namespace: s.namespace, name: s.name });
    if (!w) return { passed: false, message: `${s.kind} ${s.namespace}/${s.name} does not exist` };
    const need = s.minReady ?? Math.max(1, w.replicas);
    const output = { replicas: w.replicas, readyReplicas: w.readyReplicas, updatedReplicas: w.updatedReplicas, totalReplicas: w.totalReplicas };
    // Right after a new spec the status still counts the old one; during a rollout old pods are still among the ready.
    if (!w.generationObserved) return { passed: false, output, message: `${s.kind} ${s.namespace}/${s.name}: its status does not describe its current spec yet (the controller has not caught up)` };
    if (w.totalReplicas !== w.updatedReplicas) return { passed: false, output, message: `${s.kind} ${s.namespace}/${s.name}: rollout in progress (${w.updatedReplicas} of ${w.totalReplicas} pods updated)` };
    const ok = w.readyReplicas >= need;
    return { passed: ok, output, ...(ok ? {} : { message: `${s.kind} ${s.namespace}/${s.name} has ${w.readyReplicas} ready replica(s), needs ${need}` }) };
  },
};

// ── kubernetes-scale ──────────────────────────────────────────────────────────────────────────
const KubeScaleSchema = z.strictObject({ context: z.string().optional(), namespace: str, kind: z.enum(['Deployment', 'StatefulSet']).default('Deployment'), name: str, replicas: z.number().int().min(0) });
const kubernetesScale: StepKind<z.infer<typeof KubeScaleSchema>> = {
  name: 'kubernetes-scale',
  summary: 'sets the replicas of a Deployment/StatefulSet; undone by the old count',
  schema: KubeScaleSchema,
  mutating: () => true,
  describe: (s) => `${s.kind} ${s.namespace}/${s.name}: replicas ${s.replicas}`,
  async before(s, ctx) {
    const w = await (await ctx.ports.kubernetes({ context: s.context || undefined, namespace: s.namespace })).getWorkload({ kind: s.kind, namespace: s.namespace, name: s.name });
    if (!w) throw new Error(`${s.kind} ${s.namespace}/${s.name} does not exist`);
    return w.replicas;
  },
  async run(s, ctx) {
    await (await ctx.ports.kubernetes({ context: s.context || undefined, namespace: s.namespace })).scaleWorkload({ kind: s.kind, namespace: s.namespace, name: s.name }, s.replicas);
    return { passed: true, output: { replicas: s.replicas } };
  },
  async undo(s, undo, ctx) {
    await (await ctx.ports.kubernetes({ context: s.context || undefined, namespace: s.namespace })).scaleWorkload({ kind: s.kind, namespace: s.namespace, name: s.name }, undo as number);
  },
  describeUndo: (s, undo) => `kubectl${s.context ? ` --context ${s.context}` : ''} -n ${s.namespace} scale ${s.kind.toLowerCase()}/${s.name} --replicas=${String(undo)}`,
};

// ── stack-admin ───────────────────────────────────────────────────────────────────────────────
const StackAdminSchema = z.discriminatedUnion('call', [
  z.strictObject({ url: z.url(), call: z.literal('workers'), value: z.number().int().min(0) }),
  z.strictObject({ url: z.url(), call: z.literal('drop-ratio'), value: z.number().min(0).max(1) }),
  z.strictObject({ url: z.url(), call: z.literal('payment-faults'), failureRate: z.number().min(0).max(1).optional(), latencyMs: z.number().int().min(0).optional() }),
  z.strictObject({ url: z.url(), call: z.literal('pause') }),
  z.strictObject({ url: z.url(), call: z.literal('resume') }),
  z.strictObject({ url: z.url(), call: z.literal('clear-faults') }),
  z.strictObject({ url: z.url(), call: z.literal('intake-pause') }),
  z.strictObject({ url: z.url(), call: z.literal('intake-resume') }),
  /** Waits (within the step's timeout) until no worker runs a job: in-flight orders finished. */
  z.strictObject({ url: z.url(), call: z.literal('wait-idle') }),
]);
type StackAdminSpec = z.infer<typeof StackAdminSchema>;
const stackAdmin: StepKind<StackAdminSpec> = {
  name: 'stack-admin',
  summary: "a call on the bundled stack's admin API (workers, drop-ratio, payment-faults, pause, resume, clear-faults, intake-pause, intake-resume, wait-idle); undone by the old value",
  schema: StackAdminSchema,
  mutating: (s) => s.call !== 'wait-idle',
  describe: (s) => `stack ${s.url}: ${s.call}${'value' in s ? ` ${s.value}` : ''}${s.call === 'payment-faults' ? ` ${JSON.stringify({ failureRate: s.failureRate, latencyMs: s.latencyMs })}` : ''}`,
  async before(s, ctx) {
    const admin = await ctx.ports.stackAdmin(s.url);
    if (s.call === 'wait-idle') return undefined;
    if (s.call === 'payment-faults') return { payment: await admin.paymentFaults() };
    const st = await admin.status();
    if (s.call === 'workers') return { workers: st.workers.size };
    if (s.call === 'drop-ratio') return { dropRatio: st.faults.dropRatio };
    if (s.call === 'pause' || s.call === 'resume') return { paused: st.workers.paused };
    if (s.call === 'intake-pause' || s.call === 'intake-resume') return { intakePaused: st.intake.paused };
    return { dropRatio: st.faults.dropRatio, paused: st.workers.paused, ...(st.payment ? { payment: st.payment } : {}) };
  },
  async run(s, ctx) {
    const admin = await ctx.ports.stackAdmin(s.url);
    switch (s.call) {
      case 'workers':
        return { passed: true, output: await admin.setWorkers(s.value) };
      case 'drop-ratio':
        return { passed: true, output: await admin.setDropRatio(s.value) };
      case 'payment-faults':
        return { passed: true, output: await admin.setPaymentFaults({ ...(s.failureRate === undefined ? {} : { failureRate: s.failureRate }), ...(s.latencyMs === undefined ? {} : { latencyMs: s.latencyMs }) }) };
      case 'pause':
        return { passed: true, output: await admin.pauseConsumer() };
      case 'resume':
        return { passed: true, output: await admin.resumeConsumer() };
      case 'clear-faults':
        return { passed: true, output: await admin.clearFaults() };
      case 'intake-pause':
        return { passed: true, output: await admin.pauseIntake() };
      case 'intake-resume':
        return { passed: true, output: await admin.resumeIntake() };
      case 'wait-idle': {
        let busy = (await admin.status()).workers.busy;
        while (busy > 0 && !ctx.signal.aborted) {
          await ctx.sleep(100, ctx.signal).catch(() => undefined);
          busy = (await admin.status()).workers.busy;
        }
        return busy === 0 ? { passed: true, output: { busy } } : { passed: false, output: { busy }, message: `${busy} worker(s) of ${s.url} still ran a job when the step's time ran out` };
      }
    }
  },
  async undo(s, undo, ctx) {
    const admin = await ctx.ports.stackAdmin(s.url);
    const u = (undo ?? {}) as { workers?: number; dropRatio?: number; payment?: { failureRate: number; latencyMs: number }; paused?: boolean; intakePaused?: boolean };
    if (u.workers !== undefined) await admin.setWorkers(u.workers);
    if (u.dropRatio !== undefined) await admin.setDropRatio(u.dropRatio);
    if (u.payment !== undefined) await admin.setPaymentFaults(u.payment);
    if (u.paused !== undefined) await (u.paused ? admin.pauseConsumer() : admin.resumeConsumer());
    if (u.intakePaused !== undefined) await (u.intakePaused ? admin.pauseIntake() : admin.resumeIntake());
  },
  describeUndo: (s, undo) => `put the stack at ${s.url} back to ${JSON.stringify(undo)} (surgectl stack admin calls)`,
};

// ── stack-order (check) ──────────────────────────────────────────────────────────────────────
const StackOrderSchema = z.strictObject({
  /** Where orders are sent: the traffic front (HAProxy) or a stack. */
  url: z.url(),
  /** The sku to order; default the first with stock in GET /v1/inventory. */
  sku: str.optional(),
  /** How long the order may take from 202 to confirmed. */
  within: duration.default('30s'),
});
/** The customer id of synthetic orders: easy to tell apart in the order history and the reports. */
export const PROBE_CUSTOMER = 'surgectl-probe';
const FINAL = new Set(['confirmed', 'sold_out', 'payment_failed', 'cancelled']);
const stackOrder: StepKind<z.infer<typeof StackOrderSchema>> = {
  name: 'stack-order',
  summary: `places one synthetic order (customer ${PROBE_CUSTOMER}) and waits until it is confirmed: intake, store, workers and payments work end to end`,
  schema: StackOrderSchema,
  mutating: () => true,
  describe: (s) => `place a synthetic order at ${s.url}/v1/orders${s.sku ? ` (sku ${s.sku})` : ''} and wait up to ${s.within} for it to be confirmed`,
  async run(s, ctx) {
    const base = s.url.replace(/\/+$/, '');
    let sku = s.sku;
    if (sku === undefined) {
      const inv = await ctx.ports.http({ url: `${base}/v1/inventory`, method: 'GET', headers: {}, signal: ctx.signal });
      const items = (parseBody(inv.body) as { items?: { sku: string; available: number }[] } | undefined)?.items ?? [];
      sku = items.find((i) => i.available > 0)?.sku;
      if (sku === undefined) return { passed: false, output: { status: inv.status }, message: `${base}/v1/inventory answered ${inv.status} with no sku in stock to order` };
    }
    const started = ctx.now();
    const key = `${PROBE_CUSTOMER}-${started}-${Math.random().toString(36).slice(2, 10)}`;
    const placed = await ctx.ports.http({
      url: `${base}/v1/orders`,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ customerId: PROBE_CUSTOMER, items: [{ sku, qty: 1 }] }),
      signal: ctx.signal,
    });
    const body = parseBody(placed.body) as { orderId?: string; statusUrl?: string } | undefined;
    if ((placed.status !== 202 && placed.status !== 200) || body?.orderId === undefined) {
      return { passed: false, output: { status: placed.status, body }, message: `POST ${base}/v1/orders answered ${placed.status}, expected 202` };
    }
    const acceptedMs = ctx.now() - started;
    const deadline = started + ms(s.within, 30_000);
    let status = 'accepted';
    while (ctx.now() < deadline && !ctx.signal.aborted) {
      const r = await ctx.ports.http({ url: `${base}/v1/orders/${body.orderId}`, method: 'GET', headers: {}, signal: ctx.signal }).catch(() => undefined);
      status = (parseBody(r?.body ?? '') as { status?: string } | undefined)?.status ?? status;
      if (FINAL.has(status)) break;
      await ctx.sleep(100, ctx.signal).catch(() => undefined);
    }
    const output = { orderId: body.orderId, sku, status, acceptedMs, finishedMs: ctx.now() - started };
    if (status === 'confirmed') return { passed: true, output };
    return { passed: false, output, message: `synthetic order ${body.orderId} is ${status}${FINAL.has(status) ? '' : ` ${s.within} after it was accepted`}, not confirmed` };
  },
  describeUndo: () => `nothing: the synthetic order stays (customer ${PROBE_CUSTOMER})`,
};

// ── flags ─────────────────────────────────────────────────────────────────────────────────────
const FlagsSchema = z
  .strictObject({
    provider: z.enum(['unleash', 'local']).optional(),
    stackUrl: z.url().optional(),
    environment: str.optional(),
    /** Flag → on/off. */
    flags: z.record(z.string(), z.boolean()).refine((f) => Object.keys(f).length > 0, { message: 'name at least one flag' }).optional(),
    /** Or every flag of a named set in surgectl.yaml (flags.sets), switched to `enabled`. */
    set: str.optional(),
    enabled: z.boolean().default(false),
  })
  .refine((s) => (s.flags === undefined) !== (s.set === undefined), { message: 'give either flags or set' });
type FlagsSpec = z.infer<typeof FlagsSchema>;
const wanted = async (s: FlagsSpec, ctx: StepContext): Promise<Record<string, boolean>> =>
  s.flags ?? Object.fromEntries((await ctx.ports.flagSet(s.set as string)).map((n) => [n, s.enabled]));
const flags: StepKind<FlagsSpec> = {
  name: 'flags',
  summary: 'switches feature flags, or every flag of a set in surgectl.yaml (Unleash or the stack’s local flags); undone by the old values',
  schema: FlagsSchema,
  mutating: () => true,
  describe: (s) => `flags${s.provider ? ` (${s.provider})` : ''}: ${s.flags ? Object.entries(s.flags).map(([k, v]) => `${k} ${v ? 'on' : 'off'}`).join(', ') : `set ${s.set} ${s.enabled ? 'on' : 'off'}`}`,
  async before(s, ctx) {
    const fp = await ctx.ports.flags({ provider: s.provider, stackUrl: s.stackUrl });
    const env = s.environment ?? fp.environment;
    const known = await fp.list();
    const was: Record<string, boolean> = {};
    for (const name of Object.keys(await wanted(s, ctx))) {
      const f = known.find((k) => k.name === name);
      if (!f) throw new Error(`flag ${name} does not exist at ${fp.target} (flags: ${known.map((k) => k.name).join(', ')})`);
      was[name] = f.environments[env]?.enabled ?? false;
    }
    return { environment: env, flags: was };
  },
  async run(s, ctx) {
    const fp = await ctx.ports.flags({ provider: s.provider, stackUrl: s.stackUrl });
    const env = s.environment ?? fp.environment;
    const want = await wanted(s, ctx);
    for (const [name, on] of Object.entries(want)) await fp.set(name, env, on);
    return { passed: true, output: { environment: env, flags: want } };
  },
  async undo(s, undo, ctx) {
    const fp = await ctx.ports.flags({ provider: s.provider, stackUrl: s.stackUrl });
    const u = undo as { environment: string; flags: Record<string, boolean> };
    for (const [name, on] of Object.entries(u.flags)) await fp.set(name, u.environment, on);
  },
  describeUndo: (s, undo) => {
    const u = undo as { environment: string; flags: Record<string, boolean> };
    // Name where the step switched them, not whatever the configured provider is.
    const where = `${s.provider ? ` --provider ${s.provider}` : ''}${s.stackUrl ? ` --stack ${s.stackUrl}` : ''}`;
    return Object.entries(u.flags).map(([n, on]) => `surgectl flags ${on ? 'on' : 'off'} ${n}${where} --env ${u.environment}`).join(' && ');
  },
};

// ── scale ─────────────────────────────────────────────────────────────────────────────────────
const ScaleSchema = z.strictObject({ plan: str, readyTimeout: duration.default('5m') });
const scale: StepKind<z.infer<typeof ScaleSchema>> = {
  name: 'scale',
  summary: 'applies a ScalePlan file (surgectl scale apply, snapshot first); undone by restoring that snapshot',
  schema: ScaleSchema,
  mutating: () => true,
  describe: (s) => `scale apply ${s.plan} (wait up to ${s.readyTimeout} for readiness)`,
  async run(s, ctx) {
    const r = await ctx.ports.scale.apply({ file: s.plan, timeoutMs: ms(s.readyTimeout, 300_000), signal: ctx.signal });
    return { passed: r.ready, undo: r.snapshot, output: r, ...(r.ready ? {} : { message: `the targets of ${s.plan} did not become ready within ${s.readyTimeout}` }) };
  },
  async undo(_s, undo, ctx) {
    if (typeof undo !== 'string') return;
    const r = await ctx.ports.scale.restore({ snapshot: undo, signal: ctx.signal });
    if (!r.restored) throw new Error(`restore from ${undo} did not complete: ${r.problems.join('; ')}`);
  },
  describeUndo: (_s, undo) => `surgectl scale restore ${String(undo)}`,
};

// ── loadtest (smoke) ──────────────────────────────────────────────────────────────────────────
const LoadtestSchema = z.strictObject({
  target: z.url(),
  rate: z.number().positive().max(10_000),
  duration,
  thresholds: z.record(z.string(), z.array(z.string()).min(1)).default({ http_req_failed: ['rate<0.01'], http_req_duration: ['p(99)<1000'] }),
});
const loadtest: StepKind<z.infer<typeof LoadtestSchema>> = {
  name: 'loadtest',
  summary: 'a short open-model smoke load test (orders) that must pass its thresholds',
  schema: LoadtestSchema,
  mutating: () => false,
  describe: (s) => `smoke load ${s.rate}/s for ${s.duration} against ${s.target}, thresholds ${Object.entries(s.thresholds).map(([m, t]) => `${m} ${t.join(' ')}`).join('; ')}`,
  async run(s, ctx) {
    const r = await ctx.ports.loadtest({ target: s.target, rate: s.rate, durationMs: ms(s.duration, 10_000), thresholds: s.thresholds, signal: ctx.signal });
    const bad = r.thresholds.filter((t) => !t.ok);
    return { passed: r.passed, output: r, ...(r.passed ? {} : { message: `smoke load test failed: ${bad.map((t) => `${t.metric} ${t.threshold} (observed ${t.value ?? 'nothing'})`).join('; ') || 'aborted'}` }) };
  },
};

/** Every step kind, by name. */
export const STEP_KINDS: Readonly<Record<string, StepKind<never>>> = Object.fromEntries(
  [http, analysis, waitUntil, wait, ask, shell, haproxyWeight, haproxyState, haproxyUp, kubernetesSelector, kubernetesReady, kubernetesScale, stackAdmin, stackOrder, flags, scale, loadtest, ...Object.values(POSTGRES_STEP_KINDS)].map((k) => [k.name, k as unknown as StepKind<never>]),
);

/** Validates an action's fields against its kind; problems are `path: message` lines. */
export function checkAction(action: ActionSpec, where: string): { spec?: unknown; problems: string[] } {
  const kind = STEP_KINDS[action.kind];
  if (!kind) return { problems: [`${where}.kind: unknown step kind '${action.kind}'; expected one of ${Object.keys(STEP_KINDS).join(', ')}`] };
  const { kind: _k, ...fields } = action;
  const r = (kind.schema as z.ZodType).safeParse(fields);
  if (r.success) return { spec: r.data, problems: [] };
  return { problems: r.error.issues.map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`) };
}
