import type { TimelinePoint } from './engine.js';
import type { K6Metric, LoadTestResult } from './summary.js';

/**
 * Renderers of a load-test result: the terminal summary, JUnit XML for CI, a self-contained
 * HTML report. All pure: they return strings, the command writes them.
 */

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

function fmt(n: number | undefined, unit = ''): string {
  if (n === undefined || Number.isNaN(n)) return '-';
  const v = Number.isInteger(n) ? String(n) : Math.abs(n) >= 100 ? String(Number(n.toFixed(1))) : Math.abs(n) >= 1 ? String(Number(n.toFixed(2))) : String(Number(n.toPrecision(3)));
  return v + unit;
}

function metricLine(m: K6Metric): string {
  const v = m.values;
  switch (m.type) {
    case 'trend':
      return ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)']
        .filter((k) => v[k] !== undefined)
        .map((k) => `${k}=${fmt(v[k], m.contains === 'time' ? 'ms' : '')}`)
        .join(' ');
    case 'rate':
      return `${fmt((v.rate ?? 0) * 100, '%')} (${v.passes ?? 0} of ${(v.passes ?? 0) + (v.fails ?? 0)})`;
    case 'counter':
      return `${v.count ?? 0}${m.contains === 'data' ? ' B' : ''}  ${fmt(v.rate, '/s')}`;
    case 'gauge':
      return `${v.value ?? '-'}  min=${v.min ?? '-'} max=${v.max ?? '-'}`;
  }
}

/** The human summary: thresholds with ✓/✗ (like k6's), then every metric. */
export function renderText(r: LoadTestResult, paint: { green(s: string): string; red(s: string): string; bold(s: string): string; dim(s: string): string }): string {
  const lines: string[] = [];
  lines.push(paint.bold(`${r.scenario} → ${r.target}  (${r.engine} engine, ${fmt(r.durationMs / 1000, 's')})`));
  if (r.aborted) lines.push(paint.red(`aborted: ${r.aborted}`));
  if (r.thresholds.length > 0) {
    lines.push('', paint.bold('THRESHOLDS'));
    for (const t of r.thresholds) {
      const mark = t.ok ? paint.green('✓') : paint.red('✗');
      const observed = t.value === undefined ? (t.message ?? 'no data') : `observed ${fmt(t.value)}`;
      lines.push(`  ${mark} ${t.metric} ${t.threshold}  ${paint.dim(observed)}`);
    }
  }
  lines.push('', paint.bold('METRICS'));
  const entries = Object.entries(r.summary.metrics);
  const width = Math.max(...entries.map(([k]) => k.length), 10) + 2;
  for (const [name, m] of entries) lines.push(`  ${(name + ' ').padEnd(width, '.')}: ${metricLine(m)}`);
  if (r.scenarios.length > 0) {
    lines.push('', paint.bold('SCENARIOS'));
    for (const s of r.scenarios) {
      lines.push(`  ${s.name} (${s.executor}): ${s.arrivals}/${s.scheduled} arrivals, ${s.dropped} dropped, ${s.vusAllocated} VUs, ${fmt(s.activeMs / 1000, 's')}`);
    }
  }
  lines.push('', r.passed ? paint.green('PASSED: every threshold held') : paint.red(`FAILED: ${r.thresholds.filter((t) => !t.ok).length} threshold(s) failed${r.aborted ? ' (run aborted)' : ''}`));
  return lines.join('\n') + '\n';
}

/** One progress line: `12.0s/60s  5012 req/s  p95 3.2ms  errors 0.00%  dropped 0  vus 14`. */
export function renderProgress(p: { elapsedMs: number; plannedMs: number; rps: number; p95Ms: number; requests: number; failed: number; dropped: number; vus: number }): string {
  const errRate = p.requests > 0 ? (p.failed / p.requests) * 100 : 0;
  return `${(p.elapsedMs / 1000).toFixed(1)}s/${(p.plannedMs / 1000).toFixed(0)}s  ${p.rps.toFixed(0)} req/s  p95 ${fmt(p.p95Ms, 'ms')}  errors ${errRate.toFixed(2)}%  dropped ${p.dropped}  vus ${p.vus}`;
}

/**
 * JUnit XML: one testcase per threshold (classname = metric key), failed ones with a <failure>
 * naming the threshold and the observed value; an aborted run adds a failed "run" testcase.
 */
