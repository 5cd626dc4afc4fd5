/**
 * Just enough of the Prometheus text exposition format to read the bundled stack's /metrics and
 * compute windowed figures (latency percentiles from histogram buckets, error rates from counts)
 * the way PromQL's increase() and histogram_quantile() would.
 */

export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

/** Parses exposition text into samples; comments and malformed lines are skipped. */
export function parsePromText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    if (brace !== -1 && (space === -1 || brace < space)) {
      name = line.slice(0, brace);
      const close = findClose(line, brace);
      if (close === -1) continue;
      labels = parseLabels(line.slice(brace + 1, close));
      rest = line.slice(close + 1).trim();
    } else {
      if (space === -1) continue;
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    const valueText = rest.split(/\s+/)[0] ?? '';
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (valueText === '' || Number.isNaN(value)) continue;
    out.push({ name, labels, value });
  }
  return out;
}

function findClose(line: string, open: number): number {
  let inString = false;
  for (let i = open + 1; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '}') return i;
  }
  return -1;
}

function parseLabels(body: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    labels[m[1] ?? ''] = (m[2] ?? '').replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return labels;
}

function matches(labels: Readonly<Record<string, string>>, filter: Readonly<Record<string, string>>): boolean {
  return Object.entries(filter).every(([k, v]) => labels[k] === v);
}

/** Sum of the samples of `name` whose labels include `filter`. */
export function sumSamples(samples: readonly Sample[], name: string, filter: Readonly<Record<string, string>> = {}): number | undefined {
  let found = false;
  let total = 0;
  for (const s of samples) {
    if (s.name === name && matches(s.labels, filter)) {
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
export function histogramBuckets(samples: readonly Sample[], name: string, filter: Readonly<Record<string, string>>): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !matches(s.labels, filter)) continue;
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
