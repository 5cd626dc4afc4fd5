import asciichart from 'asciichart';

/** A history tail followed by a forecast with an interval band, for terminal and file charts. */
export interface ForecastChartData {
  /** History values, oldest first. */
  history: readonly number[];
  /** Forecast point values following the history. */
  point: readonly number[];
  lower: readonly number[];
  upper: readonly number[];
}

/** Options of {@link renderForecastChart}. */
export interface TerminalChartOptions {
  /** Plot width in columns; series are averaged down to it. Default 100. */
  width?: number;
  /** Plot height in rows. Default 12. */
  height?: number;
  /** ANSI colours (history, forecast, band). Default off. */
  color?: boolean;
}

/**
 * Renders history + forecast + band with asciichart. asciichart has no gaps, so the band lines
 * follow the history until the forecast starts; a `|` row marker shows where it does.
 */
export function renderForecastChart(data: ForecastChartData, opts: TerminalChartOptions = {}): string {
  const width = Math.max(10, opts.width ?? 100);
  const total = data.history.length + data.point.length;
  if (total === 0) return '';
  const factor = Math.max(1, Math.ceil(total / width));
  const line = shrink([...data.history, ...data.point], factor);
  const lo = shrink([...data.history, ...data.lower], factor);
  const hi = shrink([...data.history, ...data.upper], factor);
  // Series order is band top, forecast line, band bottom.
  const plot = asciichart.plot([hi, line, lo], {
    height: opts.height ?? 12,
    ...(opts.color ? { colors: [asciichart.darkgray, asciichart.cyan, asciichart.darkgray] } : {}),
    format: (x: number) => x.toFixed(1).padStart(9),
  });
  const split = Math.floor(data.history.length / factor);
  const marker = ' '.repeat(12 + split) + '^ forecast starts';
  return `${plot}\n${marker}\n`;
}

function shrink(values: readonly number[], factor: number): number[] {
  if (factor <= 1) return [...values];
  const out: number[] = [];
  for (let i = 0; i < values.length; i += factor) {
    let m = -Infinity;
    // Max, not mean: a chart for surge planning must not smooth the peak away.
    for (let j = i; j < Math.min(values.length, i + factor); j++) m = Math.max(m, values[j] as number);
    out.push(m);
  }
  return out;
}
