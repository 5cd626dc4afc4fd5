import { describe, expect, it } from 'vitest';
import { COLOR_DEFAULTS, optionLabel, resolveStackOptions, STACK_DEFAULTS } from './stack-options.js';

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

  it('gives each color its own ports and data dir, so blue and green run side by side; given options win', () => {
    expect(resolveStackOptions({ color: 'green' })).toEqual({ ...STACK_DEFAULTS, color: 'green', port: 8081, paymentPort: 8090, dataDir: '.surgectl/data-green' });
    expect(resolveStackOptions({ color: 'blue' })).toMatchObject({ color: 'blue', port: 8080, paymentPort: 8089, dataDir: '.surgectl/data-blue' });
    // the two colors collide on nothing
    expect(COLOR_DEFAULTS.blue.port).not.toBe(COLOR_DEFAULTS.green.port);
    expect(COLOR_DEFAULTS.blue.paymentPort).not.toBe(COLOR_DEFAULTS.green.paymentPort);
    expect(COLOR_DEFAULTS.blue.dataDir).not.toBe(COLOR_DEFAULTS.green.dataDir);
    expect([COLOR_DEFAULTS.blue.port, COLOR_DEFAULTS.green.port]).not.toContain(COLOR_DEFAULTS.green.paymentPort);
    // explicit values always win, also ones equal to another color's defaults
    expect(resolveStackOptions({ color: 'green', port: 8080, paymentPort: 0, dataDir: 'mine' })).toMatchObject({ port: 8080, paymentPort: 0, dataDir: 'mine' });
    // without a color nothing changes
    expect(resolveStackOptions({})).toMatchObject({ port: 8080, paymentPort: 8089, dataDir: '.surgectl/data' });
    expect(resolveStackOptions({})).not.toHaveProperty('color');
  });
});
