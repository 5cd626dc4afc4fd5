import type { SloState, ViewRow, WatchView } from '../watch/view.js';
import type { Paint } from './color.js';

const BARS = '▁▂▃▄▅▆▇█';

/**
 * A Unicode sparkline `width` cells wide: the newest value on the right, older values squeezed
 * into the cells (the highest of each group, so a spike is not averaged away), blank where
 * unknown. The scale runs from 0 to the highest value shown.
 */
export function sparkline(values: readonly (number | null)[], width: number): string {
  if (width <= 0) return '';
  let cells: (number | null)[] = [...values];
  if (cells.length > width) {
    const out: (number | null)[] = [];
    for (let i = 0; i < width; i++) {
      const from = Math.floor((i * values.length) / width);
      const to = Math.floor(((i + 1) * values.length) / width);
      let m: number | null = null;
      for (const v of values.slice(from, to)) if (v !== null && (m === null || v > m)) m = v;
      out.push(m);
    }
    cells = out;
  }
  const max = Math.max(0, ...cells.filter((v): v is number => v !== null));
  const line = cells.map((v) => (v === null ? ' ' : BARS[max <= 0 ? 0 : Math.min(7, Math.max(0, Math.round((v / max) * 7)))]));
  return ' '.repeat(width - line.length) + line.join('');
}

type Part = [text: string, colour?: (s: string) => string];

/** Joins parts, cut at `width` visible cells; colour is applied after the cut, so escapes are never split. */
function fit(parts: readonly Part[], width: number): string {
  let left = width;
  let out = '';
  for (const [text, colour] of parts) {
    if (left <= 0) break;
    const cells = [...text];
    const shown = cells.length > left ? cells.slice(0, left).join('') : text;
    left -= Math.min(cells.length, left);
    out += colour ? colour(shown) : shown;
  }
  return out;
}

function stateColour(state: SloState, paint: Paint): ((s: string) => string) | undefined {
  if (state === 'breach') return (s) => paint.bold(paint.red(s));
  if (state === 'warn') return paint.yellow;
  if (state === 'ok') return paint.green;
  return undefined;
}

export interface WatchLayout {
  /** Terminal columns. */
  width: number;
  /** Terminal rows; lines beyond it are left out (stock rows first). */
  height: number;
  paint: Paint;
  /** Refresh interval shown in the title, ms. */
  intervalMs?: number;
}

const LABEL = 13;
const VALUE = 16;
const SLO = 10;

function rowLine(r: ViewRow, width: number, paint: Paint): string {
  const spark = Math.max(0, width - (LABEL + VALUE + SLO + 3));
  const colour = stateColour(r.state, paint);
  return fit(
    [
      [r.label.padEnd(LABEL)],
      [r.text.padStart(VALUE), colour],
      ['  ' + r.slo.padEnd(SLO), paint.dim],
      [' ' + sparkline(r.series, spark), r.state === 'breach' ? paint.red : paint.cyan],
    ],
    width,
  );
}

/**
 * The watch screen as lines for a terminal `width` x `height` (no line longer than `width`,
 * never more than `height` lines). The same drawing serves the live screen and `--once`'s table.
 */
export function renderWatchLines(view: WatchView, layout: WatchLayout): string[] {
  const { width, paint } = layout;
  const height = Math.max(1, layout.height);
  const time = view.at === null ? 'waiting for the first reading' : view.at.slice(11, 19) + ' UTC';
  const every = layout.intervalMs === undefined ? '' : ` · every ${layout.intervalMs >= 1000 ? `${layout.intervalMs / 1000}s` : `${layout.intervalMs}ms`}`;
  const head: string[] = [fit([['surgectl watch', paint.bold], [` · ${view.source}${every} · ${time}`], ['   q quits', paint.dim]], width)];
  if (view.error !== null) head.push(fit([['! ', paint.red], [view.error, paint.red]], width));
  head.push(paint.dim('─'.repeat(Math.max(0, width))));

  const body = view.rows.map((r) => rowLine(r, width, paint));
  body.push(fit([['breaker'.padEnd(LABEL)], [view.breaker.value.padStart(VALUE), stateColour(view.breaker.state, paint)]], width));
  if (view.flags.length > 0) {
    const parts: Part[] = [['flags'.padEnd(LABEL)]];
    view.flags.forEach((f, i) => {
      parts.push([i === 0 ? ' ' : ' · '], [`${f.name} ${f.enabled ? 'on' : 'off'}`, stateColour(f.state, paint)]);
    });
    body.push(fit(parts, width));
  }

  const stock: string[] = [];
  if (view.stock === null) stock.push(fit([['stock'.padEnd(LABEL)], [' not in this source (Prometheus has no stock metric)', paint.dim]], width));
  else if (view.stock.length > 0) {
    stock.push(fit([['stock'.padEnd(LABEL)], ['left'.padStart(8) + 'taken/s'.padStart(10), paint.dim]], width));
    for (const s of view.stock) {
      const spark = Math.max(0, width - (LABEL + 8 + 10 + 2));
      stock.push(
        fit(
          [
            [('  ' + s.sku).padEnd(LABEL)],
            [String(s.available).padStart(8), stateColour(s.state, paint)],
            [(s.takenPerSec === null ? '-' : s.takenPerSec.toFixed(1)).padStart(10)],
            ['  ' + sparkline(s.series, spark), paint.cyan],
          ],
          width,
        ),
      );
    }
  }
  const lines = [...head, ...body, ...(stock.length > 0 ? [''] : []), ...stock];
  return lines.slice(0, height);
}
