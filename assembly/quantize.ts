// Quantization of float32 rows into codes, bit-exact with sentence-transformers >= 5.7
// `quantize_embeddings` and with the scalar twins in src/quantize.ts (packBitsRow, quantizeRow).
//
// Units: `rows` rows of `dims` float32 values stored back to back at `src`; codes are written
// back to back at `out`, ceil(dims / 8) bytes a row for bits, `dims` bytes a row for int8/uint8.
// The coding kernels expect finite inputs (src/ validates first, or stages each chunk and checks
// it with find_nonfinite_f32 before coding it); any alignment is fine.
//
// pack_bits_f32: bit = x > 0, MSB first within each byte, the last byte zero-padded. 16 values a
// step: four f32x4 compares narrowed to one i8x16 mask, its bytes reversed within each half so
// that value 0 lands in bit 7, then i8x16.bitmask gives the two bytes in order. The tail (dims
// not a multiple of 16) goes one value at a time.
//
// quantize_u8_f32: per dimension c, q = clip(floor((x − min[c]) / steps[c]), 0, 255) with every
// operation in float32 (f32x4.sub and f32x4.div round exactly as Math.fround of the f64 ones do),
// then q + offset wrapped to a byte: `flip` 0x80 turns uint8 q into int8 q − 128. ±Infinity from
// an overflowing x − min clips to 0 or 255, as in the scalar twin. 16 values a step, then a
// scalar tail.

/** The bits of the 16 values at `p` as two bytes (a u16, little-endian): value 0 is the MSB of byte 0. */
@inline function bitsOf16(p: usize): i32 {
  const zero = f32x4.splat(0);
  const a = f32x4.gt(v128.load(p), zero);
  const b = f32x4.gt(v128.load(p, 16), zero);
  const c = f32x4.gt(v128.load(p, 32), zero);
  const d = f32x4.gt(v128.load(p, 48), zero);
  const mask_i8x16 = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d));
  const msbFirst = i8x16.shuffle(mask_i8x16, mask_i8x16, 7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
  return i8x16.bitmask(msbFirst);
}

/** Packs the signs of `rows` rows of `dims` floats at `src` into bits at `out`; every byte XOR `flip`. */
export function pack_bits_f32(src: usize, rows: i32, dims: i32, out: usize, flip: i32): void {
  const rowBytes = (dims + 7) >> 3;
  const vectorEnd = dims & ~15;
  const flip16 = flip | (flip << 8);
  for (let r: i32 = 0; r < rows; r++) {
    const row = src + ((<usize>r * <usize>dims) << 2);
    const codes = out + <usize>r * <usize>rowBytes;
    let i: i32 = 0;
    for (; i < vectorEnd; i += 16) store<u16>(codes + (<usize>i >> 3), bitsOf16(row + (<usize>i << 2)) ^ flip16);
    for (; i < dims; i += 8) {
      let byte: i32 = 0;
      const end = min(dims, i + 8);
      for (let j = i; j < end; j++) {
        if (load<f32>(row + (<usize>j << 2)) > 0) byte |= 0x80 >> (j - i);
      }
      store<u8>(codes + (<usize>i >> 3), byte ^ flip);
    }
  }
}

/** 2^23 as float32: adding it to an integer 0…255 leaves that integer in the low mantissa bits. */
const MAGIC: f32 = 8388608.0;

/**
 * Four values' clip(floor((x − min) / steps), 0, 255) as i32 lanes. The clip uses pmax/pmin (one
 * maxps/minps each; f32x4.max/min and i32x4.trunc_sat cost several instructions each in V8 for
 * their NaN and −0 rules, which cannot arise here: x and min are finite, so a lane is a number or
 * ±Infinity, and ±Infinity clips like any other). The clipped integer, exact in float32, becomes
 * an i32 by the 2^23 trick: (q + 2^23)'s bits minus 2^23's bits are q.
 */
@inline function buckets4(x: v128, lo: v128, step: v128): v128 {
  const bucket = f32x4.floor(f32x4.div(f32x4.sub(x, lo), step));
  const clipped = f32x4.pmin(f32x4.pmax(bucket, f32x4.splat(0)), f32x4.splat(255));
  return i32x4.sub(f32x4.add(clipped, f32x4.splat(MAGIC)), f32x4.splat(MAGIC));
}

/**
 * Quantizes `rows` rows of `dims` floats at `src` with the per-dimension `mins` and `steps`
 * (`dims` float32 each) into one byte a value at `out`; every byte XOR `flip`.
 */
export function quantize_u8_f32(src: usize, rows: i32, dims: i32, mins: usize, steps: usize, out: usize, flip: i32): void {
  const vectorEnd = dims & ~15;
  const flip_u8x16 = i8x16.splat(<i8>flip);
  for (let r: i32 = 0; r < rows; r++) {
    const row = src + ((<usize>r * <usize>dims) << 2);
    const codes = out + <usize>r * <usize>dims;
    let i: i32 = 0;
    for (; i < vectorEnd; i += 16) {
      const at = <usize>i << 2;
      const a = buckets4(v128.load(row + at), v128.load(mins + at), v128.load(steps + at));
      const b = buckets4(v128.load(row + at, 16), v128.load(mins + at, 16), v128.load(steps + at, 16));
      const c = buckets4(v128.load(row + at, 32), v128.load(mins + at, 32), v128.load(steps + at, 32));
      const d = buckets4(v128.load(row + at, 48), v128.load(mins + at, 48), v128.load(steps + at, 48));
      // Lanes are 0…255 already: the narrows only pack them.
      const bytes_u8x16 = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d));
      v128.store(codes + <usize>i, v128.xor(bytes_u8x16, flip_u8x16));
    }
    for (; i < dims; i++) {
      const at = <usize>i << 2;
      const bucket = floor<f32>((load<f32>(row + at) - load<f32>(mins + at)) / load<f32>(steps + at));
      store<u8>(codes + <usize>i, <i32>min<f32>(max<f32>(bucket, 0), 255) ^ flip);
    }
  }
}

/** Index of the first of the `count` float32 values at `src` that is NaN or ±Infinity, or −1 if none is. */
export function find_nonfinite_f32(src: usize, count: i32): i32 {
  const exponent_i32x4 = i32x4.splat(0x7f800000);
  let i: i32 = 0;
  for (; i + 16 <= count; i += 16) {
    const p = src + (<usize>i << 2);
    const a = i32x4.eq(v128.and(v128.load(p), exponent_i32x4), exponent_i32x4);
    const b = i32x4.eq(v128.and(v128.load(p, 16), exponent_i32x4), exponent_i32x4);
    const c = i32x4.eq(v128.and(v128.load(p, 32), exponent_i32x4), exponent_i32x4);
    const d = i32x4.eq(v128.and(v128.load(p, 48), exponent_i32x4), exponent_i32x4);
    if (v128.any_true(v128.or(v128.or(a, b), v128.or(c, d)))) break; // the scalar loop finds which
  }
  for (; i < count; i++) {
    if ((load<u32>(src + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) return i;
  }
  return -1;
}
