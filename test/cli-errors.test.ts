import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import type { Runtime } from '../src/runtime.js';

/**
 * The CLI in this process, as a user meets it: usage errors, help without a command, flag values
 * out of range, verbose and colour. Each run gets an empty working directory (no surgectl.yaml)
 * and only the environment given.
 */
const cwd = mkdtempSync(join(tmpdir(), 'surgectl-cli-errors-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], opts: { env?: Record<string, string | undefined>; stdoutTTY?: boolean; stderrTTY?: boolean } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const runtime: Runtime = {
    env: opts.env ?? { NO_COLOR: '1' },
    cwd,
    argv0: 'surgectl',
    stdout: { write: (s: string) => (stdout += s), isTTY: opts.stdoutTTY ?? false },
    stderr: { write: (s: string) => (stderr += s), isTTY: opts.stderrTTY ?? false },
    now: () => Date.now(),
    signal: new AbortController().signal,
  };
  const code = await main(argv, runtime);
  return { code, stdout, stderr };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;

describe('out-of-range flag values are usage errors naming the flag', () => {
  const cases: [string[], string][] = [
    [['--port', '70000'], '--port must be a whole number 0..65535, got 70000'],
    [['--payment-port', '99999'], '--payment-port must be a whole number 0..65535, got 99999'],
    [['--workers', '100000'], '--workers must be a whole number 0..512, got 100000'],
    [['--max-backlog', '0'], '--max-backlog must be a whole number >= 1, got 0'],
    [['--payment-failure-rate', '2'], '--payment-failure-rate must be a number 0..1, got 2'],
    [['--payment-failure-rate', '-0.5'], '--payment-failure-rate must be a number 0..1, got -0.5'],
    [['--payment-latency-ms', '9999999'], '--payment-latency-ms must be a whole number 0..600000, got 9999999'],
    [['--data-dir', ''], "--data-dir must be a non-empty string, got ''"],
  ];
  for (const [flags, message] of cases) {
    it(`stack up ${flags.join(' ')}`, async () => {
      const r = await run(['stack', 'up', ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('[SRG_CLI_USAGE]');
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain('SRG_CONFIG_INVALID');
      expect(r.stderr).not.toContain('stack.');
    });
  }

  it('reports every bad flag at once', async () => {
    const r = await run(['stack', 'up', '--port', '70000', '--workers', '100000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--port must be');
    expect(r.stderr).toContain('--workers must be');
  });

  it('the same value from surgectl.yaml stays a config error (exit 10) naming the key', async () => {
    const file = join(cwd, 'range.yaml');
    writeFileSync(file, 'stack:\n  port: 70000\n');
    const r = await run(['--config', file, 'stack', 'up']);
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('[SRG_CONFIG_INVALID]');
    expect(r.stderr).toContain('stack.port: expected a whole number 0..65535, got 70000');
  });

  it('the same value from the environment is SRG_CONFIG_ENV naming the variable', async () => {
    const r = await run(['stack', 'up'], { env: { NO_COLOR: '1', SURGECTL_STACK_PORT: '70000' } });
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('[SRG_CONFIG_ENV]');
    expect(r.stderr).toContain('SURGECTL_STACK_PORT must be a whole number 0..65535');
  });

  it.each(['-5', '1.5'])('stack up --seed-inventory %s says it must be a whole number >= 0 or a file path', async (v) => {
    const r = await run(['stack', 'up', '--seed-inventory', v]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[SRG_CLI_USAGE]');
    expect(r.stderr).toContain(`--seed-inventory must be a whole number >= 0 or a file path, got '${v}'`);
    expect(r.stderr).not.toContain('ENOENT');
  });
});

describe('a missing or unknown command is a usage error that still shows the help', () => {
  it.each([[[]], [['stack']], [['loadtest']], [['capacity']]])('surgectl %j exits 2 with the help and an error line', async (argv: string[]) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: surgectl');
    expect(r.stderr).toContain('Commands:');
    expect(r.stderr).toContain('[SRG_CLI_USAGE]');
    expect(r.stderr).toMatch(/needs a command/);
    expect(r.stdout).toBe('');
  });

  it('surgectl help bogus says unknown command (exit 2)', async () => {
    const r = await run(['help', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[SRG_CLI_USAGE]');
    expect(r.stderr).toContain("unknown command 'bogus'");
  });

  it.each([
    [['scale', 'aply', '--help'], "unknown command 'aply' for 'surgectl scale' (Did you mean apply?)", "run 'surgectl scale --help'"],
    [['stack', 'stats', '-h'], "unknown command 'stats' for 'surgectl stack' (Did you mean status?)", "run 'surgectl stack --help'"],
    [['-o', 'json', 'chaos', 'rn', '--help'], "unknown command 'rn' for 'surgectl chaos' (Did you mean run?)", "run 'surgectl chaos --help'"],
  ])('an unknown command with --help is still a usage error: %j', async (argv, message, hint) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error [SRG_CLI_USAGE] ${message}`);
    expect(r.stderr).toContain(`hint: ${hint}`);
    expect(r.stdout).toBe('');
  });

  it('asking for help still exits 0', async () => {
    for (const argv of [['--help'], ['stack', '--help'], ['help'], ['help', 'stack'], ['stack', 'up', '--help'], ['-c', 'x.yaml', 'stack', '--help'], ['config', 'validate', 'a.yaml', '--help']]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout, argv.join(' ')).toContain('Usage: surgectl');
      expect(r.stderr, argv.join(' ')).toBe('');
    }
  });
});

describe("commander's usage errors follow the documented format", () => {
  it('an unknown option: error [SRG_CLI_USAGE] and a hint naming the command help', async () => {
    const r = await run(['stack', 'up', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error [SRG_CLI_USAGE] unknown option '--bogus'");
    expect(r.stderr).toContain("hint: run 'surgectl stack up --help'");
    expect(r.stderr).not.toContain('error: ');
    expect(r.stderr).not.toContain('(run with --help for usage)');
  });

  it("keeps commander's suggestion", async () => {
    const r = await run(['stack', 'up', '--wrkers', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error [SRG_CLI_USAGE] unknown option '--wrkers'");
    expect(r.stderr).toContain('Did you mean --workers?');
  });

  it('an unknown command and a bad flag value take the same format', async () => {
    const cmd = await run(['stak']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("error [SRG_CLI_USAGE] unknown command 'stak'");
    expect(cmd.stderr).toContain('Did you mean stack?');
    expect(cmd.stderr).toContain("hint: run 'surgectl --help'");
    const value = await run(['stack', 'up', '--workers', 'many']);
    expect(value.code).toBe(2);
    expect(value.stderr).toContain('error [SRG_CLI_USAGE]');
    expect(value.stderr).toContain("--workers must be a whole number >= 0, got 'many'");
    expect(value.stderr).toContain("hint: run 'surgectl stack up --help'");
  });

  it('a missing argument names the sub-command help', async () => {
    const r = await run(['config', 'validate', 'a', 'b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error [SRG_CLI_USAGE]');
    expect(r.stderr).toContain("hint: run 'surgectl config validate --help'");
  });
});

describe('verbose and colour', () => {
  it('-yv (combined short flags) turns on stack traces', async () => {
    const r = await run(['-yv', '--config', 'missing.yaml', 'config', 'view']);
    expect(r.code).toBe(10);
    expect(r.stderr).toContain('[SRG_CONFIG_NOT_FOUND]');
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('without -v there is no stack trace', async () => {
    const r = await run(['-y', '--config', 'missing.yaml', 'config', 'view']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("error colour follows stderr's terminal, not stdout's", async () => {
    const errTTY = await run(['--config', 'missing.yaml', 'config', 'view'], { env: {}, stdoutTTY: false, stderrTTY: true });
    expect(errTTY.stderr).toMatch(ANSI);
    const outTTY = await run(['--config', 'missing.yaml', 'config', 'view'], { env: {}, stdoutTTY: true, stderrTTY: false });
    expect(outTTY.stderr).not.toMatch(ANSI);
  });

  it('NO_COLOR and --no-color turn error colour off on a terminal', async () => {
    const noColor = await run(['--config', 'missing.yaml', 'config', 'view'], { env: { NO_COLOR: '1' }, stderrTTY: true });
    expect(noColor.stderr).toContain('[SRG_CONFIG_NOT_FOUND]');
    expect(noColor.stderr).not.toMatch(ANSI);
    const flag = await run(['--no-color', '--config', 'missing.yaml', 'config', 'view'], { env: {}, stderrTTY: true });
    expect(flag.stderr).toContain('[SRG_CONFIG_NOT_FOUND]');
    expect(flag.stderr).not.toMatch(ANSI);
  });

  it('usage errors are coloured like the others on a terminal', async () => {
    const r = await run(['stack', 'up', '--bogus'], { env: {}, stderrTTY: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(ANSI);
  });
});

describe('capacity plan', () => {
  it.each(['Infinity', '-Infinity', 'NaN'])('--max-factor %s is a usage error naming the flag', async (v) => {
    const r = await run(['capacity', 'plan', '--forecast', 'fc.json', '--per-replica-rps', '120', '--max-factor', v]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[SRG_CLI_USAGE]');
    expect(r.stderr).toContain('--max-factor');
  });

  it.each([['--per-replica-rps', 'Infinity'], ['--per-replica-rps', 'intake=Infinity'], ['--headroom', 'Infinity'], ['--replicas-under-test', 'Infinity']])(
    '%s %s is a usage error naming the flag',
    async (flag, v) => {
      const args = ['capacity', 'plan', '--forecast', 'fc.json', flag, v];
      if (flag !== '--per-replica-rps') args.push('--per-replica-rps', '120');
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('[SRG_CLI_USAGE]');
      expect(r.stderr).toContain(flag);
    },
  );

  it('capacity plan --help sends the plan only to commands that exist (scale apply now does)', async () => {
    const r = await run(['capacity', 'plan', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--out <file>');
    const named = [...new Set([...r.stdout.matchAll(/surgectl ([a-z]+) ([a-z]+)/g)].map((m) => `${m[1]} ${m[2]}`))];
    expect(named).toContain('scale apply');
    for (const path of named) expect((await run([...path.split(' '), '--help'])).code, path).toBe(0);
  });
});

describe('group commands show examples', () => {
  // loadtest and chaos are registered in files this change does not touch; their examples come separately.
  it.each(['stack', 'capacity', 'config', 'loadtest', 'chaos'])('surgectl %s --help has Examples', async (group) => {
    const r = await run([group, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n {2}\$ surgectl /);
  });
});
