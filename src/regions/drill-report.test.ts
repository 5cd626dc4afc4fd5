import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { RunbookJournal } from '../runbooks/types.js';
import { createPaint } from '../ui/color.js';
import { renderDrill } from '../ui/drill.js';
import { renderDrillHtml } from '../ui/drill-html.js';
import { drillOutcome } from './drill.js';
import { drillGates, drillStatus, loadFigures, longestGapMs, newLoadRecord, recordAnswer, timelineOf, type DrillEvidence, type DrillReport } from './drill-report.js';

const T0 = Date.parse('2026-12-05T03:00:00.000Z');

/** A planned drill that went well: both switches within the limit, nothing missing. */
function evidence(over: Partial<DrillEvidence> = {}): DrillEvidence {
  return {
    killPrimary: false,
    maxRtoMs: 10_000,
    parts: [
      { name: 'failover', status: 'completed', rtoMs: 1_840 },
      { name: 'failback', status: 'completed', rtoMs: 2_210 },
    ],
    orders: { basis: 'measured', acknowledged: 9_000, missing: [], finalPrimary: 'a' },
    listedMissing: 0,
    acceptedBeforeFailover: 600,
    ratePerSec: 200,
    ...over,
  };
}

const byId = (gates: ReturnType<typeof drillGates>) => Object.fromEntries(gates.map((g) => [g.id, g]));

describe('the load record', () => {
  it('counts each answer in its second: accepted with ids, refused answers, failed requests', () => {
    const rec = newLoadRecord(T0);
    recordAnswer(rec, T0 + 100, 202, ['o-1']);
    recordAnswer(rec, T0 + 900, 202, ['o-2']);
    recordAnswer(rec, T0 + 1_200, 503, []);
    recordAnswer(rec, T0 + 1_300, 0, []);
    // a 2xx without an order id was not an acknowledgement
    recordAnswer(rec, T0 + 1_400, 202, []);
    recordAnswer(rec, T0 + 3_050, 202, ['o-3']);
    expect(rec.seconds).toEqual([
      { t: 0, accepted: 2, refused: 0, failed: 0 },
      { t: 1, accepted: 0, refused: 2, failed: 1 },
      { t: 2, accepted: 0, refused: 0, failed: 0 },
      { t: 3, accepted: 1, refused: 0, failed: 0 },
    ]);
    expect(rec.acknowledged).toEqual(['o-1', 'o-2', 'o-3']);
    expect(rec.acceptedAt).toEqual([100, 900, 3_050]);
  });

  it('sums the figures, the worst seconds and what was taken before the failover', () => {
    const rec = newLoadRecord(T0);
    for (let i = 0; i < 10; i++) recordAnswer(rec, T0 + i * 100, 202, [`a-${i}`]);
    for (let i = 0; i < 7; i++) recordAnswer(rec, T0 + 1_000 + i, 503, []);
    for (let i = 0; i < 3; i++) recordAnswer(rec, T0 + 2_000 + i, 0, []);
    recordAnswer(rec, T0 + 2_500, 503, []);
    for (let i = 0; i < 4; i++) recordAnswer(rec, T0 + 3_000 + i, 202, [`b-${i}`]);
    const f = loadFigures(rec, { ratePerSec: 10, durationMs: 4_000.4, dropped: 2, failoverStartMs: T0 + 1_000 });
    expect(f).toMatchObject({ ratePerSec: 10, durationMs: 4_000, sent: 25, dropped: 2, acknowledged: 14, refused: 8, failed: 3, acceptedBeforeFailover: 10, maxRefusedPerSec: 7, maxFailedPerSec: 3, secondsWithRefusals: 2 });
    expect(f.perSecond).toHaveLength(4);
    // a copy: later answers do not change the report
    recordAnswer(rec, T0 + 3_500, 0, []);
    expect(f.perSecond[3]?.failed).toBe(0);
  });

  it('finds the longest time without an acknowledgement around a part', () => {
    const at = [0, 100, 200, 300, 2_300, 2_400, 2_600, 9_000];
    // the 2 s gap overlaps a part from 0.5 s to 2.5 s
    expect(longestGapMs(at, 500, 2_500, 9_500)).toBe(2_000);
    // a part from 2.35 s to 2.38 s sees only the 100 ms between two acknowledgements
    expect(longestGapMs(at, 2_350, 2_380, 9_500)).toBe(100);
    // nothing acknowledged after the part: the gap runs to the end of the load
    expect(longestGapMs([0, 100], 500, 700, 4_000)).toBe(3_900);
    // nothing acknowledged at all
    expect(longestGapMs([], 500, 700, 4_000)).toBe(4_000);
  });
});

