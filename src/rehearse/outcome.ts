import { SurgeError, withWriteFailure } from '../errors.js';
import { allPassed, evaluateGates, gateEvidence, type RehearsalObservations } from './gates.js';
import { loadSection, ordersSection, outageSection, type RehearsalReport } from './report.js';

/** What {@link assembleReport} needs beyond the observations: when the load began and whether Ctrl-C came. */
export interface AssembleOptions extends RehearsalObservations {
  /** When the load test began, epoch ms (the samples' and the outage's offsets count from it). */
  loadStart: number;
  /** The run was interrupted: the report says `interrupted` whatever the gates say. */
  interrupted: boolean;
}

/**
 * The findings of a rehearsal (load, orders, outage, gates, status) added to its report. Pure:
 * returns a new report and leaves `report` as it was. The gate limits are the report's settings.
 */
export function assembleReport(report: RehearsalReport, o: AssembleOptions): RehearsalReport {
  const next: RehearsalReport = { ...report, notes: [...report.notes] };
  if (o.load) {
    next.load = loadSection(o.load, o.targetPerSec);
    for (const w of o.load.warnings) next.notes.push(`load test: ${w}`);
  }
  const orders = ordersSection(o.baseline, o.final, o.drainMs);
  if (orders) next.orders = orders;
  const outage = o.chaos && o.journal ? outageSection(o.journal, report.samples, o.loadStart) : undefined;
  if (outage) next.outage = outage;
  next.gates = evaluateGates(gateEvidence({ ...o, outage }), report.settings.limits);
  next.status = o.interrupted ? 'interrupted' : allPassed(next.gates) ? 'passed' : 'failed';
  return next;
}

/**
 * The error `surgectl rehearse` ends with, after printing the report: SRG_CLI_INTERRUPTED (130)
 * after Ctrl-C, SRG_REHEARSE_GATE (20) when a gate failed, SRG_REHEARSE_REPORT when every gate
 * passed but the report files could not be written; undefined when the rehearsal passed and its
 * files are written. A write failure is added to an interrupted or failed outcome, never hides it.
 */
export function rehearsalOutcome(report: RehearsalReport): SurgeError | undefined {
  let outcome: SurgeError | undefined;
  if (report.status === 'interrupted') {
    outcome = new SurgeError('SRG_CLI_INTERRUPTED', 'rehearsal interrupted; faults were cleared, workers restored and the stack stopped', {
      ...(report.files ? { hint: `Partial report: ${report.files.html}` } : {}),
    });
  } else if (report.status === 'failed') {
    const failed = report.gates.filter((g) => g.status === 'fail').map((g) => g.id);
    outcome = new SurgeError('SRG_REHEARSE_GATE', `${failed.length} of ${report.gates.length} readiness gates failed: ${failed.join(', ')}`, {
      hint: report.files ? `What to fix is in the table above and in ${report.files.html}` : 'What to fix is in the table above.',
    });
  }
  const writeError =
    report.writeError === undefined
      ? undefined
      : new SurgeError('SRG_REHEARSE_REPORT', outcome ? report.writeError : `Every gate passed, but ${report.writeError}`, {
          hint: 'Pass --report-dir with a folder you can write to; the report above is complete.',
        });
  return withWriteFailure(outcome, writeError, 'the report');
}
