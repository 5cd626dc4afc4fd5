import { SurgeError } from '../errors.js';
import type { ForecastResult } from '../forecast/types.js';
import { DEFAULT_BREAKER_RESET_MS } from '../order-core/resilience/defaults.js';
import type { ProbeResult } from './probe.js';

/**
 * The pure arithmetic of a rehearsal: how long each stage runs, how the forecast peak is scaled
 * to what this machine takes (probed, see probe.ts, or --max-rate), and how many local workers
 * that calls for. No I/O here, so the numbers a report shows can be unit-tested and explained
 * line by line.
 */

/** Shortest load test that leaves room for an outage and the breaker's 5 s reset, ms. */
export const MIN_DURATION_MS = 18_000;
/** Default load-test length, ms: with the forecast and the drain the whole run takes about 2 minutes. */
export const DEFAULT_DURATION_MS = 110_000;
/** Orders per second one pipeline worker completes (reserve -> pay -> confirm -> notify) with the simulator's 5 ms latency. */
export const DEFAULT_PER_WORKER_RPS = 20;
/** Requests per second one intake replica takes (the durable POST /v1/orders). */
export const DEFAULT_PER_INTAKE_RPS = 400;
/** The stack's payment breaker stays open this long before a trial call, ms (its default, not a copy). */
export const BREAKER_RESET_MS = DEFAULT_BREAKER_RESET_MS;

/** When each part of the load test happens, ms since the load test started. */
export interface StageTimings {
  /** Total load-test length. */
  loadMs: number;
  /** Ramp from a quarter of the rate to the full rate. */
  rampMs: number;
  /** When the chaos drill starts (its steady-state check comes first). */
  chaosStartMs: number;
  /** Measuring window of the windowed steady-state probes (latency, error rate). */
  probeWindowMs: number;
  /** How long the payment gateway fails every call. */
  outageMs: number;
  /** Pause after the outage before the steady state is checked again (breaker reset + retries). */
  recoveryMs: number;
  /** Longest wait after the load for the backlog (payment_pending orders included) to drain. */
  drainBudgetMs: number;
}

/**
 * Splits the load-test length into stages that scale with it: 10% ramp, chaos from 15%, an
 * outage of 30%, then at least the breaker reset plus 2.5 s before the after-check, which
 * ends before the load does so the windowed probes still see traffic.
 */
export function planStages(loadMs: number): StageTimings {
  if (!(loadMs >= MIN_DURATION_MS)) {
    throw new SurgeError('SRG_CLI_USAGE', `--duration must be at least ${MIN_DURATION_MS / 1000}s, got ${Math.round(loadMs) / 1000}s`, {
      hint: 'The payment outage, the circuit breaker reset (5 s) and the recovery check need at least 18 s of load.',
    });
  }
  const probeWindowMs = clamp(Math.round(loadMs * 0.05), 1_000, 5_000);
  const chaosStartMs = Math.round(loadMs * 0.15);
  const outageMs = Math.round(loadMs * 0.3);
  // A trial call that failed just before the outage ended re-opens the breaker for another reset period.
  const recoveryMs = Math.max(BREAKER_RESET_MS + 2_500, Math.round(loadMs * 0.25));
  return {
    loadMs,
    rampMs: Math.round(loadMs * 0.1),
    chaosStartMs,
    probeWindowMs,
    outageMs,
    recoveryMs,
    // payment_pending orders back off up to 30 s between tries (create-engine.ts deferPolicy cap).
    drainBudgetMs: Math.max(40_000, Math.round(loadMs * 0.5)),
  };
}

/** How the forecast peak was brought down to what this machine can take. */
export interface LoadScaling {
  /** Orders per second the rehearsal is about: the forecast peak (or --peak-rate). */
  peakPerSec: number;
  /** What this machine takes, orders/s: the rate the calibration probe sustained, or --max-rate. */
  machineMaxPerSec: number;
  /** Where machineMaxPerSec came from, e.g. `probed: 1,840/s sustained at p99 12 ms` or `--max-rate 60/s`. */
  machineBasis: string;
  /** Share of machineMaxPerSec the rehearsal runs at, at most: the probe's safe share, 1 for --max-rate. */
  share: number;
  /** machineMaxPerSec x share: the most the load test asks, orders/s. */
  ceilingPerSec: number;
  /** targetPerSec / peakPerSec, at most 1. */
  factor: number;
  /** The arrival rate the load test holds, orders/s: min(peak, ceiling). */
  targetPerSec: number;
  /** One sentence for the terminal and the report. */
  statement: string;
  /** The calibration probe's steps and verdicts; absent with --max-rate. */
  probe?: ProbeResult;
}

