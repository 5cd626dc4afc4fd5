import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { SurgeError } from '../errors.js';
import { durationMs, durationText, finiteNumber, httpUrl, orWord, wholeNumber } from './args.js';
import { givenFlags, type CommandContext } from './context.js';

interface ForecastFlags {
  input?: string;
  prometheus?: string;
  query?: string;
  lookback: string;
  step?: string;
  horizon: string;
  model: string;
  seasonality: string;
  campaigns?: string;
  holidays?: string;
  regressor: string[];
  counter: boolean;
  unit?: string;
  maxGap?: number;
  allowNegative: boolean;
  origins: number;
  heavyModels: 'auto' | 'on' | 'off';
  plot?: string;
  out?: string;
  rows: number | 'all';
  header: string[];
  bearerTokenFile?: string;
  caFile?: string;
  insecureSkipVerify: boolean;
}

export function registerForecast(program: Command, ctx: CommandContext): void {
  // The forecast itself is the default sub-command, so `forecast --input x` and `forecast sample --out y`
  // both work: a parent with its own --out/--step would swallow the sample's flags.
  const cmd = program
    .command('forecast')
    .description('forecast order demand (default: `forecast run`) and generate the bundled sample history')
    .addHelpText('after', `
Examples:
  $ surgectl forecast --input scenarios/history/orders.csv --horizon 7d --out forecast.json
  $ surgectl forecast sample --days 365 --out scenarios/history/orders.csv
`);
  cmd
    .command('run', { isDefault: true })
    .description('forecast order demand from Prometheus or a file: peak, intervals, backtest-selected model')
    .option('-i, --input <file>', 'history as CSV/JSON: timestamp,value or series,timestamp,value')
    .option('--prometheus <url>', 'read history from this Prometheus (with --query)', httpUrl('http://127.0.0.1:9090'))
    .option('--query <promql>', 'range query, e.g. sum(rate(orders_accepted_total[5m]))')
    .option('--lookback <duration>', 'history to read from Prometheus', durationText(), '28d')
    .option('--step <duration>', 'grid step (default: 5m for Prometheus, the median gap for files)', durationText())
    .option('--horizon <duration>', 'how far ahead to forecast', durationText(), '7d')
    .option('--model <name>', 'auto (backtest selection) or a model name to force', 'auto')
    .option('--seasonality <spec>', 'auto, none, daily, weekly, daily,weekly or periods in steps', 'auto')
    .option('--campaigns <file>', 'campaign calendar YAML (scenarios/campaigns/*.yaml)')
    .option('--holidays <codes>', 'holiday calendars by country (us,gb,de,fr): effects learned from past years, applied when the backtest agrees')
    .option('--regressor <name=file>', 'leading indicator CSV (timestamp,value) covering history and horizon; kept when the backtest agrees (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--counter', 'the values are a counter: convert to a per-second rate, handling resets', false)
    .addOption(new Option('--unit <unit>', 'what a value counts (default per-second; BI exports are usually per-hour or per-day)').choices(['per-second', 'per-minute', 'per-hour', 'per-day', 'per-step']))
    .option('--max-gap <duration>', 'refuse a series with a hole (missing rows, empty values) longer than this', durationMs())
    .option('--allow-negative', 'accept negative values (refused by default, naming the rows)', false)
    .option('--origins <n>', 'rolling-origin backtest origins, 1 to 20', wholeNumber({ min: 1, max: 20 }), 3)
    .addOption(new Option('--heavy-models <mode>', 'augurs MSTL/ETS candidates (auto: when <= 10 series)').choices(['auto', 'on', 'off']).default('auto'))
    .option('--plot <file>', 'also write a chart: .svg or .html')
    .option('--out <file>', 'write the forecast JSON (input of `capacity plan`)')
    .option('--rows <n|all>', 'rows of the per-step table', orWord('all', wholeNumber()), 24)
    .option('--header <name: value>', 'extra HTTP header for Prometheus (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--bearer-token-file <file>', 'file holding a bearer token for Prometheus')
    .option('--ca-file <pem>', 'CA certificate for a Prometheus behind TLS')
    .option('--insecure-skip-verify', 'do not verify the Prometheus TLS certificate', false)
    .addHelpText(
      'after',
      `
Examples:
  $ surgectl forecast sample --days 365 --out scenarios/history/orders.csv
  $ surgectl forecast --input scenarios/history/orders.csv --horizon 7d --campaigns scenarios/campaigns/black-friday.yaml --out forecast.json
  $ surgectl forecast --prometheus http://127.0.0.1:9090 --query 'sum(rate(orders_accepted_total[5m]))' --lookback 28d --step 5m
  $ surgectl forecast --input hourly.csv --horizon 48h --plot forecast.html -o json
  $ surgectl forecast --input bi-orders-per-hour.csv --unit per-hour --max-gap 6h --horizon 14d --out forecast.json
  $ surgectl forecast --input daily-orders.csv --unit per-day --horizon 28d --holidays us,gb --regressor emails=emails-sent.csv
`,
    )
    .action(async (flags: ForecastFlags, command: Command) => {
      const { runForecast } = await import('../forecast/run.js');
      const { parseDuration } = await import('../forecast/duration.js');
      const cwd = ctx.runtime.cwd;
      // defaults < surgectl.yaml `forecast:` < SURGECTL_FORECAST_* < flags
      const given = givenFlags<Record<string, string>>(command, { horizon: 'horizon', step: 'step', lookback: 'lookback', model: 'model', prometheus: 'prometheus', query: 'query', unit: 'unit', holidays: 'holidays' });
      if (flags.input !== undefined && given.prometheus !== undefined) {
        throw new SurgeError('SRG_CLI_USAGE', 'give one source, not both: --input <file> or --prometheus <url>', {
          hint: 'Drop --input to read Prometheus, or drop --prometheus (and --query) to read the file.',
        });
      }
      if (flags.input !== undefined && given.query !== undefined) {
        throw new SurgeError('SRG_CLI_USAGE', '--query goes with --prometheus, not with --input', { hint: 'Drop --query to forecast the file.' });
      }
      const rows = flags.rows === 'all' ? Infinity : flags.rows;
      const { config } = await ctx.loadConfig({ forecast: given });
      const fc = config.forecast;
      const prometheus = flags.input ? undefined : fc.prometheus;
      if (prometheus && !fc.query) throw new SurgeError('SRG_CLI_USAGE', '--prometheus needs --query (or forecast.query in the config)');
      const { result, written } = await runForecast({
        ...(flags.input ? { input: resolve(cwd, flags.input) } : {}),
        ...(prometheus
          ? {
              prometheus: {
                url: prometheus,
                query: fc.query as string,
                lookbackMs: parseDuration(fc.lookback, '--lookback'),
                headerLines: flags.header,
                ...(flags.bearerTokenFile ? { bearerTokenFile: resolve(cwd, flags.bearerTokenFile) } : {}),
                ...(flags.caFile ? { caFile: resolve(cwd, flags.caFile) } : {}),
                insecureSkipVerify: flags.insecureSkipVerify,
              },
            }
          : {}),
        horizonMs: parseDuration(fc.horizon, '--horizon'),
        ...(fc.step ? { stepMs: parseDuration(fc.step, '--step') } : {}),
        model: fc.model,
        seasonality: flags.seasonality === 'auto' || flags.seasonality === 'none' ? flags.seasonality : flags.seasonality.split(','),
        ...(flags.campaigns ? { campaignsFile: resolve(cwd, flags.campaigns) } : {}),
        ...(fc.holidays !== undefined ? { holidays: fc.holidays } : {}),
        regressors: flags.regressor,
        cwd,
        counter: flags.counter,
        ...(fc.unit ? { unit: fc.unit } : {}),
        ...(flags.maxGap !== undefined ? { maxGapMs: flags.maxGap } : {}),
        allowNegative: flags.allowNegative,
        origins: flags.origins,
        heavyModels: flags.heavyModels,
        ...(flags.out ? { out: resolve(cwd, flags.out) } : {}),
        ...(flags.plot ? { plot: resolve(cwd, flags.plot) } : {}),
        now: () => ctx.runtime.now(),
        signal: ctx.runtime.signal,
        reporter: ctx.reporter(),
      });
      for (const f of written) ctx.reporter().notify(`wrote ${f}`, 'success');
      const width = Math.min(120, (ctx.runtime.stdout.columns ?? 100) - 14);
      const { renderForecastTable } = await import('../ui/chart-report.js');
      await ctx.print(result, () => renderForecastTable(result, { rows, chartWidth: width, paint: ctx.paint() }));
    });

  cmd
    .command('sample')
    .description('generate the bundled sample history: order rates with daily/weekly shape, trend, noise and campaigns (deterministic by seed)')
    .option('--days <n>', 'days of history, 1 to 3660', finiteNumber({ min: 1, max: 3660 }), 365)
    .addOption(new Option('--step <duration>', 'step').argParser(durationMs()).default(300_000, '5m'))
    .option('--seed <n>', 'random seed', wholeNumber(), 42)
    .option('--end <time>', 'end of the history (ISO-8601), default 2026-11-20T00:00:00Z')
    .option('--out <file>', 'CSV to write', 'scenarios/history/orders.csv')
    .option('--campaigns-out <file>', 'also write the campaign windows in the sample as a calendar YAML')
    .addHelpText('after', '\nExamples:\n  $ surgectl forecast sample --days 365 --step 5m --seed 42 --out scenarios/history/orders.csv\n  $ surgectl forecast sample --days 56 --step 1h --campaigns-out scenarios/history/campaigns.yaml\n')
    .action(async (flags: { days: number; step: number; seed: number; end?: string; out: string; campaignsOut?: string }) => {
      const { runSample } = await import('../forecast/run.js');
      const { parseIsoTime } = await import('../forecast/sources/file.js');
      // Not Date.parse: a time without a zone is UTC, so the same flags give the same data on every machine.
      const end = flags.end === undefined ? undefined : (parseIsoTime(flags.end) ?? NaN);
      if (end !== undefined && !Number.isFinite(end)) throw new SurgeError('SRG_CLI_USAGE', `--end "${flags.end}" is not an ISO-8601 time`);
      const res = await runSample({
        days: flags.days,
        stepMs: flags.step,
        seed: flags.seed,
        out: resolve(ctx.runtime.cwd, flags.out),
        ...(flags.campaignsOut ? { campaignsOut: resolve(ctx.runtime.cwd, flags.campaignsOut) } : {}),
        ...(end !== undefined ? { end } : {}),
      });
      await ctx.print(res, () => `wrote ${res.points} points (${res.start} .. ${res.end}, ${res.campaigns} campaigns) to ${res.written.join(', ')}\n`);
    });
}
