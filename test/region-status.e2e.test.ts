import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { RegionRow } from '../src/regions/status.js';
import { runCli } from './support/cli.js';
import { pgQuery, startPrimary, startReplica, type PgCluster } from './support/pg-cluster.js';
import { freePort } from './support/ports.js';
import { tempDir } from './support/stack.js';

/**
 * `surgectl region status` against real PostgreSQL streaming replication (a primary and a
 * replica the test starts) and two intake stand-ins: roles, positions, lag and who takes orders.
 */
describe('surgectl region status (real streaming replication)', () => {
  let a: PgCluster;
  let b: PgCluster;
  const intakes: Server[] = [];
  const dir = tempDir('surgectl-regions-');

  const intake = async (status: number): Promise<string> => {
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/readyz' ? status : 404;
      res.end('{}');
    });
    intakes.push(server);
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${port}`;
  };

  beforeAll(async () => {
    a = await startPrimary({ name: 'region_a' });
    b = await startReplica(a, { name: 'region_b' });
    await pgQuery(a.url, 'CREATE TABLE t (n int); INSERT INTO t SELECT generate_series(1, 1000)');
    const closed = await freePort();
    writeFileSync(
      join(dir.path, 'surgectl.yaml'),
      stringify({
        regions: {
          a: { store: a.url, intakeUrl: await intake(200) },
          b: { store: b.url, intakeUrl: await intake(503) },
          c: { store: `postgres://postgres@127.0.0.1:${closed}/postgres` },
        },
      }),
    );
  }, 120_000);
  afterAll(async () => {
    for (const s of intakes) s.close();
    await Promise.allSettled([b?.stop(), a?.stop()]);
    dir.remove();
  });

  it('shows the primary taking orders, the replica streaming with its lag, and an unreachable region, exit 0', async () => {
    // The replica has replayed the primary's writes (polled: replication is asynchronous).
    let rows: RegionRow[];
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await runCli(['-o', 'json', 'region', 'status'], { cwd: dir.path, timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(0);
      rows = JSON.parse(r.stdout) as RegionRow[];
      if (rows[1]?.lagBytes === 0 || Date.now() > deadline) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const [ra, rb, rc] = rows;
    expect(ra).toMatchObject({ name: 'a', role: 'primary', readOnly: false, intake: 'ready', takesTraffic: true });
    expect(ra?.replicas?.map((x) => [x.applicationName, x.state])).toEqual([['region_b', 'streaming']]);
    expect(rb).toMatchObject({ name: 'b', role: 'standby', intake: 'not ready', takesTraffic: false, lagBytes: 0 });
    expect(rb?.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(rc).toMatchObject({ name: 'c', role: 'unreachable', intake: 'not configured', takesTraffic: false });
    expect(rc?.error).toMatch(/ECONNREFUSED|connect/);

    const table = await runCli(['region', 'status'], { cwd: dir.path, timeoutMs: 30_000 });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^a\s+primary\s+postgres:\/\/127\.0\.0\.1:\d+\/postgres\s+\S+\s+1 replica\(s\)\s+ready\s+yes$/m);
    expect(table.stdout).toMatch(/^b\s+standby\s+.*\s+0 B.*not ready\s+no$/m);
  }, 90_000);

  it('a region with a bad store URL is a config error naming it (exit 10)', async () => {
    const bad = tempDir('surgectl-regions-bad-');
    writeFileSync(join(bad.path, 'surgectl.yaml'), stringify({ regions: { a: { store: 'mysql://x' } } }));
    const r = await runCli(['region', 'status'], { cwd: bad.path });
    bad.remove();
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(/regions\.a\.store.*expected a PostgreSQL URL/);
  });
});
