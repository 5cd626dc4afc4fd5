import type { WatchSample, WatchThresholds } from './types.js';

/** How a value stands against its SLO: red past it, yellow past 80% of it. */
export type SloState = 'ok' | 'warn' | 'breach' | 'none';

/** One line of the screen: a figure, its SLO and its recent history. */
export interface ViewRow {
  key: string;
  label: string;
  /** The current value in the row's unit; null when not known yet. */
  value: number | null;
  /** The value as shown, with its unit (`12.5/s`, `38 ms`, `3/8`). */
  text: string;
  /** The objective as shown (`< 500 ms`), empty when the row has none. */
  slo: string;
  state: SloState;
  /** Values over the history window, oldest first (null where unknown). */
  series: (number | null)[];
}

export interface StockRow {
  sku: string;
  available: number;
  /** Units taken per second, averaged over the history window; null when never measured. */
  takenPerSec: number | null;
  state: SloState;
  /** Units left over the history window, oldest first. */
  series: (number | null)[];
}

/** What the screen and `--once` show: built from the samples by {@link buildView}, drawn by src/ui/watch.ts. */
export interface WatchView {
  source: string;
  /** Time of the newest sample, ISO 8601; null before the first. */
  at: string | null;
  rows: ViewRow[];
  breaker: { value: string; state: SloState };
  flags: { name: string; enabled: boolean; state: SloState }[];
  /** Hottest skus first; null when the source has no stock. */
  stock: StockRow[] | null;
  /** The last read's failure, shown until a read succeeds. */
  error: string | null;
}

/** Past the threshold: breach; past 80% of it: warn. */
export function sloState(value: number | null, threshold: number): SloState {
  if (value === null) return 'none';
  if (value > threshold) return 'breach';
  if (value > threshold * 0.8) return 'warn';
  return 'ok';
}

/** Below the floor (or at it): breach; within 25% above it: warn. */
function floorState(value: number, floor: number): SloState {
  if (value <= floor) return 'breach';
  if (value <= floor * 1.25) return 'warn';
  return 'ok';
}

const num = (v: number, digits: number) => (Number.isInteger(v) ? String(v) : v.toFixed(digits));
const per = (v: number | null) => (v === null ? '-' : `${num(v, 1)}/s`);
const ms = (v: number | null) => (v === null ? '-' : v >= 10_000 ? `${num(v / 1000, 1)} s` : `${num(Math.round(v * 10) / 10, 1)} ms`);
const pct = (v: number) => `${(v * 100).toFixed(v < 0.1 ? 1 : 0)}%`;
const ratio = (part: number | null, whole: number | null): number | null => (part === null || whole === null ? null : whole > 0 ? part / whole : 0);

/** Samples newer than `historyMs` before the newest. */
export function inWindow(samples: readonly WatchSample[], historyMs: number): WatchSample[] {
  const last = samples.at(-1);
  return last === undefined ? [] : samples.filter((s) => s.at > last.at - historyMs);
}

/** At most this many skus are shown. */
export const STOCK_ROWS = 5;

/**
 * The view of the samples so far (oldest first): each figure with its SLO state and its history
 * over `historyMs`; the skus taken fastest over the window first (fewest left on a tie).
 */
