import { describe, expect, it } from 'vitest';
import { createFakeStackAdmin } from '../adapters/stack-admin/fake.js';
import type { StackStatus } from '../adapters/stack-admin/port.js';
import { createPaint, stripAnsi } from './color.js';
import { renderStackStatus } from './stack-status.js';

const URL = 'http://127.0.0.1:8080';
const withCache = (cache: StackStatus['cache']): StackStatus => {
  const s: StackStatus = structuredClone(createFakeStackAdmin().state);
  if (cache === undefined) delete s.cache;
  else s.cache = cache;
  return s;
};

describe('renderStackStatus: the cache (stack up --cache)', () => {
  it('shows where the rate limit and the inventory copy live; nothing for a stack without a cache or one too old to say', () => {
    expect(renderStackStatus(URL, withCache('redis'), createPaint(false))).toContain('  cache     redis (rate limit shared, inventory copy)\n');
    const local = renderStackStatus(URL, withCache('local'), createPaint(true));
    expect(local).not.toBe(stripAnsi(local));
    expect(stripAnsi(local)).toContain('  cache     local (Redis unreachable: rate limit per process, inventory from the store)\n');
    for (const c of ['off', undefined] as const) expect(renderStackStatus(URL, withCache(c), createPaint(false))).not.toContain('cache');
  });
});
