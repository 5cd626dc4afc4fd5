import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeStackAdmin } from '../adapters/stack-admin/fake.js';
import { createFakeUnleash, type FakeUnleash } from '../adapters/unleash/fake.js';
import { SurgeError } from '../errors.js';
import { createRecordingReporter } from '../reporter.js';
import { degradeFlags, listFlags, restoreFlags, switchFlag, verifyFlags } from './flags.js';
import { switchOutcome, verifyOutcome } from './outcome.js';
import { planFlags } from './plan.js';
import { createLocalFlagsProvider, createUnleashFlagsProvider, type FlagInfo } from './provider.js';

const SETS = { peak: ['recommendations', 'loyalty-points', 'order-notifications'] };
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'flags-test-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function unleashWithPeak(): Promise<FakeUnleash> {
  const u = createFakeUnleash();
  for (const name of [...SETS.peak, 'checkout-v2']) {
    u.createFeature({ name, description: `${name} feature` });
    await u.toggle('default', name, 'development', true);
  }
  await u.toggle('default', 'loyalty-points', 'development', false); // already off: the degrade leaves it alone
  return u;
}
const provider = (u: FakeUnleash) => createUnleashFlagsProvider(u, { project: 'default', environment: 'development' });
const state = async (u: FakeUnleash) => Object.fromEntries((await u.listFeatures('default')).flatMap((f) => f.environments.map((e) => [`${f.name}/${e.name}`, e.enabled])));

describe('planFlags', () => {
  const observed: FlagInfo[] = [
    { name: 'a', description: '', environments: { stack: { enabled: true, overridden: false } } },
    { name: 'b', description: '', environments: { stack: { enabled: false, overridden: true } } },
  ];
  it('switches what differs, leaves what is already so, drops overrides that were not there', () => {
    const plan = planFlags(observed, [{ name: 'a', enabled: false }, { name: 'b', enabled: false }], { provider: { kind: 'local', target: 'x', project: undefined }, environment: 'stack' });
    expect(plan.steps.map((s) => s.action)).toEqual(['off', 'none']);
    const back = planFlags(observed, [{ name: 'b', enabled: true, overridden: false }], { provider: { kind: 'local', target: 'x', project: undefined }, environment: 'stack' });
    expect(back.steps[0]).toMatchObject({ action: 'reset', from: false, to: true });
  });
});

