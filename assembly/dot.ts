// Dot products: int8 × int8, int16 × int8 (asymmetric scoring) and float32, for one row or for
// four rows at once. The scans use the four-row forms: four rows from four memory streams share
// every query load, and their loads interleave finely enough to keep several DRAM streams busy.
//
// Units: `dims` counts elements, not bytes. Any dimension and any alignment works: the main
// loops take 8 (integers) or 4 (floats) elements a step, then a scalar tail.
//
// Integer overflow: i32x4.dot_i16x8_s multiplies i16 lanes into i32 and adds adjacent pairs;
// one pair is at most 2 × 32768 × 128 = 2^23, so nothing overflows inside an instruction.
// The i32 accumulators wrap (two's complement) only when the whole dot product leaves the i32
// range: for int8 × int8 that needs dims > 131072; for int16 × int8 the caller keeps
// Σ|query| × 128 < 2^31 (the TS query encoder chooses its scale for exactly that).
// Wrapping is exact modulo 2^32, so the summation order never changes an integer result.
//
// Float32: one f32x4 accumulator per row, each f32x4.mul rounded before its f32x4.add (no
// fusing). Summation order, the same in the one- and four-row forms, and replicated exactly
// by the scalar reference `dot_f32` in src/reference.ts:
//   acc[l] += a[4s + l] * b[4s + l]          for every whole 4-element step s, lanes l = 0…3
//   sum = (acc[0] + acc[1]) + (acc[2] + acc[3])
//   sum += a[i] * b[i]                        for the last dims % 4 elements, in order

import { codesX4, lanesI32, transposeSumF32, transposeSumI32 } from "./lanes";
import { I16_DIGITS, I8_DIGITS, dotDigits, dotDigitsX4 } from "./relaxed";

/** The query's next 8 elements as i16 lanes: widened from int8, or loaded as int16. */
@inline function queryI16x8(wide: bool, q: usize, i: i32): v128 {
  return wide ? v128.load(q + (<usize>i << 1)) : v128.load8x8_s(q + <usize>i);
}

@inline function queryI16(wide: bool, q: usize, i: i32): i32 {
  return wide ? <i32>load<i16>(q + (<usize>i << 1)) : <i32>load<i8>(q + <usize>i);
}

/** Integer dot product of one row of int8 codes with an int8 (`wide` false) or int16 query. */
@inline function dotInt(wide: bool, q: usize, c: usize, dims: i32): i32 {
  let acc_i32x4 = i32x4.splat(0);
  let i: i32 = 0;
  for (; i + 8 <= dims; i += 8) {
    acc_i32x4 = i32x4.add(acc_i32x4, i32x4.dot_i16x8_s(v128.load8x8_s(c + <usize>i), queryI16x8(wide, q, i)));
  }
  let sum = lanesI32(acc_i32x4);
  for (; i < dims; i++) sum += queryI16(wide, q, i) * <i32>load<i8>(c + <usize>i);
  return sum;
}

/** dotInt for four rows at once; lane j holds row j's result. */
@inline function dotIntX4(wide: bool, q: usize, c0: usize, c1: usize, c2: usize, c3: usize, dims: i32): v128 {
  let acc0_i32x4 = i32x4.splat(0);
  let acc1_i32x4 = i32x4.splat(0);
  let acc2_i32x4 = i32x4.splat(0);
  let acc3_i32x4 = i32x4.splat(0);
  let i: i32 = 0;
  for (; i + 8 <= dims; i += 8) {
    const q_i16x8 = queryI16x8(wide, q, i);
    acc0_i32x4 = i32x4.add(acc0_i32x4, i32x4.dot_i16x8_s(v128.load8x8_s(c0 + <usize>i), q_i16x8));
    acc1_i32x4 = i32x4.add(acc1_i32x4, i32x4.dot_i16x8_s(v128.load8x8_s(c1 + <usize>i), q_i16x8));
    acc2_i32x4 = i32x4.add(acc2_i32x4, i32x4.dot_i16x8_s(v128.load8x8_s(c2 + <usize>i), q_i16x8));
    acc3_i32x4 = i32x4.add(acc3_i32x4, i32x4.dot_i16x8_s(v128.load8x8_s(c3 + <usize>i), q_i16x8));
  }
  let sums_i32x4 = transposeSumI32(acc0_i32x4, acc1_i32x4, acc2_i32x4, acc3_i32x4);
  for (; i < dims; i++) {
    sums_i32x4 = i32x4.add(sums_i32x4, i32x4.mul(codesX4(c0, c1, c2, c3, <usize>i), i32x4.splat(queryI16(wide, q, i))));
  }
  return sums_i32x4;
}

