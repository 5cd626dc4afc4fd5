/**
 * The one place rollbacks are decided, for chaos drills and runbooks alike. Strategies are Chaos
 * Toolkit's (`--rollback-strategy`), plus `ask` for an operator at a terminal:
 * - `default`, `always`: roll back whatever happened (surgectl's default: a drill always cleans up);
 * - `deviated`: only when something went wrong (a deviated hypothesis, a failed step);
 * - `never`: leave everything as it is;
 * - `ask`: when something went wrong, ask (default yes); otherwise nothing to do.
 */
export const ROLLBACK_STRATEGIES = ['default', 'always', 'deviated', 'never'] as const;
export type RollbackStrategy = (typeof ROLLBACK_STRATEGIES)[number] | 'ask';

export type RollbackDecision = { run: true; skipped: null } | { run: false; skipped: string } | { ask: true };

/** @param wentWrong the hypothesis deviated (drill) or a step failed (runbook). */
export function decideRollback(strategy: RollbackStrategy, wentWrong: boolean): RollbackDecision {
  if (strategy === 'never') return { run: false, skipped: 'rollback strategy "never"' };
  if (strategy === 'deviated' && !wentWrong) return { run: false, skipped: 'rollback strategy "deviated" and the steady state did not deviate' };
  if (strategy === 'ask') return wentWrong ? { ask: true } : { run: false, skipped: 'nothing went wrong' };
  return { run: true, skipped: null };
}
