import { describe, expect, it } from 'vitest';
import type { StackFlag, StackStatus } from '../src/adapters/stack-admin/port.js';
import { createFakeStackAdmin } from '../src/adapters/stack-admin/fake.js';
import { createPaint, stripAnsi } from '../src/ui/color.js';
import { renderWatchLines, sparkline } from '../src/ui/watch.js';
import { prometheusSample, watchQueries } from '../src/watch/prometheus-source.js';
import { stackSample, type StackScrape } from '../src/watch/stack-source.js';
import type { InventoryItem } from '../src/adapters/stack-admin/port.js';
import { WATCH_THRESHOLD_DEFAULTS, type WatchSample } from '../src/watch/types.js';
import { buildView, onceSnapshot, sloState } from '../src/watch/view.js';
import { parsePromText } from '../src/util/prom-text.js';

/** /metrics text as the stack writes it: counters, intake answers by status, one latency histogram. */
function exposition(o: { accepted: number; confirmed: number; answers: Record<string, number>; buckets: Record<string, number> }): string {
  const lines = [
    '# TYPE surgectl_orders_accepted_total counter',
    `surgectl_orders_accepted_total ${o.accepted}`,
    '# TYPE surgectl_orders_completed_total counter',
    `surgectl_orders_completed_total{status="confirmed"} ${o.confirmed}`,
    `surgectl_orders_completed_total{status="sold_out"} 7`,
    '# TYPE surgectl_http_request_duration_seconds histogram',
  ];
  for (const [code, n] of Object.entries(o.answers)) lines.push(`surgectl_http_request_duration_seconds_count{route="/v1/orders",method="POST",status_code="${code}"} ${n}`);
  // Reads and admin calls must not count as intake.
  lines.push('surgectl_http_request_duration_seconds_count{route="/v1/inventory",method="GET",status_code="200"} 999');
  for (const [le, n] of Object.entries(o.buckets)) lines.push(`surgectl_http_request_duration_seconds_bucket{route="/v1/orders",method="POST",status_code="202",le="${le}"} ${n}`);
  return lines.join('\n') + '\n';
}

const status = (over: Partial<StackStatus> = {}): StackStatus => ({ ...createFakeStackAdmin().state, ...over });
const FLAGS: StackFlag[] = [
  { name: 'recommendations', enabled: false, overridden: true, description: '' },
  { name: 'loyalty-points', enabled: true, overridden: false, description: '' },
];
const scrape = (at: number, text: string, inventory: InventoryItem[] | null, st = status()): StackScrape => ({ at, metrics: parsePromText(text).samples, status: st, flags: FLAGS, inventory });

describe('stackSample: rates from counter deltas between two scrapes of /metrics', () => {
  const before = scrape(
    10_000,
    exposition({ accepted: 100, confirmed: 90, answers: { '202': 100, '429': 10, '503': 0, '500': 0 }, buckets: { '0.005': 50, '0.01': 90, '0.1': 100, '+Inf': 100 } }),
    [{ sku: 'A', available: 50, reserved: 10, sold: 40 }],
  );
  const after = scrape(
    12_000,
    exposition({ accepted: 140, confirmed: 120, answers: { '202': 140, '429': 30, '503': 6, '500': 2 }, buckets: { '0.005': 50, '0.01': 90, '0.1': 140, '+Inf': 140 } }),
    [{ sku: 'A', available: 30, reserved: 12, sold: 58 }],
    status({ queue: { depth: 17, oldestWaitingMs: 1200 }, workers: { size: 8, busy: 6, paused: false }, breaker: 'half_open' }),
  );

  it('has no rates and no quantiles on the first scrape', () => {
    const s = stackSample(undefined, before);
    expect(s).toMatchObject({ acceptedPerSec: null, confirmedPerSec: null, intakePerSec: null, intakeP50Ms: null, intakeP99Ms: null, totals: { accepted: 100, confirmed: 90 } });
    expect(s.stock).toEqual([{ sku: 'A', available: 50, takenPerSec: null }]);
  });

  it('divides counter increases by the seconds between the scrapes', () => {
    const s = stackSample(before, after);
    expect(s).toMatchObject({
      at: 12_000,
      acceptedPerSec: 20,
      confirmedPerSec: 15,
      // 40 + 20 + 6 + 2 intake answers in 2 s; the inventory reads are not intake
      intakePerSec: 34,
      errorsPerSec: 1,
      rateLimitedPerSec: 10,
      unavailablePerSec: 3,
      queueDepth: 17,
      oldestWaitMs: 1200,
      workersBusy: 6,
      workersSize: 8,
      breaker: 'half_open',
      flags: [
        { name: 'recommendations', enabled: false },
        { name: 'loyalty-points', enabled: true },
      ],
      totals: { accepted: 140, confirmed: 120 },
    });
    // All 40 new requests fell in the (10 ms, 100 ms] bucket: p50 interpolates to its middle.
    expect(s.intakeP50Ms).toBe(55);
    expect(s.intakeP99Ms).toBe(99.1); // 10 + 90 * (39.6 / 40)
    // 20 units reserved or sold in 2 s
    expect(s.stock).toEqual([{ sku: 'A', available: 30, takenPerSec: 10 }]);
  });

  it('counts a restarted stack (counters going down) from zero, never a negative rate', () => {
    const restarted = scrape(14_000, exposition({ accepted: 4, confirmed: 2, answers: { '202': 4 }, buckets: { '0.01': 4, '+Inf': 4 } }), null);
    const s = stackSample(after, restarted);
    expect(s.acceptedPerSec).toBe(2);
    expect(s.confirmedPerSec).toBe(1);
    expect(s.stock).toBeNull();
  });
});

