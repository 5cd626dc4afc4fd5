import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { afterEach, describe, expect, it } from 'vitest';
import type { DrillReport } from '../src/regions/drill-report.js';
import { runMain } from './support/cli.js';
import { requireHaproxy } from './support/haproxy.js';
import { pgQuery, requirePgBinaries } from './support/pg-cluster.js';
import { startRegions, stopReceiving, type TestRegions } from './support/regions.js';
import { httpClient } from './support/stack.js';

/**
 * `surgectl drill failover` against two real PostgreSQL clusters in streaming replication, two
 * order stacks and a real HAProxy in front (test/support/regions.ts): the drill's own load, the
 * failover, the failback, the order check and the report files.
 */

requirePgBinaries();
requireHaproxy();

let regions: TestRegions | undefined;
afterEach(async () => {
  await regions?.stop();
  regions = undefined;
}, 60_000);

const env = (r: TestRegions) => ({ SURGECTL_STACK_ADMIN_TOKEN: r.adminToken, PATH: process.env.PATH ?? '', SURGECTL_CONFIG: join(r.cwd, 'surgectl.yaml') });

describe('surgectl drill failover', () => {
  it('runs a planned failover and failback under 200 orders/s: both RTOs under 10 s, every acknowledged order on a, HTML + JSON report', async () => {
    regions = await startRegions();
    const r = regions;
    const dir = join(r.cwd, 'drill-report');
    const out = await runMain(['--yes', 'drill', 'failover', '--to', 'b', ...r.trafficArgs, '--workers', '8', '--rate', '200', '--report-dir', dir, '-o', 'json'], { cwd: r.cwd, env: env(r) });
    expect(out.code, out.stderr).toBe(0);
    // progress went to stderr while it ran
    expect(out.stderr).toMatch(/drill: 200 orders\/s through/);
    expect(out.stderr).toMatch(/drill: failover a -> b completed, RTO/);
    expect(out.stderr).toMatch(/drill: failback b -> a completed, RTO/);

    const doc = JSON.parse(out.stdout) as DrillReport;
    expect(doc).toMatchObject({ kind: 'FailoverDrillReport', status: 'passed', settings: { from: 'a', to: 'b', ratePerSec: 200, killPrimary: false } });
    expect(doc.parts.map((p) => [p.name, p.from, p.to, p.status])).toEqual([
      ['failover', 'a', 'b', 'completed'],
      ['failback', 'b', 'a', 'completed'],
    ]);
    for (const p of doc.parts) {
      expect(p.rtoMs).toBeGreaterThan(0);
      expect(p.rtoMs).toBeLessThan(10_000);
      expect(p.rtoFrom).toBe('pause-intake');
      expect(p.observedGapMs).toBeGreaterThan(0);
      expect(p.rpo).toMatchObject({ basis: 'measured', missing: [] });
    }
    expect(doc.parts[1]?.journals.map((j) => [j.runbook, j.region, j.status])).toEqual([
      ['region-rebuild', 'a', 'completed'],
      ['region-failover', 'a', 'completed'],
      ['region-rebuild', 'b', 'completed'],
    ]);
    expect(doc.gates.map((g) => [g.id, g.status])).toEqual([
      ['steady-load', 'pass'],
      ['failover-rto', 'pass'],
      ['failback-rto', 'pass'],
      ['acknowledged-orders', 'pass'],
      ['parts-completed', 'pass'],
    ]);
    // the load: steady at about 200/s, refusals only around the switches
    expect(doc.load.acknowledged).toBeGreaterThan(1_000);
    expect(doc.load.acceptedBeforeFailover).toBeGreaterThan(300);
    expect(doc.load.perSecond.length).toBeGreaterThan(8);
    expect(doc.load.perSecond.reduce((a, s) => a + s.accepted, 0)).toBe(doc.load.acknowledged);
    expect(doc.load.refused).toBeGreaterThan(0);
    // every acknowledged order is on a, the final primary, and settled
    expect(doc.orders).toMatchObject({ finalPrimary: 'a', basis: 'measured', missing: [], unfinished: 0 });
    expect(doc.orders.present).toBe(doc.load.acknowledged);
    expect(doc.orders.byStatus.confirmed).toBe(doc.load.acknowledged);
    // the timeline: both parts' steps on the drill's clock, in order
    const failoverSteps = doc.steps.filter((s) => s.part === 'failover');
    expect(failoverSteps.map((s) => s.step)).toEqual(['precheck-standby', 'pause-intake', 'stop-workers', 'wait-idle', 'fence', 'wait-replay', 'promote', 'open-intake', 'wait-ready', 'start-workers', 'move-traffic', 'verify-order']);
    expect(failoverSteps.every((s) => s.status === 'completed' && s.startS !== undefined && s.startS >= 2.5)).toBe(true);
    expect(doc.steps.some((s) => s.part === 'failback/switchover' && s.step === 'promote')).toBe(true);

    // a is primary again and takes the traffic; b streams from it
    expect((await pgQuery<{ r: boolean }>(r.a.store, 'SELECT pg_is_in_recovery() AS r'))[0]?.r).toBe(false);
    expect((await pgQuery<{ r: boolean }>(r.b.store, 'SELECT pg_is_in_recovery() AS r'))[0]?.r).toBe(true);
    const front = httpClient(r.haproxy.url);
    try {
      const res = await front.postOrder({ customerId: 'after-drill', items: [{ sku: 'SKU-0001', qty: 1 }] }, 'after-drill');
      expect(res.status).toBe(202);
    } finally {
      await front.close();
    }

    // the files: the JSON is the document printed, the HTML shows the timeline
    expect(doc.files).toEqual({ json: join(dir, 'failover-drill.json'), html: join(dir, 'failover-drill.html') });
    expect(JSON.parse(readFileSync(join(dir, 'failover-drill.json'), 'utf8'))).toEqual(doc);
    const html = readFileSync(join(dir, 'failover-drill.html'), 'utf8');
    expect(html).toContain('PASSED: every gate passed');
    const svg = /<svg[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.match(/<polyline class="series"/g)?.length).toBe(3);
    expect(svg.match(/<rect class="part"/g)?.length).toBe(2);
    for (const step of ['pause-intake', 'promote', 'move-traffic', 'verify-order']) expect(svg).toContain(`>${step}</text>`);
  }, 180_000);

  it('--kill-primary on asynchronous replication with b not receiving: lists the orders a acknowledged that b lacks, by id, and exits 0', async () => {
    regions = await startRegions();
    const r = regions;
    // b stops receiving (its walreceiver off): everything a acknowledges from here on is lost when a dies
    await stopReceiving(r);
    const since = Date.now();
    const dir = join(r.cwd, 'chaos-report');
    const out = await runMain(['--yes', 'drill', 'failover', '--to', 'b', '--kill-primary', ...r.trafficArgs, '--workers', '8', '--rate', '100', '--warmup', '2s', '--report-dir', dir, '-o', 'json'], {
      cwd: r.cwd,
      env: env(r),
    });
    const doc = JSON.parse(out.stdout) as DrillReport;
    expect(out.stderr).toMatch(/SIGKILL of a's PostgreSQL postmaster/);
    expect(out.stderr).toMatch(/forced failover from a to b: .* its walreceiver is stopped/);
    expect(doc.settings.killPrimary).toBe(true);
    expect(doc.kill).toMatchObject({ exitCode: 0 });
    expect(doc.kill?.lossEstimate).toMatch(/Every order the old primary acknowledged after the last WAL it shipped is lost/);
    // the RTO counts from the kill (clients were refused from there on), not from the promotion
    expect(doc.parts[0]).toMatchObject({ name: 'failover', status: 'completed', rtoFrom: 'kill', rpo: { basis: 'unknown' } });
    const promoteS = doc.steps.find((s) => s.part === 'failover' && s.step === 'promote')?.startS as number;
    expect(doc.parts[0]?.rtoMs).toBeGreaterThan((promoteS - (doc.kill?.atS as number)) * 1000);
    expect(doc.parts[0]?.rtoMs).toBeLessThan(10_000);

    // the loss: every order a acknowledged in the warm-up is missing, and each is listed
    expect(doc.load.acceptedBeforeFailover).toBeGreaterThan(100);
    expect(doc.orders.basis).toBe('measured');
    expect(doc.orders.missing.length).toBeGreaterThanOrEqual(doc.load.acceptedBeforeFailover);
    expect(doc.orders.present + doc.orders.missing.length).toBe(doc.load.acknowledged);
    // the ids listed are real orders a acknowledged (its data directory was rewound since, so ask
    // the final primary: none of them is there), and orders taken after the switch are there
    const listed = await pgQuery(r.a.store, 'SELECT id FROM orders WHERE id = ANY($1::text[])', [doc.orders.missing]);
    expect(listed).toEqual([]);
    expect(doc.orders.missing.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    const after = await pgQuery<{ n: string }>(r.a.store, 'SELECT count(*) AS n FROM orders WHERE created_at >= $1', [since]);
    expect(Number(after[0]?.n)).toBeGreaterThanOrEqual(doc.orders.present);
    const gate = doc.gates.find((g) => g.id === 'acknowledged-orders');
    expect(gate).toMatchObject({ status: 'pass', title: 'Every acknowledged order found, or listed as lost' });
    expect(gate?.observed).toContain(`${doc.orders.missing.length} of ${doc.load.acknowledged} acknowledged orders missing on ${doc.orders.finalPrimary}`);

    // the failback rebuilt the killed a (pg_rewind after crash recovery, else a new base backup) and moved back
    expect(doc.parts[1]).toMatchObject({ name: 'failback', status: 'completed' });
    expect(out.code, out.stderr).toBe(0);
    expect(doc.status).toBe('passed');
    const html = readFileSync(join(dir, 'failover-drill.html'), 'utf8');
    expect(html).toContain(`Acknowledged orders missing afterwards: ${doc.orders.missing.length}`);
    for (const id of doc.orders.missing.slice(0, 20)) expect(html).toContain(id);
    expect(html).toContain('<line class="kill"');
    expect(existsSync(join(dir, 'failover-drill.json'))).toBe(true);
  }, 180_000);
});
