import { describe, expect, it } from 'vitest';
import { createClientRateLimiter } from './rate-limit.js';

describe('client rate limiter', () => {
  it('a refused request takes no tokens, so what fits in the budget still passes', async () => {
    const limiter = createClientRateLimiter(5);
    expect(limiter.capacity).toBe(5);
    expect(await limiter.consume('a', 3)).toEqual({ allowed: true });
    const refused = await limiter.consume('a', 3);
    expect(refused.allowed).toBe(false);
    // 3 + 2 = 5: allowed, because the refused 3 were not counted
    expect(await limiter.consume('a', 2)).toEqual({ allowed: true });
    expect((await limiter.consume('a', 1)).allowed).toBe(false);
    // other clients have their own budget
    expect(await limiter.consume('b', 5)).toEqual({ allowed: true });
  });

  it('is unlimited when off, and refuses a rate that is not positive', () => {
    expect(createClientRateLimiter('off')).toMatchObject({ enabled: false, capacity: Infinity });
    expect(() => createClientRateLimiter(0)).toThrow(RangeError);
    expect(createClientRateLimiter(0.5).capacity).toBe(1);
  });
});