describe('prometheusSample: instant query answers', () => {
  it('reads one number per query, seconds as ms, the breaker gauge as its state, flags by label', () => {
    const v = (value: number, metric: Record<string, string> = {}) => [{ metric, value }];
    const s = prometheusSample(5_000, {
      accepted: v(12.345),
      confirmed: v(11),
      intake: v(20),
      p50: v(0.0042),
      p99: v(0.25),
      errors: v(0),
      rateLimited: v(2),
      unavailable: v(NaN),
      queueDepth: v(3),
      oldestWait: v(1.5),
      workersBusy: v(4),
      workersSize: v(8),
      breaker: v(2),
      flags: [
        { metric: { flag: 'recommendations' }, value: 0 },
        { metric: { flag: 'loyalty-points' }, value: 1 },
      ],
      acceptedTotal: [],
      confirmedTotal: v(1),
    });
    expect(s).toMatchObject({ acceptedPerSec: 12.35, intakeP50Ms: 4.2, intakeP99Ms: 250, unavailablePerSec: null, oldestWaitMs: 1500, breaker: 'open', stock: null, totals: null });
    expect(s.flags).toEqual([
      { name: 'loyalty-points', enabled: true },
      { name: 'recommendations', enabled: false },
    ]);
  });

  it('asks for the intake routes and the rate window given', () => {
    const q = watchQueries('30s');
    expect(q.p99).toBe('histogram_quantile(0.99, sum by (le) (rate(surgectl_http_request_duration_seconds_bucket{route="/v1/orders",method="POST"}[30s])))');
    expect(q.errors).toContain('status_code=~"5..",status_code!="503"');
  });
});

const sample = (at: number, over: Partial<WatchSample> = {}): WatchSample => ({
  at,
  acceptedPerSec: 10,
  confirmedPerSec: 9,
  intakePerSec: 100,
  intakeP50Ms: 5,
  intakeP99Ms: 50,
  errorsPerSec: 0,
  rateLimitedPerSec: 0,
  unavailablePerSec: 0,
  queueDepth: 0,
  oldestWaitMs: 0,
  workersBusy: 1,
  workersSize: 10,
  breaker: 'closed',
  flags: [],
  stock: null,
  totals: null,
  ...over,
});

describe('buildView: SLO colours and history', () => {
  const T = WATCH_THRESHOLD_DEFAULTS;

  it('is red past the threshold, yellow past 80% of it', () => {
    expect([sloState(501, 500), sloState(401, 500), sloState(400, 500), sloState(null, 500)]).toEqual(['breach', 'warn', 'ok', 'none']);
  });

  it('judges refusals as shares of the intake answers and workers as a share of the pool', () => {
    const view = buildView([sample(0, { intakePerSec: 100, rateLimitedPerSec: 6, unavailablePerSec: 4.5, errorsPerSec: 0.5, workersBusy: 10, intakeP99Ms: 900 })], T, { source: 'x', historyMs: 60_000 });
    const state = Object.fromEntries(view.rows.map((r) => [r.key, r.state]));
    expect(state).toMatchObject({ rateLimitedPerSec: 'breach', unavailablePerSec: 'warn', errorsPerSec: 'ok', workersBusy: 'breach', intakeP99Ms: 'breach', intakeP50Ms: 'ok', acceptedPerSec: 'none' });
    expect(view.rows.find((r) => r.key === 'rateLimitedPerSec')?.text).toBe('6/s 6.0%');
  });

  it('keeps the history window for the sparklines, and an open breaker and a switched-off flag stand out', () => {
    const samples = [0, 1_000, 2_000, 3_000].map((t, i) => sample(t, { acceptedPerSec: i, breaker: 'open', flags: [{ name: 'recommendations', enabled: false }] }));
    const view = buildView(samples, T, { source: 'x', historyMs: 2_500 });
    expect(view.rows[0]?.series).toEqual([1, 2, 3]);
    expect(view.breaker).toEqual({ value: 'open', state: 'breach' });
    expect(view.flags).toEqual([{ name: 'recommendations', enabled: false, state: 'warn' }]);
    expect(view.at).toBe('1970-01-01T00:00:03.000Z');
  });

  it('puts the skus taken fastest over the window first, and reds the ones nearly sold out', () => {
    const stock = (a: number, b: number, c: number) => [
      { sku: 'A', available: a, takenPerSec: 1 },
      { sku: 'B', available: b, takenPerSec: 5 },
      { sku: 'C', available: c, takenPerSec: 0 },
    ];
    const view = buildView([sample(0, { stock: stock(100, 60, 5) }), sample(1_000, { stock: stock(99, 55, 5) })], T, { source: 'x', historyMs: 60_000 });
    expect(view.stock?.map((s) => [s.sku, s.available, s.takenPerSec, s.state])).toEqual([
      ['B', 55, 5, 'ok'],
      ['A', 99, 1, 'ok'],
      ['C', 5, 0, 'breach'],
    ]);
    expect(view.stock?.[0]?.series).toEqual([60, 55]);
  });

  it('gives --once a flat document with the SLO state of each figure', () => {
    const s = sample(0, { intakeP99Ms: 600 });
    const view = buildView([s], T, { source: 'http://s', historyMs: 1 });
    const doc = onceSnapshot(view, s, 2);
    expect(doc).toMatchObject({ source: 'http://s', windowSeconds: 2, acceptedPerSec: 10, breaker: 'closed', hottestStock: null, slo: { intakeP99Ms: 'breach', breaker: 'ok' } });
    expect(doc).not.toHaveProperty('stock');
  });
});

