import type { RehearsalReport } from './report.js';

/**
 * The readiness report as one self-contained HTML page (no scripts, no external assets): the
 * verdict, the gates with what to fix, the story of the stages, and two charts (latency and
 * throughput; breaker and payment_pending orders around the outage).
 */
export function renderReportHtml(r: RehearsalReport): string {
  const verdict = r.status === 'passed' ? 'READY: every gate passed' : r.status === 'interrupted' ? 'INTERRUPTED' : `NOT READY: ${r.gates.filter((g) => g.status === 'fail').length} gate(s) failed`;
  const gateRows = r.gates
    .map(
      (g) => `<tr class="${g.status}"><td>${g.status.toUpperCase()}</td><td>${esc(g.title)}<br><code>${esc(g.id)}</code></td><td>${esc(g.observed)}</td><td>${esc(g.expected)}<br><code>${esc(g.condition)}</code></td><td>${esc(g.fix ?? '')}</td></tr>`,
    )
    .join('\n');
  const stageRows = r.stages.map((s) => `<tr><td>${esc(s.name)}</td><td>${esc(s.status)}</td><td>${(s.durationMs / 1000).toFixed(1)}s</td><td>${esc(s.summary)}</td></tr>`).join('\n');
  const plan = r.capacity
    ? r.capacity.services.map((s) => `<h3>${esc(s.name)}: ${s.replicas} replica(s)</h3><pre>${esc(s.arithmetic.join('\n'))}</pre>`).join('\n')
    : '<p>no capacity plan</p>';
  const outageBand = r.outage?.startS !== undefined && r.outage.endS !== undefined ? { from: r.outage.startS, to: r.outage.endS } : undefined;
  const tl = r.load?.timeline ?? [];
  const latency = chart('Latency per second (ms)', [
    { name: 'p95', color: '#1f5fbf', points: tl.map((p) => [p.t, p.p95Ms]) },
    { name: 'p99', color: '#c0392b', points: tl.map((p) => [p.t, p.p99Ms]) },
  ], outageBand);
  const rate = chart('Requests per second (answered, failed, dropped)', [
    { name: 'requests', color: '#2e7d32', points: tl.map((p) => [p.t, p.requests]) },
    { name: 'failed', color: '#c0392b', points: tl.map((p) => [p.t, p.failed]) },
    { name: 'dropped', color: '#8e44ad', points: tl.map((p) => [p.t, p.dropped]) },
  ], outageBand);
  const stack = chart('Orders waiting for payment and queue depth; breaker open shaded', [
    { name: 'payment_pending', color: '#e67e22', points: r.samples.map((s) => [s.t, s.pending]) },
    { name: 'queue depth', color: '#555', points: r.samples.map((s) => [s.t, s.depth]) },
  ], outageBand, r.samples.filter((s) => s.breaker === 'open').map((s) => s.t));
  const kv = (rows: [string, string | number | undefined][]) =>
    `<table class="kv">${rows.filter(([, v]) => v !== undefined).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`).join('')}</table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>surgectl rehearsal: ${esc(verdict)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
h1{font-size:1.5em}.verdict{padding:.6em 1em;border-radius:6px;font-weight:bold;color:#fff;background:${r.status === 'passed' ? '#2e7d32' : r.status === 'interrupted' ? '#b7950b' : '#c0392b'}}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}
tr.pass td:first-child{color:#2e7d32;font-weight:bold}tr.fail td:first-child{color:#c0392b;font-weight:bold}tr.fail{background:#fdecea}tr.skip td:first-child{color:#888}
.kv th{background:#f6f6f6;width:16em}code{font-size:12px;color:#555}pre{background:#f6f6f6;padding:.6em}
</style></head><body>
<h1>surgectl rehearsal</h1>
<p class="verdict">${esc(verdict)}</p>
<p>${esc(r.startedAt)} .. ${esc(r.endedAt)} (${(r.durationMs / 1000).toFixed(1)}s)</p>
<h2>Readiness gates</h2>
<table><thead><tr><th>status</th><th>gate</th><th>observed</th><th>expected</th><th>what to fix</th></tr></thead><tbody>
${gateRows}
</tbody></table>
<h2>Forecast, plan and scaling</h2>
${kv([
  ['history', r.history ? `${r.history.points} points of ${r.history.series} (${r.history.source}), ${r.history.start} .. ${r.history.end}` : undefined],
  ['forecast model', r.forecast?.model],
  ['forecast peak', r.forecast ? `${Math.round(r.forecast.peak.value * 60).toLocaleString('en-US')} orders/min (${r.forecast.peak.value.toFixed(2)}/s) at ${r.forecast.peak.t}, 95% ${r.forecast.peak.lo95.toFixed(2)}..${r.forecast.peak.hi95.toFixed(2)}/s${r.forecast.overridden ? ' (--peak-rate)' : ''}` : undefined],
  ['campaigns', r.forecast?.campaigns.map((c) => `${c.name} x${c.uplift} ${c.start}`).join(', ')],
  ['scaling', r.scaling?.statement],
  ['machine rate', r.scaling ? `${r.scaling.machineMaxPerSec}/s (${r.scaling.machineBasis}); the load test asks at most ${Math.round(r.scaling.share * 100)}% of it = ${r.scaling.ceilingPerSec}/s` : undefined],
  ['order store', r.stack?.store],
  ['local workers', r.stack ? `${r.stack.workers.before} -> ${r.stack.workers.applied} (${r.stack.workers.basis}), restored to ${r.stack.workers.restoredTo ?? '-'}` : undefined],
])}
${probeTable(r)}
${plan}
<h2>Load test and payment outage</h2>
${kv([
  ['target rate', r.load ? `${r.load.targetPerSec}/s for ${(r.load.durationMs / 1000).toFixed(1)}s` : undefined],
  ['requests', r.load ? `${r.load.requests} (${r.load.rps}/s), failed ${r.load.failedRate === undefined ? '-' : (r.load.failedRate * 100).toFixed(2) + '%'}, dropped ${r.load.dropped} of ${r.load.scheduled}` : undefined],
  ['latency', r.load ? `p50 ${r.load.p50Ms ?? '-'} ms, p95 ${r.load.p95Ms ?? '-'} ms, p99 ${r.load.p99Ms ?? '-'} ms` : undefined],
  ['outage', r.outage?.startS !== undefined ? `payment gateway 100% errors from ${r.outage.startS}s to ${r.outage.endS ?? '?'}s` : r.settings.chaos ? 'did not run' : 'off (--no-chaos)'],
  ['breaker', r.outage ? `opened at ${r.outage.breakerOpenedS ?? 'never'}s, closed at ${r.outage.breakerClosedS ?? 'never'}s; up to ${r.outage.maxPaymentPending} orders payment_pending` : undefined],
  ['steady state', r.outage ? `before ${r.outage.journal.steadyStateBefore ?? '-'}, after ${r.outage.journal.steadyStateAfter ?? '-'}, drill ${r.outage.journal.status}, ${r.outage.journal.rollbacks} rollback(s)` : undefined],
  ['orders', r.orders ? `${r.orders.created} created: ${Object.entries(r.orders.byStatus).map(([k, v]) => `${v} ${k}`).join(', ')}; oversold ${r.orders.oversold ?? '-'}; drained in ${r.orders.drainMs === undefined ? 'not drained' : (r.orders.drainMs / 1000).toFixed(1) + 's'}` : undefined],
])}
${latency}
${rate}
${stack}
<h2>Stages</h2>
<table><thead><tr><th>stage</th><th>status</th><th>took</th><th>what happened</th></tr></thead><tbody>
${stageRows}
</tbody></table>
${r.restore ? `<h2>Restore</h2>${kv([
  ['faults cleared', String(r.restore.faultsCleared)],
  ['workers restored', String(r.restore.workersRestored)],
  ['stack stopped', String(r.restore.stackStopped)],
  ['ports free', String(r.restore.portsFreed)],
  ['temp data dir removed', String(r.restore.dataDirRemoved)],
  ...(r.restore.flagsRestored !== undefined ? ([['flags restored', String(r.restore.flagsRestored)]] as [string, string][]) : []),
  ['problems', r.restore.problems.join('; ') || 'none'],
])}` : ''}
${r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}

/** The calibration probe's steps, one row each; nothing with --max-rate. */
function probeTable(r: RehearsalReport): string {
  const p = r.scaling?.probe;
  if (!p) return '';
  const rows = p.steps
    .map(
      (s) =>
        `<tr class="${s.held ? 'pass' : 'fail'}"><td>${s.held ? 'HELD' : 'NOT HELD'}</td><td>${s.ratePerSec}/s</td><td>${s.answeredPerSec}/s</td><td>${s.p95Ms === undefined ? '-' : s.p95Ms.toFixed(1)} / ${s.p99Ms === undefined ? '-' : s.p99Ms.toFixed(1)} ms</td><td>${s.failed}</td><td>${s.dropped} of ${s.scheduled}</td><td>${esc(s.verdict)}</td></tr>`,
    )
    .join('\n');
  return `<h3>Calibration probe: steps of constant arrival rate, up to ${p.needPerSec}/s (the peak / ${p.share})</h3>
<table><thead><tr><th>verdict</th><th>asked</th><th>answered</th><th>p95 / p99</th><th>failed</th><th>dropped</th><th>why</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

interface Line {
  name: string;
  color: string;
  points: [number, number][];
}

/** A small line chart; the outage window and (optionally) the seconds the breaker was open are shaded. */
function chart(title: string, lines: Line[], band?: { from: number; to: number }, marks: number[] = []): string {
  const W = 960;
  const H = 240;
  const pad = { l: 50, r: 120, t: 24, b: 28 };
  const all = lines.flatMap((l) => l.points);
  if (all.length === 0) return `<p>${esc(title)}: no data</p>`;
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  const yMax = Math.max(1, ...all.map((p) => p[1]));
  const x = (v: number) => pad.l + (v / xMax) * (W - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - v / yMax) * (H - pad.t - pad.b);
  const shade = band ? `<rect x="${x(band.from).toFixed(1)}" y="${pad.t}" width="${Math.max(1, x(band.to) - x(band.from)).toFixed(1)}" height="${H - pad.t - pad.b}" fill="#f5b7b1" fill-opacity="0.35"><title>payment outage</title></rect>` : '';
  const open = marks.map((t) => `<rect x="${x(t).toFixed(1)}" y="${H - pad.b - 6}" width="4" height="6" fill="#c0392b"><title>breaker open</title></rect>`).join('');
  const polylines = lines
    .map((l, i) => {
      const pts = l.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ');
      return `<polyline points="${pts}" fill="none" stroke="${l.color}" stroke-width="1.5"/><text x="${W - pad.r + 8}" y="${pad.t + 14 * (i + 1)}" font-size="12" fill="${l.color}">${esc(l.name)}</text>`;
    })
    .join('');
  const ticks = [0, 0.5, 1].map((f) => `<text x="${pad.l - 6}" y="${(y(f * yMax) + 4).toFixed(1)}" font-size="11" text-anchor="end">${(f * yMax).toFixed(yMax < 10 ? 1 : 0)}</text>`).join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="#fff"/>${shade}${open}
<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#999"/>${ticks}
<text x="${W - pad.r}" y="${H - 8}" font-size="11" text-anchor="end">${xMax.toFixed(0)} s</text>${polylines}</svg></figure>`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
