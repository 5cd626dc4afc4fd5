import { describe, expect, it } from 'vitest';
import { renderForecastChart } from './chart.js';
import { renderForecastHtml, renderForecastSvg } from './chart-svg.js';

const data = {
  history: Array.from({ length: 300 }, (_, i) => 10 + Math.sin(i / 10)),
  point: Array.from({ length: 100 }, (_, i) => 10 + Math.sin((300 + i) / 10)),
  lower: Array.from({ length: 100 }, () => 8),
  upper: Array.from({ length: 100 }, (_, i) => (i === 50 ? 40 : 12)),
};

describe('terminal chart', () => {
  it('fits the width, keeps the peak and marks where the forecast starts', () => {
    const out = renderForecastChart(data, { width: 80, height: 8 });
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(9 + 1);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80 + 13);
    // Shrinking takes the max per column, so the 40 spike in the band is still the top of the axis.
    expect(lines[0]).toMatch(/^ +40\.0 /);
    expect(lines[lines.length - 1]).toMatch(/\^ forecast starts/);
    expect(out.includes(String.fromCharCode(27))).toBe(false);
    expect(renderForecastChart(data, { width: 80, color: true }).includes(String.fromCharCode(27))).toBe(true);
  });
});

describe('svg and html charts', () => {
  it('are self-contained documents with escaped titles', () => {
    const svg = renderForecastSvg(data, { title: 'orders <eu>' });
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('orders &lt;eu&gt;');
    expect(svg).toContain('<polygon');
    expect(svg).not.toMatch(/<script|href=/);
    const html = renderForecastHtml(svg, 'x', [{ time: 't', value: 1 }]);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<td>1</td>');
  });
});
