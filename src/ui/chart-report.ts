import type { ForecastResult, SeriesForecast } from '../forecast/types.js';
import type { ScalePlan } from '../forecast/capacity-plan.js';
import { unitLabel } from '../forecast/units.js';
import { renderForecastChart } from './chart.js';
import type { Paint } from './color.js';
import { renderTable } from './table.js';

/** Options of {@link renderForecastTable}. */
export interface ForecastRenderOptions {
  /** Rows of the per-step table (evenly spaced through the horizon, peak always included). */
  rows: number;
  chartWidth: number;
  paint: Paint;
}

const pct = (v: number) => `${Math.round(v * 100)}%`;

/** The human form of `surgectl forecast`: per series summary, backtest table, peak, chart and steps. */
export function renderForecastTable(result: ForecastResult, opts: ForecastRenderOptions): string {
  const { paint } = opts;
  if (result.series.length > 3) {
    return (
      renderTable(result.series, [
        { header: 'series', value: (s) => s.name },
        { header: 'model', value: (s) => s.model },
        { header: 'mase', value: (s) => s.backtest.candidates[0]?.mase, align: 'right' },
        { header: 'peak', value: (s) => `${s.peak.value}${unitLabel(s.unit ?? 'per-second', s.stepSeconds)}`, align: 'right' },
        { header: 'peak 95%', value: (s) => `${s.peak.lo95}..${s.peak.hi95}` },
        { header: 'peak at', value: (s) => s.peak.t },
      ]) + paint.dim(`${result.series.length} series; -o json for every step\n`)
    );
  }
  return result.series.map((s) => renderOne(s, opts)).join('\n');
}

function renderOne(s: SeriesForecast, opts: ForecastRenderOptions): string {
  const { paint } = opts;
  const bt = s.backtest;
  const chosen = bt.candidates.find((c) => c.model === s.model);
  const out: string[] = [];
  const ul = unitLabel(s.unit ?? 'per-second', s.stepSeconds);
  const unitText = `values in orders${ul}${s.unitAssumed ? ' (assumed; --unit to say)' : ''}`;
  out.push(`${paint.bold(s.name)}  step ${s.stepSeconds}s  ${unitText}  history ${s.history.start} .. ${s.history.end} (${s.history.points} points)`);
  const h = s.history.hygiene;
  const fixes = [
    h.unsorted && `${h.unsorted} unsorted`,
    h.duplicates && `${h.duplicates} duplicate timestamps averaged`,
    h.gapsFilled && `${h.gapsFilled} gaps filled`,
    h.resampled && `${h.resampled} points resampled to the step`,
    h.counterResets && `${h.counterResets} counter resets`,
    h.emptyValues && `${h.emptyValues} empty values`,
    (h.longestGapSteps ?? 0) > 1 && `longest hole ${h.longestGapSteps} steps`,
  ].filter(Boolean);
  if (fixes.length) out.push(paint.dim(`data: ${fixes.join(', ')}`));
  const season = s.seasonality.length ? s.seasonality.map((p) => `${p} steps`).join(' + ') : 'none';
  out.push(
    `model ${paint.cyan(s.model)} (${bt.selected}; ${bt.origins} origins x ${bt.horizon} steps${bt.aggregation > 1 ? `, fitted on ${bt.aggregation}-step means` : ''})  seasonality ${season}`,
  );
  out.push('');
  out.push(
    renderTable(bt.candidates.slice(0, 12), [
      { header: 'model', value: (c) => (c.model === s.model ? paint.cyan(c.model) : c.model) },
      { header: 'mase', value: (c) => c.mase, align: 'right' },
      { header: 'smape %', value: (c) => c.smape, align: 'right' },
      { header: '80% cover', value: (c) => pct(c.coverage80), align: 'right' },
      { header: '95% cover', value: (c) => pct(c.coverage95), align: 'right' },
    ]).trimEnd(),
  );
  for (const c of s.campaigns) {
    out.push(paint.dim(`campaign ${c.name} (${c.kind}): x${Math.round(c.uplift * 100) / 100} from ${c.source}, ${new Date(c.start).toISOString()} .. ${new Date(c.end).toISOString()}`));
  }
  // Holidays that matter here in full; the ones neither applied nor in the horizon in one line.
  const quiet = (s.holidays ?? []).filter((hd) => !hd.applied && hd.inHorizon.length === 0);
  if (quiet.length) out.push(paint.dim(`holidays not applied (no better than the plain forecast in the backtest, or too few past occurrences): ${quiet.map((hd) => hd.name).join(', ')}`));
  for (const hd of (s.holidays ?? []).filter((x) => !quiet.includes(x))) {
    const seen = hd.inHistory.length ? `x${Math.round(hd.effect * 100) / 100} from ${hd.inHistory.map((o) => `${o.date} x${Math.round(o.effect * 100) / 100}`).join(', ')}` : 'not in the history';
    const line = `holiday ${hd.name}: ${seen}; ${hd.inHorizon.length ? `in the horizon ${hd.inHorizon.join(', ')}` : 'not in the horizon'}; ${hd.applied ? 'applied' : 'not applied'} (${hd.reason})`;
    out.push(hd.applied ? line : paint.dim(line));
  }
  for (const r of s.regressors ?? []) {
    out.push(`regressor ${r.name}: coefficient ${r.coefficient} ${r.unit}; ${r.reason}`);
  }
  out.push('');
  const p = s.peak;
  if (s.likelyUnit) out.push(paint.yellow(`warning: these values look like counts ${s.likelyUnit.replace('per-', 'per ')} but are read as per-second rates; forecast with --unit ${s.likelyUnit}`));
  out.push(`${paint.bold('peak')} ${p.value}${ul} at ${p.t}  80% ${p.lo80}..${p.hi80}  95% ${p.lo95}..${p.hi95}${p.campaign ? `  (campaign ${p.campaign})` : ''}`);
  if (chosen) out.push(paint.dim(`interval coverage on the backtest: 80% -> ${pct(chosen.coverage80)}, 95% -> ${pct(chosen.coverage95)}`));
  out.push('');
  out.push(
    renderForecastChart(
      { history: s.tail.map((x) => x.value), point: s.points.map((x) => x.value), lower: s.points.map((x) => x.lo95), upper: s.points.map((x) => x.hi95) },
      { width: opts.chartWidth, color: paint.enabled },
    ).trimEnd(),
  );
  if (opts.rows > 0) {
    const every = Math.max(1, Math.ceil(s.points.length / opts.rows));
    const rows = s.points.filter((x, i) => i % every === 0 || x === p);
    out.push('');
    out.push(
      renderTable(rows, [
        { header: 'time', value: (x) => (x === p ? paint.bold(x.t) : x.t) },
        { header: `forecast ${ul}`, value: (x) => x.value, align: 'right' },
        { header: '80% low', value: (x) => x.lo80, align: 'right' },
        { header: '80% high', value: (x) => x.hi80, align: 'right' },
        { header: '95% low', value: (x) => x.lo95, align: 'right' },
        { header: '95% high', value: (x) => x.hi95, align: 'right' },
        { header: 'campaign', value: (x) => x.campaign ?? (x.holiday ? `holiday ${x.holiday}` : '') },
      ]).trimEnd(),
    );
    if (every > 1) out.push(paint.dim(`(every ${every}th step and the peak; --rows all for all ${s.points.length})`));
  }
  return out.join('\n') + '\n';
}

