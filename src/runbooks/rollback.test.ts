import { describe, expect, it } from 'vitest';
import { decideRollback } from './rollback.js';

describe('decideRollback: one decision for drills and runbooks', () => {
  it.each([
    ['default', false, { run: true, skipped: null }],
    ['default', true, { run: true, skipped: null }],
    ['always', false, { run: true, skipped: null }],
    ['deviated', true, { run: true, skipped: null }],
    ['deviated', false, { run: false, skipped: 'rollback strategy "deviated" and the steady state did not deviate' }],
    ['never', true, { run: false, skipped: 'rollback strategy "never"' }],
    ['ask', true, { ask: true }],
    ['ask', false, { run: false, skipped: 'nothing went wrong' }],
  ] as const)('%s, went wrong: %s', (strategy, wentWrong, expected) => {
    expect(decideRollback(strategy, wentWrong)).toEqual(expected);
  });
});
