import { readFile } from 'node:fs/promises';
import { SurgeError } from '../errors.js';
import type { Reporter } from '../reporter.js';
import { resolve } from 'node:path';
import { readCampaigns } from './campaigns.js';
import { loadHolidays } from './holidays.js';
import { parseRegressorSpec, type Regressor } from './regressors.js';
import { forecast, type ForecastOptions } from './forecast.js';
import { generateSample, sampleCampaignsYaml, sampleToCsv } from './sample.js';
import { readSeriesFile } from './sources/file.js';
import type { ForecastResult, RawSeries, SeriesForecast } from './types.js';
import type { ScalePlan } from './capacity-plan.js';
import { checkOutputPaths, writeOutputFiles, type OutputPath } from '../util/output-files.js';

/** Where `surgectl forecast` reads history from: a file, or Prometheus. */
export interface ForecastRunOptions extends Omit<ForecastOptions, 'series' | 'campaigns' | 'holidays' | 'regressors'> {
  input?: string;
  prometheus?: {
    url: string;
    query: string;
    /** How far back to read, ms. */
    lookbackMs: number;
    /** Extra HTTP headers as `Name: value` lines (--header). */
    headerLines?: readonly string[];
    /** A file holding a bearer token, sent as `Authorization: Bearer <token>`. */
    bearerTokenFile?: string;
    caFile?: string;
    insecureSkipVerify?: boolean;
  };
  /** Campaign calendar YAML. */
  campaignsFile?: string;
  /** Holiday calendars by country code: `us,de` or ['us', 'de'] (--holidays, forecast.holidays). */
  holidays?: string | readonly string[];
  /** `name=file.csv` leading indicators (--regressor, repeatable); file paths relative to `cwd`. */
  regressors?: readonly string[];
  /** Folder regressor file paths are relative to. Default: as given. */
  cwd?: string;
  /** Write the forecast JSON here. */
  out?: string;
  /** Write an SVG or HTML chart here (by extension). */
  plot?: string;
  now: () => number;
  reporter?: Reporter;
}

/**
 * Reads the sources, forecasts, writes --out/--plot files; returns the result and the files written.
 * The output paths are checked before anything is read, and the files are written all or none.
 */
