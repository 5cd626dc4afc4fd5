import type { GateLimits } from './gates.js';
import { round2 } from './plan.js';

/**
 * The calibration probe of a rehearsal: a short step load against the rehearsal's own stack that
 * finds the highest arrival rate this machine holds within the gates' latency, without failed or
 * dropped requests. The rehearsal then runs at min(forecast peak, {@link SAFE_SHARE} of it).
 *
 * The decisions (which rate to try next, whether a step held, what the machine rate is and how to
 * say where it came from) are pure functions here, tested with made-up measurements; the step
 * itself is a load test of the builtin engine that the caller passes in as `measure`.
 */

/**
 * Share of the probed rate the rehearsal runs at, at most. A probe step lasts seconds with the
 * stack's start-up worker pool; the rehearsal holds its rate for minutes, with a payment outage
 * piling orders up as payment_pending and the drill's probes on top. A quarter in reserve keeps a
 * rehearsal at the probed rate from measuring the machine's limit instead of the stack.
 */
export const SAFE_SHARE = 0.75;
/** Length of one probe step, ms: long enough for a queue that cannot keep up to show in latency and throughput. */
export const PROBE_STEP_MS = 2_000;
/** Rungs of the ladder up to the rate the rehearsal could use. */
export const PROBE_LADDER_RUNGS = 3;
/**
 * The first rung is at most this, orders/s: a stack fresh from its start (cold JIT, caches,
 * connections) measured at thousands per second at once looks slower than it is.
 */
export const PROBE_WARMUP_RATE = 100;
/** Most steps in all: the ladder, then steps between the highest that held and the lowest that did not (or down by halves). */
export const PROBE_MAX_STEPS = 5;
/** Steps between a held and a failed rate go on while the failed one is more than this many times the held one. */
export const PROBE_RESOLUTION = 1.2;
/** The lowest rung, orders/s: below it a step has too few requests for a p99 to mean anything. */
export const PROBE_MIN_RATE = 5;
/** A step kept up when the stack answered at least this share of its rate per second of the step (drain included). */
export const KEEP_UP_SHARE = 0.95;

/** What one probe step measured: the builtin load generator's figures of a constant arrival rate. */
export interface ProbeMeasurement {
  /** Arrival rate asked for, orders/s. */
  ratePerSec: number;
  /** Wall time of the step, its in-flight requests' drain included, ms. */
  durationMs: number;
  /** Requests answered (any status). */
  requests: number;
  /** Requests that failed (status >= 400 or no answer). */
  failed: number;
  /** Arrivals the schedule called for, and those dropped for want of a free VU. */
  scheduled: number;
  dropped: number;
  /** Latency percentiles of the step, ms; undefined when nothing was answered. */
  p95Ms?: number | undefined;
  p99Ms?: number | undefined;
}

/** One step as the report shows it: the measurement, the rate answered and the verdict. */
export interface ProbeStep extends ProbeMeasurement {
  /** Requests answered per second of the step's wall time. */
  answeredPerSec: number;
  /** The step held its rate within the gates' latency, with nothing failed or dropped. */
  held: boolean;
  /** `held`, or why not, e.g. `p99 1,450 ms over the 1000 ms gate; 12 dropped`. */
  verdict: string;
}

/** What the probe found: its steps and the machine rate it hands to the scaling. */
export interface ProbeResult {
  /** The rate the rehearsal could use at most (peak / share): the probe asks no more. */
  needPerSec: number;
  /** Share of the machine rate the rehearsal runs at, at most. */
  share: number;
  steps: ProbeStep[];
  /** Highest rate a step held; undefined when none did. */
  sustainedPerSec?: number;
  /** The machine rate the scaling uses, orders/s: the sustained rate, else what the stack answered at the lowest step. */
  maxPerSec: number;
  /** Where maxPerSec came from, in words. */
  basis: string;
}

/**
 * The rungs of the ladder, lowest first, in equal ratios up to `need`: the first is a quarter of
 * it (so each rung is twice the one before), or {@link PROBE_WARMUP_RATE} when that is lower. None
 * below {@link PROBE_MIN_RATE}, but `need` itself always, however small.
 */
export function probeLadder(needPerSec: number): number[] {
  const first = Math.min(needPerSec / 4, PROBE_WARMUP_RATE);
  const ratio = (needPerSec / first) ** (1 / (PROBE_LADDER_RUNGS - 1));
  const rungs: number[] = [];
  for (let i = 0; i < PROBE_LADDER_RUNGS; i++) {
    const rate = round2(i === PROBE_LADDER_RUNGS - 1 ? needPerSec : first * ratio ** i);
    if (i === PROBE_LADDER_RUNGS - 1 || rate >= PROBE_MIN_RATE) rungs.push(rate);
  }
  return rungs;
}

/** Judges one step against the gates' latency: held when nothing failed or dropped, p95 and p99 within the gates, and the stack kept up. */
export function judgeStep(m: ProbeMeasurement, limits: Pick<GateLimits, 'p95Ms' | 'p99Ms'>): ProbeStep {
  const answeredPerSec = m.durationMs > 0 ? m.requests / (m.durationMs / 1000) : 0;
  const why: string[] = [];
  if (m.requests === 0) why.push('nothing answered');
  if (m.failed > 0) why.push(`${m.failed} of ${m.requests} failed`);
  if (m.dropped > 0) why.push(`${m.dropped} of ${m.scheduled} dropped`);
  if (m.p95Ms !== undefined && !(m.p95Ms < limits.p95Ms)) why.push(`p95 ${ms(m.p95Ms)} over the ${limits.p95Ms} ms gate`);
  if (m.p99Ms !== undefined && !(m.p99Ms < limits.p99Ms)) why.push(`p99 ${ms(m.p99Ms)} over the ${limits.p99Ms} ms gate`);
  // An open-model step that falls behind shows it in throughput before latency reaches the gate.
  if (m.requests > 0 && answeredPerSec < m.ratePerSec * KEEP_UP_SHARE) why.push(`answered ${rate(answeredPerSec)}/s of ${rate(m.ratePerSec)}/s`);
  return { ...m, answeredPerSec: round2(answeredPerSec), held: why.length === 0, verdict: why.length === 0 ? 'held' : why.join('; ') };
}

