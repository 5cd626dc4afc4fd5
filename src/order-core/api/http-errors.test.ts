import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ERROR_CODES } from './http-errors.js';

describe('order API error codes', () => {
  it('are exactly the codes of the table in docs/order-api.md', () => {
    const doc = readFileSync(new URL('../../../docs/order-api.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('## Error codes'));
    const documented = [...table.matchAll(/^\| (ORDER_[A-Z_]+) \|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...API_ERROR_CODES].sort());
  });
});