export async function runForecast(opts: ForecastRunOptions): Promise<{ result: ForecastResult; written: string[] }> {
  if (!opts.input === !opts.prometheus) {
    throw new SurgeError('SRG_CLI_USAGE', 'give exactly one source: --input <file> or --prometheus <url> with --query', {
      hint: 'e.g. surgectl forecast --input orders.csv --horizon 7d',
    });
  }
  // Bad headers or an unreadable token file are refused before any output path is touched.
  const headers = opts.prometheus ? await (await import('./sources/prometheus.js')).prometheusHeaders(opts.prometheus.headerLines ?? [], opts.prometheus.bearerTokenFile) : {};
  if (opts.plot && !/\.(svg|html?)$/i.test(opts.plot)) throw new SurgeError('SRG_CLI_USAGE', `--plot ${opts.plot}: expected a .svg or .html file`);
  const outputs: OutputPath[] = [
    ...(opts.out ? [{ flag: '--out', path: opts.out }] : []),
    ...(opts.plot ? [{ flag: '--plot', path: opts.plot }] : []),
  ];
  const regressorSpecs = (opts.regressors ?? []).map(parseRegressorSpec);
  const dup = regressorSpecs.find((r, i) => regressorSpecs.findIndex((o) => o.name === r.name) !== i);
  if (dup) throw new SurgeError('SRG_CLI_USAGE', `--regressor ${dup.name} is given twice`);
  const holidays = opts.holidays !== undefined && opts.holidays.length > 0 ? await loadHolidays(opts.holidays) : undefined;
  await checkOutputPaths(outputs, { createParents: true });
  let series;
  if (opts.input) {
    series = await readSeriesFile(opts.input, { allowNegative: opts.allowNegative ?? false });
  } else {
    const p = opts.prometheus as NonNullable<ForecastRunOptions['prometheus']>;
    const stepMs = opts.stepMs ?? 300_000;
    const end = Math.floor(opts.now() / stepMs) * stepMs;
    const { readPrometheus } = await import('./sources/prometheus.js');
    const { withoutCredentials } = await import('../util/url.js');
    series = await readPrometheus({
      url: p.url,
      query: p.query,
      start: end - p.lookbackMs,
      end,
      stepMs,
      headers,
      ...(p.caFile ? { caFile: p.caFile } : {}),
      ...(p.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    opts.reporter?.notify(`read ${series.length} series from ${withoutCredentials(p.url)}`, 'progress');
  }
  const campaigns = opts.campaignsFile ? await readCampaigns(opts.campaignsFile) : [];
  const regressors: Regressor[] = [];
  for (const r of regressorSpecs) {
    const file = opts.cwd ? resolve(opts.cwd, r.file) : r.file;
    const read = await readSeriesFile(file, { allowNegative: true });
    if (read.length !== 1) throw new SurgeError('SRG_DATA_FORMAT', `regressor "${r.name}" (${r.file}) holds ${read.length} series; expected one: timestamp,value`);
    regressors.push({ name: r.name, file: r.file, series: read[0] as RawSeries });
  }
  // rate() answers are per-second rates: no unit guessing for Prometheus unless --unit says otherwise.
  const unit = opts.unit ?? (opts.prometheus && !opts.counter ? 'per-second' : undefined);
  const { holidays: _codes, regressors: _specs, ...rest } = opts;
  const result = await forecast({ ...rest, ...(unit ? { unit } : {}), series, campaigns, ...(holidays ? { holidays } : {}), ...(regressors.length ? { regressors } : {}) });
  const files: (OutputPath & { text: string })[] = [];
  if (opts.out) files.push({ flag: '--out', path: opts.out, text: JSON.stringify(result, null, 2) + '\n' });
  if (opts.plot) {
    // every series, one chart each: an SVG stacks them, an HTML page gives each a section with its table
    const { renderForecastSvg, renderForecastHtmlPage, stackSvgCharts } = await import('../ui/chart-svg.js');
    const charts = result.series.map((s: SeriesForecast) => ({
      s,
      svg: renderForecastSvg(chartData(s), { title: `${s.name}: ${s.model}`, times: [...s.tail.map((p) => p.t), ...s.points.map((p) => p.t)] }),
    }));
    const names = result.series.map((s) => s.name).join(', ');
    const text = /\.html?$/i.test(opts.plot)
      ? renderForecastHtmlPage(
          `surgectl forecast: ${names}`,
          charts.map(({ s, svg }) => ({
            ...(charts.length > 1 ? { heading: s.name } : {}),
            svg,
            rows: s.points.map((p) => ({ time: p.t, value: p.value, lo80: p.lo80, hi80: p.hi80, lo95: p.lo95, hi95: p.hi95, campaign: p.campaign ?? (p.holiday ? `holiday ${p.holiday}` : '') })),
          })),
        )
      : stackSvgCharts(charts.map((c) => c.svg)) + '\n';
    files.push({ flag: '--plot', path: opts.plot, text });
  }
  const written = await writeOutputFiles(files, { createParents: true });
  return { result, written };
}

/** The chart series of one forecast (history tail, point, 95% band). */
export function chartData(s: SeriesForecast) {
  return { history: s.tail.map((p) => p.value), point: s.points.map((p) => p.value), lower: s.points.map((p) => p.lo95), upper: s.points.map((p) => p.hi95) };
}

/** Options of {@link runSample}. */
export interface SampleRunOptions {
  days: number;
  stepMs: number;
  seed: number;
  /** CSV path for the history. */
  out: string;
  /** Also write the campaign windows the sample contains as a calendar YAML. */
  campaignsOut?: string;
  end?: number;
}

/**
 * Generates the bundled sample history and writes it; the output paths are checked first and the
 * CSV and the calendar are written all or none (each atomically).
 */
export async function runSample(opts: SampleRunOptions): Promise<{ points: number; campaigns: number; start: string; end: string; written: string[] }> {
  if (!(opts.days >= 1 && opts.days <= 3660)) throw new SurgeError('SRG_CLI_USAGE', `--days must be a number of days from 1 to 3660, got ${opts.days}`);
  await checkOutputPaths([{ flag: '--out', path: opts.out }, ...(opts.campaignsOut ? [{ flag: '--campaigns-out', path: opts.campaignsOut }] : [])], { createParents: true });
  const sample = generateSample({ days: opts.days, stepMs: opts.stepMs, seed: opts.seed, ...(opts.end !== undefined ? { end: opts.end } : {}) });
  const written = await writeOutputFiles(
    [
      { flag: '--out', path: opts.out, text: sampleToCsv(sample) },
      ...(opts.campaignsOut ? [{ flag: '--campaigns-out', path: opts.campaignsOut, text: sampleCampaignsYaml(sample) }] : []),
    ],
    { createParents: true },
  );
  const pts = sample.series.points;
  return {
    points: pts.length,
    campaigns: sample.campaigns.length,
    start: new Date((pts[0] as { t: number }).t).toISOString(),
    end: new Date((pts[pts.length - 1] as { t: number }).t).toISOString(),
    written,
  };
}

/** Reads a JSON or YAML file for the capacity plan. */
export async function readDocument(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SurgeError('SRG_CAPACITY_INPUT', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    if (/\.ya?ml$/i.test(path)) return (await import('yaml')).parse(text) as unknown;
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SurgeError('SRG_CAPACITY_INPUT', `${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
}

/** Options of {@link runCapacityPlan}: the `capacity plan` flags, still as text where users type text. */
export interface CapacityRunOptions {
  forecastFile: string;
  series?: string;
  /** `intake,worker` or `intake:1,worker:2` (requests per order). */
  services: string;
  /** `120` for all services, or `intake=120,worker=80`. */
  perReplicaRps?: string;
  /** k6 summary JSON whose request rate, divided by `replicasUnderTest`, is the per-replica throughput. */
  loadTestFile?: string;
  replicasUnderTest?: number;
  /** `30%` or `0.3`. */
  headroom: string;
  sizeOn: 'point' | 'p80' | 'p95';
  maxFactor: number;
  leadMs: number;
  name?: string;
  /** A YAML/JSON map of service -> targets embedded in the plan (what `surgectl scale` changes). */
  targetsFile?: string;
  /** Write the plan YAML here. */
  out?: string;
  now: () => number;
  /** Warned when the load test never saturated the service (its rate is then not a per-replica capacity). */
  reporter?: Reporter;
}

/** Reads the forecast (and load-test result), builds the scale plan and writes it as YAML. */
export async function runCapacityPlan(opts: CapacityRunOptions): Promise<{ plan: ScalePlan; written: string[] }> {
  if (opts.out) await checkOutputPaths([{ flag: '--out', path: opts.out }], { createParents: true });
  const { capacityPlan, embedTargets, parseForecastDocument, perReplicaFromLoadTest } = await import('./capacity-plan.js');
  const headroom = parseHeadroom(opts.headroom);
  if (!opts.perReplicaRps === !opts.loadTestFile) {
    throw new SurgeError('SRG_CLI_USAGE', 'give exactly one of --per-replica-rps or --load-test', { hint: 'e.g. --per-replica-rps 120, or --load-test k6-summary.json --replicas-under-test 2' });
  }
  const forecastDoc = parseForecastDocument(await readDocument(opts.forecastFile), opts.forecastFile);
  const rpsFor = opts.loadTestFile
    ? (() => {
        const path = opts.loadTestFile;
        return async () => {
          const lt = perReplicaFromLoadTest(await readDocument(path), opts.replicasUnderTest ?? 1, path);
          if (lt.warning) opts.reporter?.notify(lt.warning, 'warn');
          return lt.rps;
        };
      })()
    : undefined;
  const perService = parsePerReplica(opts.perReplicaRps);
  const ltRps = rpsFor ? await rpsFor() : undefined;
  const services = opts.services.split(',').map((part) => {
    const [rawName, rpoText] = part.split(':');
    const name = (rawName ?? '').trim();
    if (!/^[a-z0-9][a-z0-9-]*$/i.test(name)) throw new SurgeError('SRG_CLI_USAGE', `--services: "${part}" is not a service name (letters, digits, -)`);
    const requestsPerOrder = rpoText === undefined ? 1 : Number(rpoText);
    if (!(requestsPerOrder > 0)) throw new SurgeError('SRG_CLI_USAGE', `--services: "${part}": requests per order must be a positive number`);
    const rps = ltRps ?? perService.get(name) ?? perService.get('*');
    if (rps === undefined) throw new SurgeError('SRG_CLI_USAGE', `--per-replica-rps gives no value for service "${name}"`, { hint: 'Use one number for all, or name=value for each service.' });
    return { name, perReplicaRps: rps, requestsPerOrder };
  });
  const targetsDoc = opts.targetsFile === undefined ? undefined : await readDocument(opts.targetsFile);
  const sized = capacityPlan({
    forecast: forecastDoc,
    ...(opts.series !== undefined ? { series: opts.series } : {}),
    services,
    headroom,
    sizeOn: opts.sizeOn,
    maxFactor: opts.maxFactor,
    leadMs: opts.leadMs,
    ...(opts.name ? { name: opts.name } : {}),
    now: opts.now,
  });
  const plan = targetsDoc === undefined ? sized : embedTargets(sized, targetsDoc, opts.targetsFile as string);
  const written: string[] = [];
  if (opts.out) {
    const { stringify } = await import('yaml');
    const text = `# surgectl scale plan: replicas and ASG min/desired/max per service (apply with: surgectl scale apply -f <file>, or your deploy tooling)\n${stringify(plan)}`;
    written.push(...(await writeOutputFiles([{ flag: '--out', path: opts.out, text }], { createParents: true })));
  }
  return { plan, written };
}

/** `30%` -> 0.3, `0.3` -> 0.3. */
export function parseHeadroom(text: string): number {
  const t = text.trim();
  const v = t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t);
  if (!Number.isFinite(v) || v < 0 || v > 10 || t === '' || t === '%') {
    throw new SurgeError('SRG_CLI_USAGE', `--headroom "${text}" is not a share like 30% or 0.3`);
  }
  return v;
}

function parsePerReplica(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (text === undefined) return out;
  for (const part of text.split(',')) {
    const [a, b] = part.includes('=') ? part.split('=') : ['*', part];
    const v = Number(b);
    if (!(v > 0)) throw new SurgeError('SRG_CLI_USAGE', `--per-replica-rps "${part}" is not a positive number (or name=number)`);
    out.set((a ?? '*').trim(), v);
  }
  return out;
}
