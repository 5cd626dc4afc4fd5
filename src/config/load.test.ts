import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { loadConfig, type LoadConfigOptions } from './load.js';

const cwd = mkdtempSync(join(tmpdir(), 'surgectl-config-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** The SurgeError loadConfig throws for these options (fails the test when it resolves). */
async function failure(opts: Partial<LoadConfigOptions>): Promise<SurgeError> {
  try {
    await loadConfig({ cwd, env: {}, ...opts });
  } catch (err) {
    if (err instanceof SurgeError) return err;
    throw err;
  }
  throw new Error('loadConfig did not fail');
}
const text = (e: SurgeError) => [e.message, ...e.details].join('\n');

describe('environment variables are converted by the type the schema expects', () => {
  it('keeps string keys strings, even when they look like numbers', async () => {
    const { config } = await loadConfig({ cwd, env: { SURGECTL_STACK_ADMIN_TOKEN: '12345678901234567890', SURGECTL_STACK_DATA_DIR: '2024' } });
    expect(config.stack.adminToken).toBe('12345678901234567890');
    expect(config.stack.dataDir).toBe('2024');
  });

  it('parses numbers leniently, like the flags: .5, surrounding blanks', async () => {
    const { config } = await loadConfig({ cwd, env: { SURGECTL_STACK_PAYMENT_FAILURE_RATE: '.5', SURGECTL_STACK_WORKERS: ' 3', SURGECTL_STACK_MAX_BACKLOG: '5000 ' } });
    expect(config.stack.paymentFailureRate).toBe(0.5);
    expect(config.stack.workers).toBe(3);
    expect(config.stack.maxBacklog).toBe(5000);
  });

  it('converts a union by what the value is: a number or the literal', async () => {
    const off = await loadConfig({ cwd, env: { SURGECTL_STACK_RATE_LIMIT: 'off', SURGECTL_STACK_SEED_INVENTORY: 'catalog.yaml' } });
    expect(off.config.stack.rateLimit).toBe('off');
    expect(off.config.stack.seedInventory).toBe('catalog.yaml');
    const n = await loadConfig({ cwd, env: { SURGECTL_STACK_RATE_LIMIT: '50', SURGECTL_STACK_SEED_INVENTORY: '100' } });
    expect(n.config.stack.rateLimit).toBe(50);
    expect(n.config.stack.seedInventory).toBe(100);
  });

  it('keeps durations and enums as text', async () => {
    const { config } = await loadConfig({ cwd, env: { SURGECTL_FORECAST_HORIZON: '10d', SURGECTL_STACK_LOG_LEVEL: 'debug' } });
    expect(config.forecast.horizon).toBe('10d');
    expect(config.stack.logLevel).toBe('debug');
  });

  it('reports a bad value with SRG_CONFIG_ENV naming the variable, what it must be and what it held', async () => {
    const e = await failure({ env: { SURGECTL_STACK_WORKERS: 'many' } });
    expect(e.code).toBe('SRG_CONFIG_ENV');
    expect(e.exitCode).toBe(10);
    expect(text(e)).toContain("SURGECTL_STACK_WORKERS must be a whole number 0..512, got 'many'");
    expect(text(e)).not.toContain('stack.workers');
  });

  it('reports every bad variable at once', async () => {
    const e = await failure({ env: { SURGECTL_STACK_PORT: '70000', SURGECTL_STACK_RATE_LIMIT: 'fast', SURGECTL_STACK_ADMIN_TOKEN: 'short' } });
    expect(e.code).toBe('SRG_CONFIG_ENV');
    expect(text(e)).toContain("SURGECTL_STACK_PORT must be a whole number 0..65535, got '70000'");
    expect(text(e)).toContain("SURGECTL_STACK_RATE_LIMIT must be a positive number or 'off', got 'fast'");
    expect(text(e)).toContain('SURGECTL_STACK_ADMIN_TOKEN must be a string of at least 16 characters');
    // a secret is never echoed
    expect(text(e)).not.toContain("'short'");
  });
});

describe('values given as flags', () => {
  it('are usage errors (exit 2) naming the flag, not the key', async () => {
    const e = await failure({ flags: { stack: { port: 70000, paymentFailureRate: 2 } } });
    expect(e.code).toBe('SRG_CLI_USAGE');
    expect(e.exitCode).toBe(2);
    expect(text(e)).toContain('--port must be a whole number 0..65535, got 70000');
    expect(text(e)).toContain('--payment-failure-rate must be a number 0..1, got 2');
    expect(text(e)).not.toContain('stack.');
  });

  it('win over a bad file value: the file value they replace is not reported', async () => {
    const file = join(cwd, 'overridden.yaml');
    writeFileSync(file, 'stack:\n  port: 70000\n');
    const { config } = await loadConfig({ cwd, env: {}, file, flags: { stack: { port: 9000 } } });
    expect(config.stack.port).toBe(9000);
  });

  it('forecast flags are named too', async () => {
    const e = await failure({ flags: { forecast: { horizon: 'soon' } } });
    expect(e.code).toBe('SRG_CLI_USAGE');
    expect(text(e)).toContain("--horizon must be a duration such as 5m, 7d or 1h30m, got 'soon'");
  });
});

describe('problems in surgectl.yaml', () => {
  it('name the key and say what was expected', async () => {
    const file = join(cwd, 'bad.yaml');
    writeFileSync(file, 'stack:\n  rateLimit: fast\n  seedInventory: -5\n  logLevel: loud\n');
    const e = await failure({ file });
    expect(e.code).toBe('SRG_CONFIG_INVALID');
    expect(e.details).toContain("stack.rateLimit: expected a positive number or 'off', got 'fast'");
    expect(e.details).toContain('stack.seedInventory: expected a whole number >= 0 or a YAML/JSON/CSV file path, got -5');
    expect(e.details).toContain('stack.logLevel: expected one of fatal, error, warn, info, debug, trace, silent, got \'loud\'');
    expect(text(e)).not.toContain('Invalid input');
  });

  it('YAML syntax errors end with the position, not a dangling colon', async () => {
    const file = join(cwd, 'syntax.yaml');
    writeFileSync(file, 'stack:\n  port: [1\n');
    const e = await failure({ file });
    expect(e.code).toBe('SRG_CONFIG_PARSE');
    expect(e.details.length).toBeGreaterThan(0);
    for (const d of e.details) {
      expect(d).toMatch(/line \d+, column \d+$/);
      expect(d).not.toMatch(/:\s*$/);
    }
  });

  it('a bad env value and a bad file value are both reported', async () => {
    const file = join(cwd, 'both.yaml');
    writeFileSync(file, 'stack:\n  maxBacklog: 0\n');
    const e = await failure({ file, env: { SURGECTL_STACK_WORKERS: 'many' } });
    expect(e.code).toBe('SRG_CONFIG_ENV');
    expect(text(e)).toContain('SURGECTL_STACK_WORKERS must be');
    expect(text(e)).toContain('stack.maxBacklog: expected a whole number >= 1, got 0');
  });
});
