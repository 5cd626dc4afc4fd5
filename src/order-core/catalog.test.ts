import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SurgeError } from '../errors.js';
import { defaultCatalog, resolveSeed } from './catalog.js';

const dir = mkdtempSync(join(tmpdir(), 'surgectl-catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const seedError = (fn: () => unknown): SurgeError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof SurgeError) return err;
    throw err;
  }
  throw new Error('expected a SurgeError');
};

describe('catalog and seed files', () => {
  it('the default catalog has 25 skus SKU-0001.. with prices and the given stock', () => {
    const c = defaultCatalog(7);
    expect(c).toHaveLength(25);
    expect(c[0]?.sku).toBe('SKU-0001');
    expect(c[24]?.sku).toBe('SKU-0025');
    expect(c.every((e) => e.stock === 7 && e.priceCents > 0)).toBe(true);
    expect(resolveSeed(3)).toEqual(defaultCatalog(3));
  });

  it('reads YAML, JSON and CSV lists, filling prices from the default catalog', () => {
    const yaml = resolveSeed(file('a.yaml', '- sku: SKU-0001\n  stock: 5\n- sku: X-1\n  stock: 2\n  priceCents: 300\n  name: Thing\n'));
    expect(yaml).toEqual([
      { sku: 'SKU-0001', stock: 5, priceCents: defaultCatalog()[0]!.priceCents, name: defaultCatalog()[0]!.name },
      { sku: 'X-1', stock: 2, priceCents: 300, name: 'Thing' },
    ]);
    expect(resolveSeed(file('b.json', '[{"sku":"J","stock":1}]'))).toEqual([{ sku: 'J', stock: 1, priceCents: 1999, name: 'J' }]);
    expect(resolveSeed(file('c.csv', 'sku,stock,priceCents\nC-1, 4 ,250\n\nC-2,0\n'))).toEqual([
      { sku: 'C-1', stock: 4, priceCents: 250, name: 'C-1' },
      { sku: 'C-2', stock: 0, priceCents: 1999, name: 'C-2' },
    ]);
  });

  it('names the row and field of bad input', () => {
    const e = seedError(() => resolveSeed(file('bad.yaml', '- sku: A\n  stock: 1\n- sku: B\n  stock: -2\n- sku: A\n  stock: 1\n')));
    expect(e.code).toBe('SRG_STACK_SEED');
    expect(e.details).toEqual(['row 2: stock must be 0 or more', 'row 3: sku A appears more than once']);
    expect(seedError(() => resolveSeed(file('bad.csv', 'A,many\n'))).message).toContain('line 1: stock must be a number, got "many"');
    expect(seedError(() => resolveSeed(file('obj.yaml', 'sku: A\n'))).message).toContain('must hold a list');
    expect(seedError(() => resolveSeed(join(dir, 'missing.yaml'))).message).toContain('cannot read seed inventory file');
    expect(seedError(() => resolveSeed(file('extra.json', '[{"sku":"A","stock":1,"colour":"red"}]'))).details[0]).toContain('row 1');
    expect(seedError(() => resolveSeed(-1)).code).toBe('SRG_STACK_SEED');
  });
});
