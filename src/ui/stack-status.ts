import type { RegionRow } from '../regions/status.js';
import { renderTable } from './table.js';
import type { StackStatus } from '../adapters/stack-admin/port.js';
import type { StackStartedInfo } from '../order-core/stack.js';
import type { StatusSample } from '../stack-status/watch.js';
import type { Paint } from './color.js';
import type { OutputFormat } from './output.js';

/** `stack status`: the stack's URL, then one line per part of the status document. */
export function renderStackStatus(url: string, s: StackStatus, p: Paint): string {
  const counts = Object.entries(s.orders.byStatus)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
  const intake = s.intake.draining ? p.yellow('draining') : s.intake.paused ? p.yellow('paused') : p.green('open');
  const rows: [string, string][] = [
    ['intake', intake],
    ['workers', `${s.workers.busy}/${s.workers.size} busy${s.workers.paused ? ' (consumer paused)' : ''}`],
    ['queue', `${s.queue.depth} waiting, oldest ${(s.queue.oldestWaitingMs / 1000).toFixed(1)} s`],
    ['orders', counts || 'none yet'],
    ['oversold', s.oversold === 0 ? '0' : p.red(String(s.oversold))],
    ['breaker', s.breaker === 'closed' ? s.breaker : p.yellow(s.breaker)],
    ['payment', s.payment ? `failure rate ${s.payment.failureRate}, latency ${s.payment.latencyMs} ms` : '-'],
    ['faults', s.faults.dropRatio > 0 ? p.yellow(`dropping ${Math.round(s.faults.dropRatio * 100)}% of intake`) : 'none'],
  ];
  // Only stacks with a cache show it: 'off' (and older stacks, which do not say) adds nothing.
  if (s.cache === 'redis') rows.push(['cache', 'redis (rate limit shared, inventory copy)']);
  else if (s.cache === 'local') rows.push(['cache', p.yellow('local (Redis unreachable: rate limit per process, inventory from the store)')]);
  const head = `${url}${s.color ? ` (${s.color})` : ''}\n` + rows.map(([k, v]) => `  ${k.padEnd(9)} ${v}\n`).join('');
  if (s.processes === undefined || s.processes.length === 0) return head;
  // a replicated stack: workers and intake above are the answering replica's; each process here
  const procs = renderTable(s.processes, [
    { header: 'process', value: (r) => r.name },
    { header: 'role', value: (r) => r.role },
    { header: 'pid', value: (r) => (r.pid === null ? '-' : String(r.pid)) },
    { header: 'state', value: (r) => (r.state === 'running' ? p.green(r.state) : p.yellow(r.state)) },
    { header: 'restarts', value: (r) => (r.restarts === 0 ? '0' : p.yellow(String(r.restarts))) },
    { header: 'since', value: (r) => r.since },
  ]);
  return `${head}  processes (workers and intake above: the replica that answered)\n${procs.replace(/^/gm, '    ').replace(/ +$/gm, '')}`;
}

const WATCH_COLUMNS = ['TIME', 'INTAKE', 'QUEUE', 'OLDEST', 'WORKERS', 'ACCEPTED/S', 'CONFIRMED/S', 'BREAKER', 'OVERSOLD'];
// Fixed widths rather than a measured table: rows are printed one at a time as samples arrive.
const WATCH_WIDTHS = [8, 8, 8, 8, 9, 11, 12, 9, 8];

/** Cells padded to the column widths, measured on the text without colour codes (`raw`). */
const watchLine = (cells: readonly string[], raw: readonly string[] = cells) =>
  cells.map((c, i) => c + ' '.repeat(Math.max(1, (WATCH_WIDTHS[i] ?? 8) - (raw[i] ?? c).length + 1))).join('').trimEnd() + '\n';

/** What `stack status --watch` prints before the first sample: the URL and the column names in the table form, nothing for JSON and YAML. */
export function renderWatchHeader(format: OutputFormat, url: string): string {
  return format === 'table' ? `${url}\n` + watchLine(WATCH_COLUMNS) : '';
}

/** One table row of `stack status --watch`: a state that needs a look is coloured, `-` for a rate not known yet. */
export function renderWatchRow(sample: StatusSample, p: Paint): string {
  const s = sample.status;
  const intake = s.intake.draining ? 'draining' : s.intake.paused ? 'paused' : 'open';
  const rate = (r: number | null) => (r === null ? '-' : r.toFixed(1));
  const raw = [
    sample.at.slice(11, 19),
    intake,
    String(s.queue.depth),
    `${(s.queue.oldestWaitingMs / 1000).toFixed(1)}s`,
    `${s.workers.busy}/${s.workers.size}`,
    rate(sample.acceptedPerSec),
    rate(sample.confirmedPerSec),
    s.breaker,
    String(s.oversold),
  ];
  const shown = [...raw];
  if (intake !== 'open') shown[1] = p.yellow(intake);
  if (s.breaker !== 'closed') shown[7] = p.yellow(s.breaker);
  if (s.oversold !== 0) shown[8] = p.red(String(s.oversold));
  return watchLine(shown, raw);
}

