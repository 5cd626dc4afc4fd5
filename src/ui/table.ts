import { stripAnsi } from './color.js';

export interface Column<Row> {
  header: string;
  /** Cell text for a row. */
  value: (row: Row) => string | number | boolean | null | undefined;
  align?: 'left' | 'right';
}

/** Renders rows as an aligned plain-text table (two spaces between columns, like kubectl). */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((r) => columns.map((c) => formatCell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => stripAnsi(row[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => {
        const pad = (widths[i] ?? 0) - stripAnsi(v).length;
        return columns[i]?.align === 'right' ? ' '.repeat(pad) + v : v + ' '.repeat(pad);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

function formatCell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  return String(v);
}