export function buildView(samples: readonly WatchSample[], t: WatchThresholds, opts: { source: string; historyMs: number; error?: string | null }): WatchView {
  const window = inWindow(samples, opts.historyMs);
  const cur = window.at(-1);
  const series = (pick: (s: WatchSample) => number | null) => window.map(pick);
  const row = (key: string, label: string, pick: (s: WatchSample) => number | null, text: (v: number | null) => string, slo = '', state: (v: number | null, s: WatchSample | undefined) => SloState = () => 'none'): ViewRow => {
    const value = cur === undefined ? null : pick(cur);
    return { key, label, value, text: text(value), slo, state: state(value, cur), series: series(pick) };
  };
  const share = (pick: (s: WatchSample) => number | null, threshold: number) => (v: number | null, s: WatchSample | undefined) =>
    v === null || s === undefined ? 'none' : sloState(ratio(pick(s), s.intakePerSec), threshold);
  const shareText = (pick: (s: WatchSample) => number | null) => (v: number | null) => {
    const r = cur === undefined ? null : ratio(pick(cur), cur.intakePerSec);
    return v === null ? '-' : `${per(v)}${r === null ? '' : ` ${pct(r)}`}`;
  };
  const rows: ViewRow[] = [
    row('acceptedPerSec', 'accepted', (s) => s.acceptedPerSec, per),
    row('confirmedPerSec', 'confirmed', (s) => s.confirmedPerSec, per),
    row('intakeP50Ms', 'intake p50', (s) => s.intakeP50Ms, ms, `< ${ms(t.intakeP50Ms)}`, (v) => sloState(v, t.intakeP50Ms)),
    row('intakeP99Ms', 'intake p99', (s) => s.intakeP99Ms, ms, `< ${ms(t.intakeP99Ms)}`, (v) => sloState(v, t.intakeP99Ms)),
    row('errorsPerSec', 'errors 5xx', (s) => s.errorsPerSec, shareText((s) => s.errorsPerSec), `< ${pct(t.errorRatio)}`, share((s) => s.errorsPerSec, t.errorRatio)),
    row('rateLimitedPerSec', '429 limited', (s) => s.rateLimitedPerSec, shareText((s) => s.rateLimitedPerSec), `< ${pct(t.rateLimitedRatio)}`, share((s) => s.rateLimitedPerSec, t.rateLimitedRatio)),
    row('unavailablePerSec', '503 shed', (s) => s.unavailablePerSec, shareText((s) => s.unavailablePerSec), `< ${pct(t.unavailableRatio)}`, share((s) => s.unavailablePerSec, t.unavailableRatio)),
    row('queueDepth', 'queue depth', (s) => s.queueDepth, (v) => (v === null ? '-' : String(v)), `< ${t.queueDepth}`, (v) => sloState(v, t.queueDepth)),
    row('oldestWaitMs', 'oldest wait', (s) => s.oldestWaitMs, ms, `< ${ms(t.oldestWaitMs)}`, (v) => sloState(v, t.oldestWaitMs)),
    row(
      'workersBusy',
      'workers busy',
      (s) => s.workersBusy,
      (v) => (v === null ? '-' : `${v}/${cur?.workersSize ?? '?'}`),
      `< ${pct(t.workersBusyRatio)}`,
      (v, s) => sloState(ratio(v, s?.workersSize ?? null), t.workersBusyRatio),
    ),
  ];
  const breaker = cur?.breaker ?? null;
  return {
    source: opts.source,
    at: cur === undefined ? null : new Date(cur.at).toISOString(),
    rows,
    breaker: { value: breaker ?? '-', state: breaker === null ? 'none' : breaker === 'open' ? 'breach' : breaker === 'half_open' ? 'warn' : 'ok' },
    // A flag switched off is a degraded feature: worth a glance, not an alarm.
    flags: (cur?.flags ?? []).map((f) => ({ ...f, state: f.enabled ? 'ok' : 'warn' })),
    stock: cur === undefined || cur.stock === null ? (cur === undefined ? [] : null) : hottest(window, t.stockLow),
    error: opts.error ?? null,
  };
}

function hottest(window: readonly WatchSample[], stockLow: number): StockRow[] {
  const cur = window.at(-1)?.stock ?? [];
  const taken = new Map<string, { sum: number; n: number }>();
  for (const s of window) {
    for (const i of s.stock ?? []) {
      if (i.takenPerSec === null) continue;
      const a = taken.get(i.sku) ?? { sum: 0, n: 0 };
      taken.set(i.sku, { sum: a.sum + i.takenPerSec, n: a.n + 1 });
    }
  }
  const rate = (sku: string) => {
    const a = taken.get(sku);
    return a === undefined ? null : Math.round((a.sum / a.n) * 100) / 100;
  };
  return cur
    .map((i) => ({
      sku: i.sku,
      available: i.available,
      takenPerSec: rate(i.sku),
      state: floorState(i.available, stockLow),
      series: window.map((s) => s.stock?.find((x) => x.sku === i.sku)?.available ?? null),
    }))
    .sort((a, b) => (b.takenPerSec ?? -1) - (a.takenPerSec ?? -1) || a.available - b.available || a.sku.localeCompare(b.sku))
    .slice(0, STOCK_ROWS);
}

/** The `--once` document: the sample, how each figure stands against its SLO, and the hottest skus. */
export function onceSnapshot(view: WatchView, sample: WatchSample, windowSeconds: number | null) {
  return {
    source: view.source,
    at: view.at,
    windowSeconds,
    ...Object.fromEntries(Object.entries(sample).filter(([k]) => k !== 'at' && k !== 'stock' && k !== 'flags')),
    breaker: sample.breaker,
    flags: sample.flags,
    hottestStock: view.stock === null ? null : view.stock.map(({ sku, available, takenPerSec, state }) => ({ sku, available, takenPerSec, slo: state })),
    slo: Object.fromEntries([...view.rows.filter((r) => r.slo !== '').map((r) => [r.key, r.state]), ['breaker', view.breaker.state]]),
  };
}
