/**
 * The one reader of the Prometheus text exposition format (0.0.4, and the OpenMetrics lines the
 * bundled stack writes): the load-test library reads a target's /metrics with it, chaos probes
 * compute windowed figures with it the way PromQL's increase() and histogram_quantile() would.
 * It lives under util/ because both use it and neither owns the format.
 */

/** A Prometheus metric type as declared by `# TYPE`. */
export type PromMetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped' | 'gaugehistogram' | 'stateset' | 'info' | 'unknown';

/** One sample line. Histogram and summary series appear as their `_bucket`, `_sum`, `_count` and quantile samples. */
export interface PromSample {
  readonly name: string;
  /** Label values unescaped (`\"`, `\\`, `\n`). */
  readonly labels: Readonly<Record<string, string>>;
  /** The value; `+Inf`, `-Inf` and `NaN` are kept as the numbers they name. */
  readonly value: number;
  /** The optional timestamp after the value, ms since the epoch. */
  readonly timestampMs?: number;
}

/** A parsed exposition: the samples in order, and what `# TYPE` and `# HELP` said per metric family. */
export interface PromExposition {
  readonly samples: readonly PromSample[];
  /** Family name -> declared type (`x_total` counters are declared either as `x_total` or as `x`). */
  readonly types: ReadonlyMap<string, PromMetricType>;
  /** Family name -> help text, unescaped. */
  readonly help: ReadonlyMap<string, string>;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:]*/;
const LABEL = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|(?=\}))/y;
const TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'gaugehistogram', 'stateset', 'info', 'unknown']);

/** `\\`, `\"` and `\n` in one pass, so `\\n` stays a backslash followed by n. */
function unescape(s: string): string {
  return s.indexOf('\\') < 0 ? s : s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Number of a sample value as the format writes it; undefined when it is not one. */
function sampleValue(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  // Number('') is 0 and Number('0x10') is 16; neither is a sample value.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Labels between `{` and the matching `}` from `open`; undefined when malformed. */
function readLabels(line: string, open: number): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  let pos = open + 1;
  for (;;) {
    while (line[pos] === ' ' || line[pos] === '\t') pos++;
    if (line[pos] === '}') return { labels, end: pos + 1 };
    LABEL.lastIndex = pos;
    const m = LABEL.exec(line);
    if (!m) return undefined;
    labels[m[1] as string] = unescape(m[2] as string);
    pos = LABEL.lastIndex;
  }
}

/** Parses exposition text. Malformed lines are skipped, so one odd line does not hide the rest. */
export function parsePromText(text: string): PromExposition {
  const samples: PromSample[] = [];
  const types = new Map<string, PromMetricType>();
  const help = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*(TYPE|HELP)\s+([A-Za-z_:][A-Za-z0-9_:]*)(?:\s+(.*))?$/.exec(line);
      if (m?.[1] === 'TYPE' && TYPES.has(m[3]?.trim() ?? '')) types.set(m[2] as string, m[3]?.trim() as PromMetricType);
      else if (m?.[1] === 'HELP') help.set(m[2] as string, unescape(m[3] ?? ''));
      continue;
    }
    const name = NAME.exec(line)?.[0];
    if (name === undefined) continue;
    let labels: Record<string, string> = {};
    let rest = line.slice(name.length);
    if (rest.startsWith('{')) {
      const read = readLabels(rest, 0);
      if (!read) continue;
      labels = read.labels;
      rest = rest.slice(read.end);
    } else if (!/^\s/.test(rest)) continue;
    const [valueText = '', tsText, extra] = rest.trim().split(/\s+/);
    const value = sampleValue(valueText);
    if (value === undefined || extra !== undefined) continue;
    const ts = tsText === undefined ? undefined : sampleValue(tsText);
    if (tsText !== undefined && (ts === undefined || !Number.isFinite(ts))) continue;
    samples.push(ts === undefined ? { name, labels, value } : { name, labels, value, timestampMs: ts });
  }
  return { samples, types, help };
}

/** True when every label of `filter` is present in `labels` with the same value. */
export function labelsMatch(labels: Readonly<Record<string, string>>, filter: Readonly<Record<string, string>>): boolean {
  for (const k in filter) if (labels[k] !== filter[k]) return false;
  return true;
}

/**
 * Sum of the samples of `name` whose labels include `filter`; undefined when there are none.
 * NaN samples (a summary quantile with no observations, say) carry no value and are left out.
 */
export function sumSamples(samples: readonly PromSample[], name: string, filter: Readonly<Record<string, string>> = {}): number | undefined {
  let found = false;
  let total = 0;
  for (const s of samples) {
    if (s.name === name && !Number.isNaN(s.value) && labelsMatch(s.labels, filter)) {
      found = true;
      total += s.value;
    }
  }
  return found ? total : undefined;
}

/** A counter's increase between two scrapes; a reset (the process restarted) counts from zero. */
export function increase(before: number | undefined, after: number | undefined): number {
  const a = after ?? 0;
  const b = before ?? 0;
  return a >= b ? a - b : a;
}

/** Cumulative bucket counts by upper bound, summed over every series matching `filter`. */
export function histogramBuckets(samples: readonly PromSample[], name: string, filter: Readonly<Record<string, string>>): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !labelsMatch(s.labels, filter)) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    if (Number.isNaN(le)) continue;
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  return buckets;
}

/** Bucket-wise increase between two scrapes. */
export function bucketIncrease(before: Map<number, number>, after: Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, v] of after) out.set(le, increase(before.get(le), v));
  return out;
}

/**
 * histogram_quantile(): the value at quantile q (0..1) by linear interpolation inside the bucket
 * the rank falls in; above the highest finite bound it answers that bound, as Prometheus does.
 * Undefined when the histogram holds no observations.
 */
export function histogramQuantile(q: number, cumulative: Map<number, number>): number | undefined {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Infinity) ?? (bounds.length > 0 ? cumulative.get(bounds[bounds.length - 1] as number) : undefined);
  if (total === undefined || total <= 0) return undefined;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const le of bounds) {
    const count = cumulative.get(le) ?? 0;
    if (count >= rank) {
      if (le === Infinity) return prevBound;
      const inBucket = count - prevCount;
      if (inBucket <= 0) return le;
      return prevBound + (le - prevBound) * ((rank - prevCount) / inBucket);
    }
    prevBound = le;
    prevCount = count;
  }
  return prevBound;
}
