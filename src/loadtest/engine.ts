import { performance } from 'node:perf_hooks';
import type { Histogram } from 'hdr-histogram-js';
import { Pool, type Dispatcher } from 'undici';
import { assembleRawResult, intervalPoint, profileOutcome, progressOf, type LiveView, type Progress, type RawResult, type ScenarioOutcome, type TimelinePoint } from './evidence.js';
import { newHistogram, newSeries, recordInto, type Series } from './metrics.js';
import { buildMix, mixFallback, readOrderResponse, RequestFactory, type BuiltRequest, type MixEntry, type PayloadSource, type Random } from './requests.js';
import { admitArrival, mayIterate, nextIntervalBoundary, planSchedule, stepProfile, type ProfilePlan, type ProfileStep, type SchedulePlan } from './schedule.js';
import { mixFor, type RequestConfig, type Scenario } from './scenario.js';

export type { LiveView, Progress, RawResult, ScenarioOutcome, TimelinePoint } from './evidence.js';

/**
 * The builtin open-model load generator.
 *
 * Arrivals are driven by the clock: on every tick (about 1 ms) each arrival-rate scenario starts
 * `floor(N(t)) - started` iterations, where N(t) is the integral of its rate profile. Latency
 * never slows the schedule; an arrival that finds no free VU and no room to add one (maxVUs) is
 * a dropped iteration, as in k6. One VU = one in-flight request; requests go through one undici
 * Pool with raw `dispatch` handlers (no promise, stream or header map per request).
 *
 * A run goes through named phases: prepare (plan the schedule, open the transport, make VUs
 * ready), dispatch arrivals (the clock-driven loop, closing one interval per second and judging
 * abortOnFail thresholds there), drain (in-flight requests get their gracefulStop) and assemble
 * the raw result. The decisions and the evidence are pure functions in schedule.ts and
 * evidence.ts; this file applies them.
 */

/** Options of {@link runEngine}. */
export interface EngineOptions {
  /** Cancels the run: arrivals stop, in-flight requests get 2 s, the result so far is returned with `aborted: 'interrupted'`. */
  signal?: AbortSignal;
  /** Called once per second with the live figures. */
  onProgress?: (p: Progress) => void;
  /** Called every second with the live series; a returned string aborts the run with that reason (abortOnFail). */
  checkAbort?: (live: LiveView) => string | undefined;
  /** Skus for create payloads (already fetched from the target). */
  skus: readonly string[];
  /** Unique per run; prefixes Idempotency-Keys. */
  runId: string;
  /** Random source of the payload generators, [0, 1). Default Math.random. */
  random?: Random;
  /** Test seam: the dispatcher to send through (default: an undici Pool on the target, closed at the end). */
  dispatcher?: Dispatcher;
  /**
   * Called once per answered or failed request: its HTTP status (0: no answer) and the ids of the
   * orders it acknowledged (a create's 202). A failover drill checks each acknowledged order afterwards.
   */
  onResponse?: (status: number, orderIds: readonly string[]) => void;
}

function timeoutError(): Error {
  return new Error('request timed out (http.timeout)');
}

interface SeriesGroup {
  /** Series by HTTP status (0 = no response). */
  readonly byStatus: Map<number, Series>;
}

/** One load profile while it runs. */
interface ProfileRun {
  readonly plan: ProfilePlan;
  /** Its start by the engine's clock. */
  readonly startAt: number;
  /** Series groups by mix entry. */
  readonly groups: Map<MixEntry, SeriesGroup>;
  /** The request mix this profile draws from (its `exec`), and the create kind get-status falls back to. */
  readonly mix: readonly MixEntry[];
  readonly fallback: MixEntry | undefined;
  /** The profile's `tags`, added to every series it records. */
  readonly tags: Readonly<Record<string, string>>;
  readonly free: Vu[];
  allocated: number;
  /** Iterations started (open model: arrivals, dropped ones included). */
  started: number;
  /** Closed model: VUs looping now, and how many the schedule wants. */
  active: number;
  target: number;
  iterations: number;
  dropped: number;
  /** Ms since its start when it ended; undefined while it runs. */
  endedAtMs: number | undefined;
}

