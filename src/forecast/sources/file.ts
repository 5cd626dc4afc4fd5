import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { SurgeError } from '../../errors.js';
import type { RawSeries } from '../types.js';

const TIME_COLUMNS = ['timestamp', 'time', 'ts', 'ds', 'date'];
const VALUE_COLUMNS = ['value', 'y', 'orders', 'rate'];
const SERIES_COLUMNS = ['series', 'unique_id', 'id', 'name'];

/**
 * Reads `timestamp,value` or long-format `series,timestamp,value` rows from a CSV or JSON file.
 * JSON is an array of row objects with the same keys. Timestamps are ISO-8601 or unix seconds/ms.
 */
export async function readSeriesFile(path: string, opts: ParseSeriesOptions = {}): Promise<RawSeries[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SurgeError('SRG_DATA_SOURCE', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const name = basename(path, extname(path));
  // Excel and PowerShell write UTF-8 with a byte order mark; JSON.parse refuses it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return extname(path).toLowerCase() === '.json' ? parseSeriesJson(text, path, name, opts) : parseSeriesCsv(text, path, name, opts);
}

/** Options of the file parsers. */
export interface ParseSeriesOptions {
  /** Accept negative values; default false: SRG_DATA_NEGATIVE names the first rows that have one. */
  allowNegative?: boolean;
}

/**
 * Parses CSV text; `where` names the file in errors. An empty value cell is a gap (value NaN, filled
 * by regularise and counted in its hygiene); text that is not a number is an error.
 */
export function parseSeriesCsv(text: string, where = 'input', defaultName = 'series', opts: ParseSeriesOptions = {}): RawSeries[] {
  const lines = text.split(/\r?\n/);
  const headerAt = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
  if (headerAt < 0) throw new SurgeError('SRG_DATA_EMPTY', `${where} is empty`, { hint: 'Expected a header `timestamp,value` (or `series,timestamp,value`) and rows.' });
  const header = splitCsv(lines[headerAt] as string).map((h) => h.trim().toLowerCase());
  const cols = resolveColumns(header, where);
  const rows: { t: unknown; v: unknown; s: unknown }[] = [];
  const lineNo: number[] = [];
  for (let i = headerAt + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.startsWith('#')) continue;
    const cells = splitCsv(line);
    rows.push({ t: cells[cols.time], v: cells[cols.value], s: cols.series === undefined ? undefined : cells[cols.series] });
    lineNo.push(i + 1);
  }
  return toSeries(rows, (i) => `${where}:${lineNo[i]}`, where, defaultName, opts);
}

