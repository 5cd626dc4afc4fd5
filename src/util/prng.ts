/**
 * A small, fast, seedable PRNG (mulberry32, public domain) for everything that must be
 * reproducible by `--seed`: sample histories, load-test payloads, tests. Not for secrets.
 * Returns numbers in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One draw from a Poisson distribution of mean `mean` (Knuth's method: exact, O(mean) uniforms;
 * fine for the small means of count series). `rand` returns [0, 1).
 */
export function poisson(rand: () => number, mean: number): number {
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}
