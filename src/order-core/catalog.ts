import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SurgeError } from '../errors.js';

/** One sku of the catalog with the units to put on the shelf. */
export interface CatalogEntry {
  sku: string;
  name: string;
  /** Unit price, cents. */
  priceCents: number;
  /** Units to stock. */
  stock: number;
}

/** Units per sku when nothing is configured on a fresh store. */
export const DEFAULT_STOCK_PER_SKU = 1000;
export const DEFAULT_CATALOG_SIZE = 25;
/** Price of a seeded sku that is not in the default catalog and has no priceCents, cents. */
export const DEFAULT_PRICE_CENTS = 1999;

const NAMES = ['Headphones', 'Sneakers', 'Backpack', 'Water Bottle', 'Desk Lamp', 'Coffee Grinder', 'Yoga Mat', 'Phone Case', 'Wool Socks', 'Sunglasses'];

/** SKU-0001 .. SKU-0025 with stable names and prices, `stock` units each. */
export function defaultCatalog(stock: number = DEFAULT_STOCK_PER_SKU): CatalogEntry[] {
  return Array.from({ length: DEFAULT_CATALOG_SIZE }, (_, i) => {
    const n = i + 1;
    return {
      sku: `SKU-${String(n).padStart(4, '0')}`,
      name: `${NAMES[i % NAMES.length] ?? 'Item'} ${Math.floor(i / NAMES.length) + 1}`,
      priceCents: 499 + ((n * 1_237) % 20_000),
      stock,
    };
  });
}

const SeedRow = z
  .object({
    sku: z.string({ error: 'must be a string' }).trim().min(1, 'must be a non-empty string').max(64, 'must be at most 64 characters'),
    stock: z.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be 0 or more'),
    priceCents: z.number({ error: 'must be a number' }).int('must be a whole number of cents').min(0, 'must be 0 or more').optional(),
    name: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
  })
  .strict();

/**
 * Resolves `seedInventory` (config) to catalog entries: a number means that many units of each
 * default sku; a string is a YAML/JSON list of {sku, stock, priceCents?, name?} or a CSV file
 * `sku,stock[,priceCents]` (an optional header line is skipped).
 * @throws SurgeError SRG_STACK_SEED naming the file, row and field on any bad input.
 */
export function resolveSeed(seed: number | string, cwd?: string): CatalogEntry[] {
  if (typeof seed === 'number') {
    if (!Number.isInteger(seed) || seed < 0) {
      throw new SurgeError('SRG_STACK_SEED', `seedInventory must be a whole number of units >= 0 or a file path, got ${seed}`);
    }
    return defaultCatalog(seed);
  }
  const path = cwd === undefined ? resolve(seed) : resolve(cwd, seed);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SurgeError('SRG_STACK_SEED', `cannot read seed inventory file ${path}: ${(err as Error).message}`, {
      hint: 'seedInventory is a path to a YAML, JSON or CSV file, or a number of units per default sku',
    });
  }
  const rows = extname(path).toLowerCase() === '.csv' ? parseCsv(text, path) : parseStructured(text, path);
  return validateRows(rows, path);
}

function parseStructured(text: string, path: string): unknown[] {
  let data: unknown;
  try {
    data = parseYaml(text); // YAML is a superset of JSON, so one parser serves both
  } catch (err) {
    throw new SurgeError('SRG_STACK_SEED', `seed inventory file ${path} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (data !== null && typeof data === 'object' && !Array.isArray(data) && Array.isArray((data as { items?: unknown }).items)) {
    data = (data as { items: unknown[] }).items;
  }
  if (!Array.isArray(data)) {
    throw new SurgeError('SRG_STACK_SEED', `seed inventory file ${path} must hold a list of {sku, stock, priceCents?, name?}`, {
      hint: 'e.g.\n- sku: SKU-0001\n  stock: 50\n  priceCents: 1299',
    });
  }
  return data;
}

function parseCsv(text: string, path: string): unknown[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const rows: unknown[] = [];
  lines.forEach((line, i) => {
    if (line === '' || line.startsWith('#')) return;
    const cells = line.split(',').map((c) => c.trim());
    if (i === 0 && cells[0]?.toLowerCase() === 'sku') return;
    if (cells.length < 2 || cells.length > 3) {
      throw new SurgeError('SRG_STACK_SEED', `${path} line ${i + 1}: expected "sku,stock[,priceCents]", got ${cells.length} column(s)`);
    }
    const num = (v: string | undefined, field: string): number => {
      const n = Number(v);
      if (v === undefined || v === '' || !Number.isFinite(n)) {
        throw new SurgeError('SRG_STACK_SEED', `${path} line ${i + 1}: ${field} must be a number, got "${v ?? ''}"`);
      }
      return n;
    };
    rows.push({ sku: cells[0], stock: num(cells[1], 'stock'), ...(cells[2] !== undefined ? { priceCents: num(cells[2], 'priceCents') } : {}) });
  });
  return rows;
}

function validateRows(rows: unknown[], path: string): CatalogEntry[] {
  const defaults = new Map(defaultCatalog().map((e) => [e.sku, e]));
  const seen = new Set<string>();
  const problems: string[] = [];
  const out: CatalogEntry[] = [];
  rows.forEach((raw, i) => {
    const parsed = SeedRow.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path.length > 0 ? issue.path.join('.') : '(row)';
        problems.push(`row ${i + 1}: ${field} ${issue.message}`);
      }
      return;
    }
    const row = parsed.data;
    if (seen.has(row.sku)) {
      problems.push(`row ${i + 1}: sku ${row.sku} appears more than once`);
      return;
    }
    seen.add(row.sku);
    const known = defaults.get(row.sku);
    out.push({ sku: row.sku, stock: row.stock, priceCents: row.priceCents ?? known?.priceCents ?? DEFAULT_PRICE_CENTS, name: row.name ?? known?.name ?? row.sku });
  });
  if (problems.length > 0) {
    throw new SurgeError('SRG_STACK_SEED', `seed inventory file ${path} has ${problems.length} problem(s); first: ${problems[0] ?? ''}`, { details: problems });
  }
  if (out.length === 0) throw new SurgeError('SRG_STACK_SEED', `seed inventory file ${path} lists no skus`);
  return out;
}