/** What a run shares between its VUs and its phases. */
interface EngineState {
  readonly clock: () => number;
  readonly t0: number;
  readonly plan: SchedulePlan;
  readonly timeoutMs: number;
  readonly runs: readonly ProfileRun[];
  readonly factory: RequestFactory;
  readonly dispatcher: Dispatcher;
  readonly ownsDispatcher: boolean;
  readonly basePath: string;
  readonly onResponse: EngineOptions['onResponse'];
  readonly series: Series[];
  /** Every VU, for the timeout sweep. */
  readonly vus: Vu[];
  inFlight: number;
  peakInFlight: number;
  vusAllocated: number;
  iterations: number;
  dataReceived: number;
  ordersAccepted: number;
  ordersRejected: number;
  totalRequests: number;
  totalFailed: number;
  /** The current one-second interval: latencies, counts, dropped arrivals before it began, and where it ends. */
  readonly interval: Histogram;
  intervalRequests: number;
  intervalFailed: number;
  intervalDroppedBase: number;
  nextSecond: number;
  readonly timeline: TimelinePoint[];
  /** Arrivals stop (interrupt or abortOnFail). */
  stopping: boolean;
  /** The result is being assembled: late answers are not counted. */
  ended: boolean;
  aborted: string | undefined;
  /** Resolves the drain once nothing is in flight. */
  settleWaiter: (() => void) | undefined;
}

/**
 * Runs the scenario's load profiles side by side against its target and returns what was
 * measured. Never throws for failed requests (they are measured); resolves when every profile
 * has ended and in-flight requests have settled or run out of gracefulStop.
 */
export async function runEngine(scenario: Scenario, opts: EngineOptions): Promise<RawResult> {
  const st = prepare(scenario, planSchedule(scenario), opts);
  const unwatch = watchForStop(st, opts.signal);
  const stopSweeping = sweepTimeouts(st);
  await dispatchArrivals(st, opts);
  await drain(st);
  stopSweeping();
  const end = st.clock();
  st.ended = true;
  // The last, partial interval, so the timeline covers the whole run.
  if (st.intervalRequests > 0 || st.timeline.length === 0) closeInterval(st, end, opts);
  unwatch();
  if (st.ownsDispatcher) await st.dispatcher.destroy().catch(() => undefined);
  return assembleRawResult({
    series: st.series,
    iterations: st.iterations,
    dataReceived: st.dataReceived,
    ordersAccepted: st.ordersAccepted,
    ordersRejected: st.ordersRejected,
    inFlight: st.inFlight,
    peakInFlight: st.peakInFlight,
    vusAllocated: st.vusAllocated,
    timeline: st.timeline,
    scenarios: outcomes(st, end),
    durationMs: end - st.t0,
    aborted: st.aborted,
  });
}

