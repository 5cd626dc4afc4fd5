import { SurgeError } from '../errors.js';
import { parseDuration } from '../util/duration.js';

/**
 * One condition syntax for load-test thresholds, chaos steady-state tolerances and analysis gates.
 *
 * Thresholds follow k6 (`<aggregation> <operator> <number>`, e.g. `p(95)<200`, `rate<0.01`).
 * Tolerances follow Chaos Toolkit (a boolean/number/string for equality, `[lo, hi]` for an
 * inclusive range, or an object `{ type: 'range' | 'regex' | 'jsonpath', ... }`).
 */

/** k6's aggregation methods. `p` carries its percentile in {@link ThresholdCondition.percentile}. */
export type Aggregation = 'avg' | 'min' | 'max' | 'med' | 'p' | 'rate' | 'count' | 'value';
/** k6's comparison operators (`===` behaves like `==` on numbers). */
export type Operator = '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';

/** A k6 threshold expression such as `p(99.9)<=500`. */
export interface ThresholdCondition {
  readonly kind: 'threshold';
  /** The expression as written, e.g. `p(95)<200`. */
  readonly source: string;
  readonly aggregation: Aggregation;
  /** 0..100, only for `p(N)`. */
  readonly percentile?: number;
  readonly operator: Operator;
  readonly target: number;
}

/** Chaos Toolkit equality tolerance: the observed value must equal this one. */
export interface EqualsCondition {
  readonly kind: 'equals';
  readonly source: string;
  readonly expected: boolean | number | string;
  /** Key of an object output to compare instead of the whole output. */
  readonly target?: string;
}

/**
 * A Chaos Toolkit list tolerance, evaluated as Chaos Toolkit does: against an HTTP output (an
 * object with `status`) it means "the status is one of these" (`[200, 503]` = 200 or 503); against
 * any other value a two-item list is an inclusive range `[lo, hi]`, and a list of another length
 * means "one of these values".
 */
export interface ListCondition {
  readonly kind: 'list';
  readonly source: string;
  readonly values: readonly (boolean | number | string | null)[];
}

/** Inclusive numeric range `[lo, hi]`. */
export interface RangeCondition {
  readonly kind: 'range';
  readonly source: string;
  readonly lo: number;
  readonly hi: number;
  readonly target?: string;
}

/** The observed value, as a string, must match `pattern` (JavaScript RegExp syntax). */
export interface RegexCondition {
  readonly kind: 'regex';
  readonly source: string;
  readonly pattern: RegExp;
  readonly target?: string;
}

/**
 * A JSONPath (subset: `$`, `.key`, `['key']`, `[n]`, `[*]`, filters `[?(@.key OP literal)]` and
 * `[?(@.key)]`) into the observed value (a JSON string is parsed first), judged as Chaos Toolkit
 * does: it passes when it matches something; with `count` the number of matches must be exactly
 * that; with `expect` the matches must be exactly `[expect]` (or, when `expect` is a list, exactly
 * that list), which overrides `count`.
 */
export interface JsonPathCondition {
  readonly kind: 'jsonpath';
  readonly source: string;
  readonly path: string;
  readonly segments: readonly PathSegment[];
  readonly expect?: unknown;
  readonly count?: number;
  readonly target?: string;
}

/** A JSONPath filter `[?(@.a.b OP literal)]`; without `op` the key must merely exist and be truthy. */
export interface PathFilter {
  readonly keys: readonly string[];
  readonly op?: '==' | '!=' | '<' | '<=' | '>' | '>=';
  readonly literal?: unknown;
}

export type PathSegment = { readonly key: string } | { readonly index: number } | { readonly wildcard: true } | { readonly filter: PathFilter };

export type Condition = ThresholdCondition | EqualsCondition | ListCondition | RangeCondition | RegexCondition | JsonPathCondition;

/** A threshold with k6's object options. */
export interface ThresholdSpec {
  readonly condition: ThresholdCondition;
  /** Stop the run as soon as this threshold fails (k6 `abortOnFail`). Default false. */
  readonly abortOnFail: boolean;
  /** Do not abort before this much of the run has passed, in milliseconds (k6 `delayAbortEval`). Default 0. */
  readonly delayAbortEvalMs: number;
}

/** A metric key such as `http_req_duration{scenario:checkout,method:POST}`. */
export interface MetricSelector {
  /** The key as written. */
  readonly source: string;
  readonly metric: string;
  /** Tag filters; empty when the key has none. */
  readonly tags: Readonly<Record<string, string>>;
}

export interface ParseOptions {
  /**
   * `threshold` (default): only k6 expressions (strings or `{threshold, abortOnFail}` objects).
   * `tolerance`: Chaos Toolkit tolerances too; a string that starts like a k6 expression is parsed
   * as one (so a typo is an error, not a silent string comparison), any other string is equality.
   */
  readonly context?: 'threshold' | 'tolerance';
  /** Where the condition came from, e.g. `thresholds.http_req_duration[0]`; named in errors. */
  readonly where?: string;
}