// The relaxed-SIMD builds take the integer queries as digit planes instead (relaxed.ts); the
// results are identical.

/** int8 query at `a` · int8 row at `b`, `dims` elements. */
@inline export function dotI8(a: usize, b: usize, dims: i32): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return dotDigits(I8_DIGITS, a, b, dims);
  return dotInt(false, a, b, dims);
}

/** int8 query at `q` · four int8 rows; lane j is row j's dot product. */
@inline export function dotI8x4(q: usize, c0: usize, c1: usize, c2: usize, c3: usize, dims: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return dotDigitsX4(I8_DIGITS, q, c0, c1, c2, c3, dims);
  return dotIntX4(false, q, c0, c1, c2, c3, dims);
}

/** int16 query at `q` · int8 codes at `c`, `dims` elements. */
@inline export function dotI16I8(q: usize, c: usize, dims: i32): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return dotDigits(I16_DIGITS, q, c, dims);
  return dotInt(true, q, c, dims);
}

/** int16 query at `q` · four rows of int8 codes; lane j is row j's dot product. */
@inline export function dotI16I8x4(q: usize, c0: usize, c1: usize, c2: usize, c3: usize, dims: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return dotDigitsX4(I16_DIGITS, q, c0, c1, c2, c3, dims);
  return dotIntX4(true, q, c0, c1, c2, c3, dims);
}

/** float32 · float32 of the rows at `a` and `b`, `dims` elements, in the order documented above. */
@inline export function dotF32(a: usize, b: usize, dims: i32): f32 {
  let acc_f32x4 = f32x4.splat(0);
  let i: i32 = 0;
  for (; i + 4 <= dims; i += 4) {
    acc_f32x4 = f32x4.add(acc_f32x4, f32x4.mul(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2))));
  }
  let sum: f32 =
    (f32x4.extract_lane(acc_f32x4, 0) + f32x4.extract_lane(acc_f32x4, 1)) +
    (f32x4.extract_lane(acc_f32x4, 2) + f32x4.extract_lane(acc_f32x4, 3));
  for (; i < dims; i++) sum += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return sum;
}

/** float32 query at `q` · four rows; lane j is exactly dotF32(q, row j). */
@inline export function dotF32x4(q: usize, r0: usize, r1: usize, r2: usize, r3: usize, dims: i32): v128 {
  let acc0_f32x4 = f32x4.splat(0);
  let acc1_f32x4 = f32x4.splat(0);
  let acc2_f32x4 = f32x4.splat(0);
  let acc3_f32x4 = f32x4.splat(0);
  let i: i32 = 0;
  for (; i + 4 <= dims; i += 4) {
    const offset = <usize>i << 2;
    const q_f32x4 = v128.load(q + offset);
    acc0_f32x4 = f32x4.add(acc0_f32x4, f32x4.mul(q_f32x4, v128.load(r0 + offset)));
    acc1_f32x4 = f32x4.add(acc1_f32x4, f32x4.mul(q_f32x4, v128.load(r1 + offset)));
    acc2_f32x4 = f32x4.add(acc2_f32x4, f32x4.mul(q_f32x4, v128.load(r2 + offset)));
    acc3_f32x4 = f32x4.add(acc3_f32x4, f32x4.mul(q_f32x4, v128.load(r3 + offset)));
  }
  let sums_f32x4 = transposeSumF32(acc0_f32x4, acc1_f32x4, acc2_f32x4, acc3_f32x4);
  for (; i < dims; i++) {
    const offset = <usize>i << 2;
    let rows_f32x4 = f32x4.splat(load<f32>(r0 + offset));
    rows_f32x4 = f32x4.replace_lane(rows_f32x4, 1, load<f32>(r1 + offset));
    rows_f32x4 = f32x4.replace_lane(rows_f32x4, 2, load<f32>(r2 + offset));
    rows_f32x4 = f32x4.replace_lane(rows_f32x4, 3, load<f32>(r3 + offset));
    sums_f32x4 = f32x4.add(sums_f32x4, f32x4.mul(f32x4.splat(load<f32>(q + offset)), rows_f32x4));
  }
  return sums_f32x4;
}

