// Dot products: int8 × int8, int16 × int8 (asymmetric scoring) and float32.
//
// Units: `dims` counts elements, not bytes. Main loops take 16 elements a step, then one step
// of 8 (integers) or 4 (floats), then a scalar tail, so any dimension and any alignment works.
//
// Integer overflow: i32x4.dot_i16x8_s multiplies i16 lanes into i32 and adds adjacent pairs;
// one pair is at most 2 × 32768 × 128 = 2^23, so nothing overflows inside an instruction.
// The i32 accumulators wrap (two's complement) only when the whole dot product leaves the i32
// range: for int8 × int8 that needs dims > 131072; for int16 × int8 the caller keeps
// Σ|query| × 128 < 2^31 (the TS query encoder chooses its scale for exactly that).
// Wrapping is exact modulo 2^32, so the summation order never changes an integer result.
//
// Float32: four f32x4 accumulators, each f32x4.mul rounded before its f32x4.add (no fusing).
// Summation order, which the scalar reference `dot_f32` in src/reference.ts replicates exactly:
//   acc[j][l] += a[16s + 4j + l] * b[16s + 4j + l]   for every 16-element step s
//   acc[0][l] += a[i + l] * b[i + l]                  for each remaining 4-element step
//   lanes = (acc0 + acc1) + (acc2 + acc3); sum = (lane0 + lane1) + (lane2 + lane3)
//   sum += a[i] * b[i]                                for the last dims % 4 elements

/** int8 · int8 at `a` and `b`, `dims` elements. */
@inline export function dotI8(a: usize, b: usize, dims: i32): i32 {
  let i: i32 = 0;
  let acc0_i32x4 = i32x4.splat(0);
  let acc1_i32x4 = i32x4.splat(0);
  for (; i + 16 <= dims; i += 16) {
    const a_i8x16 = v128.load(a + <usize>i);
    const b_i8x16 = v128.load(b + <usize>i);
    acc0_i32x4 = i32x4.add(acc0_i32x4, i32x4.dot_i16x8_s(
      i16x8.extend_low_i8x16_s(a_i8x16), i16x8.extend_low_i8x16_s(b_i8x16)));
    acc1_i32x4 = i32x4.add(acc1_i32x4, i32x4.dot_i16x8_s(
      i16x8.extend_high_i8x16_s(a_i8x16), i16x8.extend_high_i8x16_s(b_i8x16)));
  }
  if (i + 8 <= dims) {
    acc0_i32x4 = i32x4.add(acc0_i32x4, i32x4.dot_i16x8_s(
      v128.load8x8_s(a + <usize>i), v128.load8x8_s(b + <usize>i)));
    i += 8;
  }
  const acc_i32x4 = i32x4.add(acc0_i32x4, acc1_i32x4);
  let sum =
    i32x4.extract_lane(acc_i32x4, 0) + i32x4.extract_lane(acc_i32x4, 1) +
    i32x4.extract_lane(acc_i32x4, 2) + i32x4.extract_lane(acc_i32x4, 3);
  for (; i < dims; i++) {
    sum += <i32>load<i8>(a + <usize>i) * <i32>load<i8>(b + <usize>i);
  }
  return sum;
}

/** int16 query at `q` · int8 codes at `c`, `dims` elements. */
@inline export function dotI16I8(q: usize, c: usize, dims: i32): i32 {
  let i: i32 = 0;
  let acc0_i32x4 = i32x4.splat(0);
  let acc1_i32x4 = i32x4.splat(0);
  for (; i + 16 <= dims; i += 16) {
    const c_i8x16 = v128.load(c + <usize>i);
    const qi = q + (<usize>i << 1);
    acc0_i32x4 = i32x4.add(acc0_i32x4,
      i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(c_i8x16), v128.load(qi)));
    acc1_i32x4 = i32x4.add(acc1_i32x4,
      i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(c_i8x16), v128.load(qi, 16)));
  }
  if (i + 8 <= dims) {
    acc0_i32x4 = i32x4.add(acc0_i32x4,
      i32x4.dot_i16x8_s(v128.load8x8_s(c + <usize>i), v128.load(q + (<usize>i << 1))));
    i += 8;
  }
  const acc_i32x4 = i32x4.add(acc0_i32x4, acc1_i32x4);
  let sum =
    i32x4.extract_lane(acc_i32x4, 0) + i32x4.extract_lane(acc_i32x4, 1) +
    i32x4.extract_lane(acc_i32x4, 2) + i32x4.extract_lane(acc_i32x4, 3);
  for (; i < dims; i++) {
    sum += <i32>load<i16>(q + (<usize>i << 1)) * <i32>load<i8>(c + <usize>i);
  }
  return sum;
}

/** float32 · float32 at `a` and `b`, `dims` elements, in the order documented above. */
@inline export function dotF32(a: usize, b: usize, dims: i32): f32 {
  let i: i32 = 0;
  let acc0_f32x4 = f32x4.splat(0);
  let acc1_f32x4 = f32x4.splat(0);
  let acc2_f32x4 = f32x4.splat(0);
  let acc3_f32x4 = f32x4.splat(0);
  for (; i + 16 <= dims; i += 16) {
    const pa = a + (<usize>i << 2);
    const pb = b + (<usize>i << 2);
    acc0_f32x4 = f32x4.add(acc0_f32x4, f32x4.mul(v128.load(pa), v128.load(pb)));
    acc1_f32x4 = f32x4.add(acc1_f32x4, f32x4.mul(v128.load(pa, 16), v128.load(pb, 16)));
    acc2_f32x4 = f32x4.add(acc2_f32x4, f32x4.mul(v128.load(pa, 32), v128.load(pb, 32)));
    acc3_f32x4 = f32x4.add(acc3_f32x4, f32x4.mul(v128.load(pa, 48), v128.load(pb, 48)));
  }
  for (; i + 4 <= dims; i += 4) {
    acc0_f32x4 = f32x4.add(acc0_f32x4,
      f32x4.mul(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2))));
  }
  const acc_f32x4 = f32x4.add(f32x4.add(acc0_f32x4, acc1_f32x4), f32x4.add(acc2_f32x4, acc3_f32x4));
  let sum: f32 =
    (f32x4.extract_lane(acc_f32x4, 0) + f32x4.extract_lane(acc_f32x4, 1)) +
    (f32x4.extract_lane(acc_f32x4, 2) + f32x4.extract_lane(acc_f32x4, 3));
  for (; i < dims; i++) {
    sum += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  }
  return sum;
}
