import type { FlagsProvider } from '../flags/provider.js';
import type { ScaleTarget } from '../scale/plan-file.js';
import type { ScaleConnect } from '../scale/types.js';

/** A check's verdict. `skipped`: the system it checks is not configured (never counted as a pass). */
export type Verdict = 'pass' | 'warn' | 'fail' | 'skipped';

/** The check names, in the order they run and print. */
export const CHECK_NAMES = ['capacity', 'autoscaling', 'flags', 'loadtest', 'cdn', 'database', 'alerts', 'failover'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/** What one check found: its verdict, the evidence (one line per thing looked at) and how to fix a warn/fail. */
export interface CheckResult {
  name: CheckName;
  verdict: Verdict;
  evidence: string[];
  /** What to do about a warn or fail; for a skipped check, how to configure it. */
  fix?: string;
  /** How long the check took, ms. */
  durationMs: number;
}

/** The whole preflight: every check in CHECK_NAMES order, and the count per verdict. */
export interface PreflightReport {
  checks: CheckResult[];
  counts: Record<Verdict, number>;
  /** True when no check failed. */
  ok: boolean;
}

/** A GET answer as the checks need it: status, lower-cased headers, body text. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The one HTTP call the CDN and alerts checks make. Rejects when there is no answer (the message says why). */
export type HttpGet = (url: string, opts: { timeoutMs: number; signal?: AbortSignal }) => Promise<HttpAnswer>;

/** Everything `surgectl preflight` looks at. Unset parts make their checks `skipped`. */
export interface PreflightOptions {
  cwd: string;
  /** Epoch ms. */
  now: () => number;
  signal?: AbortSignal;
  /** ScalePlan file (capacity, autoscaling; its demand is the load test's bar without a forecast). */
  plan?: string;
  /** `scale.targets` of surgectl.yaml, for services the plan gives no targets. */
  configTargets?: Readonly<Record<string, readonly ScaleTarget[]>>;
  /** Ports to the scale targets (Kubernetes, Auto Scaling, the stack), built by the composition root. */
  connect: ScaleConnect;
  /** The degrade set to check: its name and flag names (surgectl.yaml `flags.sets`); absent = flags skipped. */
  degradeSet?: { name: string; flags: readonly string[] };
  /** The flag provider (built on first use, so a skipped check reaches nothing). */
  flags: () => Promise<FlagsProvider>;
  /** Directory of load-test results (`surgectl loadtest --out` or k6 summary JSON files). */
  results?: string;
  /** Newest result must be younger than this, ms. */
  maxAgeMs: number;
  /** Forecast file (`surgectl forecast --out`) whose peak the load test must have reached. */
  forecast?: string;
  /** URLs that must answer with a cacheable Cache-Control. */
  cacheableUrls: readonly string[];
  /** URLs that must not be cacheable (API answers). */
  uncacheableUrls: readonly string[];
  /** Prometheus base URL whose loaded rules are compared with the shipped ones. */
  prometheusUrl?: string;
  /** Directory of the shipped rule files (deploy/prometheus). */
  rulesDir: string;
  /** Per HTTP request, ms. Default 10,000. */
  httpTimeoutMs?: number;
  /** Default: undici. */
  httpGet?: HttpGet;
}
