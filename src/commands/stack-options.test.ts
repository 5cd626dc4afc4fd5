import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { StackConfigSchema } from '../config/schema.js';
import { resolveStackOptions, STACK_DEFAULTS } from '../order-core/stack-options.js';
import type { CommandContext } from './context.js';
import { STACK_FLAG_LABELS, stackOptionsFromConfig } from './stack-options.js';
import { registerStack } from './stack.js';

describe('stackOptionsFromConfig', () => {
  it('carries every key of the stack config section over, under the same name', () => {
    const config = StackConfigSchema.parse({ port: 0, adminToken: 'x'.repeat(20), seedInventory: 'seed.yaml', rateLimit: 50, logLevel: 'warn' });
    const { optionLabels, ...options } = stackOptionsFromConfig(config);
    expect(options).toEqual(config);
    expect(Object.keys(options).sort()).toEqual(Object.keys(StackConfigSchema.shape).sort());
    expect(optionLabels).toBe(STACK_FLAG_LABELS);
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
