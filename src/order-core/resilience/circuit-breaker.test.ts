import { afterEach, describe, expect, it } from 'vitest';
import { BreakerOpenError, createCircuitBreaker, type BreakerState, type ErrorVerdict, type PaymentBreaker } from './circuit-breaker.js';

class Transient extends Error {}
class Final extends Error {}
class Ours extends Error {}
const classify = (e: unknown): ErrorVerdict => (e instanceof Transient ? 'failure' : e instanceof Final ? 'healthy' : 'neutral');

let breaker: PaymentBreaker | undefined;
afterEach(() => breaker?.shutdown());

async function waitForState(b: PaymentBreaker, state: BreakerState, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (b.state() !== state) {
    if (Date.now() > deadline) throw new Error(`breaker stayed ${b.state()}, wanted ${state}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('circuit breaker', () => {
  it('opens after failures, fails fast while open, half-opens and closes on a good trial call', async () => {
    const changes: BreakerState[] = [];
    breaker = createCircuitBreaker({ volumeThreshold: 3, resetTimeoutMs: 100, classify, onStateChange: (s) => changes.push(s) });
    for (let i = 0; i < 3; i++) await expect(breaker.fire(() => Promise.reject(new Transient('503')))).rejects.toBeInstanceOf(Transient);
    expect(breaker.state()).toBe('open');
    expect(breaker.nextTrialAt()).toBeGreaterThan(Date.now() - 1);
    let called = false;
    await expect(
      breaker.fire(async () => {
        called = true;
      }),
    ).rejects.toBeInstanceOf(BreakerOpenError);
    expect(called).toBe(false);
    await waitForState(breaker, 'half_open');
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
    await waitForState(breaker, 'half_open');
    // the trial's order was cancelled before it was sent: nothing was learnt about the service
    await expect(breaker.fire(() => Promise.reject(new Ours('not ours')))).rejects.toBeInstanceOf(Ours);
    expect(breaker.state()).toBe('open');
    await waitForState(breaker, 'half_open');
    // a decline is an answer: the service is up
    await expect(breaker.fire(() => Promise.reject(new Final('declined')))).rejects.toBeInstanceOf(Final);
    expect(breaker.state()).toBe('closed');
  });
});
