import type { Paint } from '../ui/color.js';
import { onOff, where, type DegradeResult, type FlagApply, type FlagListing, type RestoreResult, type VerifyResult } from './flags.js';

export function renderListing(l: FlagListing, paint: Paint): string {
  const head = l.provider === 'unleash' ? `Unleash ${l.target} (project ${l.project})` : `the stack at ${l.target}`;
  const rows = [['FLAG', ...l.environments.map((e) => e.toUpperCase()), 'SETS', 'DESCRIPTION']];
  for (const f of l.flags) rows.push([f.name, ...l.environments.map((e) => (f.environments[e] === undefined ? '-' : onOff(f.environments[e]))), f.sets.join(',') || '-', f.description]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = [`Flags of ${head}`, ...rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).map((s, ri) => (ri === 0 ? paint.dim(s) : s))];
  for (const m of l.missingFromSets) lines.push(paint.yellow(`set '${m.set}' names '${m.flag}', which does not exist here`));
  return lines.join('\n') + '\n';
}

function renderSteps(r: FlagApply, paint: Paint): string[] {
  return r.plan.steps.map((s) => {
    const done = r.switched.includes(s);
    const mark = s.action === 'none' ? paint.dim('=') : done ? paint.green('✓') : r.dryRun ? '~' : paint.red('✗');
    return `  ${mark} ${s.name}: ${onOff(s.from)} -> ${onOff(s.to)}${s.action === 'none' ? ' (already)' : s.action === 'reset' ? ' (drop override)' : ''}`;
  });
}

export function renderSwitch(r: FlagApply, paint: Paint): string {
  const title = r.dryRun ? `Plan (dry run) for ${where(r.plan)}:` : `${where(r.plan)}:`;
  const tail = r.dryRun ? 'Nothing switched (dry run).' : !r.applied ? 'Nothing to do: every flag is already as asked.' : r.failure ? `Stopped at ${r.failure.flag}.` : `Switched ${r.switched.length} flag(s).`;
  return [title, ...renderSteps(r, paint), tail].join('\n') + '\n';
}

export function renderDegrade(r: DegradeResult, paint: Paint): string {
  return renderSwitch(r, paint) + (r.snapshotPath ? `Snapshot: ${r.snapshotPath}\nRestore with: surgectl flags restore ${r.snapshotPath}\n` : '');
}

export function renderRestore(r: RestoreResult, paint: Paint): string {
  return `From ${r.snapshotPath}\n` + renderSwitch(r, paint) + (r.strategiesChanged.length ? paint.yellow(`Strategies changed since the snapshot (not touched): ${r.strategiesChanged.join(', ')}\n`) : '');
}

export function renderVerify(r: VerifyResult, paint: Paint): string {
  const lines = [`Set '${r.set}' on ${r.provider === 'unleash' ? `Unleash ${r.target} (${r.environment})` : `the stack at ${r.target}`}: ${r.expected.map((e) => `${e.name}=${onOff(e.enabled)}`).join(', ')}`];
  for (const i of r.instances) {
    const what = i.upToDate ? paint.green('up to date') : paint.red('NOT up to date');
    lines.push(`  ${i.instance ?? '?'} (${i.url}) ${what}; source ${i.source ?? '?'}, refreshed ${i.refreshedAt ?? 'never'}`);
    for (const s of i.stale) lines.push(`    ${s.name}: uses ${s.actual === null ? 'nothing (unknown flag)' : onOff(s.actual)}, expected ${onOff(s.expected)}`);
    if (i.problem) lines.push(`    ${i.problem}`);
  }
  lines.push(r.propagated ? `Every instance uses these values (after ${r.waitedMs} ms).` : `Waited ${r.waitedMs} ms of ${r.timeoutMs} ms.`);
  return lines.join('\n') + '\n';
}
