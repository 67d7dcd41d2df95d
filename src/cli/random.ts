// The harness's seeded generator: xorshift32, fast enough to fill a gigabyte of synthetic codes.

/** A generator of uint32 values from `seed` (0 is replaced by 1: xorshift never leaves 0). */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Seeded random bytes, a word at a time. */
export function fillRandom(bytes: Uint8Array | Int8Array, seed: number): void {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  const next = xorshift32(seed);
  for (let i = 0; i < words.length; i++) words[i] = next();
}
