import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { StackAdminPort, StackStatus } from '../adapters/stack-admin/port.js';
import type { Journal } from '../chaos/index.js';
import { errorText, runStep } from '../runbooks/step.js';
import { SurgeError } from '../errors.js';
import type { Campaign } from '../forecast/campaigns.js';
import type { ScalePlan } from '../forecast/capacity-plan.js';
import type { ForecastResult, RawSeries, SeriesForecast } from '../forecast/types.js';
import type { Progress } from '../loadtest/engine.js';
import type { LoadTestResult } from '../loadtest/summary.js';
import type { StackOptions } from '../order-core/stack-options.js';
import type { RunningStack } from '../order-core/stack.js';
import type { Reporter } from '../reporter.js';
import { mulberry32 } from '../util/prng.js';
import { DEFAULT_LIMITS, type GateLimits } from './gates.js';
import { assembleReport } from './outcome.js';
import {
  DEFAULT_DURATION_MS,
  DEFAULT_PER_INTAKE_RPS,
  DEFAULT_PER_WORKER_RPS,
  givenMachineRate,
  localWorkers,
  phaseAt,
  planStages,
  round2,
  scaleForecast,
  scaleToMachine,
  type LoadScaling,
  type StageTimings,
} from './plan.js';
import { PROBE_STEP_MS, probeStepLine, runProbe, SAFE_SHARE, type ProbeMeasurement } from './probe.js';
import { drainSummary, loadFigures, loadSummary, restoreStage, stackSample, STAGES, unfinishedOrders, type RehearsalReport, type StageName } from './report.js';
import { restoreStack, stackPorts } from './restore.js';
import { rehearsalLoadScenario, rehearsalOutageExperiment, rehearsalProbeScenario } from './scenario.js';
import { writeReportFiles } from './write.js';

/** Options of {@link runRehearsal}. Durations are milliseconds, rates orders per second. */
export interface RehearseOptions {
  /** Folder relative paths are resolved against. */
  cwd: string;
  /**
   * Connects to the admin API of the stack the rehearsal starts, given its URL and admin token.
   * Adapters are wired in the composition root (the CLI passes `ctx.adapters.stackAdmin`); a
   * test may pass the fake of src/adapters/stack-admin/fake.ts.
   */
  stackAdmin: (url: string, token: string) => Promise<StackAdminPort>;
  /**
   * The `stack` section of the configuration; host, ports and data dir are replaced for the
   * rehearsal. Its `store` picks the order store: the default SQLite in the rehearsal's data dir,
   * or a PostgreSQL database (`{ kind: 'postgres', url }` or the URL), whose orders outlive the run.
   */
  stack?: StackOptions;
  /** Length of the load test at the peak; every stage scales with it. Default 110 000, at least 18 000. */
  loadDurationMs?: number;
  /** Seed of the sample history and of the load's payloads. Default 42. */
  seed?: number;
  /** A CSV/JSON history file instead of the generated sample. */
  historyFile?: string;
  /** Which series of the history file (required when it holds more than one). */
  series?: string;
  /** A campaign calendar (YAML) for the forecast. Default for the sample: Black Friday at x3.5. */
  campaignsFile?: string;
  /** Where the stack keeps its store. Default: a temp dir, removed at the end. */
  dataDir?: string;
  /** Where rehearsal.json, rehearsal.html, the chaos journal, the load summary and the stack log go. None when undefined. */
  reportDir?: string;
  /** Replaces the forecast peak (orders/s); the capacity plan scales with it. */
  peakRate?: number;
  /**
   * What this machine takes, orders/s, used as it is: the calibration probe is skipped. Default:
   * probed (a step load of a few seconds on the rehearsal's stack, see probe.ts), of which the
   * rehearsal uses at most {@link SAFE_SHARE}.
   */
  maxRate?: number;
  /** Local pipeline workers, instead of the plan's worker replicas x the scaling factor. */
  workers?: number;
  /** Inject the payment outage. Default true. */
  chaos?: boolean;
  /**
   * Switch off the flag set `set` (a name of `sets`, surgectl.yaml's flags.sets) on the rehearsal's
   * stack just before the load starts, with a snapshot first (in the report dir, else the data
   * dir), and put every flag back in the restore stage, however the run ends.
   */
  degrade?: { set: string; sets: Readonly<Record<string, readonly string[]>> };
  limits?: Partial<GateLimits>;
  /** Orders/s one worker replica completes. Default 20. */
  perWorkerRps?: number;
  /** Requests/s one intake replica takes. Default 400. */
  perIntakeRps?: number;
  /** Capacity-plan headroom, 0.3 = 30%. Default 0.3. */
  headroom?: number;
  /** Ctrl-C: the load and the drill stop, everything is restored, the report says `interrupted`. */
  signal?: AbortSignal;
  /** Stage lines and warnings. */
  reporter?: Reporter;
  /** About once a second during the load test. */
  onLoadProgress?: (p: LoadProgress) => void;
  /** Clock, epoch ms. Default Date.now. */
  now?: () => number;
}