/** The human form of `surgectl capacity plan`: replicas per service with the arithmetic. */
export function renderScalePlan(plan: ScalePlan, paint: Paint): string {
  const d = plan.spec.demand;
  const out = [
    `${paint.bold(plan.metadata.name)}: sized on ${d.sizedOn} = ${Math.round(d.sizedValue * 1e4) / 1e4}/s${d.unit && d.unit !== 'per-second' && d.sizedInUnit !== undefined ? ` (${d.sizedInUnit} ${d.unit})` : d.unitAssumed ? ` (unit assumed: the forecast had no --unit${d.likelyUnit && d.sizedIfLikelyUnit !== undefined ? `; its values look ${d.likelyUnit}, which would be ${Math.round(d.sizedIfLikelyUnit * 1e4) / 1e4}/s` : ''})` : ''} at ${d.peakAt} (point ${d.point}, 95% ${d.lo95}..${d.hi95}), headroom ${pct(plan.spec.headroom)}`,
    `window ${plan.spec.window.start} .. ${plan.spec.window.end}  (source: ${plan.spec.source.series}, model ${plan.spec.source.model})`,
    '',
    renderTable(plan.spec.services, [
      { header: 'service', value: (s) => s.name },
      { header: 'per-replica rps', value: (s) => s.perReplicaRps, align: 'right' },
      { header: 'demand rps', value: (s) => s.demandRps, align: 'right' },
      { header: 'replicas', value: (s) => s.replicas, align: 'right' },
      { header: 'asg min', value: (s) => s.asg.min, align: 'right' },
      { header: 'desired', value: (s) => s.asg.desired, align: 'right' },
      { header: 'max', value: (s) => s.asg.max, align: 'right' },
    ]).trimEnd(),
  ];
  for (const s of plan.spec.services) {
    out.push('', paint.cyan(s.name), ...s.arithmetic.map((a) => `  ${a}`));
  }
  return out.join('\n') + '\n';
}