describe('the timeline of a journal', () => {
  it('places each step that ran on the drill clock, in seconds since the load began; a skipped step is left out', () => {
    const journal = {
      steps: [
        { step: 'pause-intake', kind: 'stack-admin', status: 'completed', startedAt: '2026-12-05T03:00:03.250Z', endedAt: '2026-12-05T03:00:03.270Z', durationMs: 20 },
        { step: 'precheck-standby', kind: 'pg-replication-check', status: 'skipped' },
        { step: 'promote', kind: 'pg-promote', status: 'failed', startedAt: '2026-12-05T03:00:04.000Z', endedAt: '2026-12-05T03:00:05.500Z', durationMs: 1_500, error: 'pg_promote() returned false' },
      ],
    } as unknown as RunbookJournal;
    expect(timelineOf('failover', journal, T0)).toEqual([
      { part: 'failover', step: 'pause-intake', kind: 'stack-admin', status: 'completed', startS: 3.25, endS: 3.27, durationMs: 20 },
      { part: 'failover', step: 'promote', kind: 'pg-promote', status: 'failed', startS: 4, endS: 5.5, durationMs: 1_500, error: 'pg_promote() returned false' },
    ]);
  });
});

describe('the drill gates', () => {
  it('pass for a planned drill within the RTO with nothing missing', () => {
    const gates = drillGates(evidence());
    expect(gates.map((g) => [g.id, g.status])).toEqual([
      ['steady-load', 'pass'],
      ['failover-rto', 'pass'],
      ['failback-rto', 'pass'],
      ['acknowledged-orders', 'pass'],
      ['parts-completed', 'pass'],
    ]);
    expect(byId(gates)['failover-rto']).toMatchObject({ condition: 'value<=10000', value: 1_840, observed: '1.84 s from the first refused order to the first accepted one', expected: 'at most 10.00 s' });
    expect(drillStatus(gates, false)).toBe('passed');
  });

  it('fail an RTO over the limit, and say what to look at', () => {
    const gates = byId(drillGates(evidence({ maxRtoMs: 2_000 })));
    expect(gates['failover-rto']?.status).toBe('pass');
    expect(gates['failback-rto']).toMatchObject({ status: 'fail', value: 2_210 });
    expect(gates['failback-rto']?.fix).toMatch(/wait-replay/);
  });

  it('fail a planned drill with any acknowledged order missing', () => {
    const gates = byId(drillGates(evidence({ orders: { basis: 'measured', acknowledged: 9_000, missing: ['o-17'], finalPrimary: 'a' }, listedMissing: 1 })));
    expect(gates['acknowledged-orders']).toMatchObject({ status: 'fail', value: 1, observed: '1 of 9000 acknowledged orders missing on a' });
    expect(drillStatus(Object.values(gates), false)).toBe('failed');
  });

  it('with --kill-primary, pass with orders missing as long as each is listed', () => {
    const missing = ['o-1', 'o-2', 'o-3'];
    const base = { killPrimary: true, killExitCode: 0, orders: { basis: 'measured' as const, acknowledged: 900, missing, finalPrimary: 'a' } };
    const listed = byId(drillGates(evidence({ ...base, listedMissing: 3, parts: [{ name: 'failover', status: 'completed', rtoMs: 2_500, rtoFrom: 'kill' }, { name: 'failback', status: 'completed', rtoMs: 900, rtoFrom: 'pause-intake' }] })));
    expect(listed['failover-rto']?.observed).toBe('2.50 s from the SIGKILL of the primary to the first accepted one');
    expect(listed['acknowledged-orders']).toMatchObject({ status: 'pass', value: 0, title: 'Every acknowledged order found, or listed as lost' });
    expect(listed['acknowledged-orders']?.observed).toBe('3 of 900 acknowledged orders missing on a (the primary was killed: the measured loss), 3 listed by id');
    const unlisted = byId(drillGates(evidence({ ...base, listedMissing: 2 })));
    expect(unlisted['acknowledged-orders']).toMatchObject({ status: 'fail', value: 1 });
  });

  it('fail when the orders could not be read, whatever the mode', () => {
    for (const killPrimary of [false, true]) {
      const gates = byId(drillGates(evidence({ killPrimary, killExitCode: 0, orders: { basis: 'unreadable', acknowledged: 10, missing: [], finalPrimary: 'a', note: 'connection refused' } })));
      expect(gates['acknowledged-orders']).toMatchObject({ status: 'fail', value: null, observed: 'not measured: connection refused' });
    }
  });

  it('fail a part that did not complete, its RTO unmeasured, and a kill command that failed', () => {
    const gates = byId(
      drillGates(
        evidence({
          killPrimary: true,
          killExitCode: 1,
          parts: [
            { name: 'failover', status: 'rolled-back', message: 'wait-replay: timed out' },
            { name: 'failback', status: 'not run', message: 'the failover did not complete' },
          ],
        }),
      ),
    );
    expect(gates['failover-rto']).toMatchObject({ status: 'fail', value: null, observed: 'not measured: the failover rolled-back (wait-replay: timed out)' });
    expect(gates['failback-rto']?.status).toBe('fail');
    expect(gates['parts-completed']).toMatchObject({ status: 'fail', value: 3 });
    expect(gates['parts-completed']?.observed).toBe('the kill command exited 1; failover rolled-back: wait-replay: timed out; failback not run: the failover did not complete');
  });

  it('fail a drill whose load took no order before the failover', () => {
    expect(byId(drillGates(evidence({ acceptedBeforeFailover: 0 })))['steady-load']).toMatchObject({ status: 'fail', value: 0 });
  });

  it('an interrupt wins over the gates', () => {
    expect(drillStatus(drillGates(evidence()), true)).toBe('interrupted');
  });
});

