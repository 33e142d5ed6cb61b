/**
 * A small deterministic generator (xorshift32) for the benchmarks' data: the same seed gives the
 * same numbers in [0, 1) on every run, so every run loads the same rows.
 */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}
