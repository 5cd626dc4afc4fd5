import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BreakerOpenError, createCircuitBreaker, type BreakerState, type ErrorVerdict, type PaymentBreaker } from './circuit-breaker.js';

class Transient extends Error {}
class Final extends Error {}
class Ours extends Error {}
const classify = (e: unknown): ErrorVerdict => (e instanceof Transient ? 'failure' : e instanceof Final ? 'healthy' : 'neutral');

let breaker: PaymentBreaker | undefined;
// The breaker's reset timer runs on a fake clock: no real pause between two statements can move
// it to half-open behind a test's back, and the test moves time itself.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  breaker?.shutdown();
  vi.useRealTimers();
});

/** Moves the fake clock by `ms` and checks where the breaker stands then. */
async function after(ms: number, b: PaymentBreaker, state: BreakerState): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  expect(b.state()).toBe(state);
}

describe('circuit breaker', () => {
  it('opens after failures, fails fast while open, half-opens and closes on a good trial call', async () => {
    const changes: BreakerState[] = [];
    breaker = createCircuitBreaker({ volumeThreshold: 3, resetTimeoutMs: 100, classify, onStateChange: (s) => changes.push(s) });
    for (let i = 0; i < 3; i++) await expect(breaker.fire(() => Promise.reject(new Transient('503')))).rejects.toBeInstanceOf(Transient);
    expect(breaker.state()).toBe('open');
    expect(breaker.nextTrialAt()).toBe(Date.now() + 100);
    let called = false;
    await expect(
      breaker.fire(async () => {
        called = true;
      }),
    ).rejects.toBeInstanceOf(BreakerOpenError);
    expect(called).toBe(false);
    // still open just before the reset timeout, half-open at it
    await after(99, breaker, 'open');
    await after(1, breaker, 'half_open');
    expect(await breaker.fire(async () => 'ok')).toBe('ok');
    expect(breaker.state()).toBe('closed');
    expect(breaker.nextTrialAt()).toBe(0);
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  it('does not count errors the filter calls healthy (card declines)', async () => {
    breaker = createCircuitBreaker({ volumeThreshold: 2, resetTimeoutMs: 100, classify });
    for (let i = 0; i < 10; i++) await expect(breaker.fire(() => Promise.reject(new Final('declined')))).rejects.toBeInstanceOf(Final);
    for (let i = 0; i < 10; i++) await expect(breaker.fire(() => Promise.reject(new Ours('not ours')))).rejects.toBeInstanceOf(Ours);
    expect(breaker.state()).toBe('closed');
  });

  it('a half-open trial that never reached the service does not close the breaker; an answer does', async () => {
    breaker = createCircuitBreaker({ volumeThreshold: 2, resetTimeoutMs: 100, classify });
    for (let i = 0; i < 2; i++) await expect(breaker.fire(() => Promise.reject(new Transient('503')))).rejects.toBeInstanceOf(Transient);
    await after(100, breaker, 'half_open');
    // the trial's order was cancelled before it was sent: nothing was learnt about the service
    await expect(breaker.fire(() => Promise.reject(new Ours('not ours')))).rejects.toBeInstanceOf(Ours);
    expect(breaker.state()).toBe('open');
    await after(100, breaker, 'half_open');
    // a decline is an answer: the service is up
    await expect(breaker.fire(() => Promise.reject(new Final('declined')))).rejects.toBeInstanceOf(Final);
    expect(breaker.state()).toBe('closed');
  });
});
