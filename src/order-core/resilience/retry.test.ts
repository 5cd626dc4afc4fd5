import { describe, expect, it } from 'vitest';
import { fullJitterDelay, retry } from './retry.js';

describe('retry with full-jitter backoff', () => {
  it('draws delays from [0, min(cap, base * 2^attempt)]', () => {
    const policy = { baseMs: 100, capMs: 1_000 };
    expect(fullJitterDelay(policy, 0, () => 0.999)).toBe(99);
    expect(fullJitterDelay(policy, 3, () => 0.5)).toBe(400);
    expect(fullJitterDelay(policy, 10, () => 0.999)).toBe(999);
    expect(fullJitterDelay(policy, 2, () => 0)).toBe(0);
  });

  it('retries retryable errors up to maxAttempts and stops at the first final one', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('transient');
        },
        { maxAttempts: 3, policy: { baseMs: 1, capMs: 2 }, isRetryable: () => true },
      ),
    ).rejects.toThrow('transient');
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('final');
        },
        { maxAttempts: 5, policy: { baseMs: 1, capMs: 2 }, isRetryable: () => false },
      ),
    ).rejects.toThrow('final');
    expect(calls).toBe(1);
    expect(await retry(async (n) => (n < 2 ? Promise.reject(new Error('x')) : 'ok'), { maxAttempts: 3, policy: { baseMs: 1, capMs: 1 }, isRetryable: () => true })).toBe('ok');
  });
});