/** What the machine takes: a rate, the words saying where it came from, and the share of it the rehearsal may use (default 1). */
export interface MachineRate {
  maxPerSec: number;
  basis: string;
  share?: number;
}

/**
 * Scales the peak down to the machine's ceiling (its rate x share), never up: a small peak is
 * rehearsed as it is. The target is min(peak, ceiling).
 */
export function scaleToMachine(peakPerSec: number, machine: MachineRate): LoadScaling {
  if (!(peakPerSec > 0)) {
    throw new SurgeError('SRG_CLI_USAGE', `the peak to rehearse must be a positive rate, got ${peakPerSec} orders/s`, {
      hint: 'Check the history (all zeros?) or pass --peak-rate <orders per second>.',
    });
  }
  if (!(machine.maxPerSec > 0)) throw new SurgeError('SRG_CLI_USAGE', `the machine rate must be a positive rate, got ${machine.maxPerSec} orders/s (${machine.basis})`);
  const share = machine.share ?? 1;
  const ceilingPerSec = round2(machine.maxPerSec * share);
  // A ceiling that equals the peak up to rounding (the probe's top rung is peak / share) takes it at full size.
  const factor = ceilingPerSec >= peakPerSec - 0.005 ? 1 : ceilingPerSec / peakPerSec;
  const targetPerSec = round2(peakPerSec * factor);
  const perMin = (v: number) => Math.round(v * 60).toLocaleString('en-US');
  const of = share < 1 ? `${Math.round(share * 100)}% of ${round2(machine.maxPerSec).toLocaleString('en-US')}/s; ` : '';
  const statement =
    factor < 1
      ? `forecast peak ${perMin(peakPerSec)} orders/min = ${round2(peakPerSec)}/s; scaled to ${targetPerSec}/s for this machine (${of}${machine.basis}): factor ${round3(factor)}`
      : `forecast peak ${perMin(peakPerSec)} orders/min = ${round2(peakPerSec)}/s; this machine takes it at full size (${of}${machine.basis}): factor 1`;
  return {
    peakPerSec: round2(peakPerSec),
    machineMaxPerSec: round2(machine.maxPerSec),
    machineBasis: machine.basis,
    share,
    ceilingPerSec,
    factor: round3(factor),
    targetPerSec,
    statement,
  };
}

/** `--max-rate n`: n is what the machine takes, used as it is (no probe, no share). */
export function givenMachineRate(maxRate: number): MachineRate {
  return { maxPerSec: maxRate, basis: `--max-rate ${maxRate}/s`, share: 1 };
}

/** The local worker count: the plan's worker replicas scaled by the same factor as the load. */
export function localWorkers(plannedReplicas: number, factor: number, override?: number): { count: number; basis: string } {
  if (override !== undefined) return { count: override, basis: `--workers ${override}` };
  const count = Math.max(1, Math.ceil(plannedReplicas * factor - 1e-9));
  return { count, basis: `ceil(${plannedReplicas} planned x factor ${round3(factor)}) = ${count}` };
}

/** The load test's phase at `elapsedMs` by the plan's clock: `ramp`, `peak`, `outage`, `recovery` (no outage without chaos). */
export function phaseAt(elapsedMs: number, t: StageTimings, chaos: boolean): string {
  if (elapsedMs < t.rampMs) return 'ramp';
  if (!chaos) return 'peak';
  const outageStart = t.chaosStartMs + t.probeWindowMs;
  if (elapsedMs >= outageStart && elapsedMs < outageStart + t.outageMs) return 'outage';
  if (elapsedMs >= outageStart + t.outageMs && elapsedMs < outageStart + t.outageMs + t.recoveryMs) return 'recovery';
  return 'peak';
}

/** The forecast with every value multiplied by `k` (for --peak-rate), so the capacity plan's arithmetic stays the same. */
export function scaleForecast(f: ForecastResult, k: number): ForecastResult {
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

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
export const round2 = (v: number) => Math.round(v * 100) / 100;
export const round3 = (v: number) => Math.round(v * 1000) / 1000;
