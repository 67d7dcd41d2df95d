// xxh64: the 64-bit xxHash of a byte stream, hashed incrementally (state in memory).
//
// Units: bytes. Input words are read little-endian (WebAssembly loads are little-endian, as
// xxHash's canonical definition), at any alignment. The state is a 96-byte record at `state`:
//
//   0  v1 v2 v3 v4   u64 × 4  the four lane accumulators (valid once 32 bytes were seen)
//   32 total         u64      bytes hashed so far
//   40 seed          u64
//   48 buffered      u32      bytes waiting in the buffer (0..31)
//   64 buffer        32 bytes the tail that has not filled a 32-byte stripe yet
//
// xxh64_update may be called with any split of the stream (lengths 0 and 1 included) and gives
// the same digest as one call over the whole. xxh64_digest reads the state without changing it.
// Why xxh64: i64.mul is native in WebAssembly, so its four independent lanes run as fast as
// memcpy here (15-17 GB/s in place, 1 core; bench/persistence.mjs measures it), which leaves
// nothing for XXH3's SIMD to win; CRC32C has no WebAssembly instruction (table-driven, byte-serial).

const PRIME64_1: u64 = 0x9e3779b185ebca87;
const PRIME64_2: u64 = 0xc2b2ae3d27d4eb4f;
const PRIME64_3: u64 = 0x165667b19e3779f9;
const PRIME64_4: u64 = 0x85ebca77c2b2ae63;
const PRIME64_5: u64 = 0x27d4eb2f165667c5;

const V1 = 0;
const V2 = 8;
const V3 = 16;
const V4 = 24;
const TOTAL = 32;
const SEED = 40;
const BUFFERED = 48;
const BUFFER = 64;
export const XXH64_STATE_BYTES: i32 = 96;

@inline function round(acc: u64, input: u64): u64 {
  return rotl<u64>(acc + input * PRIME64_2, 31) * PRIME64_1;
}

@inline function mergeRound(acc: u64, value: u64): u64 {
  return (acc ^ round(0, value)) * PRIME64_1 + PRIME64_4;
}

export function xxh64_reset(state: usize, seed: u64): void {
  store<u64>(state, seed + PRIME64_1 + PRIME64_2, V1);
  store<u64>(state, seed + PRIME64_2, V2);
  store<u64>(state, seed, V3);
  store<u64>(state, seed - PRIME64_1, V4);
  store<u64>(state, 0, TOTAL);
  store<u64>(state, seed, SEED);
  store<u32>(state, 0, BUFFERED);
}

/** Runs whole 32-byte stripes of [ptr, ptr + stripes·32) through the lanes in the state. */
@inline function stripes(state: usize, ptr: usize, count: usize): void {
  let v1 = load<u64>(state, V1);
  let v2 = load<u64>(state, V2);
  let v3 = load<u64>(state, V3);
  let v4 = load<u64>(state, V4);
  const end = ptr + (count << 5);
  while (ptr < end) {
    v1 = round(v1, load<u64>(ptr, 0));
    v2 = round(v2, load<u64>(ptr, 8));
    v3 = round(v3, load<u64>(ptr, 16));
    v4 = round(v4, load<u64>(ptr, 24));
    ptr += 32;
  }
  store<u64>(state, v1, V1);
  store<u64>(state, v2, V2);
  store<u64>(state, v3, V3);
  store<u64>(state, v4, V4);
}

export function xxh64_update(state: usize, ptr: usize, bytes: i32): void {
  if (bytes <= 0) return;
  store<u64>(state, load<u64>(state, TOTAL) + <u64>bytes, TOTAL);
  let buffered = <usize>load<u32>(state, BUFFERED);
  let remaining = <usize>bytes;
  if (buffered + remaining < 32) {
    memory.copy(state + BUFFER + buffered, ptr, remaining);
    store<u32>(state, <u32>(buffered + remaining), BUFFERED);
    return;
  }
  if (buffered > 0) {
    // Complete the buffered stripe first.
    const fill: usize = 32 - buffered;
    memory.copy(state + BUFFER + buffered, ptr, fill);
    stripes(state, state + BUFFER, 1);
    ptr += fill;
    remaining -= fill;
  }
  stripes(state, ptr, remaining >> 5);
  const tail = remaining & 31;
  memory.copy(state + BUFFER, ptr + (remaining - tail), tail);
  store<u32>(state, <u32>tail, BUFFERED);
}

export function xxh64_digest(state: usize): u64 {
  const total = load<u64>(state, TOTAL);
  let h: u64;
  if (total >= 32) {
    const v1 = load<u64>(state, V1);
    const v2 = load<u64>(state, V2);
    const v3 = load<u64>(state, V3);
    const v4 = load<u64>(state, V4);
    h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) + rotl<u64>(v4, 18);
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = load<u64>(state, SEED) + PRIME64_5;
  }
  h += total;
  let ptr = state + BUFFER;
  const end = ptr + <usize>load<u32>(state, BUFFERED);
  while (ptr + 8 <= end) {
    h = rotl<u64>(h ^ round(0, load<u64>(ptr)), 27) * PRIME64_1 + PRIME64_4;
    ptr += 8;
  }
  if (ptr + 4 <= end) {
    h = rotl<u64>(h ^ (<u64>load<u32>(ptr) * PRIME64_1), 23) * PRIME64_2 + PRIME64_3;
    ptr += 4;
  }
  while (ptr < end) {
    h = rotl<u64>(h ^ (<u64>load<u8>(ptr) * PRIME64_5), 11) * PRIME64_1;
    ptr++;
  }
  h ^= h >> 33;
  h *= PRIME64_2;
  h ^= h >> 29;
  h *= PRIME64_3;
  h ^= h >> 32;
  return h;
}

/**
 * xxh64 (seed 0… `seed`) of each `blockBytes`-byte block of [data, data + bytes) — the last block
 * may be shorter — written as u64 to out[0…⌈bytes / blockBytes⌉). `state` is 96 bytes of scratch.
 */
export function xxh64_blocks(state: usize, data: usize, bytes: i32, blockBytes: i32, seed: u64, out: usize): void {
  for (let at: i32 = 0; at < bytes; at += blockBytes) {
    xxh64_reset(state, seed);
    xxh64_update(state, data + <usize>at, min(blockBytes, bytes - at));
    store<u64>(out, xxh64_digest(state));
    out += 8;
  }
}
