import type { ForecastChartData } from './chart.js';

/** Options of {@link renderForecastSvg}. */
export interface SvgChartOptions {
  title?: string;
  /** ISO time of each history value followed by each forecast step (axis labels). */
  times?: readonly string[];
  /** Pixels. Defaults 960 x 360. */
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A self-contained SVG of history, forecast and the interval band (no scripts, no external assets). */
export function renderForecastSvg(data: ForecastChartData, opts: SvgChartOptions = {}): string {
  const W = opts.width ?? 960;
  const H = opts.height ?? 360;
  const pad = { l: 60, r: 20, t: 30, b: 40 };
  const nh = data.history.length;
  const total = nh + data.point.length;
  const all = [...data.history, ...data.point, ...data.lower, ...data.upper];
  const min = all.reduce((m, v) => Math.min(m, v), 0);
  const max = all.reduce((m, v) => Math.max(m, v), min + 1);
  const x = (i: number) => pad.l + (i / Math.max(1, total - 1)) * (W - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - (v - min) / (max - min)) * (H - pad.t - pad.b);
  const path = (vals: readonly number[], off: number) => vals.map((v, i) => `${x(i + off).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const band = [...data.upper.map((v, i) => `${x(nh + i).toFixed(1)},${y(v).toFixed(1)}`), ...[...data.lower].reverse().map((v, i) => `${x(nh + data.lower.length - 1 - i).toFixed(1)},${y(v).toFixed(1)}`)].join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = min + f * (max - min);
    return `<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/><text x="${pad.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${v.toFixed(1)}</text>`;
  });
  const times = opts.times ?? [];
  const xlabels = times.length === total ? [0, nh, total - 1].map((i) => `<text x="${x(i).toFixed(1)}" y="${H - 12}" text-anchor="middle" font-size="11">${esc((times[i] ?? '').replace('T', ' ').slice(0, 16))}</text>`) : [];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    opts.title ? `<text x="${pad.l}" y="18" font-size="14">${esc(opts.title)}</text>` : '',
    ...ticks,
    data.point.length ? `<polygon points="${band}" fill="#7aa6da" fill-opacity="0.35" stroke="none"><title>95% interval</title></polygon>` : '',
    `<polyline points="${path(data.history, 0)}" fill="none" stroke="#444" stroke-width="1.2"><title>history</title></polyline>`,
    data.point.length ? `<polyline points="${path(data.point, nh)}" fill="none" stroke="#1f5fbf" stroke-width="1.6"><title>forecast</title></polyline>` : '',
    `<line x1="${x(nh).toFixed(1)}" x2="${x(nh).toFixed(1)}" y1="${pad.t}" y2="${H - pad.b}" stroke="#c33" stroke-dasharray="4 3"/>`,
    ...xlabels,
    '</svg>',
  ].join('\n');
}

/**
 * Several charts in one SVG document, one under the other (each keeps its own scale). One chart
 * comes back as it is.
 */
export function stackSvgCharts(charts: readonly string[]): string {
  if (charts.length === 1) return charts[0] ?? '';
  const sized = charts.map((svg) => {
    const m = /^<svg[^>]*\swidth="(\d+(?:\.\d+)?)"[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(svg);
    return { svg, w: Number(m?.[1] ?? 960), h: Number(m?.[2] ?? 360) };
  });
  const W = Math.max(...sized.map((c) => c.w));
  let y = 0;
  const inner = sized.map((c) => {
    const placed = c.svg.replace(/^<svg /, `<svg x="0" y="${y}" `);
    y += c.h;
    return placed;
  });
  return [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${y}" width="${W}" height="${y}" font-family="sans-serif">`, ...inner, '</svg>'].join('\n');
}

/** One chart of an HTML report, with a table of rows (e.g. the per-step values) under it. */
export interface HtmlChartSection {
  heading?: string;
  svg: string;
  rows: readonly Record<string, string | number>[];
}

/** An HTML page with a section per series: its chart and a table of rows (e.g. the per-step values). */
export function renderForecastHtmlPage(title: string, sections: readonly HtmlChartSection[]): string {
  const table = (rows: readonly Record<string, string | number>[]) => {
    const cols = rows[0] ? Object.keys(rows[0]) : [];
    return rows.length
      ? `<table><thead><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows
          .map((r) => `<tr>${cols.map((c) => `<td>${esc(String(r[c] ?? ''))}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`
      : '';
  };
  const body = sections.map((s) => [s.heading !== undefined ? `<h2>${esc(s.heading)}</h2>` : '', s.svg, table(s.rows)].filter((x) => x !== '').join('\n')).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}</style>
</head><body><h1>${esc(title)}</h1>
${body}
</body></html>
`;
}
