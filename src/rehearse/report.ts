import type { GateLimits, GateResult } from './gates.js';
import type { LoadScaling, StageTimings } from './plan.js';

/**
 * The readiness report: the deliverable of `surgectl rehearse`, written as JSON (this shape) and
 * HTML, and printed as a table. Times are ISO-8601; `t` offsets are seconds since the load began.
 */
export interface RehearsalReport {
  apiVersion: 'surgectl/v1';
  kind: 'RehearsalReport';
  /** `passed`: every gate passed (skipped ones aside); `failed`: at least one failed; `interrupted`: Ctrl-C. */
  status: 'passed' | 'failed' | 'interrupted';
  startedAt: string;
  endedAt: string;
  durationMs: number;
  settings: {
    loadDurationMs: number;
    seed: number;
    history: string;
    chaos: boolean;
    limits: GateLimits;
  };
  stages: StageRecord[];
  history?: { source: string; series: string; points: number; start: string; end: string; stepSeconds: number };
  forecast?: {
    model: string;
    horizonMs: number;
    /** orders/s at the busiest step, with its 95% interval. */
    peak: { t: string; value: number; lo95: number; hi95: number; campaign?: string };
    /** Whether --peak-rate replaced the forecast peak. */
    overridden: boolean;
    campaigns: { name: string; start: string; end: string; uplift: number }[];
  };
  capacity?: {
    sizedOn: string;
    sizedPerSec: number;
    headroom: number;
    services: { name: string; perReplicaRps: number; replicas: number; arithmetic: string[] }[];
  };
  scaling?: LoadScaling;
  timings?: StageTimings;
  stack?: {
    url: string;
    paymentUrl: string;
    dataDir: string;
    workers: { before: number; applied: number; basis: string; restoredTo?: number };
  };
  load?: {
    targetPerSec: number;
    durationMs: number;
    requests: number;
    rps: number;
    p50Ms?: number;
    p95Ms?: number;
    p99Ms?: number;
    failedRate?: number;
    scheduled: number;
    dropped: number;
    aborted?: string;
    /** Per second: requests, failed, dropped, latency. */
    timeline: { t: number; requests: number; failed: number; dropped: number; p95Ms: number; p99Ms: number }[];
  };
  outage?: {
    /** Offsets of the fault, seconds since the load began. */
    startS?: number;
    endS?: number;
    breakerOpenedS?: number;
    breakerClosedS?: number;
    maxPaymentPending: number;
    journal: { status: string; deviated: boolean; steadyStateBefore?: boolean; steadyStateAfter?: boolean; rollbacks: number; rollbackFailed: boolean; reason: string | null };
  };
  orders?: { created: number; byStatus: Record<string, number>; oversold?: number; drainMs?: number; unfinished: number };
  /** Stack status every ~500 ms during the load test and the drain. */
  samples: { t: number; breaker: string; pending: number; depth: number; confirmed: number }[];
  restore?: { faultsCleared: boolean; workersRestored: boolean; stackStopped: boolean; portsFreed: boolean; dataDirRemoved: boolean; problems: string[] };
  gates: GateResult[];
  /** Files written, when a report dir was given. */
  files?: { json: string; html: string; journal?: string; loadSummary?: string; scenario?: string; experiment?: string; stackLog?: string };
  /** Why the report files could not be written (only in the returned report, never in a file). */
  writeError?: string;
  /** Notes a reader should know (warnings of the stages). */
  notes: string[];
}

/** One stage as it ran. */
export interface StageRecord {
  name: string;
  status: 'done' | 'failed' | 'skipped' | 'interrupted';
  durationMs: number;
  /** One line of what it did or why it failed. */
  summary: string;
}

/** Names of the stages, in order (for progress lines "[3/8] capacity"). */
export const STAGES = ['history', 'forecast', 'capacity', 'scale', 'load', 'drain', 'restore', 'report'] as const;
export type StageName = (typeof STAGES)[number];
