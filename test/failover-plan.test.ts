import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from './support/cli.js';

/**
 * `surgectl failover --dry-run` and `failback --dry-run`: the plan of every step with its values,
 * from surgectl.yaml's regions, touching nothing (the regions named here do not exist).
 */

const dir = mkdtempSync(join(tmpdir(), 'surgectl-failover-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, 'surgectl.yaml'),
  `regions:
  east: { store: 'postgres://app:s3cret@10.0.0.5:5432/orders', intakeUrl: 'http://10.0.0.5:8080', server: east-1, rebuild: 'ssh db-east rebuild-replica' }
  west: { store: 'postgres://app:s3cret@10.1.0.5:5432/orders', intakeUrl: 'http://10.1.0.5:8080', server: west-1 }
`,
);
const run = (args: string[]) => runMain(args, { cwd: dir, env: { SURGECTL_CONFIG: join(dir, 'surgectl.yaml') } });

describe('surgectl failover --dry-run', () => {
  it('plans the HAProxy switch by default: fence, replay, promote, open, weights, synthetic order; never shows the password', async () => {
    const r = await run(['failover', '--to', 'west', '--dry-run', '--haproxy', '10.9.0.1:9999']);
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout;
    for (const step of ['precheck-standby', 'pause-intake', 'stop-workers', 'wait-idle', 'fence', 'wait-replay', 'promote', 'open-intake', 'wait-ready', 'start-workers', 'move-traffic', 'verify-order']) expect(text).toContain(step);
    expect(text).toContain('haproxy 10.9.0.1:9999 backend orders: east-1 weight 0, west-1 weight 100');
    expect(text).toContain('the point of no return');
    expect(text).not.toMatch(/move-service\s+\[CHANGE\]/);
    expect(text + r.stderr).not.toContain('s3cret');
  });

  it("--target kubernetes moves the Service's selector instead, in the namespace given", async () => {
    const r = await run(['failover', '--to', 'west', '--dry-run', '--target', 'kubernetes', '-n', 'shop', '--service', 'checkout', '--label', 'site', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { steps: { name: string; enabled: boolean; describe: string }[] };
    const step = (name: string) => plan.steps.find((s) => s.name === name);
    expect(step('move-traffic')?.enabled).toBe(false);
    expect(step('move-service')).toMatchObject({ enabled: true });
    expect(JSON.stringify(step('move-service'))).toMatch(/shop.*checkout.*site.*west-1/);
  });

  it('--force skips the fence and the wait for replay; unknown regions and a missing --to are usage errors', async () => {
    const forced = await run(['failover', '--to', 'west', '--force', '--dry-run', '-o', 'json']);
    expect(forced.code, forced.stderr).toBe(0);
    const plan = JSON.parse(forced.stdout) as { steps: { name: string; enabled: boolean }[] };
    expect(plan.steps.filter((s) => s.enabled).map((s) => s.name)).toEqual(['promote', 'open-intake', 'wait-ready', 'start-workers', 'move-traffic', 'verify-order']);
    const unknown = await run(['failover', '--to', 'north', '--dry-run']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown region 'north'; surgectl.yaml has east, west");
    expect((await run(['failover', '--dry-run'])).code).toBe(2);
  });

  it('failback --dry-run plans the rebuild, the switchover back and the rebuild of the other side', async () => {
    const r = await run(['failback', '--to', 'east', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('run ssh db-east rebuild-replica');
    expect(r.stdout).toContain('promote PostgreSQL standby postgres://10.0.0.5:5432/orders');
    // west has no rebuild command: the plan ends with the switchover
    expect(r.stdout.match(/region-rebuild/g)?.length).toBe(1);
  });
});
