import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { drillPair, startEngineLoad } from './drill.js';
import { newLoadRecord, recordAnswer } from './drill-report.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A front that acknowledges every other order (202 with an id) and refuses the rest (503). */
async function front(): Promise<{ url: string; posted: () => number }> {
  let n = 0;
  server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/inventory') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [{ sku: 'SKU-1', available: 10 }] }));
      return;
    }
    req.resume();
    req.on('end', () => {
      n++;
      if (n % 2 === 1) res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ orderId: `ord-${n}`, status: 'accepted' }));
      else res.writeHead(503, { 'retry-after': '1' }).end('{"code":"PAUSED"}');
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, posted: () => n };
}

describe("the drill's load (the loadtest engine's per-answer hook)", () => {
  it('passes on each answer with the ids it acknowledged, and stops when asked', async () => {
    const f = await front();
    const rec = newLoadRecord(Date.now());
    const load = await startEngineLoad({ url: f.url, ratePerSec: 100, maxDurationMs: 30_000, signal: new AbortController().signal, onAnswer: (status, ids) => recordAnswer(rec, Date.now(), status, ids) });
    await new Promise((r) => setTimeout(r, 600));
    const t = Date.now();
    const stopped = await load.stop();
    // stopped long before its 30 s cap
    expect(Date.now() - t).toBeLessThan(3_000);
    expect(stopped.durationMs).toBeLessThan(5_000);
    const refused = rec.seconds.reduce((a, s) => a + s.refused, 0);
    expect(rec.acknowledged.length).toBeGreaterThan(20);
    expect(rec.acknowledged.length + refused).toBe(f.posted());
    expect(Math.abs(rec.acknowledged.length - refused)).toBeLessThanOrEqual(1);
    expect(rec.acknowledged.every((id) => /^ord-\d*[13579]$/.test(id))).toBe(true);
    expect(new Set(rec.acknowledged).size).toBe(rec.acknowledged.length);
  });
});

describe('what a drill needs before it starts', () => {
  const regions = {
    a: { store: 'postgres://app@10.0.0.5:5432/orders', intakeUrl: 'http://10.0.0.5:8080', rebuild: 'rebuild-a', kill: 'kill-a' },
    b: { store: 'postgres://app@10.1.0.5:5432/orders', intakeUrl: 'http://10.1.0.5:8080' },
  };

  it('the pair, with the other region as the one to leave', async () => {
    await expect(drillPair({ regions, to: 'b', killPrimary: true })).resolves.toEqual({ from: 'a', to: 'b' });
  });

  it("the failback's rebuild command of the region it leaves", async () => {
    await expect(drillPair({ regions, to: 'a', killPrimary: false })).rejects.toMatchObject({ code: 'SRG_CONFIG_INVALID', message: expect.stringContaining('region b has no rebuild command') });
  });

  it('the kill command with --kill-primary', async () => {
    const { kill: _kill, ...a } = regions.a;
    await expect(drillPair({ regions: { ...regions, a }, to: 'b', killPrimary: false })).resolves.toEqual({ from: 'a', to: 'b' });
    await expect(drillPair({ regions: { ...regions, a }, to: 'b', killPrimary: true })).rejects.toMatchObject({ code: 'SRG_CONFIG_INVALID', message: expect.stringContaining('region a has no kill command') });
  });

  it('regions in surgectl.yaml, even without --to', async () => {
    await expect(drillPair({ regions: {}, killPrimary: false })).rejects.toMatchObject({ code: 'SRG_CLI_USAGE', message: 'no regions in surgectl.yaml' });
  });

  it('a region that exists', async () => {
    await expect(drillPair({ regions, to: 'c', killPrimary: false })).rejects.toMatchObject({ code: 'SRG_CLI_USAGE' });
  });
});

describe('a drill whose failover fails', () => {
  it('stops the load, runs no failback, reports every gate it failed and leaves nothing running', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createRecordingReporter } = await import('../reporter.js');
    const { runFailoverDrill } = await import('./drill.js');
    const dir = mkdtempSync(join(tmpdir(), 'drill-unit-'));
    try {
      // nothing listens on port 1: the standby check fails at once, before anything changed
      const regions = {
        a: { store: 'postgres://app@127.0.0.1:1/orders', intakeUrl: 'http://127.0.0.1:1', rebuild: 'true' },
        b: { store: 'postgres://app@127.0.0.1:1/orders', intakeUrl: 'http://127.0.0.1:1', rebuild: 'true' },
      };
      const unreachable = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1'));
      const ports = new Proxy({}, { get: () => unreachable }) as never;
      const reporter = createRecordingReporter(true);
      let stopped = 0;
      const r = await runFailoverDrill(
        {
          cwd: dir,
          env: {},
          sources: { userDir: join(dir, 'runbooks') },
          ports,
          reporter,
          yes: false,
          interactive: false,
          autoRollback: true,
          user: 'test',
          auditPath: join(dir, 'audit.log'),
          signal: new AbortController().signal,
          now: () => Date.now(),
          sleep: (ms) => new Promise((res) => setTimeout(res, Math.min(ms, 50))),
        },
        {
          regions,
          to: 'b',
          haproxy: '127.0.0.1:1',
          backend: 'orders',
          frontUrl: 'http://127.0.0.1:1',
          workers: 1,
          maxLagBytes: 1,
          ratePerSec: 10,
          killPrimary: false,
          maxRtoMs: 10_000,
          warmupMs: 10,
          cooldownMs: 10,
          maxDurationMs: 5_000,
          settleTimeoutMs: 0,
        },
        {
          startLoad: async (o) => {
            o.onAnswer(202, ['ord-1']);
            return {
              async stop() {
                stopped++;
                return { dropped: 0, durationMs: 100 };
              },
            };
          },
        },
      );
      expect(stopped).toBe(1);
      expect(reporter.messages.some((m) => /failover a -> b (failed|rolled-back)/.test(m.message))).toBe(true);
      expect(r.status).toBe('failed');
      expect(r.parts.map((p) => [p.name, p.status])).toEqual([
        ['failover', expect.stringMatching(/^(failed|rolled-back)$/)],
        ['failback', 'not run'],
      ]);
      expect(r.parts[0]?.message).toMatch(/precheck-standby/);
      expect(r.steps[0]).toMatchObject({ part: 'failover', step: 'precheck-standby', status: expect.stringMatching(/failed/) });
      expect(r.orders).toMatchObject({ basis: 'unreadable', acknowledged: 1 });
      expect(r.gates.filter((g) => g.status === 'fail').map((g) => g.id)).toEqual(['failover-rto', 'failback-rto', 'acknowledged-orders', 'parts-completed']);
      expect(r.events.map((e) => e.what)).toEqual([
        'load started: 10 orders/s through http://127.0.0.1:1',
        'failover a -> b started',
        expect.stringMatching(/^failover a -> b (failed|rolled-back)$/),
        'load stopped',
        expect.stringMatching(/^orders not checked: /),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
