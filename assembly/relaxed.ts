// Integer dot products with relaxed SIMD (the builds compiled with --enable relaxed-simd).
//
// i32x4.relaxed_dot_i8x16_i7x16_add_s multiplies 16 int8 lanes by 16 "7-bit" lanes and adds
// each group of four products to an i32 lane. Its result is the same on every machine only
// when the second operand's lanes lie in [0, 127]: above that, a runtime may read them as
// signed or as unsigned. So the query is not passed as int8/int16 values but as base-128
// digits of its biased value, which are always in range:
//
//   int8 query  q:  Q = q + 128   = D0 + 128·D1                (D1 ∈ {0, 1})
//   int16 query q:  Q = q + 32768 = D0 + 128·D1 + 16384·D2     (D2 ∈ [0, 3])
//
// and, per row of codes c,  Σ q·c = Σ_k 128^k · Σ c·Dk  −  bias · Σ c.
// Σ c is one more relaxed dot, against a plane of ones. Every product and every partial sum is
// exact, the combination wraps modulo 2^32 like the SIMD128 kernels' accumulators, so the two
// paths return identical integers for every input (tested in test/relaxed.test.ts).
//
// Query layout ("digit planes"): `digits` planes Dk and then the ones plane, each `stride`
// bytes (dims rounded up to 16) apart, one byte per element; src/relaxed.ts writes it.
// Costs 3 (int8) or 4 (int16) relaxed dots per 16 codes where SIMD128 needs two widening
// loads and two i32x4.dot_i16x8_s: a win only where the runtime maps the relaxed dot to one
// instruction (VNNI vpdpbusd, Arm sdot). src/relaxed.ts times both before choosing.

import { codesX4, lanesI32, transposeSumI32 } from "./lanes";

/** Digit planes of an int8 query (then the ones plane). */
export const I8_DIGITS: i32 = 2;
/** Digit planes of an int16 query (then the ones plane). */
export const I16_DIGITS: i32 = 3;

/** Bytes from one plane to the next. */
@inline export function planeStride(dims: i32): usize {
  return (<usize>dims + 15) & ~(<usize>15);
}

@inline function dotAdd(codes: v128, digits: v128, acc: v128): v128 {
  return i32x4.relaxed_dot_i8x16_i7x16_add_s(codes, digits, acc);
}

/** Σ_k 128^k · dk − bias · ones, wrapping (the bias is 128^digits / 2). */
@inline function combine(digits: i32, d0: i32, d1: i32, d2: i32, ones: i32): i32 {
  return digits == I16_DIGITS
    ? d0 + (d1 << 7) + (d2 << 14) - (ones << 15)
    : d0 + (d1 << 7) - (ones << 7);
}

@inline function combineX4(digits: i32, d0: v128, d1: v128, d2: v128, ones: v128): v128 {
  const low = i32x4.add(d0, i32x4.shl(d1, 7));
  return digits == I16_DIGITS
    ? i32x4.sub(i32x4.add(low, i32x4.shl(d2, 14)), i32x4.shl(ones, 15))
    : i32x4.sub(low, i32x4.shl(ones, 7));
}

/** Query element `i`, rebuilt from its digits (for the last dims % 16 elements). */
@inline function queryValue(digits: i32, q: usize, stride: usize, i: i32): i32 {
  const at = q + <usize>i;
  const low = <i32>load<u8>(at) + (<i32>load<u8>(at + stride) << 7);
  return digits == I16_DIGITS ? low + (<i32>load<u8>(at + 2 * stride) << 14) - 32768 : low - 128;
}

