import { describe, expect, it } from 'vitest';
import { renderForecastChart } from './chart.js';
import { renderForecastHtmlPage, renderForecastSvg, stackSvgCharts } from './chart-svg.js';

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
    const html = renderForecastHtmlPage('x', [{ svg, rows: [{ time: 't', value: 1 }] }]);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<td>1</td>');
  });

  it('stack several series in one SVG, each placed below the last, and give each its own HTML section', () => {
    const a = renderForecastSvg(data, { title: 'eu', height: 300 });
    const b = renderForecastSvg(data, { title: 'us', height: 200 });
    expect(stackSvgCharts([a])).toBe(a);
    const both = stackSvgCharts([a, b]);
    expect(both).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 960 500" width="960" height="500"/);
    expect(both).toContain('<svg x="0" y="0" xmlns');
    expect(both).toContain('<svg x="0" y="300" xmlns');
    expect(both.trimEnd().endsWith('</svg>\n</svg>')).toBe(true);
    const page = renderForecastHtmlPage('two', [
      { heading: 'eu <1>', svg: a, rows: [{ v: 1 }] },
      { heading: 'us', svg: b, rows: [{ v: 2 }] },
    ]);
    expect(page).toContain('<h2>eu &lt;1&gt;</h2>');
    expect(page.indexOf('<td>1</td>')).toBeLessThan(page.indexOf('<h2>us</h2>'));
    expect(page.indexOf('<h2>us</h2>')).toBeLessThan(page.indexOf('<td>2</td>'));
  });
});
