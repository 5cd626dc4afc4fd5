import { describe, expect, it } from 'vitest';
import { optionLabel, resolveStackOptions, STACK_DEFAULTS } from './stack-options.js';

describe('stack options', () => {
  it('applies the defaults, also to options given as undefined', () => {
    const r = resolveStackOptions({ port: 0, workers: undefined, seedInventory: 10 });
    expect(r).toEqual({ ...STACK_DEFAULTS, port: 0, seedInventory: 10 });
    expect(r.workers).toBe(64);
    expect(r).not.toHaveProperty('adminToken');
  });

  it('keeps only the settings: labels and whatever else the options object carries stay out', () => {
    const opts = { dataDir: '/tmp/x', optionLabels: { port: '--port' }, cwd: '/elsewhere', logger: {} };
    const r = resolveStackOptions(opts);
    expect(r.dataDir).toBe('/tmp/x');
    expect(r).not.toHaveProperty('optionLabels');
    expect(r).not.toHaveProperty('cwd');
    expect(r).not.toHaveProperty('logger');
  });

  it("names an option by the caller's label, else by its own name", () => {
    expect(optionLabel({ paymentPort: '--payment-port' }, 'paymentPort')).toBe('--payment-port');
    expect(optionLabel({ paymentPort: '--payment-port' }, 'port')).toBe('port');
    expect(optionLabel(undefined, 'logFile')).toBe('logFile');
  });
});