/** A whole report, as runFailoverDrill returns it. */
function report(over: Partial<DrillReport> = {}): DrillReport {
  const gates = drillGates(evidence());
  return {
    apiVersion: 'surgectl/v1',
    kind: 'FailoverDrillReport',
    status: 'passed',
    startedAt: '2026-12-05T03:00:00.000Z',
    endedAt: '2026-12-05T03:01:00.000Z',
    durationMs: 60_000,
    settings: { from: 'a', to: 'b', ratePerSec: 200, frontUrl: 'http://127.0.0.1:8000', killPrimary: false, maxRtoMs: 10_000, warmupMs: 3_000 },
    parts: [
      { name: 'failover', from: 'a', to: 'b', status: 'completed', startS: 3, endS: 6.5, rtoMs: 1_840, observedGapMs: 1_900, journals: [{ runbook: 'region-failover', region: 'b', status: 'completed', path: '/tmp/j1.json' }] },
      { name: 'failback', from: 'b', to: 'a', status: 'completed', startS: 6.5, endS: 14, rtoMs: 2_210, observedGapMs: 2_300, journals: [] },
    ],
    load: {
      ratePerSec: 200,
      durationMs: 16_000,
      sent: 3_000,
      dropped: 0,
      acknowledged: 2_600,
      refused: 400,
      failed: 0,
      acceptedBeforeFailover: 600,
      maxRefusedPerSec: 200,
      maxFailedPerSec: 0,
      secondsWithRefusals: 3,
      perSecond: Array.from({ length: 16 }, (_, t) => ({ t, accepted: t === 4 || t === 9 ? 0 : 200, refused: t === 4 || t === 9 ? 200 : 0, failed: 0 })),
    },
    orders: { finalPrimary: 'a', basis: 'measured', acknowledged: 2_600, present: 2_600, missing: [], byStatus: { confirmed: 2_600 }, unfinished: 0 },
    steps: [
      { part: 'failover', step: 'pause-intake', kind: 'stack-admin', status: 'completed', startS: 3.1, endS: 3.12, durationMs: 20 },
      { part: 'failover', step: 'precheck-standby', kind: 'pg-replication-check', status: 'skipped' },
      { part: 'failover', step: 'promote<1>', kind: 'pg-promote', status: 'completed', startS: 4, endS: 4.6, durationMs: 600 },
    ],
    events: [{ t: 0, what: 'load started' }],
    gates,
    notes: [],
    ...over,
  };
}

