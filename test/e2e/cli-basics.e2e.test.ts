import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, runMain } from '../support/cli.js';
import { REPO_ROOT, tempDir } from '../support/stack.js';

const dir = tempDir('surgectl-cli-');
afterAll(() => dir.remove());

/** Names of the sub-commands listed under "Commands:" in a help text. */
function commandsIn(help: string): string[] {
  const section = help.split(/^Commands:\s*$/m)[1];
  if (!section) return [];
  return section
    .split('\n')
    .map((l) => /^ {2}([a-z][a-z0-9-]*)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && n !== 'help');
}

describe('surgectl as a user runs it', () => {
  it('--help and a command\'s --help load no Kubernetes, AWS or Unleash SDK (they load when a command reaches those systems)', async () => {
    const { execFile } = await import('node:child_process');
    const { CLI_JS, ensureBuilt } = await import('../support/stack.js');
    ensureBuilt();
    for (const args of [['--help'], ['scale', 'apply', '--help'], ['flags', 'degrade', '--help'], ['chaos', 'run', '--help']]) {
      const record = join(dir.path, `imports-${args.join('-')}.txt`);
      await new Promise<void>((done, fail) =>
        execFile(process.execPath, ['--import', join(REPO_ROOT, 'test/support/record-imports.mjs'), CLI_JS, ...args], { env: { ...process.env, SURGECTL_RECORD_IMPORTS: record } }, (err) =>
          err ? fail(err) : done(),
        ),
      );
      const loaded = readFileSync(record, 'utf8');
      expect(loaded, args.join(' ')).toContain('/commander/');
      for (const sdk of ['@kubernetes/client-node', '@aws-sdk/', 'unleash-client', 'unleash-server', 'acorn', 'typescript']) expect(loaded.includes(sdk), `${args.join(' ')} loads ${sdk}`).toBe(false);
    }
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('an unknown flag is a usage error (exit 2)', async () => {
    const r = await runCli(['stack', 'up', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--no-such-flag'");
    expect(r.stderr).toContain("error [SRG_CLI_USAGE] unknown option '--no-such-flag'");
    expect(r.stderr).toContain("hint: run 'surgectl stack up --help'");
  });

  it('a missing command is a usage error (exit 2) that shows the help; --help exits 0', async () => {
    for (const args of [[], ['stack'], ['loadtest']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('Commands:');
      expect(r.stderr).toContain('[SRG_CLI_USAGE]');
    }
    const bogus = await runCli(['help', 'bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("unknown command 'bogus'");
    for (const args of [['--help'], ['stack', '--help']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: surgectl');
    }
  });

  it('-yv prints the stack trace of an error (combined short flags)', async () => {
    const r = await runCli(['-yv', '--config', join(dir.path, 'missing.yaml'), 'config', 'view']);
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('[SRG_CONFIG_NOT_FOUND]');
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('env values are read by the type of their key: a numeric token stays a string', async () => {
    const r = await runCli(['-o', 'json', 'config', 'view'], {
      cwd: dir.path,
      env: { SURGECTL_STACK_ADMIN_TOKEN: '12345678901234567890', SURGECTL_STACK_DATA_DIR: '2024', SURGECTL_STACK_PAYMENT_FAILURE_RATE: '.5', SURGECTL_STACK_WORKERS: ' 3' },
    });
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout) as { stack: { adminToken: string; dataDir: string; paymentFailureRate: number; workers: number } };
    expect(c.stack).toMatchObject({ adminToken: '<set>', dataDir: '2024', paymentFailureRate: 0.5, workers: 3 });
  });

  it('config view never prints the credentials in a URL', async () => {
    const r = await runCli(['-o', 'json', 'config', 'view'], {
      cwd: dir.path,
      env: { SURGECTL_FORECAST_PROMETHEUS: 'http://ops:s3cret-pw@127.0.0.1:9090/prom' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('s3cret-pw');
    expect(r.stdout).not.toContain('ops:');
    expect((JSON.parse(r.stdout) as { forecast: { prometheus: string } }).forecast.prometheus).toBe('http://<redacted>@127.0.0.1:9090/prom');
  });

  it('a bad config file exits 10 and lists every problem with its key path', async () => {
    const file = join(dir.path, 'surgectl.yaml');
    writeFileSync(file, 'stack:\n  workers: -1\n  port: "eighty"\n  maxBacklog: 0\n  colour: blue\n');
    const r = await runCli(['--config', file, 'stack', 'up']);
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('[SRG_CONFIG_INVALID]');
    for (const key of ['stack.workers', 'stack.port', 'stack.maxBacklog', "'colour'"]) expect(r.stderr).toContain(key);
  });

  it('every command and sub-command has an Examples section in --help', async () => {
    const top = await runMain(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Examples:');
    const missing: string[] = [];
    const visit = async (path: string[]) => {
      const r = await runMain([...path, '--help']);
      expect(r.code).toBe(0);
      const subs = commandsIn(r.stdout);
      // A group whose sub-commands carry the examples is fine; a leaf must have its own.
      if (subs.length === 0 && !r.stdout.includes('Examples:')) missing.push(path.join(' '));
      for (const s of subs) await visit([...path, s]);
    };
    const roots = commandsIn(top.stdout);
    expect(roots).toContain('stack');
    for (const c of roots) await visit([c]);
    expect(missing).toEqual([]);
  });
});
