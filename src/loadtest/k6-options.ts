import type { MetricType } from '../probes/index.js';

/**
 * k6's `options` object as a surgectl scenario reads it, before validation: the execution
 * shortcuts (`vus`, `duration`, `iterations`, `stages`) become one `default` scenario as k6 derives
 * it, global `tags` go onto every scenario, and k6's global options that surgectl does not act on
 * are set aside with one warning naming them. Pure: the input is not changed.
 */

/**
 * Global options of k6 that surgectl accepts and does not act on. A key outside this list and
 * outside the scenario schema is still an error, so a typo is never silently dropped.
 */
export const K6_IGNORED_OPTIONS: readonly string[] = [
  'batch',
  'batchPerHost',
  'blacklistIPs',
  'blockHostnames',
  'cloud',
  'discardResponseBodies',
  'dns',
  'executionSegment',
  'executionSegmentSequence',
  'ext',
  'hosts',
  'httpDebug',
  'insecureSkipTLSVerify',
  'localIPs',
  'maxRedirects',
  'minIterationDuration',
  'noConnectionReuse',
  'noCookiesReset',
  'noUsageReport',
  'noVUConnectionReuse',
  'paused',
  'rps',
  'setupTimeout',
  'summaryTimeUnit',
  'summaryTrendStats',
  'systemTags',
  'teardownTimeout',
  'throw',
  'tlsAuth',
  'tlsCipherSuites',
  'tlsVersion',
  'userAgent',
];

/** The execution shortcuts of k6's options. */
const SHORTCUTS = ['vus', 'duration', 'iterations', 'stages'] as const;

/**
 * Types of the metrics k6 records itself, for checking a threshold's aggregation before the run
 * (k6 refuses to start on `p(95)` of a counter). surgectl's own order metrics are in metrics.ts.
 */
export const K6_METRIC_TYPES: Readonly<Record<string, MetricType>> = {
  http_reqs: 'counter',
  http_req_duration: 'trend',
  http_req_failed: 'rate',
  http_req_blocked: 'trend',
  http_req_connecting: 'trend',
  http_req_sending: 'trend',
  http_req_waiting: 'trend',
  http_req_receiving: 'trend',
  http_req_tls_handshaking: 'trend',
  iterations: 'counter',
  iteration_duration: 'trend',
  dropped_iterations: 'counter',
  data_received: 'counter',
  data_sent: 'counter',
  vus: 'gauge',
  vus_max: 'gauge',
  checks: 'rate',
  group_duration: 'trend',
  ws_connecting: 'trend',
  ws_msgs_received: 'counter',
  ws_msgs_sent: 'counter',
  ws_ping: 'trend',
  ws_session_duration: 'trend',
  ws_sessions: 'counter',
  grpc_req_duration: 'trend',
};

/** What {@link normaliseK6Options} made of an options object. */
export interface NormalisedOptions {
  /** The input with shortcuts turned into `scenarios` and ignored options removed. */
  readonly input: Record<string, unknown>;
  /** At most one: the ignored global options, by name. */
  readonly warnings: readonly string[];
  /** Combinations k6 refuses too (e.g. `duration` with `iterations`), one line each with its key. */
  readonly problems: readonly string[];
}

/**
 * Applies k6's shortcut rules: `vus` + `duration` → constant-vus; `vus` + `iterations` →
 * shared-iterations; `stages` → ramping-vus (starting at `vus`, default 1); nothing at all → one
 * iteration of one VU (shared-iterations). Shortcuts next to `scenarios`, or two that conflict,
 * are refused as k6 refuses them.
 */
export function normaliseK6Options(raw: Record<string, unknown>): NormalisedOptions {
  const input: Record<string, unknown> = { ...raw };
  const problems: string[] = [];
  const ignored = K6_IGNORED_OPTIONS.filter((k) => k in input);
  for (const k of ignored) delete input[k];
  const warnings = ignored.length === 0 ? [] : [`k6 options accepted but not acted on by surgectl: ${ignored.join(', ')}`];

  const given = SHORTCUTS.filter((k) => input[k] !== undefined && input[k] !== null);
  const shortcut: Record<string, unknown> = {};
  for (const k of SHORTCUTS) {
    if (k in input) shortcut[k] = input[k];
    delete input[k];
  }

  // Global tags are k6's tags on every metric; surgectl puts them on each scenario (its own win).
  const globalTags = input.tags;
  delete input.tags;
  if (globalTags !== undefined && (globalTags === null || typeof globalTags !== 'object' || Array.isArray(globalTags))) {
    problems.push('tags: must be a mapping of tag name to value');
  }

  if (input.scenarios !== undefined) {
    if (given.length > 0) problems.push(`${given.join(', ')}: k6 refuses execution shortcuts next to "scenarios"; move them into a scenario`);
  } else if (given.includes('duration') && given.includes('iterations')) {
    problems.push('duration, iterations: k6 refuses both shortcuts at once; give one (or use scenarios)');
  } else if (given.includes('stages') && (given.includes('duration') || given.includes('iterations'))) {
    problems.push(`stages, ${given.includes('duration') ? 'duration' : 'iterations'}: k6 refuses "stages" with another duration shortcut; give one`);
  } else if (given.includes('stages')) {
    input.scenarios = { default: { executor: 'ramping-vus', startVUs: shortcut.vus ?? 1, stages: shortcut.stages } };
  } else if (given.includes('duration')) {
    input.scenarios = { default: { executor: 'constant-vus', vus: shortcut.vus ?? 1, duration: shortcut.duration } };
  } else {
    // vus + iterations, vus alone (k6 then runs one iteration, and says iterations < vus), or nothing.
    input.scenarios = { default: { executor: 'shared-iterations', vus: shortcut.vus ?? 1, iterations: shortcut.iterations ?? 1 } };
  }

  if (globalTags !== null && typeof globalTags === 'object' && !Array.isArray(globalTags) && isRecord(input.scenarios)) {
    const scenarios: Record<string, unknown> = {};
    for (const [name, sc] of Object.entries(input.scenarios)) {
      scenarios[name] = isRecord(sc) ? { ...sc, tags: { ...(globalTags as Record<string, unknown>), ...(isRecord(sc.tags) ? sc.tags : {}) } } : sc;
    }
    input.scenarios = scenarios;
  }
  return { input, warnings, problems };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
