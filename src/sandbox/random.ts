/** A seeded pseudo-random source, so that a sandbox run (ids, faults, jitter) can be replayed. */
export interface Random {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, max). */
  int(max: number): number;
  /** `length` letters and digits. */
  alphanumeric(length: number): string;
  /** `length` random bytes. */
  bytes(length: number): Uint8Array;
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A mulberry32 generator: tiny, fast, and good enough for test data (not for keys in production). */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  return {
    seed,
    next,
    int,
    alphanumeric: (length) => Array.from({ length }, () => alphabet[int(alphabet.length)]).join(""),
    bytes: (length) => Uint8Array.from({ length }, () => int(256)),
  };
}