/** Parses JSON: an array of `{timestamp, value, series?}` objects. */
export function parseSeriesJson(text: string, where = 'input', defaultName = 'series', opts: ParseSeriesOptions = {}): RawSeries[] {
  if (text.trim() === '') throw new SurgeError('SRG_DATA_EMPTY', `${where} is empty`, { hint: 'Expected a JSON array of {"timestamp", "value"} objects.' });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SurgeError('SRG_DATA_FORMAT', `${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(doc)) {
    throw new SurgeError('SRG_DATA_FORMAT', `${where}: expected a JSON array of {"timestamp", "value"} objects`);
  }
  if (doc.length === 0) throw new SurgeError('SRG_DATA_EMPTY', `${where} has no rows`);
  const first = doc[0] as Record<string, unknown>;
  if (first === null || typeof first !== 'object') throw new SurgeError('SRG_DATA_FORMAT', `${where}: rows must be objects`);
  const keys = Object.keys(first);
  const cols = resolveColumns(keys.map((k) => k.toLowerCase()), where);
  const tk = keys[cols.time] as string;
  const vk = keys[cols.value] as string;
  const sk = cols.series === undefined ? undefined : keys[cols.series];
  const rows = doc.map((r: Record<string, unknown> | null) => ({ t: r?.[tk], v: r?.[vk], s: sk === undefined ? undefined : r?.[sk] }));
  return toSeries(rows, (i) => `${where} row ${i + 1}`, where, defaultName, opts);
}

function resolveColumns(header: readonly string[], where: string): { time: number; value: number; series: number | undefined } {
  let time = -1;
  let value = -1;
  let series: number | undefined;
  const unknown: string[] = [];
  header.forEach((h, i) => {
    if (TIME_COLUMNS.includes(h) && time < 0) time = i;
    else if (VALUE_COLUMNS.includes(h) && value < 0) value = i;
    else if (SERIES_COLUMNS.includes(h) && series === undefined) series = i;
    else unknown.push(h === '' ? `(empty, column ${i + 1})` : h);
  });
  if (unknown.length > 0 || time < 0 || value < 0) {
    const problems = [
      ...unknown.map((u) => `unknown column "${u}"`),
      ...(time < 0 ? [`no time column (one of ${TIME_COLUMNS.join(', ')})`] : []),
      ...(value < 0 ? [`no value column (one of ${VALUE_COLUMNS.join(', ')})`] : []),
    ];
    throw new SurgeError('SRG_DATA_FORMAT', `${where}: ${problems.join('; ')}`, {
      hint: 'Expected columns timestamp,value or series,timestamp,value.',
    });
  }
  return { time, value, series };
}

function toSeries(rows: { t: unknown; v: unknown; s: unknown }[], at: (i: number) => string, where: string, defaultName: string, opts: ParseSeriesOptions): RawSeries[] {
  if (rows.length === 0) throw new SurgeError('SRG_DATA_EMPTY', `${where} has a header but no rows`);
  const bySeries = new Map<string, RawSeries>();
  const negative: string[] = [];
  let negatives = 0;
  rows.forEach((r, i) => {
    const t = parseTime(r.t);
    if (t === undefined) throw new SurgeError('SRG_DATA_FORMAT', `${at(i)}: "${String(r.t)}" is not a timestamp`, { hint: 'Use ISO-8601 (2026-11-27T10:00:00Z) or unix seconds.' });
    // BI tools leave the cell empty (or write null) for an hour they have no figure for: a gap, not an error.
    const empty = r.v === undefined || r.v === null || (typeof r.v === 'string' && r.v.trim() === '');
    const v = empty ? NaN : typeof r.v === 'number' ? r.v : typeof r.v === 'string' ? Number(r.v) : NaN;
    if (!empty && !Number.isFinite(v)) throw new SurgeError('SRG_DATA_FORMAT', `${at(i)}: value "${String(r.v)}" is not a number`);
    if (v < 0 && !opts.allowNegative) {
      negatives++;
      if (negative.length < 5) negative.push(`${at(i)} (${v})`);
    }
    const name = r.s === undefined ? defaultName : String(r.s);
    let s = bySeries.get(name);
    if (!s) bySeries.set(name, (s = { name, points: [] }));
    s.points.push({ t, v });
  });
  if (negatives > 0) {
    throw new SurgeError('SRG_DATA_NEGATIVE', `${where}: ${negatives} negative value${negatives === 1 ? '' : 's'}: ${negative.join(', ')}${negatives > negative.length ? ', ...' : ''}`, {
      hint: 'Demand is a count of orders: export gross orders (refunds netted out go below zero), or pass --allow-negative if the values are meant to.',
    });
  }
  return [...bySeries.values()];
}

/**
 * ISO-8601 text, or a number: unix seconds below 1e11, else milliseconds. A date and time without a
 * zone (`2026-11-27T10:00:00`, `2026-11-27 10:00`) is UTC, like every time surgectl prints: read as
 * local time, the same file would give other times on another machine and a duplicated and a
 * missing hour at each daylight-saving change.
 */
export function parseTime(x: unknown): number | undefined {
  if (typeof x === 'number') return Number.isFinite(x) ? (x < 1e11 ? x * 1000 : x) : undefined;
  if (typeof x !== 'string' || x.trim() === '') return undefined;
  const s = x.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return parseTime(Number(s));
  return parseIsoTime(s);
}

/** ISO-8601 text (no unix numbers) as epoch ms; a date and time without a zone is UTC. */
export function parseIsoTime(text: string): number | undefined {
  let s = text.trim();
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/i.test(s)) s = `${s.slice(0, 10)}T${s.slice(11)}Z`;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Minimal CSV splitting with double-quoted cells. */
function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}
