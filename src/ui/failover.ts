import type { FailbackResult, FailoverResult, RpoReport } from '../regions/failover.js';
import type { Paint } from './color.js';

function rpoLine(rpo: RpoReport | undefined, p: Paint): string {
  if (rpo === undefined) return 'not measured (the failover did not complete)';
  if (rpo.basis === 'unknown') return p.yellow(`unknown: ${rpo.note ?? 'the old primary could not be read'}`);
  if (rpo.missing.length === 0) return p.green(`0 acknowledged orders missing (${rpo.compared} recent orders of the old primary compared)`);
  const shown = rpo.missing.slice(0, 10).join(', ');
  return p.red(`${rpo.missing.length} acknowledged order(s) missing: ${shown}${rpo.missing.length > 10 ? ', …' : ''}`);
}

const rtoLine = (ms: number | undefined) => (ms === undefined ? 'not measured' : `${(ms / 1000).toFixed(2)} s (first refused order to the synthetic order accepted through the front)`);

/** `surgectl failover`: how it ended, RTO and RPO, and the journal. */
export function renderFailover(r: FailoverResult, p: Paint): string {
  const status = r.journal?.status ?? 'not run';
  const head = status === 'completed' ? p.green(`failover ${r.from} -> ${r.to} completed`) : p.red(`failover ${r.from} -> ${r.to} ${status}${r.journal?.message ? `: ${r.journal.message}` : ''}`);
  return [head, `  RTO      ${rtoLine(r.rtoMs)}`, `  RPO      ${rpoLine(r.rpo, p)}`, `  journal  ${r.journalPath ?? '-'}`].join('\n') + '\n';
}

/** `surgectl failback`: each part, then RTO and RPO of the switchover and what is left by hand. */
export function renderFailback(r: FailbackResult, p: Paint): string {
  const lines = [`failback to ${r.to} (from ${r.from})`];
  for (const part of r.parts) {
    const status = part.journal?.status ?? 'not run';
    const mark = status === 'completed' ? p.green(status) : p.red(status);
    lines.push(`  ${part.part.padEnd(12)} ${part.region.padEnd(6)} ${mark}  ${part.journalPath ?? ''}`.trimEnd());
  }
  lines.push(`  RTO      ${rtoLine(r.rtoMs)}`, `  RPO      ${rpoLine(r.rpo, p)}`);
  for (const t of r.todo) lines.push(p.yellow(`  left to do: ${t}`));
  return `${lines.join('\n')}\n`;
}