describe('flags on Unleash (fake)', () => {
  it('lists every flag per environment with the sets it belongs to', async () => {
    const u = await unleashWithPeak();
    const l = await listFlags({ provider: provider(u), sets: { ...SETS, other: ['missing'] } });
    expect(l.environments).toEqual(['development', 'production']);
    expect(l.flags.find((f) => f.name === 'recommendations')).toMatchObject({ environments: { development: true, production: false }, sets: ['peak'] });
    expect(l.flags.find((f) => f.name === 'checkout-v2')?.sets).toEqual([]);
    expect(l.missingFromSets).toEqual([{ set: 'other', flag: 'missing' }]);
  });

  it('degrade snapshots first, switches the set off; restore puts every flag back; a rerun is a no-op', async () => {
    const u = await unleashWithPeak();
    const before = await state(u);
    const cwd = tmp();
    const reporter = createRecordingReporter();
    const r = await degradeFlags({ provider: provider(u), setName: 'peak', sets: SETS, dryRun: false, reporter, cwd, now: () => Date.UTC(2026, 10, 27, 8) });
    expect(switchOutcome(r)).toBeUndefined();
    expect(r.switched.map((s) => s.name)).toEqual(['recommendations', 'order-notifications']);
    expect(r.snapshotPath).toContain(join(cwd, '.surgectl/snapshots/flags-'));
    const after = await state(u);
    expect(after['recommendations/development']).toBe(false);
    expect(after['checkout-v2/development']).toBe(true);
    const again = await degradeFlags({ provider: provider(u), setName: 'peak', sets: SETS, dryRun: false, reporter, cwd, now: () => 0 });
    expect(again.applied).toBe(false);

    const connectArgs: unknown[] = [];
    const restored = await restoreFlags({ snapshotPath: r.snapshotPath!, connect: async (from) => (connectArgs.push(from), provider(u)), dryRun: false, reporter });
    expect(connectArgs[0]).toMatchObject({ provider: 'unleash', target: u.url, project: 'default', environment: 'development' });
    expect(restored.switched.map((s) => s.name)).toEqual(['recommendations', 'order-notifications']);
    expect(await state(u)).toEqual(before);
    const rerun = await restoreFlags({ snapshotPath: r.snapshotPath!, connect: async () => provider(u), dryRun: false, reporter });
    expect(rerun.applied).toBe(false);
  });

  it('a flag of the set that does not exist is an error naming it, and nothing is switched', async () => {
    const u = await unleashWithPeak();
    const seeded = u.calls.length;
    const err = await degradeFlags({ provider: provider(u), setName: 'peak', sets: { peak: ['recommendations', 'no-such'] }, dryRun: false, reporter: createRecordingReporter(), cwd: tmp(), now: () => 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SurgeError);
    expect((err as SurgeError).code).toBe('SRG_FLAGS_UNKNOWN');
    expect((err as SurgeError).message).toContain("'no-such'");
    expect(u.calls.slice(seeded).filter((c) => c.startsWith('toggle'))).toEqual([]);
    expect((await state(u))['recommendations/development']).toBe(true);
  });

  it('an unknown set and an unknown environment are named', async () => {
    const u = await unleashWithPeak();
    const base = { provider: provider(u), sets: SETS, dryRun: false, reporter: createRecordingReporter(), cwd: tmp(), now: () => 0 };
    await expect(degradeFlags({ ...base, setName: 'black-friday' })).rejects.toMatchObject({ code: 'SRG_FLAGS_SET', message: expect.stringContaining("'black-friday'") });
    await expect(degradeFlags({ ...base, setName: 'peak', environment: 'staging' })).rejects.toMatchObject({ code: 'SRG_FLAGS_UNKNOWN', message: expect.stringContaining("'staging'") });
  });

  it('the server failing mid-degrade: SRG_FLAGS_PARTIAL names switched and not switched, the hint the snapshot', async () => {
    const u = await unleashWithPeak();
    const p = provider(u);
    const reporter = createRecordingReporter();
    // After the first switch, the server stops answering (the notify of the first switch fires it).
    const hooked = { ...reporter, notify: (m: string, l?: Parameters<typeof reporter.notify>[1]) => (reporter.notify(m, l), m.startsWith('recommendations:') && u.fail('unreachable')) };
    const r = await degradeFlags({ provider: p, setName: 'peak', sets: SETS, dryRun: false, reporter: hooked, cwd: tmp(), now: () => 0 });
    const out = switchOutcome(r);
    expect(out?.code).toBe('SRG_FLAGS_PARTIAL');
    expect(out?.message).toContain('switched recommendations; not switched order-notifications');
    expect(out?.hint).toContain(`surgectl flags restore ${r.snapshotPath}`);
    u.fail(undefined);
    await restoreFlags({ snapshotPath: r.snapshotPath!, connect: async () => p, dryRun: false, reporter });
    expect((await state(u))['recommendations/development']).toBe(true);
  });

  it('dry run plans and switches nothing; declining switches nothing', async () => {
    const u = await unleashWithPeak();
    const r = await switchFlag({ provider: provider(u), name: 'checkout-v2', enabled: false, dryRun: true, reporter: createRecordingReporter() });
    expect(r.plan.steps[0]).toMatchObject({ action: 'off' });
    expect((await state(u))['checkout-v2/development']).toBe(true);
    await expect(switchFlag({ provider: provider(u), name: 'checkout-v2', enabled: false, dryRun: false, reporter: createRecordingReporter(false) })).rejects.toMatchObject({ code: 'SRG_CLI_ABORTED' });
    await expect(degradeFlags({ provider: provider(u), setName: 'peak', sets: SETS, dryRun: false, reporter: createRecordingReporter(false), cwd: tmp(), now: () => 0 })).rejects.toMatchObject({ code: 'SRG_CLI_ABORTED' });
    expect((await state(u))['recommendations/development']).toBe(true);
  });
});

describe('flags on the local stack (fake)', () => {
  it('degrade then restore drops the overrides the degrade added', async () => {
    const stack = createFakeStackAdmin();
    await stack.setFlag('loyalty-points', true); // an override the operator set before: kept by restore
    const p = createLocalFlagsProvider(stack);
    const before = await stack.flags();
    const r = await degradeFlags({ provider: p, setName: 'peak', sets: SETS, dryRun: false, reporter: createRecordingReporter(), cwd: tmp(), now: () => 0 });
    expect((await stack.flags()).every((f) => !f.enabled && f.overridden)).toBe(true);
    await restoreFlags({ snapshotPath: r.snapshotPath!, connect: async () => p, dryRun: false, reporter: createRecordingReporter() });
    expect(await stack.flags()).toEqual(before);
  });
});

describe('verifyFlags', () => {
  it('passes when every instance uses the flag server values; else names the instance (exit 20)', async () => {
    const stack = createFakeStackAdmin();
    const p = createLocalFlagsProvider(stack);
    await stack.setFlag('recommendations', false);
    const other = createFakeStackAdmin({ url: 'http://other:8080' }); // still has recommendations on
    let t = 0;
    const ok = await verifyFlags({ provider: p, setName: 'peak', sets: SETS, stacks: [stack], timeoutMs: 1_000, intervalMs: 1, now: () => t });
    expect(ok.propagated).toBe(true);
    const bad = await verifyFlags({ provider: p, setName: 'peak', sets: SETS, stacks: [stack, other], timeoutMs: 30, intervalMs: 1, now: () => (t += 10) });
    expect(bad.propagated).toBe(false);
    const out = verifyOutcome(bad);
    expect(out?.code).toBe('SRG_FLAGS_NOT_PROPAGATED');
    expect(out?.exitCode).toBe(20);
    expect(out?.details.join('\n')).toContain('recommendations is on, expected off');
  });

  it('an instance reading another source is not up to date', async () => {
    const u = await unleashWithPeak();
    const stack = createFakeStackAdmin();
    const r = await verifyFlags({ provider: provider(u), setName: 'peak', sets: SETS, stacks: [stack], timeoutMs: 0, now: () => 0 });
    expect(r.instances[0]?.problem).toContain('its own settings');
  });
});
