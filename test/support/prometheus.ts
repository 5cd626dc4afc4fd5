import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { get as httpsGet } from 'node:https';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** A real Prometheus on a loopback port, serving backfilled history. */
export interface TestPrometheus {
  url: string;
  /** With `tls`: the PEM of the self-signed certificate the server uses (to pass as a CA). */
  certFile?: string;
  /** Stops the server and removes its storage. */
  stop(): Promise<void>;
}

/** One sample of backfill data: metric with labels, value, epoch ms. */
export interface BackfillSample {
  metric: string;
  labels?: Record<string, string>;
  value: number;
  t: number;
}

/** Finds a binary on PATH (or the Debian location); fails loudly with how to install it. */
export function requireBinary(name: 'prometheus' | 'promtool'): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const d of dirs) {
    const p = join(d, name);
    if (d && existsSync(p)) return p;
  }
  throw new Error(
    `${name} is not installed: these tests need a real Prometheus. Install it with ` +
      '`apt-get install -y --no-install-recommends prometheus` (CI installs it in .ci/run).',
  );
}

/** Renders samples as OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`. */
export function toOpenMetrics(samples: readonly BackfillSample[], types: Record<string, 'gauge' | 'counter'>): string {
  const byMetric = new Map<string, string[]>();
  for (const s of samples) {
    const labels = s.labels && Object.keys(s.labels).length ? `{${Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`).join(',')}}` : '';
    const name = types[s.metric] === 'counter' && !s.metric.endsWith('_total') ? `${s.metric}_total` : s.metric;
    let lines = byMetric.get(s.metric);
    if (!lines) byMetric.set(s.metric, (lines = []));
    lines.push(`${name}${labels} ${s.value} ${s.t / 1000}`);
  }
  const out: string[] = [];
  for (const [metric, lines] of byMetric) {
    const family = types[metric] === 'counter' ? metric.replace(/_total$/, '') : metric;
    out.push(`# TYPE ${family} ${types[metric] ?? 'gauge'}`, ...lines);
  }
  out.push('# EOF');
  return out.join('\n') + '\n';
}


/** A user Prometheus asks for with HTTP basic auth (`basic_auth_users` of its web config). */
export interface BasicAuthUser {
  user: string;
  password: string;
  /** bcrypt hash of `password`, as the web config takes it. */
  bcryptHash: string;
}

/**
 * Backfills `openMetrics` into a temporary TSDB with promtool, starts Prometheus on a free loopback
 * port and polls /-/ready (deadline 30 s).
 */