/** Phase 1: the request factory, the transport, each profile with its pre-allocated VUs. */
function prepare(scenario: Scenario, plan: SchedulePlan, opts: EngineOptions): EngineState {
  const clock = () => performance.now();
  const payload: PayloadSource = { skus: opts.skus, customers: scenario.payload.customers, declineRatio: scenario.payload.declineRatio, runId: opts.runId };
  const timeoutMs = plan.timeoutMs;
  const dispatcher: Dispatcher =
    opts.dispatcher ??
    new Pool(new URL(scenario.target).origin, {
      connections: scenario.http.connections ?? Math.min(256, Math.max(1, plan.maxVUs)),
      pipelining: scenario.http.pipelining,
      // Backstops only: undici checks these on a coarse (~0.5 s) timer; the sweep enforces the timeout.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { timeout: timeoutMs },
      keepAliveTimeout: 30_000,
    });
  // One built mix per request list, shared by the profiles that exec it.
  const mixes = new Map<readonly RequestConfig[], MixEntry[]>();
  for (const p of plan.profiles) {
    const requests = mixFor(scenario, p.ex);
    if (!mixes.has(requests)) mixes.set(requests, buildMix(requests));
  }
  const t0 = clock();
  const st: EngineState = {
    clock,
    t0,
    plan,
    timeoutMs,
    runs: plan.profiles.map((p) => {
      const mix = mixes.get(mixFor(scenario, p.ex)) as MixEntry[];
      return {
        plan: p,
        startAt: t0 + p.startMs,
        groups: new Map(),
        mix,
        fallback: mixFallback(mix),
        tags: p.ex.tags ?? {},
        free: [],
        allocated: 0,
        started: 0,
        active: 0,
        target: 0,
        iterations: 0,
        dropped: 0,
        endedAtMs: undefined,
      };
    }),
    factory: new RequestFactory(mixes.get(mixFor(scenario, plan.profiles[0]!.ex)) as MixEntry[], payload, scenario.http.headers, opts.random),
    dispatcher,
    ownsDispatcher: opts.dispatcher === undefined,
    basePath: new URL(scenario.target).pathname.replace(/\/$/, ''),
    onResponse: opts.onResponse,
    series: [],
    vus: [],
    inFlight: 0,
    peakInFlight: 0,
    vusAllocated: 0,
    iterations: 0,
    dataReceived: 0,
    ordersAccepted: 0,
    ordersRejected: 0,
    totalRequests: 0,
    totalFailed: 0,
    interval: newHistogram(),
    intervalRequests: 0,
    intervalFailed: 0,
    intervalDroppedBase: 0,
    nextSecond: t0 + 1000,
    timeline: [],
    stopping: false,
    ended: false,
    aborted: undefined,
    settleWaiter: undefined,
  };
  for (const run of st.runs) {
    for (let i = 0; i < run.plan.preAllocated; i++) run.free.push(new Vu(run, st));
    run.allocated = run.plan.preAllocated;
    st.vusAllocated += run.plan.preAllocated;
  }
  return st;
}

/** An interrupt stops arrivals; returns the function that stops listening. */
function watchForStop(st: EngineState, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => undefined;
  const onAbort = () => {
    st.aborted ??= 'interrupted';
    st.stopping = true;
  };
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  return () => signal.removeEventListener('abort', onAbort);
}

/**
 * http.timeout bounds the whole request (as k6's timeout does), checked every few ms rather than
 * with a timer per request; an aborted request fails with status 0. Returns the stop function.
 */
function sweepTimeouts(st: EngineState): () => void {
  const sweep = () => {
    const now = st.clock();
    for (const vu of st.vus) if (vu.busy && vu.abortRequest && now - vu.startedAt >= st.timeoutMs) vu.abortRequest(timeoutError());
  };
  const sweeper = setInterval(sweep, Math.max(1, Math.min(10, Math.floor(st.timeoutMs / 20))));
  return () => clearInterval(sweeper);
}

