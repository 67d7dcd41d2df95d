// Horizontal sums of v128 lanes, and gathers into lanes, shared by the kernels.

/** Sum of the four i32 lanes. */
@inline export function lanesI32(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) +
    i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/**
 * Lane j of the result is the horizontal total of input j, summed as (l0 + l1) + (l2 + l3):
 * pairs first, then pairs of pairs, like the single-row float reduction.
 */
@inline export function transposeSumI32(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 2, 4, 6), v128.shuffle<i32>(a, b, 1, 3, 5, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 2, 4, 6), v128.shuffle<i32>(c, d, 1, 3, 5, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 2, 4, 6), v128.shuffle<i32>(ab, cd, 1, 3, 5, 7));
}

@inline export function transposeSumF32(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 2, 4, 6), v128.shuffle<f32>(a, b, 1, 3, 5, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 2, 4, 6), v128.shuffle<f32>(c, d, 1, 3, 5, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 2, 4, 6), v128.shuffle<f32>(ab, cd, 1, 3, 5, 7));
}

/** The int8 codes at byte `at` of four rows, as i32 lanes (the four-row kernels' scalar tails). */
@inline export function codesX4(c0: usize, c1: usize, c2: usize, c3: usize, at: usize): v128 {
  let codes = i32x4.splat(<i32>load<i8>(c0 + at));
  codes = i32x4.replace_lane(codes, 1, <i32>load<i8>(c1 + at));
  codes = i32x4.replace_lane(codes, 2, <i32>load<i8>(c2 + at));
  return i32x4.replace_lane(codes, 3, <i32>load<i8>(c3 + at));
}
