import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { parseDuration } from '../probes/index.js';
import { newHistogram, newSeries, recordInto, type Series } from './metrics.js';
import { buildMix, readOrderResponse, RequestFactory, type BuiltRequest, type MixEntry, type PayloadSource, type Random } from './requests.js';
import type { ExecutorConfig, Scenario } from './scenario.js';

/**
 * The builtin open-model load generator.
 *
 * Arrivals are driven by the clock: on every tick (about 1 ms) each arrival-rate scenario starts
 * `floor(N(t)) - started` iterations, where N(t) is the integral of its rate profile. Latency
 * never slows the schedule; an arrival that finds no free VU and no room to add one (maxVUs) is
 * a dropped iteration, as in k6. One VU = one in-flight request; requests go through one undici
 * Pool with raw `dispatch` handlers (no promise, stream or header map per request).
 */

/** Live figures, about once per second. */
export interface Progress {
  /** Since the first scenario started, ms. */
  readonly elapsedMs: number;
  /** Planned length of the run, ms. */
  readonly plannedMs: number;
  /** Requests answered in the last interval, per second. */
  readonly rps: number;
  /** p95 latency of the last interval, ms (0 when nothing was answered). */
  readonly p95Ms: number;
  readonly requests: number;
  readonly failed: number;
  readonly dropped: number;
  /** Requests in flight now. */
  readonly vus: number;
}

/** One second of the run, for the HTML report. */
export interface TimelinePoint {
  /** Seconds since the start (end of the interval). */
  readonly t: number;
  readonly requests: number;
  readonly failed: number;
  readonly dropped: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly vus: number;
}

/** Per load profile: what was scheduled and what happened. */
export interface ScenarioOutcome {
  readonly name: string;
  readonly executor: ExecutorConfig['executor'];
  /** Arrivals the schedule called for up to where the scenario ended (open model only). */
  readonly scheduled: number;
  /** Arrivals the engine handled: iterations started plus dropped ones (open model), or iterations run (constant-vus). */
  readonly arrivals: number;
  /** Requests answered or failed. */
  readonly iterations: number;
  readonly dropped: number;
  /** VUs allocated at the end (never above maxVUs). */
  readonly vusAllocated: number;
  /** How long arrivals ran by the engine's clock, ms. */
  readonly activeMs: number;
}

/** What the engine hands the summary builder. */
export interface RawResult {
  readonly series: readonly Series[];
  readonly iterations: number;
  readonly dropped: number;
  readonly dataReceived: number;
  readonly ordersAccepted: number;
  readonly ordersRejected: number;
  readonly vus: { value: number; min: number; max: number };
  readonly vusMax: number;
  readonly timeline: readonly TimelinePoint[];
  readonly scenarios: readonly ScenarioOutcome[];
  /** Wall-clock length of the run, ms (first start to last request settled). */
  readonly durationMs: number;
  /** Why the run stopped early, when it did. */
  readonly aborted?: string;
}

export interface EngineOptions {
  /** Cancels the run: arrivals stop, in-flight requests get 2 s, the result so far is returned. */
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Called every second with the live series; a returned string aborts the run with that reason (abortOnFail). */
  checkAbort?: (live: LiveView) => string | undefined;
  /** Skus for create payloads (already fetched from the target). */
  skus: readonly string[];
  /** Unique per run; prefixes Idempotency-Keys. */
  runId: string;
  random?: Random;
  /** Test seam: the dispatcher to send through (default: an undici Pool on the target). */
  dispatcher?: Dispatcher;
}

/** Read access to the metrics while the run is going (for abortOnFail). */
export interface LiveView {
  readonly elapsedMs: number;
  readonly series: readonly Series[];
  readonly dropped: number;
  readonly iterations: number;
  readonly ordersAccepted: number;
  readonly ordersRejected: number;
  /** Per load profile so far (for thresholds tagged `{scenario:name}`). */
  readonly scenarios: readonly ScenarioOutcome[];
}

function timeoutError(): Error {
  return new Error('request timed out (http.timeout)');
}

/** Cumulative arrivals N(t) for t in ms since the scenario start; t is clamped by the caller. */
export function arrivalsBy(ex: ExecutorConfig, tMs: number): number {
  if (ex.executor === 'constant-vus') return 0;
  const unitMs = parseDuration(ex.timeUnit) ?? 1000;
  if (ex.executor === 'constant-arrival-rate') return (ex.rate / unitMs) * tMs;
  let acc = 0;
  let prev = ex.startRate;
  let left = tMs;
  for (const st of ex.stages) {
    const d = parseDuration(st.duration) ?? 0;
    if (left <= 0) break;
    const span = Math.min(left, d);
    const rateAtEnd = prev + (st.target - prev) * (d === 0 ? 1 : span / d);
    acc += ((prev + rateAtEnd) / 2) * span;
    left -= span;
    prev = st.target;
  }
  return acc / unitMs;
}

