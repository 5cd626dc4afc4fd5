import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { startTestStack, tempDir, type TestStack } from './support/stack.js';

/** `surgectl flags` with the local provider: a REAL bundled stack's own flags through its admin API. */
describe('flags on the local stack, end to end', () => {
  let stack: TestStack;
  const dir = tempDir('surgectl-flags-local-');
  const cli = (args: string[]) => runCli(args, { cwd: dir.path, env: { SURGECTL_STACK_ADMIN_TOKEN: stack.adminToken } });

  beforeAll(async () => {
    stack = await startTestStack();
    stack.engine.flags.set('loyalty-points', true); // an operator's override, kept by restore
  });
  afterAll(async () => {
    await stack?.dispose();
    dir.remove();
  });

  it('degrade (dry run, then for real) -> verify -> restore, exactly back', async () => {
    const before = stack.engine.flags.list();
    const dry = await cli(['flags', 'degrade', '--stack', stack.url, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('recommendations: on -> off');
    expect(stack.engine.flags.list()).toEqual(before);

    const off = await cli(['flags', 'degrade', '--stack', stack.url]);
    expect(off.code).toBe(2);
    expect(off.stderr).toContain('SRG_CLI_NOT_A_TTY');
    expect(stack.engine.flags.list()).toEqual(before);

    const d = await cli(['--yes', '-o', 'json', 'flags', 'degrade', '--stack', stack.url]);
    expect(d.code, d.stderr).toBe(0);
    const { snapshotPath } = JSON.parse(d.stdout) as { snapshotPath: string };
    expect(JSON.parse(readFileSync(snapshotPath, 'utf8'))).toMatchObject({ apiVersion: 'surgectl/v1', kind: 'FlagsSnapshot' });
    expect(stack.engine.flags.list().every((f) => !f.enabled)).toBe(true);

    const v = await cli(['flags', 'verify', '--stack', stack.url, '--timeout', '5s']);
    expect(v.code, v.stderr).toBe(0);

    const r = await cli(['--yes', 'flags', 'restore', snapshotPath]);
    expect(r.code, r.stderr).toBe(0);
    expect(stack.engine.flags.list()).toEqual(before);
  });

  it('on/off one flag, list it, and name an unknown one', async () => {
    expect((await cli(['--yes', 'flags', 'off', 'recommendations', '--stack', stack.url])).code).toBe(0);
    const l = await cli(['-o', 'yaml', 'flags', 'list', '--stack', stack.url]);
    expect(l.stdout).toMatch(/name: recommendations\n\s+description: .+\n\s+environments:\n\s+stack: false/);
    expect((await cli(['--yes', 'flags', 'on', 'recommendations', '--stack', stack.url])).code).toBe(0);
    const bad = await cli(['--yes', 'flags', 'off', 'nope', '--stack', stack.url]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'nope'");
  });
});
