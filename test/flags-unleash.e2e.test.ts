import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnleash } from '../src/adapters/unleash/unleash.js';
import { StackConfigSchema } from '../src/config/schema.js';
import { degradeFlags } from '../src/flags/flags.js';
import { switchOutcome } from '../src/flags/outcome.js';
import { createUnleashFlagsProvider } from '../src/flags/provider.js';
import { silentLogger } from '../src/order-core/logger.js';
import { startStack, type RunningStack } from '../src/order-core/stack.js';
import { createRecordingReporter } from '../src/reporter.js';
import { runCli } from './support/cli.js';
import { startTestStack, tempDir } from './support/stack.js';
import { createUnleashFlags, startUnleash, unleashState, type TestUnleash } from './support/unleash-server.js';

const PEAK = ['recommendations', 'loyalty-points', 'order-notifications'];

/**
 * `surgectl flags` against a REAL unleash-server 6.10 (PostgreSQL) and a REAL bundled stack that
 * reads its flags from that server with unleash-client: degrade -> verify -> restore.
 */
describe('flags on Unleash, end to end', () => {
  let unleash: TestUnleash;
  let stack: RunningStack;
  const dir = tempDir('surgectl-flags-e2e-');
  const cli = (args: string[]) =>
    runCli(['--yes', ...args], { cwd: dir.path, env: { UNLEASH_ADMIN_TOKEN: unleash.adminToken, SURGECTL_STACK_ADMIN_TOKEN: stack.adminToken }, timeoutMs: 30_000 });
  const where = () => ['--provider', 'unleash', '--unleash-url', unleash.url];

  beforeAll(async () => {
    unleash = await startUnleash();
    await createUnleashFlags(unleash, [
      ...PEAK.map((name) => ({ name, description: `${name} (non-critical)`, on: ['development', 'production'] })),
      { name: 'checkout-v2', description: 'critical: never degraded', on: ['development'] },
    ]);
    const config = StackConfigSchema.parse({ host: '127.0.0.1', port: 0, paymentPort: 0, dataDir: join(dir.path, 'stack'), workers: 2, paymentLatencyMs: 0 });
    stack = await startStack({
      ...config,
      logger: silentLogger(),
      defaultMetrics: false,
      cwd: dir.path,
      unleashUrl: unleash.url,
      unleashClientToken: unleash.clientToken,
      unleashEnvironment: 'development',
      unleashRefreshIntervalMs: 300,
    });
  }, 90_000);
  afterAll(async () => {
    await stack?.stop({ drainTimeoutMs: 5_000 });
    await unleash?.stop();
    dir.remove();
  }, 30_000);

  it('lists every flag per environment with its sets (-o json)', async () => {
    const r = await cli(['-o', 'json', 'flags', 'list', ...where()]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const l = JSON.parse(r.stdout) as { environments: string[]; flags: { name: string; environments: Record<string, boolean>; sets: string[]; description: string }[] };
    expect(l.environments).toEqual(expect.arrayContaining(['development', 'production']));
    expect(l.flags.find((f) => f.name === 'recommendations')).toMatchObject({ environments: { development: true, production: true }, sets: ['peak'], description: 'recommendations (non-critical)' });
    expect(l.flags.find((f) => f.name === 'checkout-v2')?.sets).toEqual([]);
    expect(r.stdout).not.toContain(unleash.adminToken);
  });

  it('degrade -> verify -> restore puts every flag back exactly (server state compared before/after)', async () => {
    const before = await unleashState(unleash);
    // The stack has seen the initial values before anything changes.
    const seen = await cli(['flags', 'verify', ...where(), '--stack', stack.url, '--timeout', '20s']);
    expect(seen.code, seen.stderr).toBe(0);

    const d = await cli(['-o', 'json', 'flags', 'degrade', '--set', 'peak', ...where()]);
    expect(d.code, d.stderr).toBe(0);
    const degraded = JSON.parse(d.stdout) as { snapshotPath: string; switched: { name: string }[] };
    expect(degraded.switched.map((s) => s.name)).toEqual(PEAK);
    const mid = await unleashState(unleash);
    for (const n of PEAK) expect(mid[`${n}/development`]).toBe(false);
    expect(mid['recommendations/production']).toBe(true); // another environment is untouched
    expect(mid['checkout-v2/development']).toBe(true);
    expect(JSON.stringify(await import('node:fs').then((fs) => fs.readFileSync(degraded.snapshotPath, 'utf8')))).not.toContain(unleash.adminToken);

    const v = await cli(['flags', 'verify', ...where(), '--stack', stack.url, '--timeout', '20s']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toContain('up to date');
    expect(stack.engine.flags.list().filter((f) => PEAK.includes(f.name)).every((f) => !f.enabled)).toBe(true);

    const r = await cli(['flags', 'restore', degraded.snapshotPath]);
    expect(r.code, r.stderr).toBe(0);
    expect(await unleashState(unleash)).toEqual(before);
    const again = await cli(['-o', 'json', 'flags', 'restore', degraded.snapshotPath]);
    expect(JSON.parse(again.stdout)).toMatchObject({ applied: false, switched: [] });
  });

  it('verify exits 20 naming an instance that does not use the flag server values', async () => {
    // A second instance that reads its own local flags: it never sees the switch on Unleash.
    const local = await startTestStack({ adminToken: stack.adminToken });
    try {
      const o = await cli(['flags', 'off', 'loyalty-points', ...where()]);
      expect(o.code, o.stderr).toBe(0);
      const v = await cli(['flags', 'verify', ...where(), '--stack', stack.url, '--stack', local.url, '--timeout', '2s', '--interval', '200ms']);
      expect(v.code, v.stderr).toBe(20);
      expect(v.stderr).toContain('SRG_FLAGS_NOT_PROPAGATED');
      expect(v.stderr).toContain('1 of 2 instance(s)');
      expect(v.stderr).toContain('loyalty-points is on, expected off');
      expect(v.stderr).toContain('its own settings');
    } finally {
      await cli(['flags', 'on', 'loyalty-points', ...where()]);
      await local.dispose();
    }
  });

  it('a set naming a flag that does not exist is an error naming it; nothing is switched', async () => {
    const before = await unleashState(unleash);
    await import('node:fs').then((fs) => fs.writeFileSync(join(dir.path, 'surgectl.yaml'), 'flags:\n  sets:\n    bad: [recommendations, no-such-flag]\n'));
    const r = await runCli(['--yes', 'flags', 'degrade', '--set', 'bad', ...where()], { cwd: dir.path, env: { UNLEASH_ADMIN_TOKEN: unleash.adminToken } });
    await import('node:fs').then((fs) => fs.rmSync(join(dir.path, 'surgectl.yaml')));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SRG_FLAGS_UNKNOWN');
    expect(r.stderr).toContain("'no-such-flag'");
    expect(await unleashState(unleash)).toEqual(before);
  });

  it('names a token without admin rights (403) and an unknown project; never prints the token', async () => {
    const r = await runCli(['flags', 'list', ...where()], { cwd: dir.path, env: { UNLEASH_ADMIN_TOKEN: unleash.clientToken } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SRG_FLAGS_AUTH');
    expect(r.stderr).toContain('403');
    expect(r.stderr).not.toContain(unleash.clientToken.split('.')[1]!);
    const p = await cli(['flags', 'list', ...where(), '--project', 'shop']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain("no project 'shop'");
    const none = await runCli(['flags', 'list', ...where()], { cwd: dir.path, env: { UNLEASH_ADMIN_TOKEN: '' } });
    expect(none.stderr).toContain('UNLEASH_ADMIN_TOKEN');
  });
});

describe('Unleash going down mid-degrade', () => {
  it('names what was switched and what was not; restore after a restart repairs it', async () => {
    const dir = tempDir('surgectl-flags-down-');
    let unleash = await startUnleash();
    try {
      await createUnleashFlags(unleash, PEAK.map((name) => ({ name, on: ['development'] })));
      const before = await unleashState(unleash);
      const u = unleash;
      const provider = createUnleashFlagsProvider(createUnleash({ url: u.url, token: u.adminToken, timeoutMs: 3_000 }), { project: 'default', environment: 'development' });
      const reporter = createRecordingReporter();
      // After the first switch, the REAL server is killed; the call returns once its port is closed.
      const hooked = {
        ...reporter,
        notify(m: string, l?: Parameters<typeof reporter.notify>[1]) {
          reporter.notify(m, l);
          if (m.startsWith('recommendations:')) {
            execFileSync('bash', ['-c', `kill -9 ${u.pid}; for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/${u.port}) 2>/dev/null || exit 0; sleep 0.05; done; exit 1`]);
          }
        },
      };
      const r = await degradeFlags({ provider, setName: 'peak', sets: { peak: PEAK }, dryRun: false, reporter: hooked, cwd: dir.path, now: () => Date.now() });
      const out = switchOutcome(r);
      expect(out?.code).toBe('SRG_FLAGS_PARTIAL');
      expect(out?.message).toContain('switched recommendations; not switched loyalty-points, order-notifications');
      expect(out?.details.join('\n')).toContain('did not answer');
      expect(out?.hint).toContain(`surgectl flags restore ${r.snapshotPath}`);

      await unleash.stop({ keepDatabase: true });
      unleash = await startUnleash({ database: u.database, port: u.port, adminToken: u.adminToken, clientToken: u.clientToken });
      const mid = await unleashState(unleash);
      expect(mid['recommendations/development']).toBe(false);
      expect(mid['loyalty-points/development']).toBe(true);

      const res = await runCli(['--yes', 'flags', 'restore', r.snapshotPath!], { cwd: dir.path, env: { UNLEASH_ADMIN_TOKEN: unleash.adminToken } });
      expect(res.code, res.stderr).toBe(0);
      expect(await unleashState(unleash)).toEqual(before);
    } finally {
      await unleash.stop();
      dir.remove();
    }
  }, 120_000);
});