// Batches: four int16 queries against two rows at once. Each row's codes are widened once and
// serve all four queries, which takes the widening off the critical port: in cache this scores
// 1.4× more (query, row) pairs per second than four-row single-query steps (22.6 against 16 M
// pairs/s on the CI machine). The second row's lanes come back through this global (globals
// belong to each instance, so threads over a shared memory do not share it).
let secondRow_i32x4: v128 = i32x4.splat(0);

/** The four queries' values at element `i` as i32 lanes (query j at q + j·stride). */
@inline function queriesAt(q: usize, stride: usize, i: i32): v128 {
  const at = q + (<usize>i << 1);
  let lanes = i32x4.splat(<i32>load<i16>(at));
  lanes = i32x4.replace_lane(lanes, 1, <i32>load<i16>(at + stride));
  lanes = i32x4.replace_lane(lanes, 2, <i32>load<i16>(at + 2 * stride));
  return i32x4.replace_lane(lanes, 3, <i32>load<i16>(at + 3 * stride));
}

/**
 * Four int16 queries (query j at `q + j·stride`) · the int8 rows at `c0` and `c1`. Lane j of the
 * result is query j · row c0; lane j of `secondRow()` is query j · row c1. Exactly dotI16I8 each.
 */
@inline export function dotI16I8Q4R2(q: usize, stride: usize, c0: usize, c1: usize, dims: i32): v128 {
  const zero = i32x4.splat(0);
  let q0r0 = zero, q1r0 = zero, q2r0 = zero, q3r0 = zero;
  let q0r1 = zero, q1r1 = zero, q2r1 = zero, q3r1 = zero;
  let i: i32 = 0;
  for (; i + 8 <= dims; i += 8) {
    const at = q + (<usize>i << 1);
    const query0 = v128.load(at);
    const query1 = v128.load(at + stride);
    const query2 = v128.load(at + 2 * stride);
    const query3 = v128.load(at + 3 * stride);
    let codes = v128.load8x8_s(c0 + <usize>i);
    q0r0 = i32x4.add(q0r0, i32x4.dot_i16x8_s(codes, query0));
    q1r0 = i32x4.add(q1r0, i32x4.dot_i16x8_s(codes, query1));
    q2r0 = i32x4.add(q2r0, i32x4.dot_i16x8_s(codes, query2));
    q3r0 = i32x4.add(q3r0, i32x4.dot_i16x8_s(codes, query3));
    codes = v128.load8x8_s(c1 + <usize>i);
    q0r1 = i32x4.add(q0r1, i32x4.dot_i16x8_s(codes, query0));
    q1r1 = i32x4.add(q1r1, i32x4.dot_i16x8_s(codes, query1));
    q2r1 = i32x4.add(q2r1, i32x4.dot_i16x8_s(codes, query2));
    q3r1 = i32x4.add(q3r1, i32x4.dot_i16x8_s(codes, query3));
  }
  let row0_i32x4 = transposeSumI32(q0r0, q1r0, q2r0, q3r0);
  let row1_i32x4 = transposeSumI32(q0r1, q1r1, q2r1, q3r1);
  for (; i < dims; i++) {
    const queries_i32x4 = queriesAt(q, stride, i);
    row0_i32x4 = i32x4.add(row0_i32x4, i32x4.mul(queries_i32x4, i32x4.splat(<i32>load<i8>(c0 + <usize>i))));
    row1_i32x4 = i32x4.add(row1_i32x4, i32x4.mul(queries_i32x4, i32x4.splat(<i32>load<i8>(c1 + <usize>i))));
  }
  secondRow_i32x4 = row1_i32x4;
  return row0_i32x4;
}

/** The second row's lanes of the last dotI16I8Q4R2. */
@inline export function secondRow(): v128 {
  return secondRow_i32x4;
}
