// The streaming-read baselines: how fast this core can pull bytes from memory into v128
// registers at all. The benchmark reports each scan as a percentage of these, measured in the
// same run. Both fold the bytes into a checksum so that no load can be optimized away.
//
// Units: `bytes` from `ptr`; whole 64-byte blocks are read (a partial last block is ignored).
// read_sum reads one sequential stream; read_sum_streams reads 8 interleaved streams, as the
// scans do (scan.ts), which lets the hardware prefetchers keep more DRAM requests in flight.

const STREAMS: i32 = 8;

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

/** Checksum of `bytes` read as 8 interleaved sequential streams. */
export function read_sum_streams(ptr: usize, bytes: i32): i32 {
  const blocks = bytes >> 6;
  const chunk = (blocks + STREAMS - 1) / STREAMS;
  let acc_i32x4 = i32x4.splat(0);
  for (let step: i32 = 0; step < chunk; step++) {
    for (let b = step; b < blocks; b += chunk) acc_i32x4 = block(acc_i32x4, ptr + (<usize>b << 6));
  }
  return fold(acc_i32x4);
}