describe('the drill report', () => {
  it('renders a self-contained HTML page with the timeline chart: three series, the parts shaded, each step that ran marked', () => {
    const html = renderDrillHtml(report());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link /);
    expect(html).toContain('PASSED: every gate passed');
    const svg = /<svg[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.match(/<polyline class="series"/g)).toHaveLength(3);
    expect(svg.match(/<rect class="part"/g)).toHaveLength(2);
    // a skipped step is not marked; the ones that shape a switch are labelled, every one has a tooltip (escaped)
    expect(svg.match(/<g class="step">/g)).toHaveLength(2);
    expect(svg).toContain('>pause-intake</text>');
    expect(svg).not.toContain('>promote&lt;1&gt;</text>');
    expect(svg).toContain('<title>failover promote&lt;1&gt; (pg-promote) completed at 4 s</title>');
    expect(svg).not.toContain('precheck-standby');
    expect(html).toContain('<h2>Acknowledged orders missing afterwards: 0</h2>');
  });

  it('lists every missing order in the HTML and marks the kill', () => {
    const missing = Array.from({ length: 40 }, (_, i) => `ord-${i}`);
    const html = renderDrillHtml(
      report({
        status: 'passed',
        settings: { ...report().settings, killPrimary: true },
        kill: { atS: 3, exitCode: 0, lossEstimate: 'b received WAL up to 0/3000060' },
        orders: { finalPrimary: 'a', basis: 'measured', acknowledged: 2_600, present: 2_560, missing, byStatus: { confirmed: 2_560 }, unfinished: 0 },
      }),
    );
    for (const id of missing) expect(html).toContain(id);
    expect(html).toContain('<line class="kill"');
    expect(html).toContain('b received WAL up to 0/3000060');
  });

  it('renders the terminal summary: each part with its RTO, the load, the orders, the gates', () => {
    const text = renderDrill(report({ files: { json: '/r/failover-drill.json', html: '/r/failover-drill.html' } }), createPaint(false));
    expect(text).toContain('failover   a -> b    completed  RTO 1.84 s (clients went 1.90 s without an acknowledged order)');
    expect(text).toContain('load       2,600 acknowledged, 400 refused (at most 200/s), 0 failed (at most 0/s), 0 dropped; 200/s for 16.0 s');
    expect(text).toContain('orders     2,600 of 2,600 acknowledged on a (2,600 confirmed); 0 missing');
    expect(text).toMatch(/acknowledged-orders\s+PASS/);
    expect(text).toContain('PASSED: all 5 gates');
    expect(text).toContain('report: /r/failover-drill.html  /r/failover-drill.json');
  });

  it('ends with exit 20 (a gate) when a gate failed, 130 when interrupted, nothing when it passed', () => {
    expect(drillOutcome(report())).toBeUndefined();
    const failedGates = drillGates(evidence({ maxRtoMs: 1_000 }));
    const failed = drillOutcome(report({ status: 'failed', gates: failedGates }));
    expect(failed).toMatchObject({ code: 'SRG_DRILL_GATE', exitCode: 20 });
    expect(failed?.message).toBe('2 of 5 failover drill gates failed: failover-rto, failback-rto');
    const interrupted = drillOutcome(report({ status: 'interrupted', parts: [{ name: 'failover', from: 'a', to: 'b', status: 'interrupted', journals: [{ runbook: 'region-failover', region: 'b', status: 'interrupted', path: '/tmp/j.json' }] }] }));
    expect(interrupted).toMatchObject({ code: 'SRG_CLI_INTERRUPTED', exitCode: 130 });
    expect(interrupted?.hint).toContain('surgectl runbook resume /tmp/j.json');
    // a report that could not be written fails a passed drill, and is added to a failed one
    expect(drillOutcome(report({ writeError: 'EACCES' }))).toMatchObject({ code: 'SRG_DRILL_REPORT' });
    expect(drillOutcome(report({ status: 'failed', gates: failedGates, writeError: 'EACCES' }))?.details.at(-1)).toMatch(/not written: EACCES/);
  });
});