/** The live figures of the load test plus what the rehearsal knows about the stack. */
export interface LoadProgress extends Progress {
  targetPerSec: number;
  /** `ramp`, `peak`, `outage`, `recovery` by the plan's clock. */
  phase: string;
  breaker?: string;
  paymentPending?: number;
}

const HORIZON_MS = 7 * 86_400_000;
const SAMPLE_END = Date.UTC(2026, 10, 23);
const SAMPLE_DAYS = 56;
/** Stock per sku when the config does not seed one: no sold_out at any rate this machine reaches. */
const REHEARSAL_STOCK = 1_000_000;
const SAMPLE_EVERY_MS = 500;
const DRAIN_POLL_MS = 250;
/** Longest wait between probe steps for the orders of the step before to be worked off, ms. */
const PROBE_SETTLE_MS = 10_000;
/** Longest wait after the probe for its orders to be worked off before the baseline is read, ms. */
const PROBE_DRAIN_MS = 30_000;

/** What every phase reads: the settings resolved once, and the report the stages fill in. */
interface Rehearsal {
  readonly opts: RehearseOptions;
  readonly now: () => number;
  readonly signal: AbortSignal;
  readonly reporter: Reporter | undefined;
  readonly timings: StageTimings;
  readonly seed: number;
  readonly chaos: boolean;
  /** Epoch ms. */
  readonly startedAt: number;
  /** Absolute; undefined when no files are written. */
  readonly reportDir: string | undefined;
  report: RehearsalReport;
}

/** The rate the load test holds and the local workers it runs with. */
interface MachineTarget {
  readonly stack: RunningStack;
  readonly admin: StackAdminPort;
  scaling: LoadScaling;
  workers: { count: number; basis: string };
  /** Planned intake replicas (the rehearsal runs one local listener). */
  intakeReplicas: number;
}

/** What the stages on the live stack leave for the ones after them; restore, the gates and the report files read it. */
interface LiveRun {
  readonly dataDir: string;
  /** The data dir is this run's temp dir, removed at the end. */
  readonly ownDataDir: boolean;
  readonly stackLog: string;
  stack?: RunningStack;
  admin?: StackAdminPort;
  /** Worker pool size before the rehearsal scaled it: what the restore goes back to. */
  workersBefore?: number;
  /** The store before the load: orders of an earlier run on a kept --data-dir are not this rehearsal's. */
  baseline?: StackStatus;
  /** When the load began, epoch ms; undefined until it does. */
  loadStart?: number;
  load?: LoadTestResult;
  journal?: Journal;
  scenarioDoc?: Record<string, unknown>;
  experimentDoc?: Record<string, unknown>;
  /** The last status the drain read. */
  final?: StackStatus;
  /** How long the backlog took to drain, ms; undefined when it did not within the budget. */
  drainMs?: number;
  /** The flags snapshot `--degrade` wrote before switching; what the restore puts back. */
  flagsSnapshot?: string;
}

/**
 * The whole surge rehearsal on the bundled stack: history -> forecast -> capacity plan -> start the
 * local stack and probe the rate it holds (or --max-rate) -> scale its workers -> load test at
 * min(forecast peak, a safe share of that rate) with a payment outage mid-test -> drain ->
 * restore -> gates -> report. Never prints; returns the report (status `failed` when a gate
 * failed, `interrupted` after Ctrl-C). Throws SurgeError for bad input (history, flags) before
 * anything starts; once the stack runs, everything is restored before any error is rethrown.
 */
export async function runRehearsal(opts: RehearseOptions): Promise<RehearsalReport> {
  const r = await prepare(opts);

  // 1-3: pure work, nothing to restore if it fails.
  const history = await stage(r, 'history', () => readHistory(r));
  stopIfInterrupted(r);
  const forecast = await stage(r, 'forecast', () => forecastPeak(r, history));
  stopIfInterrupted(r);
  const plan = await stage(r, 'capacity', () => planCapacity(r, forecast));
  stopIfInterrupted(r);

  // 4-8: the stack runs from here on; everything below ends in the restore.
  const live = newLiveRun(r);
  let failure: unknown;
  let stopSampler: (() => Promise<void>) | undefined;
  try {
    const target = await stage(r, 'calibrate', () => startAndCalibrate(r, live, forecast, plan));
    const { stack, admin } = target;
    await stage(r, 'scale', () => scaleWorkers(r, live, target));
    live.baseline = await admin.status();
    stopSampler = startSampler(r, live, admin);
    if (r.opts.degrade) await degrade(r, live, admin, r.opts.degrade);
    await stage(r, 'load', () => loadWithOutage(r, live, { url: stack.url, admin }, target.scaling));
    await stage(r, 'drain', () => drain(r, live, admin));
  } catch (err) {
    failure = err;
  } finally {
    await stopSampler?.();
    await restore(r, live);
  }
  // After Ctrl-C whatever failed is a consequence of the interrupt: the report says `interrupted`.
  if (failure !== undefined && !r.signal.aborted) throw failure;

  // 9: gates and the report.
  r.report = assembleReport(r.report, {
    load: live.load,
    targetPerSec: r.report.scaling?.targetPerSec ?? 0,
    baseline: live.baseline,
    final: live.final,
    drainMs: live.drainMs,
    drainBudgetMs: r.timings.drainBudgetMs,
    chaos: r.chaos,
    journal: live.journal,
    restore: r.report.restore,
    loadStart: live.loadStart ?? 0,
    interrupted: r.signal.aborted,
  });
  const ended = r.now();
  r.report.endedAt = iso(ended);
  r.report.durationMs = ended - r.startedAt;
  if (r.reportDir) await writeReport(r, r.reportDir, live);
  return r.report;
}