describe('sparkline', () => {
  it('scales from 0 to the highest value, newest on the right, blank where unknown', () => {
    expect(sparkline([0, 7, 14, null], 4)).toBe('▁▅█ ');
    expect(sparkline([1, 2], 5)).toBe('   ▅█');
    expect(sparkline([0, 0], 2)).toBe('▁▁');
  });
  it('squeezes a long history into the width keeping each group’s peak', () => {
    expect(sparkline([0, 8, 0, 0, 0, 0], 3)).toBe('█▁▁');
    expect(sparkline([1, 2, 3], 0)).toBe('');
  });
});

describe('renderWatchLines (colours off)', () => {
  const paint = createPaint(false);
  const history = [0, 1, 2, 3, 4, 5].map((i) =>
    sample(i * 1_000, {
      acceptedPerSec: 10 * i,
      flags: [{ name: 'recommendations', enabled: false }],
      stock: [
        { sku: 'SKU-0001', available: 100 - i, takenPerSec: 1 },
        { sku: 'SKU-0002', available: 50, takenPerSec: 0 },
      ],
    }),
  );
  const view = buildView(history, WATCH_THRESHOLD_DEFAULTS, { source: 'http://127.0.0.1:8080', historyMs: 60_000 });

  it('shows each figure with its value, SLO and sparkline', () => {
    const lines = renderWatchLines(view, { width: 80, height: 40, paint, intervalMs: 500 });
    expect(lines[0]).toBe('surgectl watch · http://127.0.0.1:8080 · every 500ms · 00:00:05 UTC   q quits');
    expect(lines.find((l) => l.startsWith('accepted'))).toMatch(/^accepted\s+50\/s\s+▁▂▄▅▇█$/);
    expect(lines.find((l) => l.startsWith('intake p99'))).toMatch(/^intake p99\s+50 ms\s+< 500 ms\s+█{6}$/);
    expect(lines).toContain('breaker                closed');
    expect(lines.find((l) => l.startsWith('flags'))).toBe('flags         recommendations off');
    expect(lines.find((l) => l.includes('SKU-0001'))).toMatch(/^ {2}SKU-0001\s+95\s+1\.0\s+█+$/);
  });

  it('never draws a line wider than the terminal nor more lines than it has', () => {
    for (const [width, height] of [
      [120, 40],
      [60, 20],
      [30, 8],
      [10, 3],
    ] as const) {
      const lines = renderWatchLines(view, { width, height, paint });
      expect(lines.length).toBeLessThanOrEqual(height);
      for (const l of lines) expect([...l].length).toBeLessThanOrEqual(width);
    }
    // A short terminal loses the stock rows first, never the title.
    const short = renderWatchLines(view, { width: 80, height: 12, paint });
    expect(short[0]).toMatch(/^surgectl watch/);
    expect(short.some((l) => l.includes('SKU'))).toBe(false);
  });

  it('colours a breach red when colours are on, and the text stays the same', () => {
    const bad = buildView([sample(0, { intakeP99Ms: 900 })], WATCH_THRESHOLD_DEFAULTS, { source: 's', historyMs: 1 });
    const coloured = renderWatchLines(bad, { width: 80, height: 40, paint: createPaint(true) });
    const line = coloured.find((l) => stripAnsi(l).startsWith('intake p99')) ?? '';
    expect(line).toContain('\u001b[31m');
    expect(stripAnsi(line)).toBe(renderWatchLines(bad, { width: 80, height: 40, paint }).find((l) => l.startsWith('intake p99')));
  });

  it('says when the source has no stock, and shows the last read error under the title', () => {
    const v = buildView([sample(0)], WATCH_THRESHOLD_DEFAULTS, { source: 's', historyMs: 1, error: 'cannot reach the stack' });
    const lines = renderWatchLines(v, { width: 100, height: 40, paint });
    expect(lines[1]).toBe('! cannot reach the stack');
    expect(lines.at(-1)).toMatch(/^stock\s+not in this source/);
  });
});