const AGG_RE = /^\s*(avg|min|max|med|rate|count|value|p\(\s*([^)]*)\s*\))\s*(===|==|!=|<=|>=|<|>)\s*(\S.*?)\s*$/;
const LOOKS_LIKE_THRESHOLD = /^\s*(avg|min|max|med|rate|count|value|p\()/;
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const METRIC_RE = /^\s*([A-Za-z_][A-Za-z0-9_.:-]*)\s*(?:\{(.*)\})?\s*$/;

function syntaxError(where: string | undefined, message: string, hint?: string): SurgeError {
  return new SurgeError('SRG_CONDITION_SYNTAX', where ? `${where}: ${message}` : message, {
    hint: hint ?? 'Thresholds look like p(95)<200, avg<100, rate<0.01, count<1 or value>0 (k6 syntax).',
  });
}

/** Parses one k6 threshold expression; throws SRG_CONDITION_SYNTAX naming what was expected. */
function parseThresholdExpression(text: string, where?: string): ThresholdCondition {
  const m = AGG_RE.exec(text);
  if (!m) {
    throw syntaxError(where, `"${text}" is not a threshold expression; expected <aggregation><operator><number>`);
  }
  const [, aggText = '', pText, operator = '<', targetText = ''] = m;
  if (!NUMBER_RE.test(targetText)) {
    throw syntaxError(where, `"${text}": the value "${targetText}" is not a number`);
  }
  const target = Number(targetText);
  if (aggText.startsWith('p(')) {
    const pTrim = (pText ?? '').trim();
    const percentile = Number(pTrim);
    if (pTrim === '' || !NUMBER_RE.test(pTrim) || percentile < 0 || percentile > 100) {
      throw syntaxError(where, `"${text}": the percentile "${pTrim}" must be a number from 0 to 100, e.g. p(95) or p(99.9)`);
    }
    return { kind: 'threshold', source: text.trim(), aggregation: 'p', percentile, operator: operator as Operator, target };
  }
  return { kind: 'threshold', source: text.trim(), aggregation: aggText as Aggregation, operator: operator as Operator, target };
}

/**
 * The one parse function: a threshold string, a k6 threshold object, or (with
 * `context: 'tolerance'`) a Chaos Toolkit tolerance. Throws SurgeError SRG_CONDITION_SYNTAX.
 */
export function parseCondition(spec: unknown, opts: ParseOptions = {}): Condition {
  const where = opts.where;
  const tolerance = opts.context === 'tolerance';
  if (typeof spec === 'string') {
    if (!tolerance || LOOKS_LIKE_THRESHOLD.test(spec)) return parseThresholdExpression(spec, where);
    return { kind: 'equals', source: JSON.stringify(spec), expected: spec };
  }
  if (spec !== null && typeof spec === 'object' && !Array.isArray(spec) && 'threshold' in spec) {
    return parseThreshold(spec, opts).condition;
  }
  if (!tolerance) {
    throw syntaxError(where, `expected a threshold string such as "p(95)<200" or {threshold, abortOnFail}, got ${describe(spec)}`);
  }
  if (typeof spec === 'boolean' || typeof spec === 'number') {
    if (typeof spec === 'number' && !Number.isFinite(spec)) throw syntaxError(where, `tolerance ${spec} is not a finite number`);
    return { kind: 'equals', source: String(spec), expected: spec };
  }
  if (Array.isArray(spec)) return listOf(spec, where);
  if (spec !== null && typeof spec === 'object') return parseToleranceObject(spec as Record<string, unknown>, where);
  throw syntaxError(where, `a tolerance must be a boolean, number, string, a list or {type: range|regex|jsonpath|probe}, got ${describe(spec)}`);
}

function listOf(list: readonly unknown[], where?: string): ListCondition {
  if (list.length === 0) throw syntaxError(where, 'a list tolerance needs at least one value', 'Example: [200, 503] (the status is 200 or 503) or [0, 10] (a number from 0 to 10)');
  const bad = list.find((v) => v !== null && typeof v !== 'boolean' && typeof v !== 'number' && typeof v !== 'string');
  if (bad !== undefined) throw syntaxError(where, `a list tolerance holds plain values (numbers, strings, booleans), got ${describe(bad)} in ${JSON.stringify(list)}`);
  return { kind: 'list', source: JSON.stringify(list), values: list as (boolean | number | string | null)[] };
}

function rangeOf(list: readonly unknown[], target: string | undefined, where?: string): RangeCondition {
  const [lo, hi] = list;
  if (list.length !== 2 || typeof lo !== 'number' || typeof hi !== 'number' || !Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw syntaxError(where, `a range tolerance must be two numbers [lo, hi], got ${JSON.stringify(list)}`, 'Example: [0, 0.01]');
  }
  if (lo > hi) throw syntaxError(where, `range [${lo}, ${hi}] is empty: lo must not exceed hi`, 'Example: [0, 0.01]');
  return { kind: 'range', source: `[${lo}, ${hi}]`, lo, hi, ...(target === undefined ? {} : { target }) };
}

function parseToleranceObject(o: Record<string, unknown>, where?: string): Condition {
  const target = o.target;
  if (target !== undefined && typeof target !== 'string') throw syntaxError(where, `tolerance "target" must be a string key, got ${describe(target)}`);
  const t = target === undefined ? {} : { target };
  switch (o.type) {
    case 'range': {
      if (!Array.isArray(o.range)) throw syntaxError(where, 'a range tolerance needs "range": [lo, hi]', 'Example: {type: range, range: [200, 299], target: status}');
      return rangeOf(o.range, target, where);
    }
    case 'regex': {
      if (typeof o.pattern !== 'string') throw syntaxError(where, 'a regex tolerance needs "pattern": a string', 'Example: {type: regex, pattern: "^ok$"}');
      let pattern: RegExp;
      try {
        pattern = new RegExp(o.pattern);
      } catch (e) {
        throw syntaxError(where, `regex "${o.pattern}" is invalid: ${(e as Error).message}`);
      }
      return { kind: 'regex', source: `/${o.pattern}/`, pattern, ...t };
    }
    case 'jsonpath': {
      if (typeof o.path !== 'string') throw syntaxError(where, 'a jsonpath tolerance needs "path": a string such as "$.breaker"');
      const segments = parseJsonPath(o.path, where);
      if (o.count !== undefined && (typeof o.count !== 'number' || !Number.isInteger(o.count) || o.count < 0)) {
        throw syntaxError(where, `jsonpath "count" must be a whole number >= 0, got ${describe(o.count)}`);
      }
      return {
        kind: 'jsonpath',
        source: o.path,
        path: o.path,
        segments,
        ...('expect' in o ? { expect: o.expect } : {}),
        ...(typeof o.count === 'number' ? { count: o.count } : {}),
        ...t,
      };
    }
    case 'probe':
      throw syntaxError(where, 'a probe tolerance runs an activity, which only a chaos experiment can do', 'In an experiment, write {type: probe, name, provider} as the tolerance; it receives the value as its `value` argument.');
    default:
      throw syntaxError(where, `unknown tolerance type ${describe(o.type)}; expected range, regex, jsonpath or probe`);
  }
}

/** Parses the JSONPath subset `$`, `.key`, `['key']`, `[n]`, `[*]`, `.*`, `[?(@.key OP value)]`. */
export function parseJsonPath(path: string, where?: string): PathSegment[] {
  const bad = (why: string) => syntaxError(where, `jsonpath "${path}": ${why}`, 'Supported: $.a.b, $.items[0], $.items[*].sku, $["key"], $.items[?(@.state == "ready")]');
  if (!path.startsWith('$')) throw bad('must start with $');
  const out: PathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      if (path[i + 1] === '.') throw bad('recursive descent (..) is not supported');
      const m = /^[A-Za-z_$][\w$-]*|^\*/.exec(path.slice(i + 1));
      if (!m) throw bad(`expected a key after "." at position ${i}`);
      out.push(m[0] === '*' ? { wildcard: true } : { key: m[0] });
      i += 1 + m[0].length;
    } else if (c === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) throw bad(`unclosed [ at position ${i}`);
      if (path[i + 1] === '?') {
        const end = path.indexOf(')]', i);
        if (end < 0) throw bad(`unclosed filter [?( at position ${i}`);
        out.push({ filter: parseFilter(path.slice(i + 2, end + 1).trim(), bad) });
        i = end + 2;
        continue;
      }
      const inner = path.slice(i + 1, close).trim();
      if (inner === '*') out.push({ wildcard: true });
      else if (/^\d+$/.test(inner)) out.push({ index: Number(inner) });
      else if (/^(['"]).*\1$/.test(inner)) out.push({ key: inner.slice(1, -1) });
      else throw bad(`"[${inner}]" is not an index, * or a quoted key`);
      i = close + 1;
    } else {
      throw bad(`unexpected "${c}" at position ${i}`);
    }
  }
  return out;
}

const FILTER_RE = /^\(\s*@((?:\.[A-Za-z_$][\w$-]*|\[\s*(['"])[^'"]*\2\s*\])+)\s*(?:(==|=|!=|<=|>=|<|>)\s*(.+?))?\s*\)$/;

/** `(@.status == 'ok')`, `(@['type'] = "Ready")` (jsonpath2's `=`), `(@.replicas > 1)`, `(@.ready)`. */
function parseFilter(text: string, bad: (why: string) => SurgeError): PathFilter {
  const m = FILTER_RE.exec(text);
  if (!m) throw bad(`filter "[?${text}]" is not supported; expected [?(@.key OP value)] or [?(@.key)]`);
  const keys = [...(m[1] ?? '').matchAll(/\.([A-Za-z_$][\w$-]*)|\[\s*['"]([^'"]*)['"]\s*\]/g)].map((k) => k[1] ?? k[2] ?? '');
  if (m[3] === undefined) return { keys };
  const lit = (m[4] ?? '').trim();
  let literal: unknown;
  if (/^(['"]).*\1$/.test(lit)) literal = lit.slice(1, -1);
  else if (lit === 'true' || lit === 'false') literal = lit === 'true';
  else if (lit === 'null') literal = null;
  else if (NUMBER_RE.test(lit)) literal = Number(lit);
  else throw bad(`filter value ${lit} must be a quoted string, a number, true, false or null`);
  const op = m[3] === '=' ? '==' : (m[3] as PathFilter['op']);
  return { keys, ...(op ? { op } : {}), literal };
}

/**
 * Parses a k6 threshold entry: `'p(95)<200'` or `{ threshold, abortOnFail?, delayAbortEval? }`.
 * `delayAbortEval` takes a k6 duration (`10s`, `1m30s`, `500ms`) or a number, which k6 reads as
 * milliseconds (as a string too: `"500"` is 500 ms).
 */
export function parseThreshold(spec: unknown, opts: ParseOptions = {}): ThresholdSpec {
  const where = opts.where;
  if (typeof spec === 'string') return { condition: parseThresholdExpression(spec, where), abortOnFail: false, delayAbortEvalMs: 0 };
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw syntaxError(where, `expected a threshold string such as "p(95)<200" or {threshold, abortOnFail}, got ${describe(spec)}`);
  }
  const o = spec as Record<string, unknown>;
  const unknownKeys = Object.keys(o).filter((k) => k !== 'threshold' && k !== 'abortOnFail' && k !== 'delayAbortEval');
  if (unknownKeys.length > 0) throw syntaxError(where, `unknown threshold option(s) ${unknownKeys.join(', ')}; expected threshold, abortOnFail, delayAbortEval`);
  if (typeof o.threshold !== 'string') throw syntaxError(where, `"threshold" must be a string such as "p(95)<200", got ${describe(o.threshold)}`);
  if (o.abortOnFail !== undefined && typeof o.abortOnFail !== 'boolean') throw syntaxError(where, `"abortOnFail" must be true or false, got ${describe(o.abortOnFail)}`);
  let delayAbortEvalMs = 0;
  if (o.delayAbortEval !== undefined) {
    const d = typeof o.delayAbortEval === 'number' ? o.delayAbortEval : typeof o.delayAbortEval === 'string' ? parseDuration(o.delayAbortEval, { bare: 'ms' }) : undefined;
    if (d === undefined || !Number.isFinite(d) || d < 0) {
      throw syntaxError(where, `"delayAbortEval" must be a duration such as "10s" or "1m30s", got ${describe(o.delayAbortEval)}`);
    }
    delayAbortEvalMs = d;
  }
  return { condition: parseThresholdExpression(o.threshold, where), abortOnFail: o.abortOnFail === true, delayAbortEvalMs };
}

/** Parses a k6 metric key with optional tag filters: `name{tag:value,other:value}`. */
export function parseMetricSelector(key: string, where?: string): MetricSelector {
  const m = METRIC_RE.exec(key);
  if (!m) {
    throw syntaxError(where ?? `thresholds["${key}"]`, `"${key}" is not a metric name; expected name or name{tag:value}`, 'Example: http_req_duration{scenario:checkout}');
  }
  const tags: Record<string, string> = {};
  const body = m[2];
  if (body !== undefined) {
    for (const part of body.split(',')) {
      if (part.trim() === '') continue;
      const idx = part.indexOf(':');
      const k = idx < 0 ? '' : part.slice(0, idx).trim();
      const v = idx < 0 ? '' : part.slice(idx + 1).trim();
      if (k === '' || v === '') {
        throw syntaxError(where ?? `thresholds["${key}"]`, `tag filter "${part.trim()}" in "${key}" must be tag:value`, 'Example: http_req_duration{scenario:checkout}');
      }
      tags[k] = v;
    }
  }
  return { source: key.trim(), metric: m[1] ?? '', tags };
}

/** Renders a condition back in the syntax it was written in (for reports). */
export function formatCondition(c: Condition): string {
  return c.source;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list ${JSON.stringify(v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}
