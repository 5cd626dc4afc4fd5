import type { Aggregation, Condition, Operator, PathFilter, PathSegment, ThresholdCondition } from './condition.js';

/** k6 metric types. */
export type MetricType = 'trend' | 'rate' | 'counter' | 'gauge';

/**
 * What a threshold is checked against: a metric in k6's summary shape. `values` holds the
 * aggregations already computed (`avg`, `min`, `med`, `max`, `p(95)`, `rate`, `count`, `value`);
 * `percentile` answers any other `p(N)` (e.g. from an HDR histogram).
 */
export interface MetricObservation {
  readonly type?: MetricType;
  readonly values: Readonly<Record<string, number>>;
  /** The value at percentile `p` (0..100), in the metric's unit. */
  percentile?(p: number): number;
}

/** The outcome of evaluating one condition. Probes return data, never throw. */
export interface ConditionResult {
  /** `error` when the condition could not be evaluated (no data, wrong aggregation for the metric type). */
  readonly phase: 'pass' | 'fail' | 'error';
  /** The observed value the condition was checked against (the aggregate for thresholds). */
  readonly value: unknown;
  /** The condition as written. */
  readonly condition: string;
  /** Why it failed or could not be evaluated, in words. */
  readonly message?: string;
}

/** Which k6 aggregations each metric type supports. */
export const AGGREGATIONS_BY_TYPE: Readonly<Record<MetricType, readonly Aggregation[]>> = {
  trend: ['avg', 'min', 'max', 'med', 'p'],
  rate: ['rate'],
  counter: ['count', 'rate'],
  gauge: ['value'],
};

/** True when k6 allows this aggregation on a metric of this type (e.g. no `p(95)` on a counter). */
export function aggregationAllowed(cond: ThresholdCondition, type: MetricType): boolean {
  return AGGREGATIONS_BY_TYPE[type].includes(cond.aggregation);
}

/** The key under which k6's summary stores an aggregation: `p(95)`, `avg`, ... */
export function aggregationKey(cond: ThresholdCondition): string {
  return cond.aggregation === 'p' ? `p(${cond.percentile ?? 0})` : cond.aggregation;
}

/**
 * The one evaluate function. Thresholds take a {@link MetricObservation} or a number (the
 * aggregate itself, e.g. a probe that already returns p99); tolerances take any probe output.
 * Never throws.
 */
export function evaluateCondition(cond: Condition, observed: unknown): ConditionResult {
  try {
    switch (cond.kind) {
      case 'threshold':
        return evaluateThreshold(cond, observed);
      case 'equals': {
        // Chaos Toolkit compares a number tolerance with an HTTP output's status.
        const httpStatus = typeof cond.expected === 'number' && cond.target === undefined && observed !== null && typeof observed === 'object' && 'status' in observed;
        const v = httpStatus ? (observed as { status: unknown }).status : pick(observed, cond.target);
        const ok = v === cond.expected || (typeof cond.expected === 'number' && typeof v === 'string' && v.trim() !== '' && Number(v) === cond.expected);
        return result(ok, v, cond.source, ok ? undefined : `expected ${JSON.stringify(cond.expected)}, observed ${show(v)}`);
      }
      case 'list': {
        // Chaos Toolkit: an HTTP output is judged by its status, membership; else two items are a range.
        if (observed !== null && typeof observed === 'object' && 'status' in observed) {
          const status = (observed as { status: unknown }).status;
          const ok = cond.values.some((x) => x === status);
          return result(ok, status, cond.source, ok ? undefined : `status ${show(status)} is not one of ${cond.source}`);
        }
        const [lo, hi] = cond.values;
        if (cond.values.length === 2 && typeof lo === 'number' && typeof hi === 'number') {
          const n = toNumber(observed);
          if (n === undefined) return { phase: 'fail', value: observed, condition: cond.source, message: `expected a number in [${lo}, ${hi}], observed ${show(observed)}` };
          const ok = n >= lo && n <= hi;
          return result(ok, n, cond.source, ok ? undefined : `${n} is outside [${lo}, ${hi}]`);
        }
        const ok = cond.values.some((x) => x === observed);
        return result(ok, observed, cond.source, ok ? undefined : `${show(observed)} is not one of ${cond.source}`);
      }
      case 'range': {
        const v = pick(observed, cond.target);
        const n = toNumber(v);
        if (n === undefined) return { phase: 'fail', value: v, condition: cond.source, message: `expected a number in ${cond.source}, observed ${show(v)}` };
        const ok = n >= cond.lo && n <= cond.hi;
        return result(ok, n, cond.source, ok ? undefined : `${n} is outside ${cond.source}`);
      }
      case 'regex': {
        const v = pick(observed, cond.target);
        if (v === undefined || v === null) return { phase: 'fail', value: v, condition: cond.source, message: `nothing to match ${cond.source} against` };
        const text = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
        const ok = cond.pattern.test(text);
        return result(ok, v, cond.source, ok ? undefined : `${show(text)} does not match ${cond.source}`);
      }
      case 'jsonpath': {
        const matches = walk(parseJsonText(pick(observed, cond.target)), cond.segments);
        let ok = matches.length > 0;
        let why = `${cond.path} matched nothing`;
        if (cond.count !== undefined) {
          ok = matches.length === cond.count;
          why = `${cond.path} matched ${matches.length} value(s), expected ${cond.count}`;
        }
        // Chaos Toolkit: the matches must be exactly [expect], or exactly expect when it is a list; this overrides count.
        if ('expect' in cond) {
          const wanted = Array.isArray(cond.expect) ? cond.expect : [cond.expect];
          ok = deepEqual(matches, wanted);
          why = `${cond.path} = ${show(matches.length === 1 ? matches[0] : matches)}, expected ${show(cond.expect)}`;
        }
        const value = matches.length === 1 ? matches[0] : matches;
        return result(ok, value, cond.source, ok ? undefined : why);
      }
    }
  } catch (e) {
    return { phase: 'error', value: undefined, condition: cond.source, message: (e as Error).message };
  }
}

