import { describe, expect, it } from 'vitest';
import { createLoadShedder } from './load-shed.js';
import { createClientRateLimiter } from './rate-limit.js';

describe('load shedder', () => {
  const shedder = (depth: number, pace: number, maxBacklog = 100) =>
    createLoadShedder({ maxBacklog, probe: { queueDepth: () => depth, throughputPerSec: () => pace } });

  it('admits while the backlog stays within the limit, counting the incoming orders', () => {
    expect(shedder(99, 10).check(1)).toEqual({ shed: false });
    expect(shedder(100, 10).check(1)).toMatchObject({ shed: true, queueDepth: 100 });
    expect(shedder(90, 10).check(20)).toMatchObject({ shed: true });
  });

  it('asks to come back when the workers will have made room, within 1..60 s', () => {
    expect(shedder(150, 10).check(1)).toMatchObject({ retryAfterSec: 6 }); // 51 over at 10/s
    expect(shedder(100, 1000).check(1)).toMatchObject({ retryAfterSec: 1 });
    expect(shedder(100_000, 1).check(1)).toMatchObject({ retryAfterSec: 60 });
    expect(shedder(200, 0).check(1)).toMatchObject({ retryAfterSec: 5 });
  });
});

describe('client rate limiter', () => {
  it('is a no-op when off', async () => {
    const l = createClientRateLimiter('off');
    expect(l.enabled).toBe(false);
    for (let i = 0; i < 1000; i++) expect(await l.consume('a')).toEqual({ allowed: true });
  });

  it('allows `n` per second per client and says how long to wait', async () => {
    const l = createClientRateLimiter(3);
    const a = [];
    for (let i = 0; i < 4; i++) a.push(await l.consume('a'));
    expect(a.slice(0, 3).every((d) => d.allowed)).toBe(true);
    const refused = a[3]!;
    expect(refused.allowed).toBe(false);
    if (!refused.allowed) expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect((await l.consume('b')).allowed).toBe(true);
    expect((await l.consume('c', 4)).allowed).toBe(false);
  });

  it('stretches the window for rates below 1/s and refuses nonsense', async () => {
    const l = createClientRateLimiter(0.5);
    expect((await l.consume('a')).allowed).toBe(true);
    const second = await l.consume('a');
    expect(second.allowed).toBe(false);
    if (!second.allowed) expect(second.retryAfterMs).toBeGreaterThan(1000);
    expect(() => createClientRateLimiter(0)).toThrow(RangeError);
    expect(() => createClientRateLimiter(Number.NaN)).toThrow(RangeError);
  });
});
