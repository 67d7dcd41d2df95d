// Hamming distance between bit-packed codes.
//
// Units: `bytes` is the code length in bytes (ceil(bits / 8)); bit order inside a byte does not
// matter for a distance, and padding bits are zero in both operands, so they never count.
// Main loop: 16 bytes a step, xor + i8x16.popcnt, summed in u8 lanes. A lane gains at most 8
// per step, so a window of 31 steps (31 × 8 = 248 ≤ 255) is widened to i32 lanes before it
// can overflow. Tail: 8 bytes at a time with i64.popcnt, then single bytes.
// Any alignment is fine: v128.load and i64.load do not require aligned addresses.

import { transposeSumI32 } from "./lanes";

const WINDOW_BYTES: i32 = 31 * 16;

/** Hamming distance of the `bytes`-byte codes at `a` and `b`. */
@inline export function hammingU1(a: usize, b: usize, bytes: i32): i32 {
  let i: i32 = 0;
  const vectorEnd = bytes & ~15;
  let acc_i32x4 = i32x4.splat(0);
  while (i < vectorEnd) {
    const windowEnd = min(vectorEnd, i + WINDOW_BYTES);
    let acc_u8x16 = i8x16.splat(0);
    for (; i < windowEnd; i += 16) {
      const xor_u8x16 = v128.xor(v128.load(a + <usize>i), v128.load(b + <usize>i));
      acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(xor_u8x16));
    }
    acc_i32x4 = i32x4.add(
      acc_i32x4,
      i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(acc_u8x16)),
    );
  }
  let distance =
    i32x4.extract_lane(acc_i32x4, 0) + i32x4.extract_lane(acc_i32x4, 1) +
    i32x4.extract_lane(acc_i32x4, 2) + i32x4.extract_lane(acc_i32x4, 3);
  for (; i + 8 <= bytes; i += 8) {
    distance += <i32>popcnt(load<u64>(a + <usize>i) ^ load<u64>(b + <usize>i));
  }
  for (; i < bytes; i++) {
    distance += popcnt(<i32>(load<u8>(a + <usize>i) ^ load<u8>(b + <usize>i)));
  }
  return distance;
}

/** Codes of exactly 16·`blocks` bytes (1 ≤ blocks ≤ 8) take the register path below. */
export const MAX_REGISTER_BLOCKS: i32 = 8;

/** popcount(query block ⊕ row block) summed into u8 lanes, for the first `blocks` blocks of a row. */
@inline function blockCounts(
  blocks: i32, q0: v128, q1: v128, q2: v128, q3: v128, q4: v128, q5: v128, q6: v128, q7: v128, row: usize,
): v128 {
  let acc_u8x16 = i8x16.popcnt(v128.xor(q0, v128.load(row)));
  if (blocks > 1) acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(q1, v128.load(row, 16))));
  if (blocks > 2) acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(q2, v128.load(row, 32))));
  if (blocks > 3) acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(q3, v128.load(row, 48))));
  if (blocks > 4) acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(q4, v128.load(row, 64))));
  if (blocks > 5) acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(q5, v128.load(row, 80))));
  if (blocks > 6) acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(q6, v128.load(row, 96))));
  if (blocks > 7) acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(q7, v128.load(row, 112))));
  return i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(acc_u8x16));
}

/**
 * Hamming distance for codes of exactly 16·`blocks` bytes, with the query already in registers
 * q0…q7 (only the first `blocks` are used). `blocks` is a constant at every call site, so the
 * unused ones fold away. At most 8 blocks × 8 bits = 64 per u8 lane: no window needed.
 * Keeping the query in registers instead of reloading it per row is what lets a 1024-bit scan
 * run at the memory's pace instead of the core's.
 */
@inline export function hammingBlocks(
  blocks: i32, q0: v128, q1: v128, q2: v128, q3: v128, q4: v128, q5: v128, q6: v128, q7: v128, row: usize,
): i32 {
  const acc_i32x4 = blockCounts(blocks, q0, q1, q2, q3, q4, q5, q6, q7, row);
  const pairs_i32x4 = i32x4.add(acc_i32x4, v128.shuffle<i32>(acc_i32x4, acc_i32x4, 2, 3, 0, 1));
  return i32x4.extract_lane(pairs_i32x4, 0) + i32x4.extract_lane(pairs_i32x4, 1);
}

/** hammingBlocks of four rows; lane j is row j's distance. */
@inline export function hammingBlocksX4(
  blocks: i32, q0: v128, q1: v128, q2: v128, q3: v128, q4: v128, q5: v128, q6: v128, q7: v128,
  r0: usize, r1: usize, r2: usize, r3: usize,
): v128 {
  const a = blockCounts(blocks, q0, q1, q2, q3, q4, q5, q6, q7, r0);
  const b = blockCounts(blocks, q0, q1, q2, q3, q4, q5, q6, q7, r1);
  const c = blockCounts(blocks, q0, q1, q2, q3, q4, q5, q6, q7, r2);
  const d = blockCounts(blocks, q0, q1, q2, q3, q4, q5, q6, q7, r3);
  return transposeSumI32(a, b, c, d);
}
