import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { StackConfigSchema } from '../config/schema.js';
import { runMain } from '../../test/support/cli.js';
import { tempDir } from '../../test/support/stack.js';
import { resolveStackOptions, STACK_DEFAULTS } from '../order-core/stack-options.js';
import type { CommandContext } from './context.js';
import { STACK_FLAG_LABELS, stackOptionsFromConfig } from './stack-options.js';
import { registerStack } from './stack.js';

describe('stackOptionsFromConfig', () => {
  it('carries every key of the stack config section over, under the same name', () => {
    const config = StackConfigSchema.parse({ port: 0, adminToken: 'x'.repeat(20), seedInventory: 'seed.yaml', rateLimit: 50, logLevel: 'warn' });
    const { optionLabels, store, ...options } = stackOptionsFromConfig(config);
    // store, storePool and the read replica become one option, the store choice (below)
    const { store: _store, storePool: _storePool, readReplica: _replica, readReplicaMaxLagMs: _lag, ...plain } = config;
    expect(options).toEqual(plain);
    expect([...Object.keys(options), 'store', 'storePool', 'readReplica', 'readReplicaMaxLagMs'].sort()).toEqual(Object.keys(StackConfigSchema.shape).sort());
    expect(store).toEqual({ kind: 'sqlite' });
    expect(optionLabels).toBe(STACK_FLAG_LABELS);
  });

  it('turns stack.store and stack.storePool into the store choice; a bad store is refused without echoing it', () => {
    const url = 'postgres://app:s3cret@db.internal:5432/orders';
    expect(stackOptionsFromConfig(StackConfigSchema.parse({ store: url, storePool: 25 })).store).toEqual({ kind: 'postgres', url, poolSize: 25, readReplicaMaxLagMs: 1_000 });
    const replica = 'postgres://app@db-replica.internal:5432/orders';
    expect(stackOptionsFromConfig(StackConfigSchema.parse({ store: url, readReplica: replica, readReplicaMaxLagMs: 250 })).store).toEqual({
      kind: 'postgres',
      url,
      poolSize: 10,
      readReplica: replica,
      readReplicaMaxLagMs: 250,
    });
    expect(stackOptionsFromConfig(StackConfigSchema.parse({ store: 'sqlite', storePool: 25 })).store).toEqual({ kind: 'sqlite' });
    for (const bad of ['mysql://app:s3cret@db/orders', 'postgres://app:s3cret@db.internal:5432', 'sqlite3']) {
      const r = StackConfigSchema.safeParse({ store: bad });
      expect(r.success, bad).toBe(false);
      expect(JSON.stringify(r.error?.issues)).not.toContain('s3cret');
    }
  });

  it('never echoes a bad --store or SURGECTL_STACK_STORE (it may hold a password)', async () => {
    const dir = tempDir('surgectl-store-config-');
    try {
      const env = { SURGECTL_STACK_STORE: 'mysql://app:s3cret@db/orders' };
      const err = await loadConfig({ env, cwd: dir.path }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'SRG_CONFIG_ENV', message: expect.stringContaining('SURGECTL_STACK_STORE') });
      expect(JSON.stringify(err) + String((err as Error).message)).not.toContain('s3cret');
      const flag = await loadConfig({ env: {}, cwd: dir.path, flags: { stack: { store: 'mysql://app:s3cret@db/orders' } } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(flag).toMatchObject({ code: 'SRG_CLI_USAGE', message: expect.stringContaining('--store') });
      expect(String((flag as Error).message) + String((flag as { hint?: string }).hint)).not.toContain('s3cret');
    } finally {
      dir.remove();
    }
  });

  it("agrees with the core's own defaults, so a library caller and `stack up` run the same stack", () => {
    expect(resolveStackOptions(stackOptionsFromConfig(StackConfigSchema.parse({})))).toEqual(resolveStackOptions({}));
    expect(resolveStackOptions({})).toEqual(STACK_DEFAULTS);
  });

  it('names options by flags that `stack up` really has', () => {
    const program = new Command();
    // registering reads nothing from the context; only the actions do
    registerStack(program, {} as CommandContext);
    const up = program.commands.find((c) => c.name() === 'stack')?.commands.find((c) => c.name() === 'up');
    const flags = new Set(up?.options.map((o) => o.long));
    const named = Object.values(STACK_FLAG_LABELS).filter((l) => l.startsWith('--'));
    expect(named).toEqual(expect.arrayContaining(['--port', '--payment-port', '--host', '--data-dir', '--log-file']));
    for (const label of named) expect(flags.has(label), label).toBe(true);
  });
});

describe('stack up --color and --health-port in the configuration', () => {
  const load = async (opts: { env?: Record<string, string>; flags?: Record<string, unknown> } = {}) => {
    const dir = tempDir('surgectl-color-config-');
    try {
      return (await loadConfig({ cwd: dir.path, env: opts.env ?? {}, flags: { stack: opts.flags ?? {} } })).config.stack;
    } finally {
      dir.remove();
    }
  };

  it("gives a color's ports and data dir to the keys no layer set, and keeps every key that was set", async () => {
    expect(await load({ flags: { color: 'green' } })).toMatchObject({ color: 'green', port: 8081, paymentPort: 8090, dataDir: '.surgectl/data-green' });
    expect(await load({ env: { SURGECTL_STACK_COLOR: 'blue' } })).toMatchObject({ color: 'blue', port: 8080, paymentPort: 8089, dataDir: '.surgectl/data-blue' });
    // a flag, or the environment, naming the plain default still wins over the color's
    expect(await load({ flags: { color: 'green', port: 8080 }, env: { SURGECTL_STACK_DATA_DIR: '.surgectl/data' } })).toMatchObject({ port: 8080, paymentPort: 8090, dataDir: '.surgectl/data' });
    // no color: the plain defaults, and the options the core gets say so
    const plain = await load();
    expect(plain).toMatchObject({ port: 8080, paymentPort: 8089, dataDir: '.surgectl/data', healthPort: 'off' });
    expect(plain.color).toBeUndefined();
    expect(stackOptionsFromConfig(await load({ flags: { color: 'green', healthPort: 0 } }))).toMatchObject({ color: 'green', healthPort: 0, port: 8081 });
  });

  it('layers stack.store and stack.storePool like every key: env over the file defaults, flags over env', async () => {
    const env = { SURGECTL_STACK_STORE: 'postgres://app@db.internal:5432/orders', SURGECTL_STACK_STORE_POOL: '4' };
    expect(await load({ env })).toMatchObject({ store: 'postgres://app@db.internal:5432/orders', storePool: 4 });
    expect(await load({ env, flags: { store: 'sqlite', storePool: 7 } })).toMatchObject({ store: 'sqlite', storePool: 7 });
    expect(await load()).toMatchObject({ store: 'sqlite', storePool: 10 });
  });

  it('stack migrate needs a PostgreSQL store: a usage error on sqlite, before connecting anywhere', async () => {
    const dir = tempDir('surgectl-migrate-sqlite-');
    try {
      const r = await runMain(['stack', 'migrate'], { cwd: dir.path, env: { SURGECTL_CONFIG: '' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('stack migrate needs a PostgreSQL store: --store postgres://user@host:port/database');
    } finally {
      dir.remove();
    }
  });

  it('names blue|green for a bad color from the environment', async () => {
    await expect(load({ env: { SURGECTL_STACK_COLOR: 'red' } })).rejects.toMatchObject({ code: 'SRG_CONFIG_ENV', message: expect.stringMatching(/SURGECTL_STACK_COLOR[\s\S]*blue[\s\S]*green/) });
  });

  it.each([
    [['--health-port', 'abc'], "--health-port must be a whole number from 0 to 65535 or 'off', got 'abc'"],
    [['--health-port', '70000'], "--health-port must be a whole number from 0 to 65535 or 'off', got '70000'"],
    [['--health-port', '-1'], "--health-port must be a whole number from 0 to 65535 or 'off', got '-1'"],
    [['--color', 'red'], "--color must be blue or green, got 'red'"],
  ])('refuses stack up %j with a usage error before starting anything', async (args, message) => {
    const dir = tempDir('surgectl-bad-flag-');
    try {
      const r = await runMain(['stack', 'up', ...args], { cwd: dir.path, env: { SURGECTL_CONFIG: '' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    } finally {
      dir.remove();
    }
  });
});