/** Dot product of the digit-plane query at `q` with one row of int8 codes at `c`. */
@inline export function dotDigits(digits: i32, q: usize, c: usize, dims: i32): i32 {
  const stride = planeStride(dims);
  const ones = q + <usize>digits * stride;
  let acc0_i32x4 = i32x4.splat(0);
  let acc1_i32x4 = i32x4.splat(0);
  let acc2_i32x4 = i32x4.splat(0);
  let sum_i32x4 = i32x4.splat(0);
  let i: i32 = 0;
  for (; i + 16 <= dims; i += 16) {
    const at = <usize>i;
    const codes = v128.load(c + at);
    acc0_i32x4 = dotAdd(codes, v128.load(q + at), acc0_i32x4);
    acc1_i32x4 = dotAdd(codes, v128.load(q + stride + at), acc1_i32x4);
    if (digits == I16_DIGITS) acc2_i32x4 = dotAdd(codes, v128.load(q + 2 * stride + at), acc2_i32x4);
    sum_i32x4 = dotAdd(codes, v128.load(ones + at), sum_i32x4);
  }
  let sum = combine(digits, lanesI32(acc0_i32x4), lanesI32(acc1_i32x4), lanesI32(acc2_i32x4), lanesI32(sum_i32x4));
  for (; i < dims; i++) sum += queryValue(digits, q, stride, i) * <i32>load<i8>(c + <usize>i);
  return sum;
}

/** dotDigits for four rows at once; lane j holds row j's result. */
@inline export function dotDigitsX4(
  digits: i32, q: usize, c0: usize, c1: usize, c2: usize, c3: usize, dims: i32,
): v128 {
  const stride = planeStride(dims);
  const ones = q + <usize>digits * stride;
  const zero = i32x4.splat(0);
  let d0r0 = zero, d0r1 = zero, d0r2 = zero, d0r3 = zero;
  let d1r0 = zero, d1r1 = zero, d1r2 = zero, d1r3 = zero;
  let d2r0 = zero, d2r1 = zero, d2r2 = zero, d2r3 = zero;
  let sr0 = zero, sr1 = zero, sr2 = zero, sr3 = zero;
  let i: i32 = 0;
  for (; i + 16 <= dims; i += 16) {
    const at = <usize>i;
    const digit0 = v128.load(q + at);
    const digit1 = v128.load(q + stride + at);
    const digit2 = digits == I16_DIGITS ? v128.load(q + 2 * stride + at) : zero;
    const one = v128.load(ones + at);
    let codes = v128.load(c0 + at);
    d0r0 = dotAdd(codes, digit0, d0r0);
    d1r0 = dotAdd(codes, digit1, d1r0);
    if (digits == I16_DIGITS) d2r0 = dotAdd(codes, digit2, d2r0);
    sr0 = dotAdd(codes, one, sr0);
    codes = v128.load(c1 + at);
    d0r1 = dotAdd(codes, digit0, d0r1);
    d1r1 = dotAdd(codes, digit1, d1r1);
    if (digits == I16_DIGITS) d2r1 = dotAdd(codes, digit2, d2r1);
    sr1 = dotAdd(codes, one, sr1);
    codes = v128.load(c2 + at);
    d0r2 = dotAdd(codes, digit0, d0r2);
    d1r2 = dotAdd(codes, digit1, d1r2);
    if (digits == I16_DIGITS) d2r2 = dotAdd(codes, digit2, d2r2);
    sr2 = dotAdd(codes, one, sr2);
    codes = v128.load(c3 + at);
    d0r3 = dotAdd(codes, digit0, d0r3);
    d1r3 = dotAdd(codes, digit1, d1r3);
    if (digits == I16_DIGITS) d2r3 = dotAdd(codes, digit2, d2r3);
    sr3 = dotAdd(codes, one, sr3);
  }
  let sums_i32x4 = combineX4(
    digits,
    transposeSumI32(d0r0, d0r1, d0r2, d0r3),
    transposeSumI32(d1r0, d1r1, d1r2, d1r3),
    transposeSumI32(d2r0, d2r1, d2r2, d2r3),
    transposeSumI32(sr0, sr1, sr2, sr3),
  );
  for (; i < dims; i++) {
    sums_i32x4 = i32x4.add(sums_i32x4, i32x4.mul(codesX4(c0, c1, c2, c3, <usize>i), i32x4.splat(queryValue(digits, q, stride, i))));
  }
  return sums_i32x4;
}
