// Scalar references of the WebAssembly kernels, one per kernel and with the same name.
// They are the oracle of the kernel tests, so they are written for obviousness, not speed,
// and share no code with assembly/. Integer results are exact modulo 2^32 (as the kernels'
// wrapping i32 accumulators); dot_f32 rounds in exactly the kernel's summation order, so
// float results are bit-identical too.

const f32 = Math.fround;

function rowCount(caller: string, length: number, rowLength: number): number {
  if (rowLength === 0) {
    if (length !== 0) throw new RangeError(`${caller}: codes has ${length} values but the query is empty`);
    return 0;
  }
  if (length % rowLength !== 0) {
    throw new RangeError(`${caller}: codes has ${length} values, not a multiple of the query length ${rowLength}`);
  }
  return length / rowLength;
}

function popcount8(byte: number): number {
  let bits = 0;
  for (let b = byte; b !== 0; b &= b - 1) bits++;
  return bits;
}

/** Hamming distance of `query` to every `query.length`-byte code in `codes`. */
export function hamming_u1(query: Uint8Array, codes: Uint8Array): Int32Array {
  const bytes = query.length;
  const out = new Int32Array(rowCount("hamming_u1", codes.length, bytes));
  for (let row = 0; row < out.length; row++) {
    let distance = 0;
    for (let i = 0; i < bytes; i++) distance += popcount8(query[i] ^ codes[row * bytes + i]);
    out[row] = distance;
  }
  return out;
}

/** Integer dot product of `query` with every row of `codes` (rows of `query.length`), wrapped to i32. */
function integerDot(caller: string, query: Int8Array | Int16Array, codes: Int8Array): Int32Array {
  const dims = query.length;
  const out = new Int32Array(rowCount(caller, codes.length, dims));
  for (let row = 0; row < out.length; row++) {
    let sum = 0;
    for (let i = 0; i < dims; i++) sum = (sum + query[i] * codes[row * dims + i]) | 0;
    out[row] = sum;
  }
  return out;
}

/** int8 · int8 for every row of `codes`. */
export function dot_i8(query: Int8Array, codes: Int8Array): Int32Array {
  return integerDot("dot_i8", query, codes);
}

/** int16 query · int8 codes for every row of `codes`. */
export function dot_i16i8(query: Int16Array, codes: Int8Array): Int32Array {
  return integerDot("dot_i16i8", query, codes);
}

/**
 * float32 dot product for every row of `vectors`, rounded in the kernel's order: four lane sums
 * over whole 4-element steps, combined as (l0 + l1) + (l2 + l3), then the tail in order.
 */
export function dot_f32(query: Float32Array, vectors: Float32Array): Float32Array {
  const dims = query.length;
  const out = new Float32Array(rowCount("dot_f32", vectors.length, dims));
  for (let row = 0; row < out.length; row++) {
    const base = row * dims;
    const product = (i: number) => f32(query[i] * vectors[base + i]);
    const lanes = [0, 0, 0, 0];
    let i = 0;
    for (; i + 4 <= dims; i += 4) {
      for (let lane = 0; lane < 4; lane++) lanes[lane] = f32(lanes[lane] + product(i + lane));
    }
    let sum = f32(f32(lanes[0] + lanes[1]) + f32(lanes[2] + lanes[3]));
    for (; i < dims; i++) sum = f32(sum + product(i));
    out[row] = sum;
  }
  return out;
}

/**
 * Indices of the best `k` entries: higher `keys` first, equal keys by smaller `ids`.
 * The oracle for every fused scan + top-k.
 */
export function topk(keys: ArrayLike<number>, ids: ArrayLike<number>, k: number): number[] {
  const order = Array.from({ length: keys.length }, (_, i) => i);
  order.sort((a, b) => keys[b] - keys[a] || ids[a] - ids[b]);
  return order.slice(0, k);
}

/**
 * Checksum of the streaming-read baselines (read_sum, read_sum_rows): the whole `unit`-byte
 * blocks of `bytes` (64 for read_sum, 16 for read_sum_rows) as little-endian i32 words, summed
 * per lane (word index mod 4, wrapping), the four lane sums xor-ed together.
 */
export function read_sum(bytes: Uint8Array, unit = 64): number {
  const words = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lanes = [0, 0, 0, 0];
  const end = bytes.length - (bytes.length % unit);
  for (let at = 0; at < end; at += 4) lanes[(at >> 2) & 3] = (lanes[(at >> 2) & 3] + words.getInt32(at, true)) | 0;
  return lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3];
}

const MASK64 = (1n << 64n) - 1n;
const XXH_PRIMES = [
  0x9e3779b185ebca87n, 0xc2b2ae3d27d4eb4fn, 0x165667b19e3779f9n, 0x85ebca77c2b2ae63n, 0x27d4eb2f165667c5n,
] as const;

/**
 * xxh64 of `bytes` with `seed`, one shot, written from the xxHash specification
 * (XXH64, doc/xxhash_spec.md) in BigInt arithmetic modulo 2^64: the oracle of the xxh64 kernels.
 */
export function xxh64(bytes: Uint8Array, seed = 0n): bigint {
  const [p1, p2, p3, p4, p5] = XXH_PRIMES;
  const mul = (a: bigint, b: bigint) => (a * b) & MASK64;
  const add = (a: bigint, b: bigint) => (a + b) & MASK64;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & MASK64;
  const word = (at: number, size: number) => {
    let value = 0n;
    for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[at + i]);
    return value;
  };
  const round = (acc: bigint, lane: bigint) => mul(rotl(add(acc, mul(lane, p2)), 31n), p1);
  const length = bytes.length;
  let at = 0;
  let h: bigint;
  if (length >= 32) {
    const acc = [add(add(seed, p1), p2), add(seed, p2), seed & MASK64, (seed - p1) & MASK64];
    for (; at + 32 <= length; at += 32) {
      for (let lane = 0; lane < 4; lane++) acc[lane] = round(acc[lane], word(at + 8 * lane, 8));
    }
    h = add(add(rotl(acc[0], 1n), rotl(acc[1], 7n)), add(rotl(acc[2], 12n), rotl(acc[3], 18n)));
    for (const lane of acc) h = add(mul(h ^ round(0n, lane), p1), p4);
  } else {
    h = add(seed, p5);
  }
  h = add(h, BigInt(length));
  for (; at + 8 <= length; at += 8) h = add(mul(rotl(h ^ round(0n, word(at, 8)), 27n), p1), p4);
  if (at + 4 <= length) {
    h = add(mul(rotl(h ^ mul(word(at, 4), p1), 23n), p2), p3);
    at += 4;
  }
  for (; at < length; at++) h = mul(rotl(h ^ mul(BigInt(bytes[at]), p5), 11n), p1);
  h = mul(h ^ (h >> 33n), p2);
  h = mul(h ^ (h >> 29n), p3);
  return h ^ (h >> 32n);
}

/**
 * out = a · b for row-major float32 matrices (a: rows × inner, b: inner × cols), every element
 * summed over k in order from 0, each product rounded to float32 before its add: the kernel's order.
 */
export function matmul_f32(a: Float32Array, b: Float32Array, rows: number, inner: number, cols: number): Float32Array {
  if (a.length !== rows * inner || b.length !== inner * cols) {
    throw new RangeError(`matmul_f32: a has ${a.length} values and b ${b.length}, expected ${rows * inner} and ${inner * cols}`);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum = f32(sum + f32(a[r * inner + k] * b[k * cols + c]));
      out[r * cols + c] = sum;
    }
  }
  return out;
}