/** Length of the executor's active part (without startTime), ms. */
export function activeMs(ex: ExecutorConfig): number {
  if (ex.executor === 'ramping-arrival-rate') return ex.stages.reduce((a, st) => a + (parseDuration(st.duration) ?? 0), 0);
  return parseDuration(ex.duration) ?? 0;
}

interface SeriesGroup {
  /** Series by HTTP status (0 = no response). */
  readonly byStatus: Map<number, Series>;
  readonly entry: MixEntry;
  readonly method: string;
  readonly scenario: string;
}

interface ScenarioRun {
  readonly name: string;
  readonly ex: ExecutorConfig;
  readonly startAt: number;
  readonly durMs: number;
  readonly gracefulMs: number;
  readonly maxVUs: number;
  /** Series groups by mix entry index. */
  readonly groups: Map<MixEntry, SeriesGroup>;
  readonly free: { start(): void }[];
  allocated: number;
  started: number;
  iterations: number;
  dropped: number;
  done: boolean;
  endedAt: number;
}

export async function runEngine(scenario: Scenario, opts: EngineOptions): Promise<RawResult> {
  const clock = () => performance.now();
  const mix = buildMix(scenario.requests);
  const payload: PayloadSource = { skus: opts.skus, customers: scenario.payload.customers, declineRatio: scenario.payload.declineRatio, runId: opts.runId };
  const factory = new RequestFactory(mix, payload, scenario.http.headers, opts.random);
  const timeoutMs = parseDuration(scenario.http.timeout) ?? 10_000;
  const allSeries: Series[] = [];
  const runs: ScenarioRun[] = [];
  const t0 = clock();

  let totalMaxVus = 0;
  for (const [name, ex] of Object.entries(scenario.scenarios)) {
    const maxVUs = ex.executor === 'constant-vus' ? ex.vus : (ex.maxVUs ?? ex.preAllocatedVUs);
    totalMaxVus += maxVUs;
    runs.push({
      name,
      ex,
      startAt: t0 + (parseDuration(ex.startTime) ?? 0),
      durMs: activeMs(ex),
      gracefulMs: parseDuration(ex.gracefulStop) ?? 30_000,
      maxVUs,
      groups: new Map(),
      free: [],
      allocated: 0,
      started: 0,
      iterations: 0,
      dropped: 0,
      done: false,
      endedAt: 0,
    });
  }
  const plannedMs = Math.max(...runs.map((r) => r.startAt - t0 + r.durMs));

  const ownsDispatcher = opts.dispatcher === undefined;
  const dispatcher: Dispatcher =
    opts.dispatcher ??
    new Pool(new URL(scenario.target).origin, {
      connections: scenario.http.connections ?? Math.min(256, Math.max(1, totalMaxVus)),
      pipelining: scenario.http.pipelining,
      // Backstops only: undici checks these on a coarse (~0.5 s) timer; the sweep below enforces the timeout.
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { timeout: timeoutMs },
      keepAliveTimeout: 30_000,
    });
  const basePath = new URL(scenario.target).pathname.replace(/\/$/, '');

  let inFlight = 0;
  let iterations = 0;
  let dataReceived = 0;
  let ordersAccepted = 0;
  let ordersRejected = 0;
  let ended = false;
  let vusMax = 0;
  let vusAllocatedTotal = 0;

  // Per-interval figures for the live line and the timeline.
  const interval = newHistogram();
  let intervalRequests = 0;
  let intervalFailed = 0;
  let intervalDroppedBase = 0;
  let totalRequests = 0;
  let totalFailed = 0;
  const timeline: TimelinePoint[] = [];

  const seriesFor = (run: ScenarioRun, entry: MixEntry, method: string, status: number): Series => {
    let g = run.groups.get(entry);
    if (!g) {
      g = { byStatus: new Map(), entry, method, scenario: run.name };
      run.groups.set(entry, g);
    }
    let s = g.byStatus.get(status);
    if (!s) {
      s = newSeries({
        scenario: run.name,
        name: entry.name,
        method,
        status: String(status),
        expected_response: status >= 200 && status < 400 ? 'true' : 'false',
      });
      g.byStatus.set(status, s);
      allSeries.push(s);
    }
    return s;
  };

  let settleWaiter: (() => void) | undefined;
  /** Every VU, for the timeout sweep. */
  const allVus: Vu[] = [];

  /** One VU: a reusable dispatch handler, so a request allocates no closures. */
  class Vu implements Dispatcher.DispatchHandler {
    entry!: MixEntry;
    req!: BuiltRequest;
    startedAt = 0;
    status = 0;
    chunks: Buffer[] = [];
    busy = false;
    /** Cancels the request in flight; undici hands it over once the request is on a connection. */
    abortRequest: ((err: Error) => void) | undefined = undefined;
    constructor(readonly run: ScenarioRun) {
      allVus.push(this);
    }

    start(): void {
      const entry = factory.draw();
      this.entry = entry;
      this.req = factory.build(entry);
      this.status = 0;
      if (this.chunks.length > 0) this.chunks = [];
      this.abortRequest = undefined;
      this.busy = true;
      inFlight++;
      if (inFlight > vusMax) vusMax = inFlight;
      this.startedAt = clock();
      try {
        dispatcher.dispatch({ path: basePath + this.req.path, method: this.req.method, headers: this.req.headers, body: this.req.body }, this);
      } catch {
        // A request undici refuses up front (e.g. a bad header value) counts as a failed request, not a crashed run.
        this.finish(true);
      }
    }
    // undici's core calls these (the "legacy" handler shape) directly; the newer onResponse* shape
    // is adapted per request with two extra objects and parsed header maps, a measurable cost here.
    onConnect(abort: (err: Error) => void): void {
      // A request that waited in the pool queue past its timeout goes no further.
      if (clock() - this.startedAt >= timeoutMs) abort(timeoutError());
      else this.abortRequest = abort;
    }
    onHeaders(statusCode: number): boolean {
      this.status = statusCode;
      return true;
    }
    onData(chunk: Buffer): boolean {
      dataReceived += chunk.length;
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
      this.busy = false;
      this.abortRequest = undefined;
      inFlight--;
      if (ended) return;
      const us = (clock() - this.startedAt) * 1000;
      const status = networkError ? 0 : this.status;
      const failed = networkError || status < 200 || status >= 400;
      recordInto(seriesFor(this.run, this.entry, this.req.method, status), us, failed);
      interval.recordValue(us < 1 ? 1 : Math.round(us));
      intervalRequests++;
      totalRequests++;
      if (failed) {
        intervalFailed++;
        totalFailed++;
      }
      iterations++;
      this.run.iterations++;
      if (this.req.orders > 0) {
        if (networkError) ordersRejected += this.req.orders;
        else {
          const body = this.chunks.length === 1 ? this.chunks[0]!.toString() : Buffer.concat(this.chunks).toString();
          const o = readOrderResponse(this.req, status, body);
          ordersAccepted += o.accepted;
          ordersRejected += o.rejected;
          for (const id of o.ids) factory.ring.add(id);
        }
      }
      const run = this.run;
      if (run.ex.executor === 'constant-vus' && !run.done && !stopping && clock() < run.startAt + run.durMs) {
        // After an error (refused connection, refused request) yield first: a closed loop must not spin the CPU.
        if (networkError) setImmediate(() => (ended || stopping ? run.free.push(this) : this.start()));
        else this.start();
        return;
      }
      run.free.push(this);
      if (inFlight === 0) settleWaiter?.();
    }
  }

  const startArrival = (run: ScenarioRun) => {
    let vu = run.free.pop();
    if (!vu) {
      if (run.allocated >= run.maxVUs) {
        run.dropped++;
        return;
      }
      run.allocated++;
      vusAllocatedTotal++;
      vu = new Vu(run);
    }
    vu.start();
  };

  // http.timeout bounds the whole request (as k6's timeout does), checked every few ms rather
  // than with a timer per request; an aborted request fails with status 0.
  const sweep = () => {
    const now = clock();
    for (const vu of allVus) if (vu.busy && vu.abortRequest && now - vu.startedAt >= timeoutMs) vu.abortRequest(timeoutError());
  };
  const sweeper = setInterval(sweep, Math.max(1, Math.min(10, Math.floor(timeoutMs / 20))));

  for (const run of runs) {
    const pre = run.ex.executor === 'constant-vus' ? 0 : run.ex.preAllocatedVUs;
    for (let i = 0; i < pre; i++) run.free.push(new Vu(run));
    run.allocated = pre;
    vusAllocatedTotal += pre;
  }

  let stopping = false;
  let aborted: string | undefined;
  const onAbort = () => {
    aborted ??= 'interrupted';
    stopping = true;
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  let nextSecond = t0 + 1000;
  const totalDropped = () => runs.reduce((a, r) => a + r.dropped, 0);

  /** A profile's figures up to `now` (or up to where it ended). */
  const outcomeOf = (r: ScenarioRun, now: number): ScenarioOutcome => {
    const active = Math.max(0, (r.endedAt || now) - r.startAt);
    return {
      name: r.name,
      executor: r.ex.executor,
      scheduled: r.ex.executor === 'constant-vus' ? r.iterations : Math.floor(arrivalsBy(r.ex, Math.min(active, r.durMs)) + 1e-9),
      arrivals: r.ex.executor === 'constant-vus' ? r.iterations : r.started,
      iterations: r.iterations,
      dropped: r.dropped,
      vusAllocated: r.allocated,
      activeMs: active,
    };
  };

  const closeInterval = (now: number) => {
    const dropped = totalDropped();
    const secs = Math.max(0.001, (now - (nextSecond - 1000)) / 1000);
    const point: TimelinePoint = {
      t: Math.round((now - t0) / 100) / 10,
      requests: intervalRequests,
      failed: intervalFailed,
      dropped: dropped - intervalDroppedBase,
      p50Ms: intervalRequests > 0 ? interval.getValueAtPercentile(50) / 1000 : 0,
      p95Ms: intervalRequests > 0 ? interval.getValueAtPercentile(95) / 1000 : 0,
      p99Ms: intervalRequests > 0 ? interval.getValueAtPercentile(99) / 1000 : 0,
      vus: inFlight,
    };
    timeline.push(point);
    opts.onProgress?.({
      elapsedMs: now - t0,
      plannedMs,
      rps: intervalRequests / secs,
      p95Ms: point.p95Ms,
      requests: totalRequests,
      failed: totalFailed,
      dropped,
      vus: inFlight,
    });
    interval.reset();
    intervalRequests = 0;
    intervalFailed = 0;
    intervalDroppedBase = dropped;
    if (opts.checkAbort && !stopping) {
      const scenarios = runs.map((r) => outcomeOf(r, now));
      const reason = opts.checkAbort({ elapsedMs: now - t0, series: allSeries, dropped, iterations, ordersAccepted, ordersRejected, scenarios });
      if (reason !== undefined) {
        aborted = reason;
        stopping = true;
      }
    }
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = clock();
      for (const run of runs) {
        if (run.done) continue;
        const t = now - run.startAt;
        // Stopping ends every profile at once, also one whose startTime has not come yet.
        if (stopping || t >= run.durMs) {
          if (!stopping && run.ex.executor !== 'constant-vus') catchUp(run, run.durMs);
          run.done = true;
          run.endedAt = Math.max(run.startAt, Math.min(now, run.startAt + run.durMs));
          continue;
        }
        if (t < 0) continue;
        if (run.ex.executor === 'constant-vus') {
          // Closed model: start every VU once; each starts its next request when answered.
          while (run.allocated < run.maxVUs) {
            run.allocated++;
            vusAllocatedTotal++;
            new Vu(run).start();
          }
        } else {
          catchUp(run, t);
        }
      }
      if (now >= nextSecond) {
        closeInterval(now);
        nextSecond += 1000 * Math.max(1, Math.floor((now - nextSecond) / 1000) + 1);
      }
      if (runs.every((r) => r.done)) resolve();
      else setTimeout(tick, 1);
    };
    const catchUp = (run: ScenarioRun, t: number) => {
      const due = Math.floor(arrivalsBy(run.ex, t) + 1e-9);
      while (run.started < due) {
        run.started++;
        startArrival(run);
      }
    };
    tick();
  });

  // Let in-flight requests finish within the longest gracefulStop (2 s when aborted).
  const graceMs = aborted ? 2_000 : Math.max(...runs.map((r) => r.gracefulMs));
  if (inFlight > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      settleWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  clearInterval(sweeper);
  const end = clock();
  ended = true;
  if (intervalRequests > 0 || timeline.length === 0) closeInterval(end);
  opts.signal?.removeEventListener('abort', onAbort);
  if (ownsDispatcher) await dispatcher.destroy().catch(() => undefined);

  return {
    series: allSeries,
    iterations,
    dropped: totalDropped(),
    dataReceived,
    ordersAccepted,
    ordersRejected,
    vus: { value: inFlight, min: 0, max: vusMax },
    vusMax: vusAllocatedTotal,
    timeline,
    scenarios: runs.map((r) => outcomeOf(r, end)),
    durationMs: end - t0,
    ...(aborted === undefined ? {} : { aborted }),
  };
}
