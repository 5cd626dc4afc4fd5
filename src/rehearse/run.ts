import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { StackAdminPort, StackStatus } from '../adapters/stack-admin/port.js';
import type { Journal } from '../chaos/index.js';
import { StackConfigSchema, type StackConfig } from '../config/schema.js';
import { SurgeError } from '../errors.js';
import type { Campaign } from '../forecast/campaigns.js';
import type { ForecastResult, RawSeries, SeriesForecast } from '../forecast/types.js';
import type { Progress } from '../loadtest/engine.js';
import type { LoadTestResult } from '../loadtest/summary.js';
import type { RunningStack } from '../order-core/stack.js';
import type { Reporter } from '../reporter.js';
import { DEFAULT_LIMITS, allPassed, evaluateGates, type GateEvidence, type GateLimits } from './gates.js';
import {
  DEFAULT_DURATION_MS,
  DEFAULT_PER_INTAKE_RPS,
  DEFAULT_PER_WORKER_RPS,
  localWorkers,
  machineRate,
  planStages,
  planWorkerScale,
  round2,
  scaleToMachine,
  type LoadScaling,
  type StageTimings,
} from './plan.js';
import { STAGES, type RehearsalReport, type StageName } from './report.js';
import { rehearsalLoadScenario, rehearsalOutageExperiment } from './scenario.js';
import { writeReportFiles } from './write.js';
import { mulberry32 } from '../util/prng.js';