/** Phase 2: the clock-driven loop, until every profile has ended. */
function dispatchArrivals(st: EngineState, opts: EngineOptions): Promise<void> {
  return new Promise<void>((resolve) => {
    const tick = () => {
      const now = st.clock();
      for (const run of st.runs) if (run.endedAtMs === undefined) applyStep(st, run, stepProfile(run.plan, now - run.startAt, st.stopping, run.iterations));
      if (now >= st.nextSecond) {
        closeInterval(st, now, opts);
        st.nextSecond = nextIntervalBoundary(st.nextSecond, now);
      }
      if (st.runs.every((r) => r.endedAtMs !== undefined)) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
}

function applyStep(st: EngineState, run: ProfileRun, step: ProfileStep): void {
  switch (step.kind) {
    case 'wait':
      return;
    case 'fill':
      // Closed model: start VUs up to the schedule's count; each starts its next iteration when
      // answered, and one above the count (ramping down) stops after its iteration.
      run.target = step.vus;
      while (run.active < run.target && mayIterate(run.plan.ex, run.started, 0)) {
        let vu = run.free.pop();
        if (!vu) {
          // per-vu-iterations: a VU that ran its share is not in `free`, and no new one replaces it.
          if (run.allocated >= run.plan.maxVUs) break;
          run.allocated++;
          st.vusAllocated++;
          vu = new Vu(run, st);
        }
        run.active++;
        vu.iterate();
      }
      return;
    case 'arrive':
      startArrivals(st, run, step.due);
      return;
    case 'end':
      if (step.due !== undefined) startArrivals(st, run, step.due);
      run.endedAtMs = step.endedAtMs;
      return;
  }
}

function startArrivals(st: EngineState, run: ProfileRun, due: number): void {
  while (run.started < due) {
    run.started++;
    switch (admitArrival(run.free.length, run.allocated, run.plan.maxVUs)) {
      case 'reuse':
        (run.free.pop() as Vu).start();
        break;
      case 'allocate':
        run.allocated++;
        st.vusAllocated++;
        new Vu(run, st).start();
        break;
      case 'drop':
        run.dropped++;
        break;
    }
  }
}

function totalDropped(st: EngineState): number {
  let n = 0;
  for (const r of st.runs) n += r.dropped;
  return n;
}

function outcomes(st: EngineState, now: number): ScenarioOutcome[] {
  return st.runs.map((r) => profileOutcome(r.plan, r, now - r.startAt));
}

/** Closes the one-second interval: a timeline point, a progress line, then the abortOnFail verdict. */
function closeInterval(st: EngineState, now: number, opts: EngineOptions): void {
  const dropped = totalDropped(st);
  const elapsedMs = now - st.t0;
  const point = intervalPoint({
    elapsedMs,
    requests: st.intervalRequests,
    failed: st.intervalFailed,
    dropped: dropped - st.intervalDroppedBase,
    vus: st.inFlight,
    percentileMs: (p) => st.interval.getValueAtPercentile(p) / 1000,
  });
  st.timeline.push(point);
  opts.onProgress?.(
    progressOf(point, { elapsedMs, plannedMs: st.plan.plannedMs, intervalMs: now - (st.nextSecond - 1000), totalRequests: st.totalRequests, totalFailed: st.totalFailed, totalDropped: dropped }),
  );
  st.interval.reset();
  st.intervalRequests = 0;
  st.intervalFailed = 0;
  st.intervalDroppedBase = dropped;
  if (opts.checkAbort && !st.stopping) {
    const live: LiveView = {
      elapsedMs,
      series: st.series,
      dropped,
      iterations: st.iterations,
      ordersAccepted: st.ordersAccepted,
      ordersRejected: st.ordersRejected,
      scenarios: outcomes(st, now),
    };
    const reason = opts.checkAbort(live);
    if (reason !== undefined) {
      st.aborted = reason;
      st.stopping = true;
    }
  }
}

/** Phase 3: in-flight requests finish within the longest gracefulStop (2 s when the run was aborted). */
async function drain(st: EngineState): Promise<void> {
  if (st.inFlight === 0) return;
  const graceMs = st.aborted ? 2_000 : Math.max(...st.plan.profiles.map((p) => p.gracefulMs));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, graceMs);
    st.settleWaiter = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

function seriesFor(st: EngineState, run: ProfileRun, entry: MixEntry, method: string, status: number): Series {
  let g = run.groups.get(entry);
  if (!g) {
    g = { byStatus: new Map() };
    run.groups.set(entry, g);
  }
  let s = g.byStatus.get(status);
  if (!s) {
    s = newSeries({
      ...run.tags,
      scenario: run.plan.name,
      name: entry.name,
      method,
      status: String(status),
      expected_response: status >= 200 && status < 400 ? 'true' : 'false',
    });
    g.byStatus.set(status, s);
    st.series.push(s);
  }
  return s;
}

const NO_IDS: readonly string[] = [];

/** One VU: a reusable dispatch handler, so a request allocates no closures. */
class Vu implements Dispatcher.DispatchHandler {
  entry!: MixEntry;
  req!: BuiltRequest;
  startedAt = 0;
  status = 0;
  chunks: Buffer[] = [];
  busy = false;
  /** Iterations this VU started (per-vu-iterations counts them per VU). */
  started = 0;
  /** Cancels the request in flight; undici hands it over once the request is on a connection. */
  abortRequest: ((err: Error) => void) | undefined = undefined;

  constructor(
    readonly run: ProfileRun,
    private readonly st: EngineState,
  ) {
    st.vus.push(this);
  }

  /** Closed model: starts the next iteration, counted against the profile's and this VU's budget. */
  iterate(): void {
    this.run.started++;
    this.started++;
    this.start();
  }

  start(): void {
    const st = this.st;
    const entry = st.factory.draw(this.run.mix, this.run.fallback);
    this.entry = entry;
    this.req = st.factory.build(entry);
    this.status = 0;
    if (this.chunks.length > 0) this.chunks = [];
    this.abortRequest = undefined;
    this.busy = true;
    st.inFlight++;
    if (st.inFlight > st.peakInFlight) st.peakInFlight = st.inFlight;
    this.startedAt = st.clock();
    try {
      st.dispatcher.dispatch({ path: st.basePath + this.req.path, method: this.req.method, headers: this.req.headers, body: this.req.body }, this);
    } catch {
      // A request undici refuses up front (e.g. a bad header value) counts as a failed request, not a crashed run.
      this.finish(true);
    }
  }

  // undici's core calls these (the "legacy" handler shape) directly; the newer onResponse* shape
  // is adapted per request with two extra objects and parsed header maps, a measurable cost here.
  onConnect(abort: (err: Error) => void): void {
    // A request that waited in the pool queue past its timeout goes no further.
    if (this.st.clock() - this.startedAt >= this.st.timeoutMs) abort(timeoutError());
    else this.abortRequest = abort;
  }

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.st.dataReceived += chunk.length;
    if (this.req.readBody) this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.finish(false);
  }

  onError(): void {
    this.finish(true);
  }

  finish(networkError: boolean): void {
    const st = this.st;
    this.busy = false;
    this.abortRequest = undefined;
    st.inFlight--;
    if (st.ended) return;
    const us = (st.clock() - this.startedAt) * 1000;
    const status = networkError ? 0 : this.status;
    const failed = networkError || status < 200 || status >= 400;
    const run = this.run;
    recordInto(seriesFor(st, run, this.entry, this.req.method, status), us, failed);
    st.interval.recordValue(us < 1 ? 1 : Math.round(us));
    st.intervalRequests++;
    st.totalRequests++;
    if (failed) {
      st.intervalFailed++;
      st.totalFailed++;
    }
    st.iterations++;
    run.iterations++;
    let ids: readonly string[] = NO_IDS;
    if (this.req.orders > 0) {
      if (networkError) st.ordersRejected += this.req.orders;
      else {
        const body = this.chunks.length === 1 ? this.chunks[0]!.toString() : Buffer.concat(this.chunks).toString();
        const o = readOrderResponse(this.req, status, body);
        st.ordersAccepted += o.accepted;
        st.ordersRejected += o.rejected;
        for (const id of o.ids) st.factory.ring.add(id);
        ids = o.ids;
      }
    }
    st.onResponse?.(status, ids);
    if (run.plan.closed) {
      // After an error (refused connection, refused request) yield first: a closed loop must not spin the CPU.
      if (networkError) setImmediate(() => this.continueLoop());
      else this.continueLoop();
      return;
    }
    run.free.push(this);
    if (st.inFlight === 0) st.settleWaiter?.();
  }

  /** Closed model, after an iteration: the next one, or stop (profile over, ramped down, budget spent). */
  continueLoop(): void {
    const st = this.st;
    const run = this.run;
    const goOn =
      !st.ended && !st.stopping && run.endedAtMs === undefined && st.clock() < run.startAt + run.plan.durMs && run.active <= run.target && mayIterate(run.plan.ex, run.started, this.started);
    if (goOn) {
      this.iterate();
      return;
    }
    run.active--;
    // A per-vu-iterations VU that ran its share stays retired; any other may be started again.
    if (run.plan.ex.executor !== 'per-vu-iterations' || mayIterate(run.plan.ex, run.started, this.started)) run.free.push(this);
    if (st.inFlight === 0) st.settleWaiter?.();
  }
}