function evaluateThreshold(cond: ThresholdCondition, observed: unknown): ConditionResult {
  let value: number | undefined;
  if (typeof observed === 'number') {
    value = observed;
  } else if (isObservation(observed)) {
    if (observed.type && !aggregationAllowed(cond, observed.type)) {
      return {
        phase: 'error',
        value: undefined,
        condition: cond.source,
        message: `${aggregationKey(cond)} does not apply to a ${observed.type} metric; use ${AGGREGATIONS_BY_TYPE[observed.type].map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')}`,
      };
    }
    value = aggregate(cond, observed);
  }
  if (value === undefined || Number.isNaN(value)) {
    return { phase: 'error', value: undefined, condition: cond.source, message: `no ${aggregationKey(cond)} observed (the metric has no samples)` };
  }
  const ok = compare(value, cond.operator, cond.target);
  return result(ok, value, cond.source, ok ? undefined : `observed ${aggregationKey(cond)}=${round(value)}, wanted ${cond.source}`);
}

function aggregate(cond: ThresholdCondition, o: MetricObservation): number | undefined {
  const key = aggregationKey(cond);
  const direct = o.values[key];
  if (direct !== undefined) return direct;
  if (cond.aggregation === 'p' && o.percentile) return o.percentile(cond.percentile ?? 0);
  if (cond.aggregation === 'med') return o.values['p(50)'] ?? o.percentile?.(50);
  return undefined;
}

function compare(v: number, op: Operator, t: number): boolean {
  switch (op) {
    case '<':
      return v < t;
    case '<=':
      return v <= t;
    case '>':
      return v > t;
    case '>=':
      return v >= t;
    case '==':
    case '===':
      return v === t;
    case '!=':
      return v !== t;
  }
}

function isObservation(v: unknown): v is MetricObservation {
  return v !== null && typeof v === 'object' && 'values' in v && typeof (v as { values: unknown }).values === 'object';
}

function result(ok: boolean, value: unknown, condition: string, message: string | undefined): ConditionResult {
  return message === undefined ? { phase: ok ? 'pass' : 'fail', value, condition } : { phase: ok ? 'pass' : 'fail', value, condition, message };
}

function pick(observed: unknown, target: string | undefined): unknown {
  if (target === undefined) return observed;
  if (observed !== null && typeof observed === 'object' && target in observed) return (observed as Record<string, unknown>)[target];
  return undefined;
}

/** Chaos Toolkit parses a string as JSON before a jsonpath match (an HTTP body served as text). */
function parseJsonText(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

function filterMatches(node: unknown, f: PathFilter): boolean {
  let v: unknown = node;
  for (const k of f.keys) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, k)) return false;
    v = (v as Record<string, unknown>)[k];
  }
  if (f.op === undefined) return Boolean(v);
  const l = f.literal;
  switch (f.op) {
    case '==':
      return v === l;
    case '!=':
      return v !== l;
    default:
      if (typeof v !== typeof l || (typeof v !== 'number' && typeof v !== 'string')) return false;
      return f.op === '<' ? (v as number) < (l as number) : f.op === '<=' ? (v as number) <= (l as number) : f.op === '>' ? (v as number) > (l as number) : (v as number) >= (l as number);
  }
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function walk(root: unknown, segments: readonly PathSegment[]): unknown[] {
  let current: unknown[] = [root];
  for (const seg of segments) {
    const next: unknown[] = [];
    for (const node of current) {
      if (node === null || typeof node !== 'object') continue;
      if ('wildcard' in seg) next.push(...(Array.isArray(node) ? node : Object.values(node)));
      else if ('filter' in seg) next.push(...(Array.isArray(node) ? node : Object.values(node)).filter((c) => filterMatches(c, seg.filter)));
      else if ('index' in seg) {
        if (Array.isArray(node) && seg.index < node.length) next.push(node[seg.index]);
      } else if (!Array.isArray(node) && Object.prototype.hasOwnProperty.call(node, seg.key)) {
        next.push((node as Record<string, unknown>)[seg.key]);
      }
    }
    current = next;
  }
  return current;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number') return String(round(v));
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function round(n: number): number {
  return Math.abs(n) >= 100 ? Math.round(n * 100) / 100 : Number(n.toPrecision(4));
}
