import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { RunbookJournal } from '../src/runbooks/types.js';
import { runCli } from './support/cli.js';
import { startTestStack, tempDir, type TestStack } from './support/stack.js';

/**
 * The scale and flags operations as a runbook on the same engine: the built-in `surge-prep`
 * pre-scales a real stack from a ScalePlan and switches a flag set off through its admin API;
 * `runbook rollback` of its journal puts both back exactly.
 */
describe('surge-prep runbook (scale + flags on the runbook engine, real stack)', () => {
  let stack: TestStack;
  const dir = tempDir('surgectl-surge-prep-');
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await startTestStack({ workers: 4 });
    env = { SURGECTL_STACK_ADMIN_TOKEN: stack.adminToken };
    writeFileSync(
      join(dir.path, 'plan.yaml'),
      stringify({
        apiVersion: 'surgectl/v1',
        kind: 'ScalePlan',
        metadata: { name: 'flash-sale' },
        spec: { window: { start: '2030-11-27T06:00:00Z', end: '2030-11-27T18:00:00Z' }, services: [{ name: 'local', replicas: 9, targets: [{ kind: 'BundledStack', url: stack.url, role: 'workers' }] }] },
      }),
    );
  });
  afterAll(async () => {
    await stack.dispose();
    dir.remove();
  });

  const admin = async <T>(path: string): Promise<T> => (await (await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).json()) as T;
  const workers = async () => (await admin<{ workers: { size: number } }>('/admin/status')).workers.size;
  const flags = async () => Object.fromEntries((await admin<{ flags: { name: string; enabled: boolean }[] }>('/admin/flags')).flags.map((f) => [f.name, f.enabled]));

  it('pre-scales and sheds the set, then `runbook rollback` restores flags and workers', async () => {
    const flagsBefore = await flags();
    expect(flagsBefore).toMatchObject({ recommendations: true, 'loyalty-points': true, 'order-notifications': true });
    const cli = (args: string[]) => runCli(args, { cwd: dir.path, env, timeoutMs: 60_000 });

    const dry = await cli(['runbook', 'run', 'surge-prep', '--param', 'plan=plan.yaml', '--param', `stack_url=${stack.url}`, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('flags (local): set peak off');
    expect(await workers()).toBe(4);

    const run = await cli(['--yes', 'runbook', 'run', 'surge-prep', '--param', 'plan=plan.yaml', '--param', `stack_url=${stack.url}`, '--journal', 'prep.json', '--reason', 'BF-2030', '-o', 'json']);
    expect(run.stderr).toMatch(/✔ pre-scale/);
    expect(run.code).toBe(0);
    const j = JSON.parse(run.stdout) as RunbookJournal;
    expect(j.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['confirm-window:completed', 'pre-scale:completed', 'shed-flags:completed', 'stack-ready:completed']);
    expect(typeof j.steps[1]?.undo).toBe('string'); // the scale snapshot the rollback restores
    expect(await workers()).toBe(9);
    expect(await flags()).toMatchObject({ recommendations: false, 'loyalty-points': false, 'order-notifications': false });

    const back = await cli(['--yes', 'runbook', 'rollback', 'prep.json', '-o', 'json']);
    expect(back.code).toBe(0);
    const after = JSON.parse(readFileSync(join(dir.path, 'prep.json'), 'utf8')) as RunbookJournal;
    expect(after.status).toBe('rolled-back');
    expect(after.steps.map((s) => s.status)).toEqual(['completed', 'rolled-back', 'rolled-back', 'completed']);
    expect(await flags()).toEqual(flagsBefore);
    expect(await workers()).toBe(4);
  }, 90_000);
});