/**
 * The rate of the next step, or undefined when the probe is done. Up the ladder while steps hold;
 * once one does not, halfway (geometrically) between the highest rate that held and the lowest
 * that did not, while they are more than {@link PROBE_RESOLUTION} apart; when no step held yet,
 * down by halves (not below 1/s). At most {@link PROBE_MAX_STEPS} steps.
 */
export function nextProbeRate(steps: readonly ProbeStep[], ladder: readonly number[]): number | undefined {
  if (steps.length >= PROBE_MAX_STEPS) return undefined;
  const last = steps[steps.length - 1];
  if (!last) return ladder[0];
  const failed = steps.filter((s) => !s.held).map((s) => s.ratePerSec);
  if (failed.length === 0) return ladder.find((r) => r > last.ratePerSec);
  const held = steps.filter((s) => s.held).map((s) => s.ratePerSec);
  if (held.length === 0) {
    const lower = round2(Math.min(...failed) / 2);
    return lower >= 1 ? lower : undefined;
  }
  const best = Math.max(...held);
  const above = failed.filter((r) => r > best);
  if (above.length === 0) return undefined;
  const worst = Math.min(...above);
  // Closer than that tells nothing the safe share does not already cover.
  return worst / best > PROBE_RESOLUTION ? round2(Math.sqrt(best * worst)) : undefined;
}

/** The machine rate the probe's steps support, and the words that say where it came from. */
export function probeOutcome(steps: readonly ProbeStep[], needPerSec: number, share = SAFE_SHARE): ProbeResult {
  const held = steps.filter((s) => s.held);
  const base = { needPerSec: round2(needPerSec), share, steps: [...steps] };
  if (held.length > 0) {
    const best = held.reduce((a, b) => (b.ratePerSec > a.ratePerSec ? b : a));
    const failedAbove = steps.filter((s) => !s.held && s.ratePerSec > best.ratePerSec).sort((a, b) => a.ratePerSec - b.ratePerSec)[0];
    const at = `probed: ${rate(best.ratePerSec)}/s sustained at p99 ${best.p99Ms === undefined ? '-' : ms(best.p99Ms)}`;
    const tail = failedAbove
      ? `; ${rate(failedAbove.ratePerSec)}/s was not (${failedAbove.verdict})`
      : best.ratePerSec >= needPerSec - 0.01
        ? ', the most the probe asks'
        : '';
    return { ...base, sustainedPerSec: best.ratePerSec, maxPerSec: best.ratePerSec, basis: at + tail };
  }
  const lowest = steps.reduce<ProbeStep | undefined>((a, b) => (a === undefined || b.ratePerSec < a.ratePerSec ? b : a), undefined);
  if (!lowest) return { ...base, maxPerSec: needPerSec, basis: 'probe not run' };
  // Nothing held: what the stack answered at the lowest rate is all it showed it can take (at least 1/s, so the rehearsal still runs and its gates say why).
  const answered = Math.max(1, round2(Math.min(lowest.answeredPerSec, lowest.ratePerSec)));
  return { ...base, maxPerSec: answered, basis: `probed: no step held (${rate(lowest.ratePerSec)}/s: ${lowest.verdict}); taking the ${rate(answered)}/s it answered` };
}

/** Options of {@link runProbe}. */
export interface ProbeOptions {
  /** The most the rehearsal could use: the forecast peak / share, orders/s. */
  needPerSec: number;
  limits: Pick<GateLimits, 'p95Ms' | 'p99Ms'>;
  /** Runs one step at this rate and measures it (a load test of the builtin engine). */
  measure: (ratePerSec: number) => Promise<ProbeMeasurement>;
  /** Between steps: lets the stack finish the orders of the step before (bounded by the caller). */
  settle?: () => Promise<void>;
  /** After each step, for the progress lines. */
  onStep?: (step: ProbeStep) => void;
  /** Ctrl-C: no further step starts. */
  signal?: AbortSignal;
  share?: number;
}

/** Runs the steps {@link nextProbeRate} asks for, one after the other, and returns what they found. */
export async function runProbe(o: ProbeOptions): Promise<ProbeResult> {
  const ladder = probeLadder(o.needPerSec);
  const steps: ProbeStep[] = [];
  for (let next = nextProbeRate(steps, ladder); next !== undefined && !o.signal?.aborted; next = nextProbeRate(steps, ladder)) {
    if (steps.length > 0) await o.settle?.();
    const step = judgeStep(await o.measure(next), o.limits);
    steps.push(step);
    o.onStep?.(step);
  }
  return probeOutcome(steps, o.needPerSec, o.share ?? SAFE_SHARE);
}

/** `probe 61.26/s for 2s: held, p99 3.1 ms, 122 answered` */
export function probeStepLine(s: ProbeStep): string {
  return `probe ${rate(s.ratePerSec)}/s for ${Math.round(s.durationMs / 100) / 10}s: ${s.verdict}, p99 ${s.p99Ms === undefined ? '-' : ms(s.p99Ms)}, ${s.requests} answered`;
}

function ms(v: number): string {
  return `${(Math.round(v * 10) / 10).toLocaleString('en-US')} ms`;
}

function rate(v: number): string {
  return round2(v).toLocaleString('en-US');
}