/**
 * One sample of `stack status --watch` in the -o format: a table row, one JSON object per line
 * (so the output is NDJSON a script can read as it comes), or one YAML document per sample.
 */
export async function renderWatchSample(format: OutputFormat, sample: StatusSample, p: Paint): Promise<string> {
  if (format === 'json') return JSON.stringify(sample) + '\n';
  if (format === 'yaml') {
    const { stringify } = await import('yaml');
    return '---\n' + stringify(sample);
  }
  return renderWatchRow(sample, p);
}

/** What `stack up` prints once the stack listens: where each API is, the token, the files. */
export function renderStackStarted(info: StackStartedInfo, p: Paint): string {
  const row = (k: string, v: string) => `  ${p.dim(k.padEnd(9))} ${v}\n`;
  return (
    `${p.green('✓')} surgectl order stack${info.color ? ` (${info.color})` : ''} is up (${info.workers} workers)\n` +
    row('intake', `${info.url}/v1/orders`) +
    row('status', `${info.url}/v1/orders/<id>   inventory: ${info.url}/v1/inventory`) +
    row('admin', `${info.url}/admin/status   (Authorization: Bearer <token>)`) +
    row('metrics', `${info.url}/metrics`) +
    (info.healthUrl ? row('health', `${info.healthUrl}/healthz   ${info.healthUrl}/readyz   (own thread)`) : '') +
    row('payment', info.paymentUrl) +
    row('token', info.adminToken) +
    (info.store ? row('store', info.store) : '') +
    row('data dir', info.dataDir) +
    row('logs', info.logFile ?? 'stderr') +
    `Press Ctrl+C to stop: intake closes, in-flight orders finish, then it exits.\n`
  );
}

/** `stack migrate` for a person: what was applied (or would run, with the SQL). */
export function renderMigration(r: { database: string; dryRun: boolean; from: number; current: number; latest: number; applied: number[]; sql: string[] }): string {
  if (r.dryRun) {
    if (r.applied.length === 0) return `${r.database} is at schema version ${r.current} (the latest): nothing would run\n`;
    const head = `-- dry run: ${r.database} is at schema version ${r.from}; applying ${r.applied.join(', ')} would run:\n`;
    return `${head}${r.sql.map((statement) => `${statement};`).join('\n\n')}\n`;
  }
  if (r.applied.length === 0) return `${r.database} is at schema version ${r.current} (the latest): nothing to apply\n`;
  return `${r.database}: applied schema version${r.applied.length === 1 ? '' : 's'} ${r.applied.join(', ')}; now at version ${r.current}\n`;
}

/** `surgectl region status`: a row per region. */
export function renderRegionStatus(rows: readonly RegionRow[], p: Paint): string {
  if (rows.length === 0) return 'no regions in surgectl.yaml (regions: {a: {store: postgres://…, intakeUrl: http://…}, b: …})\n';
  return renderTable(rows, [
    { header: 'region', value: (r) => r.name },
    { header: 'role', value: (r) => (r.role === 'unreachable' ? p.red(r.role) : r.role === 'primary' && r.readOnly ? p.yellow('primary (fenced)') : r.role) },
    { header: 'store', value: (r) => r.store },
    { header: 'lsn', value: (r) => r.lsn },
    { header: 'lag', value: (r) => (r.role === 'standby' ? (r.lagBytes === undefined ? '?' : `${r.lagBytes} B${r.replayLagSeconds == null ? '' : `, ${r.replayLagSeconds.toFixed(1)} s`}`) : r.role === 'primary' ? `${r.replicas?.length ?? 0} replica(s)` : r.error) },
    { header: 'intake', value: (r) => (r.intake === 'ready' ? p.green(r.intake) : r.intake) },
    { header: 'traffic', value: (r) => (r.takesTraffic ? p.green('yes') : 'no') },
  ]);
}

/** `surgectl stack dlq list`: a row per dead-lettered order. */
export function renderDeadLetters(list: { total: number; letters: readonly { orderId: string; reason: string; queue: string; deadAt?: string; deaths: number; redrives: number }[] }): string {
  if (list.total === 0) return 'the dead-letter queue is empty\n';
  const table = renderTable(list.letters, [
    { header: 'order', value: (l) => l.orderId },
    { header: 'reason', value: (l) => l.reason },
    { header: 'dead since', value: (l) => l.deadAt ?? '?' },
    { header: 'deaths', value: (l) => String(l.deaths) },
    { header: 'redrives', value: (l) => String(l.redrives) },
  ]);
  return list.letters.length < list.total ? `${table}(${list.letters.length} of ${list.total} shown)\n` : table;
}

/** `surgectl stack dlq show`: one dead-lettered order. */
export function renderDeadLetter(l: { orderId: string; reason: string; queue: string; deadAt?: string; deaths: number; redrives: number; headers: Record<string, unknown> }): string {
  const lines = [
    `order:      ${l.orderId}`,
    `reason:     ${l.reason} (in ${l.queue})`,
    `dead since: ${l.deadAt ?? 'unknown'}`,
    `deaths:     ${l.deaths}`,
    `redrives:   ${l.redrives}`,
  ];
  return `${lines.join('\n')}\n`;
}