/** Settings resolved once, the report dir made (a rehearsal whose report cannot be written is not worth two minutes), an empty report. */
async function prepare(opts: RehearseOptions): Promise<Rehearsal> {
  const now = opts.now ?? Date.now;
  const limits: GateLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const loadMs = opts.loadDurationMs ?? DEFAULT_DURATION_MS;
  const timings = planStages(loadMs);
  const seed = opts.seed ?? 42;
  const chaos = opts.chaos ?? true;
  const startedAt = now();
  // A set that does not exist is refused before two minutes of work, not after the stack started.
  if (opts.degrade && opts.degrade.sets[opts.degrade.set] === undefined) {
    throw new SurgeError('SRG_FLAGS_SET', `--degrade ${opts.degrade.set}: no such flag set in surgectl.yaml (flags.sets)`, {
      hint: `Known sets: ${Object.keys(opts.degrade.sets).join(', ') || '(none)'}; define one under flags.sets.`,
    });
  }
  const reportDir = opts.reportDir === undefined ? undefined : abs(opts.cwd, opts.reportDir);
  if (reportDir !== undefined) {
    try {
      await mkdir(reportDir, { recursive: true });
    } catch (err) {
      throw new SurgeError('SRG_REHEARSE_REPORT', `Cannot create the report directory ${reportDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: 'Pass --report-dir with a folder you can write to.',
        cause: err,
      });
    }
  }
  return {
    opts,
    now,
    signal: opts.signal ?? new AbortController().signal,
    reporter: opts.reporter,
    timings,
    seed,
    chaos,
    startedAt,
    reportDir,
    report: {
      apiVersion: 'surgectl/v1',
      kind: 'RehearsalReport',
      status: 'failed',
      startedAt: iso(startedAt),
      endedAt: iso(startedAt),
      durationMs: 0,
      settings: { loadDurationMs: loadMs, seed, history: opts.historyFile ?? `sample (seed ${seed})`, chaos, limits },
      stages: [],
      timings,
      samples: [],
      gates: [],
      notes: [],
    },
  };
}

/** Runs one stage: its progress lines, and its record in the report whether it ends, fails or is interrupted. */
async function stage<T>(r: Rehearsal, name: StageName, run: () => Promise<{ value: T; summary: string }>): Promise<T> {
  r.reporter?.notify(`[${STAGES.indexOf(name) + 1}/${STAGES.length}] ${name}`, 'progress');
  // Each stage stops itself on Ctrl-C and must end before the restore: the runner waits for it.
  const out = await runStep(() => run(), { signal: r.signal, now: r.now, waitOnStop: true });
  const status = r.signal.aborted ? 'interrupted' : out.status === 'completed' ? 'done' : 'failed';
  if (out.status !== 'completed' || !out.value) {
    r.report.stages.push({ name, status, durationMs: out.durationMs, summary: errorText(out.error) });
    throw out.error;
  }
  // Ended after Ctrl-C (it finishes what it started): nothing after it starts but the restore.
  if (r.signal.aborted) {
    r.report.stages.push({ name, status, durationMs: out.durationMs, summary: out.value.summary });
    throw new SurgeError('SRG_CLI_INTERRUPTED', `rehearsal interrupted during the ${name} stage`);
  }
  r.report.stages.push({ name, status, durationMs: out.durationMs, summary: out.value.summary });
  r.reporter?.notify(`      ${out.value.summary}`, 'progress');
  return out.value.value;
}

function stopIfInterrupted(r: Rehearsal): void {
  if (r.signal.aborted) throw new SurgeError('SRG_CLI_INTERRUPTED', 'rehearsal interrupted before the stack started; nothing to restore');
}

/** Stage 1: the history to forecast from. */
async function readHistory(r: Rehearsal): Promise<{ value: History; summary: string }> {
  const h = await loadHistory(r.opts, r.seed);
  r.report.history = h.info;
  return { value: h, summary: `${h.info.points} points of ${h.info.series} (${h.info.source}), ${h.info.start} .. ${h.info.end}` };
}

/** Stage 2: the forecast a week ahead; with --peak-rate every value is scaled so its peak is that rate. */
async function forecastPeak(r: Rehearsal, history: History): Promise<{ value: ForecastResult; summary: string }> {
  const { forecast } = await import('../forecast/index.js');
  const result = await forecast({ series: [history.series], horizonMs: HORIZON_MS, campaigns: history.campaigns, signal: r.signal, now: r.now });
  const sf = result.series[0] as SeriesForecast;
  const peakRate = r.opts.peakRate;
  const overridden = peakRate !== undefined;
  const scaled = overridden ? scaleForecast(result, peakRate / Math.max(sf.peak.value, 1e-9)) : result;
  const peak = (scaled.series[0] as SeriesForecast).peak;
  r.report.forecast = {
    model: sf.model,
    horizonMs: HORIZON_MS,
    peak: { t: peak.t, value: peak.value, lo95: peak.lo95, hi95: peak.hi95, ...(peak.campaign ? { campaign: peak.campaign } : {}) },
    overridden,
    campaigns: sf.campaigns.filter((c) => c.kind === 'future').map((c) => ({ name: c.name, start: iso(c.start), end: iso(c.end), uplift: round2(c.uplift) })),
  };
  const summary = `peak ${Math.round(peak.value * 60).toLocaleString('en-US')} orders/min (${round2(peak.value)}/s, 95% up to ${round2(peak.hi95)}/s) at ${peak.t}${
    peak.campaign ? ` (${peak.campaign})` : ''
  }; model ${sf.model}${overridden ? '; --peak-rate overrides the forecast' : ''}`;
  return { value: scaled, summary };
}

/** Stage 3: intake and worker replicas for the forecast's 95% bound plus headroom. */
async function planCapacity(r: Rehearsal, fc: ForecastResult): Promise<{ value: ScalePlan; summary: string }> {
  const { capacityPlan } = await import('../forecast/index.js');
  const o = r.opts;
  const p = capacityPlan({
    forecast: fc,
    services: [
      { name: 'intake', perReplicaRps: o.perIntakeRps ?? DEFAULT_PER_INTAKE_RPS },
      { name: 'worker', perReplicaRps: o.perWorkerRps ?? DEFAULT_PER_WORKER_RPS },
    ],
    headroom: o.headroom ?? 0.3,
    sizeOn: 'p95',
    now: r.now,
  });
  r.report.capacity = {
    sizedOn: p.spec.demand.sizedOn,
    sizedPerSec: round2(p.spec.demand.sizedValue),
    headroom: p.spec.headroom,
    services: p.spec.services.map((s) => ({ name: s.name, perReplicaRps: s.perReplicaRps, replicas: s.replicas, arithmetic: s.arithmetic })),
  };
  const replicas = p.spec.services.map((s) => `${s.name} ${s.replicas} replica${s.replicas === 1 ? '' : 's'} (${s.perReplicaRps}/s each)`).join(', ');
  return { value: p, summary: `${replicas}, sized on the 95% bound ${round2(p.spec.demand.sizedValue)}/s + ${Math.round(p.spec.headroom * 100)}% headroom` };
}

function newLiveRun(r: Rehearsal): LiveRun {
  const ownDataDir = r.opts.dataDir === undefined;
  const dataDir = r.opts.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'surgectl-rehearse-')) : abs(r.opts.cwd, r.opts.dataDir);
  return { dataDir, ownDataDir, stackLog: join(r.reportDir ?? dataDir, 'stack.log') };
}

/**
 * Stage 4: start the stack, then find what this machine takes (the probe, or --max-rate), bring
 * the forecast peak down to it, and scale the plan's workers by the same factor.
 */
async function startAndCalibrate(r: Rehearsal, live: LiveRun, fc: ForecastResult, plan: ScalePlan): Promise<{ value: MachineTarget; summary: string }> {
  const stack = (live.stack = await startRehearsalStack(r.opts, live.dataDir, live.stackLog));
  const admin = (live.admin = await r.opts.stackAdmin(stack.url, stack.adminToken));
  const workers = stack.options.workers;
  r.report.stack = { url: stack.url, paymentUrl: stack.paymentUrl, dataDir: live.dataDir, store: stack.store.description, workers: { before: workers, applied: workers, basis: 'as started' } };
  storeNotes(r, stack);
  const peakPerSec = (fc.series[0] as SeriesForecast).peak.value;
  let scaling: LoadScaling;
  if (r.opts.maxRate !== undefined) {
    scaling = scaleToMachine(peakPerSec, givenMachineRate(r.opts.maxRate));
  } else {
    const needPerSec = peakPerSec / SAFE_SHARE;
    r.reporter?.notify(`      probe: steps of ${PROBE_STEP_MS / 1000}s up to ${round2(needPerSec)}/s (the peak / ${SAFE_SHARE}), judged by the latency gates`, 'progress');
    let n = 0;
    const probe = await runProbe({
      needPerSec,
      limits: r.report.settings.limits,
      measure: (rate) => probeStep(r, stack.url, rate, ++n),
      settle: () => settle(r, admin, PROBE_SETTLE_MS).then(() => undefined),
      onStep: (step) => r.reporter?.notify(`      ${probeStepLine(step)}`, 'progress'),
      signal: r.signal,
    });
    if (r.signal.aborted) throw new SurgeError('SRG_CLI_INTERRUPTED', 'rehearsal interrupted during the calibration probe');
    // The probe's orders are not the rehearsal's: worked off before the baseline is read.
    const left = await settle(r, admin, PROBE_DRAIN_MS);
    if (left > 0) r.report.notes.push(`${left} orders of the calibration probe were still unfinished when the load began; they count in the drain`);
    scaling = { ...scaleToMachine(peakPerSec, { maxPerSec: probe.maxPerSec, basis: probe.basis, share: probe.share }), probe };
  }
  r.report.scaling = scaling;
  r.reporter?.notify(`      ${scaling.statement}`, 'progress');
  const workerReplicas = plan.spec.services.find((s) => s.name === 'worker')?.replicas ?? 1;
  const target: MachineTarget = {
    stack,
    admin,
    scaling,
    workers: localWorkers(workerReplicas, scaling.factor, r.opts.workers),
    intakeReplicas: plan.spec.services[0]?.replicas ?? 1,
  };
  const found = scaling.probe ? `${scaling.probe.steps.length} probe step${scaling.probe.steps.length === 1 ? '' : 's'}` : 'no probe (--max-rate)';
  return { value: target, summary: `stack at ${stack.url} on ${stack.store.description}; ${found}; load ${scaling.targetPerSec}/s (factor ${scaling.factor})` };
}

/** One probe step: the builtin load generator at `rate` for {@link PROBE_STEP_MS}, its figures as the probe judges them. */
async function probeStep(r: Rehearsal, url: string, rate: number, n: number): Promise<ProbeMeasurement> {
  const [{ parseScenario }, { runLoadTest }] = await Promise.all([import('../loadtest/scenario.js'), import('../loadtest/run.js')]);
  const doc = rehearsalProbeScenario({ target: url, ratePerSec: rate, durationMs: PROBE_STEP_MS, p99Ms: r.report.settings.limits.p99Ms });
  const load = await runLoadTest(parseScenario(doc, { defaultName: 'rehearsal-probe' }), {
    signal: r.signal,
    // Idempotency-Keys of every step and of the load test apart: a reused key with another body is a 409.
    runId: `rehearse-${r.seed}-${r.startedAt.toString(36)}-probe${n}`,
    random: mulberry32(r.seed + n),
  });
  const f = loadFigures(load);
  return {
    ratePerSec: rate,
    durationMs: load.durationMs,
    requests: f.requests,
    failed: Math.round((f.failedRate ?? 0) * f.requests),
    scheduled: f.scheduled,
    dropped: f.dropped,
    p95Ms: f.p95Ms,
    p99Ms: f.p99Ms,
  };
}

/** Waits (up to `budgetMs`) until no order is unfinished and the queue is empty; returns how many are left. */
async function settle(r: Rehearsal, admin: StackAdminPort, budgetMs: number): Promise<number> {
  const deadline = r.now() + budgetMs;
  for (;;) {
    const s = await admin.status();
    const left = Math.max(unfinishedOrders(s), s.queue.depth);
    // No worker running (stack.workers 0, or paused): nothing will work them off before the scale stage.
    const idle = s.workers.size === 0 || s.workers.paused;
    if (left === 0 || idle || r.now() >= deadline || r.signal.aborted) return left;
    await delay(DRAIN_POLL_MS, undefined, { signal: r.signal }).catch(() => undefined);
  }
}

/** What a reader of the report must know about the order store the rehearsal ran on. */
function storeNotes(r: Rehearsal, stack: RunningStack): void {
  if (stack.store.kind !== 'postgres') return;
  r.report.notes.push(
    `order store ${stack.store.description}: the orders of the probe and the load test, and the stock they took, stay in that database; the restore stops this stack and removes its temp data dir but deletes no rows`,
  );
}

/** Stage 5: snapshot the worker pool (what the restore goes back to), then scale it. */
async function scaleWorkers(r: Rehearsal, live: LiveRun, target: MachineTarget): Promise<{ value: undefined; summary: string }> {
  const { stack, admin } = target;
  // The same engine as `surgectl scale apply` (observe -> plan -> apply), on a BundledStack target.
  const { reconcileServices } = await import('../scale/run.js');
  const noCloud = () => Promise.reject(new SurgeError('SRG_SCALE_TARGET', 'the rehearsal scales only its own bundled stack'));
  // One quick write: not cut short by Ctrl-C, as the restore stage puts the pool back anyway.
  const { observed } = await reconcileServices(
    [{ name: 'worker', replicas: target.workers.count, targets: [{ kind: 'BundledStack', url: stack.url, role: 'workers' }] }],
    { stack: async () => admin, kubernetes: noCloud, autoScaling: noCloud },
    { onObserved: (o) => (live.workersBefore = o[0]?.fields.workers) },
  );
  const from = observed[0]?.fields.workers ?? 0;
  const applied = (await admin.status()).workers.size;
  r.report.stack = { url: stack.url, paymentUrl: stack.paymentUrl, dataDir: live.dataDir, store: stack.store.description, workers: { before: from, applied, basis: target.workers.basis } };
  return {
    value: undefined,
    summary: `workers ${from} -> ${applied} (${target.workers.basis}); intake: 1 local listener (plan: ${target.intakeReplicas})`,
  };
}

/** The bundled stack as the configuration has it, on loopback and free ports, in the rehearsal's data dir, with plenty of stock. */
async function startRehearsalStack(opts: RehearseOptions, dataDir: string, stackLog: string): Promise<RunningStack> {
  const { startStack } = await import('../order-core/stack.js');
  const { createStackLogger } = await import('../order-core/logger.js');
  const base = opts.stack ?? {};
  return startStack({
    ...base,
    host: '127.0.0.1',
    port: 0,
    paymentPort: 0,
    dataDir,
    seedInventory: base.seedInventory ?? REHEARSAL_STOCK,
    cwd: opts.cwd,
    logger: createStackLogger({ level: 'warn', destination: stackLog }),
  });
}

/**
 * Samples the stack about every {@link SAMPLE_EVERY_MS} for the report's charts, from the start of
 * the load on. Returns the function that stops it (and waits for the sample in flight).
 */
function startSampler(r: Rehearsal, live: LiveRun, admin: StackAdminPort): () => Promise<void> {
  const stop = new AbortController();
  const running = (async () => {
    while (!stop.signal.aborted) {
      // Offsets are from the start of the load; nothing to chart before it.
      if (live.loadStart !== undefined) {
        try {
          const s = await admin.status();
          r.report.samples.push(stackSample(s, live.baseline, (r.now() - live.loadStart) / 1000));
        } catch {
          // A missed sample is a gap in the chart, not a failure of the rehearsal.
        }
      }
      await delay(SAMPLE_EVERY_MS, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  })();
  return async () => {
    stop.abort();
    await running;
  };
}

/** Stage 6: the load test at the target rate, with the payment outage drill running inside it. */
async function loadWithOutage(r: Rehearsal, live: LiveRun, target: { url: string; admin: StackAdminPort }, scaling: LoadScaling): Promise<{ value: undefined; summary: string }> {
  const [{ parseScenario }, { runLoadTest }, chaosMod] = await Promise.all([import('../loadtest/scenario.js'), import('../loadtest/run.js'), import('../chaos/index.js')]);
  const { timings, chaos, seed } = r;
  const limits = r.report.settings.limits;
  const { admin } = target;
  live.scenarioDoc = rehearsalLoadScenario({ target: target.url, targetPerSec: scaling.targetPerSec, timings, limits });
  if (chaos) live.experimentDoc = rehearsalOutageExperiment({ timings, limits });
  const loaded = parseScenario(live.scenarioDoc, { defaultName: 'rehearsal-peak' });
  const experiment = live.experimentDoc ? chaosMod.parseExperiment(live.experimentDoc, 'rehearsal experiment') : undefined;
  live.loadStart = r.now();
  // The drill is stopped (rollbacks still run) when the load test fails, so it never outlives it.
  const drillStop = new AbortController();
  const drillSignal = AbortSignal.any([r.signal, drillStop.signal]);
  const drill = experiment
    ? (async () => {
        try {
          await delay(timings.chaosStartMs, undefined, { signal: drillSignal });
        } catch {
          return undefined;
        }
        r.reporter?.notify('      outage: steady state, then the payment gateway fails every call', 'progress');
        return chaosMod.runExperiment(experiment, {
          targets: { stack: admin },
          signal: drillSignal,
          rollbackStrategy: 'always',
          now: r.now,
          reporter: { notify: (m, level) => r.reporter?.notify(`      chaos: ${m}`, level === 'warn' ? 'warn' : 'debug'), confirm: async (_q, d) => d },
        });
      })()
    : undefined;
  const running = runLoadTest(loaded, {
    signal: r.signal,
    runId: `rehearse-${seed}-${r.startedAt.toString(36)}`,
    random: mulberry32(seed),
    ...(r.reporter ? { reporter: r.reporter } : {}),
    onProgress: (p) => {
      const samples = r.report.samples;
      const last = samples[samples.length - 1];
      r.opts.onLoadProgress?.({
        ...p,
        targetPerSec: scaling.targetPerSec,
        phase: phaseAt(p.elapsedMs, timings, chaos),
        ...(last ? { breaker: last.breaker, paymentPending: last.pending } : {}),
      });
    },
  });
  let load: LoadTestResult;
  try {
    load = live.load = await running;
  } catch (err) {
    drillStop.abort(err);
    await drill?.catch(() => undefined);
    throw err;
  }
  const journal = drill ? await drill : undefined;
  if (journal) live.journal = journal;
  return { value: undefined, summary: loadSummary(load, scaling.targetPerSec) };
}

/** Stage 7: wait (up to the drain budget) for the backlog, payment_pending orders included, to drain. */
async function drain(r: Rehearsal, live: LiveRun, admin: StackAdminPort): Promise<{ value: undefined; summary: string }> {
  const drainStart = r.now();
  const deadline = drainStart + r.timings.drainBudgetMs;
  for (;;) {
    const s = await admin.status();
    live.final = s;
    if (unfinishedOrders(s) === 0 && s.queue.depth === 0) {
      live.drainMs = r.now() - drainStart;
      break;
    }
    if (r.now() >= deadline || r.signal.aborted) break;
    await delay(DRAIN_POLL_MS, undefined, { signal: r.signal }).catch(() => undefined);
  }
  const summary = drainSummary({
    chaos: r.chaos,
    journal: live.journal,
    samples: r.report.samples,
    loadStart: live.loadStart ?? 0,
    drainMs: live.drainMs,
    drainBudgetMs: r.timings.drainBudgetMs,
    interrupted: r.signal.aborted,
  });
  return { value: undefined, summary };
}

/** The rehearsal's own stack answers its own questions: switching its flags needs no operator's yes. */
function stageReporter(r: Rehearsal, prefix: string): Reporter {
  return { notify: (m, level) => r.reporter?.notify(`      ${prefix}: ${m}`, level === 'warn' ? 'warn' : 'debug'), confirm: async () => true };
}

/** `--degrade`: the set switched off through the stack's own flags (snapshot first), just before the load. */
async function degrade(r: Rehearsal, live: LiveRun, admin: StackAdminPort, d: NonNullable<RehearseOptions['degrade']>): Promise<void> {
  const [{ degradeFlags }, { createLocalFlagsProvider }, { switchOutcome }] = await Promise.all([import('../flags/flags.js'), import('../flags/provider.js'), import('../flags/outcome.js')]);
  const result = await degradeFlags({
    provider: createLocalFlagsProvider(admin),
    setName: d.set,
    sets: d.sets,
    dryRun: false,
    reporter: stageReporter(r, 'flags'),
    cwd: r.opts.cwd,
    snapshotDir: r.reportDir ?? live.dataDir,
    now: r.now,
  });
  if (result.snapshotPath !== undefined) {
    live.flagsSnapshot = result.snapshotPath;
    r.report.degraded = { set: d.set, flags: result.switched.map((s) => s.name), snapshot: result.snapshotPath };
  }
  // Stopped part way: the rehearsal fails here, and the restore puts back what was switched.
  const failed = switchOutcome(result);
  if (failed) throw failed;
  r.reporter?.notify(`      flags: set '${d.set}' degraded (${result.switched.map((s) => s.name).join(', ') || 'already off'})`, 'progress');
}

/** Puts the degraded flags back from their snapshot; a failure is a restore problem, never thrown. */
async function restoreDegradedFlags(r: Rehearsal, live: LiveRun): Promise<{ restored: boolean; problem?: string }> {
  const admin = live.admin;
  if (live.flagsSnapshot === undefined || admin === undefined) return { restored: false, problem: 'the degraded flags could not be restored: no admin connection' };
  try {
    const [{ restoreFlags }, { createLocalFlagsProvider }] = await Promise.all([import('../flags/flags.js'), import('../flags/provider.js')]);
    await restoreFlags({ snapshotPath: live.flagsSnapshot, connect: async () => createLocalFlagsProvider(admin), dryRun: false, reporter: stageReporter(r, 'flags') });
    return { restored: true };
  } catch (err) {
    return { restored: false, problem: `the degraded flags were not restored from ${live.flagsSnapshot}: ${(err as Error).message}` };
  }
}

/** Stage 8, after success, failure or Ctrl-C alike: the degraded flags back, the stack put back and stopped, then this run's temp data dir removed. */
async function restore(r: Rehearsal, live: LiveRun): Promise<void> {
  const stack = live.stack;
  if (stack) {
    r.reporter?.notify(`[${STAGES.indexOf('restore') + 1}/${STAGES.length}] restore`, 'progress');
    const t0 = r.now();
    // Flags first: they are switched through the admin API of the stack about to stop.
    const flags = live.flagsSnapshot === undefined ? undefined : await restoreDegradedFlags(r, live);
    const { restore: restored, workersNow } = await restoreStack({
      stack,
      payment: { failureRate: stack.options.paymentFailureRate, latencyMs: stack.options.paymentLatencyMs },
      admin: live.admin,
      workersBefore: live.workersBefore,
      dataDir: live.dataDir,
    });
    if (flags) {
      restored.flagsRestored = flags.restored;
      if (flags.problem) restored.problems.push(flags.problem);
    }
    r.report.restore = restored;
    if (r.report.stack && workersNow !== undefined) r.report.stack.workers.restoredTo = workersNow;
    const record = { ...restoreStage(restored, live.workersBefore, stackPorts(stack)), durationMs: r.now() - t0 };
    r.report.stages.push(record);
    r.reporter?.notify(`      ${record.summary}`, 'progress');
  }
  // A stack that did not stop still holds its data dir: leave it for the operator to inspect.
  if (live.ownDataDir && r.report.restore?.stackStopped !== false) {
    try {
      rmSync(live.dataDir, { recursive: true, force: true });
      if (r.report.restore) r.report.restore.dataDirRemoved = true;
    } catch (err) {
      r.report.restore?.problems.push(`temp data dir ${live.dataDir} not removed: ${(err as Error).message}`);
    }
  }
}

/** Stage 9: the report files. A failed write is kept in the report (`writeError`) rather than thrown: the rehearsal is done and restored. */
async function writeReport(r: Rehearsal, reportDir: string, live: LiveRun): Promise<void> {
  const report = r.report;
  r.reporter?.notify(`[${STAGES.length}/${STAGES.length}] report`, 'progress');
  try {
    report.files = await writeReportFiles(reportDir, report, {
      ...(live.journal ? { journal: live.journal } : {}),
      ...(live.load ? { loadSummary: live.load.summary } : {}),
      ...(live.scenarioDoc ? { scenario: live.scenarioDoc } : {}),
      ...(live.experimentDoc ? { experiment: live.experimentDoc } : {}),
      stackLog: live.stackLog,
    });
  } catch (err) {
    // writeOutputFiles names the file and the system error (ENOSPC, EACCES, ...) in its message.
    report.writeError = err instanceof SurgeError ? err.message : `cannot write the report to ${reportDir}: ${(err as Error).message}`;
    report.notes.push(report.writeError);
  }
  // No stage record for the report itself: the files would then differ from what they hold.
  r.reporter?.notify(`      ${report.files?.html ?? report.writeError ?? ''}`, report.files ? 'progress' : 'warn');
}

/** The series to forecast, its campaign calendar, and what the report says about it. */
interface History {
  series: RawSeries;
  campaigns: Campaign[];
  info: NonNullable<RehearsalReport['history']>;
}

/** History: the generated sample (with the coming Black Friday in the calendar) or a file. */
async function loadHistory(opts: RehearseOptions, seed: number): Promise<History> {
  const f = await import('../forecast/index.js');
  let series: RawSeries;
  let campaigns: Campaign[] = [];
  let source: string;
  if (opts.historyFile !== undefined) {
    const path = abs(opts.cwd, opts.historyFile);
    const all = await f.readSeriesFile(path);
    const picked = opts.series !== undefined ? all.find((s) => s.name === opts.series) : all.length === 1 ? all[0] : undefined;
    if (!picked) {
      throw new SurgeError(
        'SRG_DATA_FORMAT',
        opts.series !== undefined ? `${opts.historyFile} has no series "${opts.series}"` : `${opts.historyFile} holds ${all.length} series; say which one to rehearse with --series`,
        { details: all.slice(0, 20).map((s) => s.name) },
      );
    }
    series = picked;
    source = opts.historyFile;
  } else {
    const sample = f.generateSample({ days: SAMPLE_DAYS, seed, end: SAMPLE_END });
    series = sample.series;
    source = `generated sample, seed ${seed}`;
    // The week ahead holds Black Friday; last year's lifted orders 3.5x in the generator.
    const bf = Date.UTC(2026, 10, 27);
    campaigns = [{ name: 'black-friday', start: bf, end: bf + 86_400_000, uplift: 3.5 }];
  }
  if (opts.campaignsFile !== undefined) campaigns = await f.readCampaigns(abs(opts.cwd, opts.campaignsFile));
  const pts = series.points;
  if (pts.length < 2) throw new SurgeError('SRG_DATA_TOO_SHORT', `the history ${source} has ${pts.length} point(s); a forecast needs weeks of data`);
  const ts = pts.map((p) => p.t);
  const first = Math.min(...ts);
  const last = Math.max(...ts);
  return {
    series,
    campaigns,
    info: { source, series: series.name, points: pts.length, start: iso(first), end: iso(last), stepSeconds: Math.round((last - first) / (pts.length - 1) / 1000) },
  };
}

function abs(cwd: string, p: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
