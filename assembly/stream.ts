// The streaming-read baselines: how fast this core can pull bytes from memory into v128
// registers at all. The benchmark reports each scan as a percentage of these, measured in the
// same run. Both fold the bytes into a checksum so that no load can be optimized away.
// popcount_scan_1024, at the end, is the Hamming suite's hardware reference scan.
//
// read_sum reads `bytes` from `ptr` as one sequential stream, in whole 64-byte blocks (a partial
// last block is ignored). read_sum_rows reads rows in the scans' own interleaved order, which
// lets the hardware prefetchers keep more DRAM requests in flight.

import { STREAMS, streamRows } from "./scan";

@inline function block(acc: v128, p: usize): v128 {
  return i32x4.add(
    i32x4.add(acc, v128.load(p)),
    i32x4.add(i32x4.add(v128.load(p, 16), v128.load(p, 32)), v128.load(p, 48)),
  );
}

@inline function fold(acc_i32x4: v128): i32 {
  return i32x4.extract_lane(acc_i32x4, 0) ^ i32x4.extract_lane(acc_i32x4, 1) ^
    i32x4.extract_lane(acc_i32x4, 2) ^ i32x4.extract_lane(acc_i32x4, 3);
}

/** Checksum of `bytes` read as one sequential stream. */
export function read_sum(ptr: usize, bytes: i32): i32 {
  const blocks = bytes >> 6;
  let acc_i32x4 = i32x4.splat(0);
  for (let b: i32 = 0; b < blocks; b++) acc_i32x4 = block(acc_i32x4, ptr + (<usize>b << 6));
  return fold(acc_i32x4);
}

/**
 * Checksum of `count` rows of `rowBytes` bytes (a multiple of 16), read in the order the scans
 * read them (scan.ts): 4 streams of streamRows rows, four rows at a time, 16 bytes from each in
 * turn. The bench measures each scan against the faster of this and read_sum over the same bytes
 * (on an AMD EPYC either came first, depending on the run: 128-byte rows read as 8 streams at
 * 17 GB/s against 27 for one stream in one run, 31 against 26 in another; those streams still
 * started a power of two apart, which streamRows has avoided since 2026-12-03).
 */
export function read_sum_rows(ptr: usize, rowBytes: i32, count: i32): i32 {
  const stride = <usize>rowBytes;
  const chunk = streamRows(count, stride);
  const hop = <usize>chunk * stride;
  let acc0_i32x4 = i32x4.splat(0);
  let acc1_i32x4 = i32x4.splat(0);
  let acc2_i32x4 = i32x4.splat(0);
  let acc3_i32x4 = i32x4.splat(0);
  for (let step: i32 = 0; step < chunk; step++) {
    for (let s: i32 = 0; s < STREAMS; s += 4) {
      const i = s * chunk + step;
      if (i + 3 * chunk < count) {
        const row = ptr + <usize>i * stride;
        for (let j: usize = 0; j < stride; j += 16) {
          acc0_i32x4 = i32x4.add(acc0_i32x4, v128.load(row + j));
          acc1_i32x4 = i32x4.add(acc1_i32x4, v128.load(row + hop + j));
          acc2_i32x4 = i32x4.add(acc2_i32x4, v128.load(row + 2 * hop + j));
          acc3_i32x4 = i32x4.add(acc3_i32x4, v128.load(row + 3 * hop + j));
        }
      } else {
        for (let r = i; r < count; r += chunk) {
          const row = ptr + <usize>r * stride;
          for (let j: usize = 0; j < stride; j += 16) acc0_i32x4 = i32x4.add(acc0_i32x4, v128.load(row + j));
        }
      }
    }
  }
  return fold(i32x4.add(i32x4.add(acc0_i32x4, acc1_i32x4), i32x4.add(acc2_i32x4, acc3_i32x4)));
}

/**
 * The hardware reference scan of the Hamming suite: the Hamming distance of every 1024-bit
 * (128-byte) row to the query, written to `out` as i32, one row at a time in one sequential
 * stream, the query in registers, no top-k: the plainest honest popcount scan
 * (i8x16.popcnt, as the SIMD scan of the hardware-scaling probe the issue names). quantvec's
 * Hamming top-k scan does this work and more, so it should keep up with it.
 */
export function popcount_scan_1024(query: usize, codes: usize, count: i32, out: usize): void {
  const q0 = v128.load(query), q1 = v128.load(query, 16), q2 = v128.load(query, 32), q3 = v128.load(query, 48);
  const q4 = v128.load(query, 64), q5 = v128.load(query, 80), q6 = v128.load(query, 96), q7 = v128.load(query, 112);
  for (let r: i32 = 0; r < count; r++) {
    const row = codes + (<usize>r << 7);
    let acc_u8x16 = i8x16.popcnt(v128.xor(v128.load(row), q0));
    acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(v128.load(row, 16), q1)));
    acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(v128.load(row, 32), q2)));
    acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(v128.load(row, 48), q3)));
    acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(v128.load(row, 64), q4)));
    acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(v128.load(row, 80), q5)));
    acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(v128.load(row, 96), q6)));
    acc_u8x16 = i8x16.add(acc_u8x16, i8x16.popcnt(v128.xor(v128.load(row, 112), q7)));
    const acc_i32x4 = i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(acc_u8x16));
    store<i32>(out + (<usize>r << 2), i32x4.extract_lane(acc_i32x4, 0) + i32x4.extract_lane(acc_i32x4, 1) +
      i32x4.extract_lane(acc_i32x4, 2) + i32x4.extract_lane(acc_i32x4, 3));
  }
}