export async function startPrometheus(openMetrics: string, opts: { tls?: boolean; basicAuth?: BasicAuthUser; ruleFiles?: readonly string[] } = {}): Promise<TestPrometheus> {
  const prometheus = requireBinary('prometheus');
  const promtool = requireBinary('promtool');
  const dir = await mkdtemp(join(tmpdir(), 'surgectl-prom-'));
  const webArgs: string[] = [];
  const webConfig: string[] = [];
  let cert: string | undefined;
  if (opts.tls) {
    // A throwaway self-signed certificate for 127.0.0.1, so the TLS options are tested for real.
    cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { timeout: 30_000 });
    webConfig.push(`tls_server_config:\n  cert_file: ${cert}\n  key_file: ${key}\n`);
  }
  if (opts.basicAuth) webConfig.push(`basic_auth_users:\n  ${opts.basicAuth.user}: ${opts.basicAuth.bcryptHash}\n`);
  if (webConfig.length > 0) {
    await writeFile(join(dir, 'web.yml'), webConfig.join(''));
    webArgs.push(`--web.config.file=${join(dir, 'web.yml')}`);
  }
  const authorization = opts.basicAuth ? `Basic ${Buffer.from(`${opts.basicAuth.user}:${opts.basicAuth.password}`).toString('base64')}` : undefined;
  const ca = cert ? await import('node:fs/promises').then((fs) => fs.readFile(cert as string, 'utf8')) : undefined;
  const data = join(dir, 'data');
  await writeFile(join(dir, 'history.om'), openMetrics);
  await run(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', join(dir, 'history.om'), data], { timeout: 60_000 });
  // `ruleFiles`: absolute paths of rule files to load (rule_files of prometheus.yml).
  const rules = opts.ruleFiles?.length ? `rule_files:\n${opts.ruleFiles.map((f) => `  - ${JSON.stringify(f)}\n`).join('')}` : '';
  await writeFile(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1h\nscrape_configs: []\n${rules}`);
  let child: ChildProcess | undefined;
  let port = 0;
  let log = '';
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort();
    const c = spawn(
      prometheus,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${data}`,
        '--storage.tsdb.retention.time=100y',
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
        ...webArgs,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    c.stderr?.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
    const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    let exited = false;
    c.once('exit', () => (exited = true));
    while (Date.now() < deadline && !exited) {
      const ok = ca ? await httpsReady(`${url}/-/ready`, ca) : await fetch(`${url}/-/ready`, authorization ? { headers: { authorization } } : {}).then((r) => r.ok, () => false);
      if (ok) {
        child = c;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!child) c.kill('SIGKILL');
  }
  if (!child) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Prometheus did not become ready on 127.0.0.1:${port}: ${log}`);
  }
  const proc = child;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    ...(cert ? { certFile: cert } : {}),
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function httpsReady(url: string, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsGet(url, { ca, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Starts a real Prometheus (no backfill) on a free loopback port, with temporary storage, scraping
 * `targets` (`host:port` of /metrics endpoints) every `scrapeInterval` (default 1s) under job
 * `job` (default `surgectl`), and waits until `up` is 1 for every target (deadline 30 s), so the
 * first query already sees their series. Without targets it returns once Prometheus is ready.
 */
export async function startScrapingPrometheus(opts: { targets?: string[]; scrapeInterval?: string; job?: string; jobs?: Record<string, string[]> }): Promise<TestPrometheus> {
  const prometheus = requireBinary('prometheus');
  const interval = opts.scrapeInterval ?? '1s';
  // One job per entry (blue and green of a cutover are told apart by their job), or `targets` as one job.
  const jobs = opts.jobs ?? { [opts.job ?? 'surgectl']: opts.targets ?? [] };
  const scrapeConfigs = Object.entries(jobs)
    .map(([job, targets]) => `  - job_name: ${JSON.stringify(job)}\n    static_configs:\n      - targets: ${JSON.stringify(targets)}\n`)
    .join('');
  const dir = await mkdtemp(join(tmpdir(), 'surgectl-prom-scrape-'));
  // scrape_timeout defaults to 10s, which Prometheus refuses above a shorter scrape_interval.
  await writeFile(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: ${interval}\n  scrape_timeout: ${interval}\n  evaluation_interval: ${interval}\n` +
      `scrape_configs:\n${scrapeConfigs}`,
  );
  let child: ChildProcess | undefined;
  let url = '';
  let log = '';
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    // Another process may take the free port before Prometheus binds it: then try another.
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const c = spawn(
      prometheus,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-lifecycle',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    c.stderr?.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
    let exited = false;
    c.once('exit', () => (exited = true));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !exited) {
      if (await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)) {
        child = c;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!child) c.kill('SIGKILL');
  }
  const proc = child;
  const stop = async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };
  if (!proc) {
    await stop();
    throw new Error(`Prometheus did not become ready on ${url}: ${log}`);
  }
  // Every target scraped successfully at least once: `up` is 1 for each instance of the job.
  const deadline = Date.now() + 30_000;
  let up = new Map<string, string>();
  const all = Object.entries(jobs).flatMap(([job, targets]) => targets.map((t) => `${job}/${t}`));
  while (all.length > 0) {
    const q = new URL(`${url}/api/v1/query`);
    q.searchParams.set('query', 'up');
    const body = (await fetch(q).then((r) => r.json(), () => undefined)) as { data?: { result?: { metric: { job?: string; instance?: string }; value: [number, string] }[] } } | undefined;
    up = new Map((body?.data?.result ?? []).map((s) => [`${s.metric.job ?? ''}/${s.metric.instance ?? ''}`, s.value[1]]));
    if (all.every((t) => up.get(t) === '1')) break;
    if (Date.now() > deadline || proc.exitCode !== null) {
      const targets = (await fetch(`${url}/api/v1/targets`).then((r) => r.json(), () => undefined)) as { data?: { activeTargets?: { scrapeUrl: string; health: string; lastError: string }[] } } | undefined;
      const why = (targets?.data?.activeTargets ?? []).map((t) => `${t.scrapeUrl}: ${t.health} ${t.lastError}`).join('; ');
      await stop();
      throw new Error(`Prometheus at ${url} did not scrape every target within 30 s (up: ${JSON.stringify(Object.fromEntries(up))}; ${why || 'no targets'}) ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop };
}
