import type { DrillReport, SecondOutcome, TimelineStep } from '../regions/drill-report.js';

/**
 * The failover drill report as one self-contained HTML page (no scripts, no external assets), in
 * the rehearsal report's look: the verdict, the gates, RTO and RPO per switch, a timeline chart of
 * accepted, refused and failed orders per second with each part shaded and each step marked, the
 * steps with their times, and every missing order by id.
 */
export function renderDrillHtml(r: DrillReport): string {
  const failed = r.gates.filter((g) => g.status === 'fail');
  const verdict = r.status === 'passed' ? 'PASSED: every gate passed' : r.status === 'interrupted' ? 'INTERRUPTED' : `FAILED: ${failed.length} gate(s) failed`;
  const colour = r.status === 'passed' ? '#2e7d32' : r.status === 'interrupted' ? '#b7950b' : '#c0392b';
  const gateRows = r.gates
    .map((g) => `<tr class="${g.status}"><td>${g.status.toUpperCase()}</td><td>${esc(g.title)}<br><code>${esc(g.id)}</code></td><td>${esc(g.observed)}</td><td>${esc(g.expected)}<br><code>${esc(g.condition)}</code></td><td>${esc(g.fix ?? '')}</td></tr>`)
    .join('\n');
  const partRows = r.parts
    .map(
      (p) =>
        `<tr class="${p.status === 'completed' ? 'pass' : 'fail'}"><td>${esc(p.name)}</td><td>${esc(`${p.from} -> ${p.to}`)}</td><td>${esc(p.status)}${p.message ? `<br><small>${esc(p.message)}</small>` : ''}</td><td>${p.rtoMs === undefined ? '-' : secs(p.rtoMs)}</td><td>${p.observedGapMs === undefined ? '-' : secs(p.observedGapMs)}</td><td>${esc(rpoText(p.rpo))}</td><td>${p.startS ?? '-'} .. ${p.endS ?? '-'} s</td><td>${p.journals.map((j) => `${esc(j.runbook)} (${esc(j.region)}): ${esc(j.status)}${j.path ? `<br><code>${esc(j.path)}</code>` : ''}`).join('<br>')}</td></tr>`,
    )
    .join('\n');
  const stepRows = r.steps
    .map(
      (s) =>
        `<tr class="${s.status === 'completed' ? 'pass' : s.status === 'skipped' ? 'skip' : 'fail'}"><td>${esc(s.part)}</td><td>${esc(s.step)}</td><td>${esc(s.kind)}</td><td>${esc(s.status)}</td><td>${s.startS ?? '-'}</td><td>${s.durationMs === undefined ? '-' : `${(s.durationMs / 1000).toFixed(2)} s`}</td><td>${esc(s.error ?? '')}</td></tr>`,
    )
    .join('\n');
  const o = r.orders;
  const statuses = Object.entries(o.byStatus)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const kv = (rows: [string, string | undefined][]) => `<table class="kv">${rows.filter(([, v]) => v !== undefined).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v as string)}</td></tr>`).join('')}</table>`;
  const l = r.load;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>surgectl failover drill: ${esc(verdict)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
h1{font-size:1.5em}.verdict{padding:.6em 1em;border-radius:6px;font-weight:bold;color:#fff;background:${colour}}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ddd;padding:4px 8px;vertical-align:top;text-align:left}
tr.pass td:first-child{color:#2e7d32;font-weight:bold}tr.fail td:first-child{color:#c0392b;font-weight:bold}tr.fail{background:#fdecea}tr.skip td:first-child{color:#888}
.kv th{background:#f6f6f6;width:16em}code{font-size:12px;color:#555}pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap}
</style></head><body>
<h1>surgectl failover drill: ${esc(`${r.settings.from} -> ${r.settings.to} -> ${r.settings.from}`)}${r.settings.killPrimary ? ' (primary killed)' : ''}</h1>
<p class="verdict">${esc(verdict)}</p>
<p>${esc(r.startedAt)} .. ${esc(r.endedAt)} (${(r.durationMs / 1000).toFixed(1)}s)</p>
<h2>Gates</h2>
<table><thead><tr><th>status</th><th>gate</th><th>observed</th><th>expected</th><th>what to fix</th></tr></thead><tbody>
${gateRows}
</tbody></table>
<h2>Switches</h2>
<table><thead><tr><th>part</th><th>regions</th><th>status</th><th>RTO (runbook)</th><th>longest time without an acknowledged order (load)</th><th>RPO (runbook's store comparison)</th><th>when</th><th>journals</th></tr></thead><tbody>
${partRows}
</tbody></table>
${kv([
  ['load', `${l.ratePerSec} orders/s through ${r.settings.frontUrl} for ${(l.durationMs / 1000).toFixed(1)} s`],
  ['answers', `${l.acknowledged} acknowledged, ${l.refused} refused (at most ${l.maxRefusedPerSec}/s), ${l.failed} failed (at most ${l.maxFailedPerSec}/s), ${l.dropped} dropped; ${l.secondsWithRefusals} s with refusals`],
  ['kill', r.kill ? `SIGKILL of ${r.settings.from}'s PostgreSQL at ${r.kill.atS} s: exit ${r.kill.exitCode}${r.kill.message ? ` (${r.kill.message})` : ''}` : undefined],
  ['loss estimate before the forced promotion', r.kill?.lossEstimate],
  ['orders on the final primary', o.basis === 'measured' ? `${o.present} of ${o.acknowledged} acknowledged orders on ${o.finalPrimary}: ${statuses || 'none'}; ${o.unfinished} not final` : `not checked: ${o.note ?? ''}`],
  ['note', o.basis === 'measured' ? o.note : undefined],
])}
<h2>Timeline</h2>
${timelineChart(l.perSecond, r.parts, r.steps, r.kill?.atS, r.events.find((e) => e.what === 'load stopped')?.t)}
<table><thead><tr><th>part</th><th>step</th><th>kind</th><th>status</th><th>start (s)</th><th>took</th><th>error</th></tr></thead><tbody>
${stepRows}
</tbody></table>
<h3>Drill events</h3>
<ul>${r.events.map((e) => `<li>${e.t.toFixed(1)} s: ${esc(e.what)}</li>`).join('')}</ul>
<h2>Acknowledged orders missing afterwards: ${o.missing.length}</h2>
${o.missing.length === 0 ? '<p>none</p>' : `<pre class="missing">${esc(o.missing.join('\n'))}</pre>`}
${r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}
<details><summary>Answers per second</summary>
<table><thead><tr><th>second</th><th>accepted</th><th>refused</th><th>failed</th></tr></thead><tbody>
${l.perSecond.map((s) => `<tr><td>${s.t}</td><td>${s.accepted}</td><td>${s.refused}</td><td>${s.failed}</td></tr>`).join('\n')}
</tbody></table></details>
</body></html>
`;
}

function rpoText(rpo: DrillReport['parts'][number]['rpo']): string {
  if (!rpo) return '-';
  if (rpo.basis === 'unknown') return `unknown: ${rpo.note ?? ''}`;
  return `${rpo.missing.length} missing of ${rpo.compared} compared`;
}

/** Steps labelled on the chart: the first refusal, the cut, the promotion, the traffic move, the proof, the rebuilds. */
const LABELLED = new Set(['pause-intake', 'fence', 'promote', 'move-traffic', 'verify-order', 'rebuild']);
const LABEL_ROWS = 5;

const STEP_COLOURS: Record<string, string> = { failover: '#1f5fbf', 'failback/rebuild': '#7f8c8d', 'failback/switchover': '#8e44ad', 'failback/rebuild-old': '#7f8c8d' };

/**
 * Accepted, refused and failed answers per second as lines; each part shaded; a tick with the
 * step's name at the start of each step that ran (the runbook's first refusal and the synthetic
 * order among them); the kill marked red.
 */
function timelineChart(seconds: readonly SecondOutcome[], parts: DrillReport['parts'], steps: readonly TimelineStep[], killS: number | undefined, loadStopS: number | undefined): string {
  const W = 1040;
  const H = 340;
  const pad = { l: 50, r: 110, t: 24, b: 100 };
  // the second the load stopped in is partial: drawn, it would look like a drop in orders
  const whole = loadStopS === undefined ? seconds : seconds.filter((s) => s.t + 1 <= loadStopS + 0.05);
  if (whole.length === 0) return '<p>no answers recorded</p>';
  const xMax = Math.max(1, whole.length, ...parts.map((p) => p.endS ?? 0));
  const yMax = Math.max(1, ...whole.map((s) => Math.max(s.accepted, s.refused, s.failed)));
  const x = (v: number) => pad.l + (v / xMax) * (W - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - v / yMax) * (H - pad.t - pad.b);
  const base = H - pad.b;
  const lines = [
    { name: 'accepted/s', colour: '#2e7d32', v: (s: SecondOutcome) => s.accepted },
    { name: 'refused/s', colour: '#e67e22', v: (s: SecondOutcome) => s.refused },
    { name: 'failed/s', colour: '#c0392b', v: (s: SecondOutcome) => s.failed },
  ]
    .map((l, i) => {
      // each second's count sits in the middle of that second
      const pts = whole.map((s) => `${x(s.t + 0.5).toFixed(1)},${y(l.v(s)).toFixed(1)}`).join(' ');
      return `<polyline class="series" points="${pts}" fill="none" stroke="${l.colour}" stroke-width="1.6"><title>${l.name}</title></polyline><text x="${W - pad.r + 8}" y="${pad.t + 14 * (i + 1)}" font-size="12" fill="${l.colour}">${l.name}</text>`;
    })
    .join('');
  const bands = parts
    .filter((p) => p.startS !== undefined && p.endS !== undefined)
    .map(
      (p) =>
        `<rect class="part" x="${x(p.startS as number).toFixed(1)}" y="${pad.t}" width="${Math.max(1, x(p.endS as number) - x(p.startS as number)).toFixed(1)}" height="${base - pad.t}" fill="${p.name === 'failover' ? '#aed6f1' : '#d7bde2'}" fill-opacity="0.35"><title>${esc(`${p.name} ${p.from} -> ${p.to}: ${p.status}`)}</title></rect><text x="${(x(p.startS as number) + 3).toFixed(1)}" y="${pad.t - 6}" font-size="11">${esc(p.name)}</text>`,
    )
    .join('');
  const ran = steps.filter((s) => s.startS !== undefined && s.status !== 'skipped' && s.status !== 'pending');
  // Steps of a switch start within a second of each other: only the ones that mark its shape get a
  // label (on the first of a few rows where it does not overlap another); every step keeps its tick
  // and a tooltip.
  const rowEnds: number[] = [];
  const marks = ran
    .map((s) => {
      const xv = x(s.startS as number);
      const xs = xv.toFixed(1);
      const colour = STEP_COLOURS[s.part] ?? '#555';
      let label = '';
      if (LABELLED.has(s.step) || s.status !== 'completed') {
        const row = rowEnds.findIndex((end) => end < xv);
        const r = row >= 0 ? row : rowEnds.length < LABEL_ROWS ? rowEnds.length : -1;
        if (r >= 0) {
          rowEnds[r] = xv + s.step.length * 6 + 6;
          const ly = base + 24 + r * 15;
          label = `<line x1="${xs}" y1="${base}" x2="${xs}" y2="${ly - 10}" stroke="${colour}" stroke-width="0.6"/><text x="${xs}" y="${ly}" font-size="10" fill="${colour}">${esc(s.step)}</text>`;
        }
      }
      return `<g class="step"><line x1="${xs}" y1="${pad.t}" x2="${xs}" y2="${base}" stroke="${colour}" stroke-width="0.8" stroke-dasharray="3 3"/>${label}<title>${esc(`${s.part} ${s.step} (${s.kind}) ${s.status} at ${s.startS} s`)}</title></g>`;
    })
    .join('');
  const kill = killS === undefined ? '' : `<line class="kill" x1="${x(killS).toFixed(1)}" y1="${pad.t}" x2="${x(killS).toFixed(1)}" y2="${base}" stroke="#c0392b" stroke-width="2"><title>SIGKILL of the primary at ${killS} s</title></line><text x="${(x(killS) - 3).toFixed(1)}" y="${pad.t - 6}" font-size="11" fill="#c0392b" text-anchor="end">SIGKILL</text>`;
  const ticks = [0, 0.5, 1].map((f) => `<text x="${pad.l - 6}" y="${(y(f * yMax) + 4).toFixed(1)}" font-size="11" text-anchor="end">${(f * yMax).toFixed(0)}</text>`).join('');
  const xticks = Array.from({ length: Math.floor(xMax / 10) + 1 }, (_, i) => i * 10)
    .map((t) => `<text x="${x(t).toFixed(1)}" y="${base + 12}" font-size="9" fill="#999" text-anchor="middle">${t}</text>`)
    .join('');
  return `<figure id="timeline"><figcaption>Orders per second through the front (accepted, refused, failed); the failover and the failback shaded, each runbook step marked where it began</figcaption><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="#fff"/>${bands}
<line x1="${pad.l}" y1="${base}" x2="${W - pad.r}" y2="${base}" stroke="#999"/>${ticks}${xticks}
<text x="${W - pad.r}" y="${H - 4}" font-size="11" text-anchor="end">${xMax.toFixed(0)} s</text>${marks}${kill}${lines}</svg></figure>`;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