/** Options of {@link runRehearsal}. Durations are milliseconds, rates orders per second. */
export interface RehearseOptions {
  /** Folder relative paths are resolved against. */
  cwd: string;
  /** The `stack` section of the configuration; host, ports and data dir are replaced for the rehearsal. */
  stack?: StackConfig;
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
  /** Most orders/s this machine is asked to take. Default: cores x 25. */
  maxRate?: number;
  /** Cores of this machine. Default os.availableParallelism(). */
  cpus?: number;
  /** Local pipeline workers, instead of the plan's worker replicas x the scaling factor. */
  workers?: number;
  /** Inject the payment outage. Default true. */
  chaos?: boolean;
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
const FINAL = new Set(['confirmed', 'sold_out', 'payment_failed', 'cancelled']);
const SAMPLE_EVERY_MS = 500;

/**
 * The whole surge rehearsal on the bundled stack: history -> forecast -> capacity plan -> scale the
 * local stack -> load test at the (scaled) forecast peak with a payment outage mid-test -> drain ->
 * restore -> gates -> report. Never prints; returns the report (status `failed` when a gate
 * failed, `interrupted` after Ctrl-C). Throws SurgeError for bad input (history, flags) before
 * anything starts; once the stack runs, everything is restored before any error is rethrown.
 */
export async function runRehearsal(opts: RehearseOptions): Promise<RehearsalReport> {
  const now = opts.now ?? Date.now;
  const signal = opts.signal ?? new AbortController().signal;
  const reporter = opts.reporter;
  const limits: GateLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const loadMs = opts.loadDurationMs ?? DEFAULT_DURATION_MS;
  const timings = planStages(loadMs);
  const seed = opts.seed ?? 42;
  const chaos = opts.chaos ?? true;
  const startedAt = now();
  const reportDir = opts.reportDir === undefined ? undefined : abs(opts.cwd, opts.reportDir);
  if (reportDir !== undefined) {
    // Before anything runs: a rehearsal whose report cannot be written is not worth two minutes.
    try {
      await mkdir(reportDir, { recursive: true });
    } catch (err) {
      throw new SurgeError('SRG_REHEARSE_REPORT', `Cannot create the report directory ${reportDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: 'Pass --report-dir with a folder you can write to.',
        cause: err,
      });
    }
  }

  const report: RehearsalReport = {
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
  };

  let index = 0;
  const stage = async <T>(name: StageName, run: () => Promise<{ value: T; summary: string }>): Promise<T> => {
    index = STAGES.indexOf(name) + 1;
    reporter?.notify(`[${index}/${STAGES.length}] ${name}`, 'progress');
    const t0 = now();
    try {
      const { value, summary } = await run();
      report.stages.push({ name, status: signal.aborted ? 'interrupted' : 'done', durationMs: now() - t0, summary });
      reporter?.notify(`      ${summary}`, 'progress');
      return value;
    } catch (err) {
      report.stages.push({ name, status: signal.aborted ? 'interrupted' : 'failed', durationMs: now() - t0, summary: (err as Error).message });
      throw err;
    }
  };
  const interrupted = () => {
    if (signal.aborted) throw new SurgeError('SRG_CLI_INTERRUPTED', 'rehearsal interrupted before the stack started; nothing to restore');
  };

  // 1-3: pure work, nothing to restore if it fails.
  const history = await stage('history', async () => {
    const h = await loadHistory(opts, seed);
    report.history = h.info;
    return { value: h, summary: `${h.info.points} points of ${h.info.series} (${h.info.source}), ${h.info.start} .. ${h.info.end}` };
  });
  interrupted();

  const fc = await stage('forecast', async () => {
    const { forecast } = await import('../forecast/index.js');
    const result = await forecast({ series: [history.series], horizonMs: HORIZON_MS, campaigns: history.campaigns, signal, now });
    const sf = result.series[0] as SeriesForecast;
    const overridden = opts.peakRate !== undefined;
    const scaled = overridden ? scaleForecast(result, (opts.peakRate as number) / Math.max(sf.peak.value, 1e-9)) : result;
    const peak = (scaled.series[0] as SeriesForecast).peak;
    report.forecast = {
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
  });
  interrupted();

  const plan = await stage('capacity', async () => {
    const { capacityPlan } = await import('../forecast/index.js');
    const p = capacityPlan({
      forecast: fc,
      services: [
        { name: 'intake', perReplicaRps: opts.perIntakeRps ?? DEFAULT_PER_INTAKE_RPS },
        { name: 'worker', perReplicaRps: opts.perWorkerRps ?? DEFAULT_PER_WORKER_RPS },
      ],
      headroom: opts.headroom ?? 0.3,
      sizeOn: 'p95',
      now,
    });
    report.capacity = {
      sizedOn: p.spec.demand.sizedOn,
      sizedPerSec: round2(p.spec.demand.sizedValue),
      headroom: p.spec.headroom,
      services: p.spec.services.map((s) => ({ name: s.name, perReplicaRps: s.perReplicaRps, replicas: s.replicas, arithmetic: s.arithmetic })),
    };
    return { value: p, summary: p.spec.services.map((s) => `${s.name} ${s.replicas} replica${s.replicas === 1 ? '' : 's'} (${s.perReplicaRps}/s each)`).join(', ') + `, sized on the 95% bound ${round2(p.spec.demand.sizedValue)}/s + ${Math.round(p.spec.headroom * 100)}% headroom` };
  });

  const peakPerSec = (fc.series[0] as SeriesForecast).peak.value;
  const scaling: LoadScaling = scaleToMachine(peakPerSec, machineRate(opts.cpus ?? availableParallelism(), opts.maxRate));
  report.scaling = scaling;
  reporter?.notify(`      ${scaling.statement}`, 'progress');
  const workerReplicas = plan.spec.services.find((s) => s.name === 'worker')?.replicas ?? 1;
  const local = localWorkers(workerReplicas, scaling.factor, opts.workers);
  interrupted();

  // 4-7: the stack runs from here on; everything below ends in restore().
  const ownDataDir = opts.dataDir === undefined;
  const dataDir = ownDataDir ? mkdtempSync(join(tmpdir(), 'surgectl-rehearse-')) : abs(opts.cwd, opts.dataDir as string);
  const stackLog = join(reportDir ?? dataDir, 'stack.log');
  let stack: RunningStack | undefined;
  let admin: StackAdminPort | undefined;
  let workersBefore: number | undefined;
  let failure: unknown;
  let loadResult: LoadTestResult | undefined;
  let journal: Journal | undefined;
  let loadStart = 0;
  const samples = report.samples;
  const samplerStop = new AbortController();
  let sampler: Promise<void> | undefined;
  let baseline: StackStatus | undefined;
  let finalStatus: StackStatus | undefined;
  let drainMs: number | undefined;
  let scenarioDoc: Record<string, unknown> | undefined;
  let experimentDoc: Record<string, unknown> | undefined;

  try {
    await stage('scale', async () => {
      const { startStack } = await import('../order-core/stack.js');
      const { createStackLogger } = await import('../order-core/logger.js');
      const { createStackAdmin } = await import('../adapters/stack-admin/stack-admin.js');
      const base = opts.stack ?? StackConfigSchema.parse({});
      const config = StackConfigSchema.parse({
        ...base,
        host: '127.0.0.1',
        port: 0,
        paymentPort: 0,
        dataDir,
        seedInventory: base.seedInventory ?? REHEARSAL_STOCK,
        rateLimit: base.rateLimit,
      });
      stack = await startStack({ config, cwd: opts.cwd, logger: createStackLogger({ level: 'warn', destination: stackLog }) });
      admin = createStackAdmin({ url: stack.url, token: stack.adminToken });
      const observed = await admin.status();
      workersBefore = observed.workers.size;
      const scalePlan = planWorkerScale(observed.workers.size, local.count);
      if (scalePlan.changes) await admin.setWorkers(scalePlan.to);
      const applied = (await admin.status()).workers.size;
      report.stack = { url: stack.url, paymentUrl: stack.paymentUrl, dataDir, workers: { before: scalePlan.from, applied, basis: local.basis } };
      return { value: undefined, summary: `stack at ${stack.url}; workers ${scalePlan.from} -> ${applied} (${local.basis}); intake: 1 local listener (plan: ${plan.spec.services[0]?.replicas ?? 1})` };
    });
    const adm = admin as StackAdminPort;
    const stk = stack as RunningStack;

    baseline = await adm.status();
    sampler = (async () => {
      while (!samplerStop.signal.aborted) {
        try {
          // Offsets are from the start of the load; nothing to chart before it.
          if (loadStart === 0) throw new Error('the load has not started');
          const s = await adm.status();
          samples.push({
            t: round2((now() - loadStart) / 1000),
            breaker: s.breaker,
            pending: s.orders.byStatus.payment_pending ?? 0,
            depth: s.queue.depth,
            confirmed: (s.orders.byStatus.confirmed ?? 0) - (baseline?.orders.byStatus.confirmed ?? 0),
          });
        } catch {
          // A missed sample is a gap in the chart, not a failure of the rehearsal.
        }
        await delay(SAMPLE_EVERY_MS, undefined, { signal: samplerStop.signal }).catch(() => undefined);
      }
    })();

    await stage('load', async () => {
      const [{ parseScenario }, { runLoadTest }, chaosMod] = await Promise.all([
        import('../loadtest/scenario.js'),
        import('../loadtest/run.js'),
        import('../chaos/index.js'),
      ]);
      scenarioDoc = rehearsalLoadScenario({ target: stk.url, targetPerSec: scaling.targetPerSec, timings, limits });
      experimentDoc = chaos ? rehearsalOutageExperiment({ timings, limits }) : undefined;
      const loaded = parseScenario(scenarioDoc, { defaultName: 'rehearsal-peak' });
      const experiment = experimentDoc ? chaosMod.parseExperiment(experimentDoc, 'rehearsal experiment') : undefined;
      loadStart = now();
      // The drill is stopped (rollbacks still run) when the load test fails, so it never outlives it.
      const drillStop = new AbortController();
      const drillSignal = AbortSignal.any([signal, drillStop.signal]);
      const drill = experiment
        ? (async () => {
            try {
              await delay(timings.chaosStartMs, undefined, { signal: drillSignal });
            } catch {
              return undefined;
            }
            reporter?.notify('      outage: steady state, then the payment gateway fails every call', 'progress');
            return chaosMod.runExperiment(experiment, {
              targets: { stack: adm },
              signal: drillSignal,
              rollbackStrategy: 'always',
              now,
              reporter: { notify: (m, level) => reporter?.notify(`      chaos: ${m}`, level === 'warn' ? 'warn' : 'debug'), confirm: async (_q, d) => d },
            });
          })()
        : undefined;
      const running = runLoadTest(loaded, {
        signal,
        runId: `rehearse-${seed}-${startedAt.toString(36)}`,
        random: mulberry32(seed),
        ...(reporter ? { reporter } : {}),
        onProgress: (p) => {
          const last = samples[samples.length - 1];
          opts.onLoadProgress?.({
            ...p,
            targetPerSec: scaling.targetPerSec,
            phase: phaseAt(p.elapsedMs, timings, chaos),
            ...(last ? { breaker: last.breaker, paymentPending: last.pending } : {}),
          });
        },
      });
      try {
        loadResult = await running;
      } catch (err) {
        drillStop.abort(err);
        await drill?.catch(() => undefined);
        throw err;
      }
      journal = drill ? await drill : undefined;
      const m = loadResult.summary.metrics;
      const d = m.http_req_duration?.values ?? {};
      return {
        value: undefined,
        summary: `${loadResult.summary.metrics.http_reqs?.values.count ?? 0} requests at ${scaling.targetPerSec}/s for ${Math.round(loadResult.durationMs / 100) / 10}s: p95 ${fmtMs(d['p(95)'])}, p99 ${fmtMs(d['p(99)'])}, failed ${pctText(m.http_req_failed?.values.rate)}, dropped ${m.dropped_iterations?.values.count ?? 0}${loadResult.aborted ? ` (stopped: ${loadResult.aborted})` : ''}`,
      };
    });

    await stage('drain', async () => {
      // The drill ran during the load; here the backlog (payment_pending orders included) drains.
      const drainStart = now();
      const deadline = drainStart + timings.drainBudgetMs;
      for (;;) {
        const s = await adm.status();
        finalStatus = s;
        if (unfinished(s) === 0 && s.queue.depth === 0) {
          drainMs = now() - drainStart;
          break;
        }
        if (now() >= deadline || signal.aborted) break;
        await delay(250, undefined, { signal }).catch(() => undefined);
      }
      const j = journal;
      const drill = !chaos
        ? 'no outage (--no-chaos)'
        : j
          ? `drill ${j.status}${j.deviated ? ' (deviated)' : ''}; ${breakerStory(samples, j, loadStart)}`
          : 'the drill did not run (interrupted before it started)';
      const backlog =
        drainMs !== undefined
          ? `drained in ${Math.round(drainMs / 100) / 10}s`
          : signal.aborted
            ? 'not waited for (interrupted)'
            : `not drained in ${timings.drainBudgetMs / 1000}s`;
      return { value: undefined, summary: `${drill}; backlog ${backlog}` };
    });
  } catch (err) {
    failure = err;
  } finally {
    samplerStop.abort();
    await sampler;
    if (stack) {
      const restore = await stageRestore();
      report.restore = restore;
    }
    if (ownDataDir && report.restore?.stackStopped !== false) {
      try {
        rmSync(dataDir, { recursive: true, force: true });
        if (report.restore) report.restore.dataDirRemoved = true;
      } catch (err) {
        report.restore?.problems.push(`temp data dir ${dataDir} not removed: ${(err as Error).message}`);
      }
    }
  }

  async function stageRestore(): Promise<NonNullable<RehearsalReport['restore']>> {
    const r: NonNullable<RehearsalReport['restore']> = { faultsCleared: false, workersRestored: false, stackStopped: false, portsFreed: false, dataDirRemoved: false, problems: [] };
    const stk = stack as RunningStack;
    const adm = admin;
    reporter?.notify(`[${STAGES.indexOf('restore') + 1}/${STAGES.length}] restore`, 'progress');
    const t0 = now();
    if (adm) {
      try {
        const s = await adm.clearFaults();
        r.faultsCleared = s.faults.dropRatio === 0 && s.payment.failureRate === stk.config.paymentFailureRate && s.payment.latencyMs === stk.config.paymentLatencyMs;
        if (!r.faultsCleared) r.problems.push(`faults still set after clearing: ${JSON.stringify({ payment: s.payment, faults: s.faults })}`);
      } catch (err) {
        r.problems.push(`clearing faults failed: ${(err as Error).message}`);
      }
      if (workersBefore !== undefined) {
        try {
          await adm.setWorkers(workersBefore);
          const size = (await adm.status()).workers.size;
          r.workersRestored = size === workersBefore;
          if (report.stack) report.stack.workers.restoredTo = size;
          if (!r.workersRestored) r.problems.push(`workers are ${size}, expected ${workersBefore}`);
        } catch (err) {
          r.problems.push(`restoring workers to ${workersBefore} failed: ${(err as Error).message}`);
        }
      } else {
        r.workersRestored = true;
      }
    }
    const ports = [portOf(stk.url), portOf(stk.paymentUrl)];
    try {
      const stopped = await stk.stop({ drainTimeoutMs: 10_000 });
      r.stackStopped = true;
      if (!stopped.drained) r.problems.push(`${stopped.inFlight} jobs were still in flight at stop; they resume on the next start of ${dataDir}`);
    } catch (err) {
      r.problems.push(`stopping the stack failed: ${(err as Error).message}`);
    }
    const busy: number[] = [];
    for (const p of ports) if (!(await portFree(p))) busy.push(p);
    r.portsFreed = busy.length === 0;
    if (!r.portsFreed) r.problems.push(`ports still in use after stop: ${busy.join(', ')}`);
    report.stages.push({
      name: 'restore',
      status: r.problems.length === 0 || (r.faultsCleared && r.workersRestored && r.stackStopped && r.portsFreed) ? 'done' : 'failed',
      durationMs: now() - t0,
      summary: r.problems.length ? r.problems.join('; ') : `faults cleared, workers back to ${workersBefore ?? '-'}, stack stopped, ports ${ports.join(', ')} free`,
    });
    reporter?.notify(`      ${report.stages[report.stages.length - 1]?.summary ?? ''}`, 'progress');
    return r;
  }

  // After Ctrl-C whatever failed is a consequence of the interrupt: the report says `interrupted`.
  if (failure !== undefined && !signal.aborted) throw failure;

  // 8: gates and the report.
  const m = loadResult?.summary.metrics;
  const dur = m?.http_req_duration?.values ?? {};
  const scheduled = loadResult?.scenarios.reduce((a, s) => a + s.scheduled, 0) ?? 0;
  const dropped = loadResult?.scenarios.reduce((a, s) => a + s.dropped, 0) ?? 0;
  if (loadResult) {
    report.load = {
      targetPerSec: scaling.targetPerSec,
      durationMs: Math.round(loadResult.durationMs),
      requests: m?.http_reqs?.values.count ?? 0,
      rps: round2(m?.http_reqs?.values.rate ?? 0),
      ...(dur.med !== undefined ? { p50Ms: round2(dur.med) } : {}),
      ...(dur['p(95)'] !== undefined ? { p95Ms: round2(dur['p(95)']) } : {}),
      ...(dur['p(99)'] !== undefined ? { p99Ms: round2(dur['p(99)']) } : {}),
      ...(m?.http_req_failed?.values.rate !== undefined ? { failedRate: m.http_req_failed.values.rate } : {}),
      scheduled,
      dropped,
      ...(loadResult.aborted ? { aborted: loadResult.aborted } : {}),
      timeline: loadResult.timeline.map((p) => ({ t: p.t, requests: p.requests, failed: p.failed, dropped: p.dropped, p95Ms: round2(p.p95Ms), p99Ms: round2(p.p99Ms) })),
    };
    for (const w of loadResult.warnings) report.notes.push(`load test: ${w}`);
  }
  const before = baseline?.orders.byStatus ?? {};
  const after = finalStatus?.orders.byStatus ?? {};
  const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
  const created = sum(after) - sum(before);
  const byStatus: Record<string, number> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) if (delta(k) !== 0) byStatus[k] = delta(k);
  if (finalStatus) {
    report.orders = {
      created,
      byStatus,
      oversold: finalStatus.oversold,
      ...(drainMs !== undefined ? { drainMs } : {}),
      unfinished: unfinished(finalStatus),
    };
  }
  if (chaos && journal) {
    const j = journal;
    const outage = j.run.find((a) => a.activity.name === 'payment-outage');
    const startS = outage ? round2((Date.parse(outage.start) - loadStart) / 1000) : undefined;
    const endS = outage ? round2((Date.parse(outage.end) - loadStart) / 1000) : undefined;
    const opened = startS === undefined ? undefined : samples.find((s) => s.t >= startS && s.breaker === 'open');
    const closed = endS === undefined || !opened ? undefined : samples.find((s) => s.t >= endS && s.breaker === 'closed');
    report.outage = {
      ...(startS !== undefined ? { startS } : {}),
      ...(endS !== undefined ? { endS } : {}),
      ...(opened ? { breakerOpenedS: opened.t } : {}),
      ...(closed ? { breakerClosedS: closed.t } : {}),
      maxPaymentPending: Math.max(0, ...samples.map((s) => s.pending)),
      journal: {
        status: j.status,
        deviated: j.deviated,
        ...(j.steady_states.before ? { steadyStateBefore: j.steady_states.before.steady_state_met } : {}),
        ...(j.steady_states.after ? { steadyStateAfter: j.steady_states.after.steady_state_met } : {}),
        rollbacks: j.rollbacks.length,
        rollbackFailed: j.rollback_failed,
        reason: j.reason,
      },
    };
  }

  const evidence: GateEvidence = {
    load: {
      p95Ms: dur['p(95)'],
      p99Ms: dur['p(99)'],
      requests: m?.http_reqs?.values.count ?? 0,
      failedRate: m?.http_req_failed?.values.rate,
      scheduled,
      dropped,
      targetPerSec: scaling.targetPerSec,
    },
    orders: {
      created,
      confirmed: delta('confirmed'),
      unfinished: finalStatus ? unfinished(finalStatus) : created,
      paymentFailed: delta('payment_failed'),
      soldOut: delta('sold_out'),
      oversold: finalStatus?.oversold,
      drainMs,
      drainBudgetMs: timings.drainBudgetMs,
    },
    chaos: chaos
      ? {
          breakerOpened: report.outage?.breakerOpenedS !== undefined,
          breakerClosedAfter: report.outage?.breakerClosedS !== undefined,
          maxPaymentPending: report.outage?.maxPaymentPending ?? 0,
          steadyStateBefore: journal?.steady_states.before?.steady_state_met,
          steadyStateAfter: journal?.steady_states.after?.steady_state_met,
          status: journal?.status ?? 'not run',
          deviations: journal ? deviations(journal) : ['the drill did not run'],
          rollbackFailed: journal?.rollback_failed ?? false,
        }
      : undefined,
    restore: {
      faultsCleared: report.restore?.faultsCleared ?? false,
      workersRestored: report.restore?.workersRestored ?? false,
      stackStopped: report.restore?.stackStopped ?? false,
      portsFreed: report.restore?.portsFreed ?? false,
      problems: report.restore?.problems ?? ['the stack never started'],
    },
  };
  report.gates = evaluateGates(evidence, limits);
  report.status = signal.aborted ? 'interrupted' : allPassed(report.gates) ? 'passed' : 'failed';
  const ended = now();
  report.endedAt = iso(ended);
  report.durationMs = ended - startedAt;

  if (reportDir) {
    reporter?.notify(`[${STAGES.length}/${STAGES.length}] report`, 'progress');
    try {
      report.files = await writeReportFiles(reportDir, report, {
      ...(journal ? { journal } : {}),
      ...(loadResult ? { loadSummary: loadResult.summary } : {}),
      ...(scenarioDoc ? { scenario: scenarioDoc } : {}),
      ...(experimentDoc ? { experiment: experimentDoc } : {}),
        stackLog,
      });
    } catch (err) {
      // The rehearsal itself is done and restored; the caller still gets (and can print) the report.
      // writeOutputFiles names the file and the system error (ENOSPC, EACCES, ...) in its message.
      report.writeError = err instanceof SurgeError ? err.message : `cannot write the report to ${reportDir}: ${(err as Error).message}`;
      report.notes.push(report.writeError);
    }
    // No stage record for the report itself: the files would then differ from what they hold.
    reporter?.notify(`      ${report.files?.html ?? report.writeError ?? ''}`, report.files ? 'progress' : 'warn');
  }
  return report;
}

/** History: the generated sample (with the coming Black Friday in the calendar) or a file. */
async function loadHistory(opts: RehearseOptions, seed: number): Promise<{ series: RawSeries; campaigns: Campaign[]; info: NonNullable<RehearsalReport['history']> }> {
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

/** The forecast with every value multiplied (for --peak-rate), so the plan's arithmetic stays the same. */
function scaleForecast(f: ForecastResult, k: number): ForecastResult {
  const mul = <T extends { value: number; lo80: number; hi80: number; lo95: number; hi95: number }>(p: T): T => ({
    ...p,
    value: p.value * k,
    lo80: p.lo80 * k,
    hi80: p.hi80 * k,
    lo95: p.lo95 * k,
    hi95: p.hi95 * k,
  });
  return { ...f, series: f.series.map((s) => ({ ...s, peak: mul(s.peak), points: s.points.map(mul) })) };
}

function phaseAt(elapsedMs: number, t: StageTimings, chaos: boolean): string {
  if (elapsedMs < t.rampMs) return 'ramp';
  if (!chaos) return 'peak';
  const outageStart = t.chaosStartMs + t.probeWindowMs;
  if (elapsedMs >= outageStart && elapsedMs < outageStart + t.outageMs) return 'outage';
  if (elapsedMs >= outageStart + t.outageMs && elapsedMs < outageStart + t.outageMs + t.recoveryMs) return 'recovery';
  return 'peak';
}

function unfinished(s: StackStatus): number {
  let n = 0;
  for (const [k, v] of Object.entries(s.orders.byStatus)) if (!FINAL.has(k)) n += v;
  return n;
}

function sum(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

function deviations(j: Journal): string[] {
  const out: string[] = [];
  for (const [when, run] of [
    ['before', j.steady_states.before],
    ['after', j.steady_states.after],
  ] as const) {
    for (const p of run?.probes ?? []) {
      if (p.tolerance_met === false) out.push(`${p.activity.name} ${when}: ${p.tolerance_result?.message ?? p.exception?.message ?? 'tolerance not met'}`);
    }
  }
  return out;
}

function breakerStory(samples: RehearsalReport['samples'], j: Journal, loadStart: number): string {
  const outage = j.run.find((a) => a.activity.name === 'payment-outage');
  if (!outage) return 'the outage action did not run';
  const s = (Date.parse(outage.start) - loadStart) / 1000;
  const opened = samples.find((x) => x.t >= s && x.breaker === 'open');
  const maxPending = Math.max(0, ...samples.map((x) => x.pending));
  return opened ? `breaker open at ${opened.t}s, up to ${maxPending} orders payment_pending` : 'the breaker was never seen open';
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', () => done(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => done(true)));
  });
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function abs(cwd: string, p: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function fmtMs(v: number | undefined): string {
  return v === undefined ? '-' : `${Math.round(v * 10) / 10} ms`;
}

function pctText(v: number | undefined): string {
  return v === undefined ? '-' : `${Math.round(v * 10_000) / 100}%`;
}