export function renderJUnit(r: LoadTestResult): string {
  const cases = r.thresholds.map((t) => {
    const name = `${t.metric}: ${t.threshold}`;
    const observed = t.value === undefined ? (t.message ?? 'no data') : `observed ${fmt(t.value)}`;
    const body = t.ok
      ? ''
      : `\n      <failure message="${xml(`threshold ${t.threshold} on ${t.metric} failed: ${observed}`)}" type="threshold">${xml(t.message ?? observed)}</failure>\n    `;
    return `    <testcase classname="${xml(`${r.scenario}.${t.metric}`)}" name="${xml(name)}" time="${(r.durationMs / 1000).toFixed(3)}">${body}</testcase>`;
  });
  if (r.aborted && r.aborted !== 'interrupted') {
    cases.push(
      `    <testcase classname="${xml(r.scenario)}" name="run completed" time="${(r.durationMs / 1000).toFixed(3)}">\n      <failure message="${xml(r.aborted)}" type="aborted"/>\n    </testcase>`,
    );
  }
  const failures = r.thresholds.filter((t) => !t.ok).length + (r.aborted && r.aborted !== 'interrupted' ? 1 : 0);
  const tests = cases.length;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="surgectl loadtest" tests="${tests}" failures="${failures}" errors="0" time="${(r.durationMs / 1000).toFixed(3)}">
  <testsuite name="${xml(r.scenario)}" tests="${tests}" failures="${failures}" errors="0" skipped="0" time="${(r.durationMs / 1000).toFixed(3)}">
    <properties>
      <property name="target" value="${xml(r.target)}"/>
      <property name="engine" value="${r.engine}"/>
    </properties>
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

function lineChart(title: string, series: { label: string; color: string; values: number[] }[], xs: number[], unit: string): string {
  const W = 900;
  const H = 260;
  const pad = { l: 64, r: 16, t: 28, b: 32 };
  const all = series.flatMap((s) => s.values);
  const max = Math.max(1e-9, ...all) * 1.05;
  const xMax = Math.max(1, ...xs);
  const x = (t: number) => pad.l + (t / xMax) * (W - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - v / max) * (H - pad.t - pad.b);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const v = f * max;
      return `<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/><text x="${pad.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(v)}${xml(unit)}</text>`;
    })
    .join('');
  const xTicks = [0, 0.5, 1].map((f) => `<text x="${x(f * xMax).toFixed(1)}" y="${H - 10}" text-anchor="middle" font-size="11">${fmt(f * xMax)}s</text>`).join('');
  const lines = series
    .map(
      (s, i) =>
        `<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${s.values.map((v, j) => `${x(xs[j] ?? 0).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"><title>${xml(s.label)}</title></polyline>` +
        `<text x="${W - pad.r - 150 * (series.length - i)}" y="18" font-size="12" fill="${s.color}">■ ${xml(s.label)}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${xml(title)}" font-family="sans-serif"><rect width="${W}" height="${H}" fill="#fff"/><text x="${pad.l}" y="18" font-size="13" font-weight="bold">${xml(title)}</text>${grid}${xTicks}${lines}</svg>`;
}

/** A self-contained HTML report (inline SVG, no scripts or external assets). */
export function renderHtml(r: LoadTestResult): string {
  const tl: readonly TimelinePoint[] = r.timeline;
  const xs = tl.map((p) => p.t);
  const charts =
    tl.length > 0
      ? lineChart(
          'Latency over time',
          [
            { label: 'p50', color: '#4c9f70', values: tl.map((p) => p.p50Ms) },
            { label: 'p95', color: '#e0a030', values: tl.map((p) => p.p95Ms) },
            { label: 'p99', color: '#d0453a', values: tl.map((p) => p.p99Ms) },
          ],
          xs,
          'ms',
        ) +
        lineChart(
          'Throughput over time (per second)',
          [
            { label: 'requests', color: '#3a6ed0', values: tl.map((p) => p.requests) },
            { label: 'failed', color: '#d0453a', values: tl.map((p) => p.failed) },
            { label: 'dropped', color: '#888', values: tl.map((p) => p.dropped) },
          ],
          xs,
          '',
        )
      : '<p>No per-second timeline (the k6 engine reports only the end-of-test summary).</p>';
  const rows = r.thresholds
    .map(
      (t) =>
        `<tr class="${t.ok ? 'ok' : 'bad'}"><td>${t.ok ? '✓' : '✗'}</td><td><code>${xml(t.metric)}</code></td><td><code>${xml(t.threshold)}</code></td><td>${t.value === undefined ? xml(t.message ?? 'no data') : fmt(t.value)}</td></tr>`,
    )
    .join('\n');
  const metrics = Object.entries(r.summary.metrics)
    .map(([k, m]) => `<tr><td><code>${xml(k)}</code></td><td>${m.type}</td><td>${xml(metricLine(m))}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${xml(r.scenario)} · surgectl load test</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:960px}table{border-collapse:collapse;width:100%;margin:1rem 0}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;font-size:.9rem}tr.bad td{color:#b00}tr.ok td:first-child{color:#080}.verdict{font-size:1.3rem;font-weight:bold}.pass{color:#080}.fail{color:#b00}</style>
</head><body>
<h1>${xml(r.scenario)}</h1>
<p>Target <code>${xml(r.target)}</code> · ${r.engine} engine · ${fmt(r.durationMs / 1000, 's')}${r.aborted ? ` · <strong>aborted: ${xml(r.aborted)}</strong>` : ''}</p>
<p class="verdict ${r.passed ? 'pass' : 'fail'}">${r.passed ? 'PASSED' : 'FAILED'}</p>
${charts}
<h2>Thresholds</h2>
<table><thead><tr><th></th><th>metric</th><th>threshold</th><th>observed</th></tr></thead><tbody>
${rows || '<tr><td colspan="4">none</td></tr>'}
</tbody></table>
<h2>Metrics</h2>
<table><thead><tr><th>metric</th><th>type</th><th>values</th></tr></thead><tbody>
${metrics}
</tbody></table>
</body></html>
`;
}
