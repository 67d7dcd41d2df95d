// What a score means, per precision. Higher is better everywhere.
//
// float32  the dot product of the stored (truncated, normalized) float vectors.
// int8     asymmetric: the float query against the int8 codes, an estimate of the float dot
//          product. Code c of dimension i stands for the centre of its bucket,
//          x̂ = min_i + (c + 128.5) · step_i, so
//            query · x̂ = Σ (query_i · step_i) · c_i  +  Σ query_i · (min_i + 128.5 · step_i).
//          The first sum runs in the kernel: w_i = query_i · step_i is rounded to int16 under a
//          scale s that keeps Σ |round(s · w_i)| · 128 below 2^31 (no i32 overflow, whatever
//          the codes), dotted with the codes and divided by s. The second sum is one constant
//          per query. Ranking uses the exact integer dot product.
// binary   1 − 2 · hamming / bits: 1 for identical bit patterns, −1 for opposite ones.

import type { Ranges } from "./quantize.js";
import { stepsOf } from "./quantize.js";

/** Largest Σ|query code| that cannot overflow i32 when every code is −128: ⌊(2^31 − 1) / 128⌋. */
const SUM_LIMIT = Math.floor((2 ** 31 - 1) / 128);

/** The per-dimension decoding of int8 codes: bucket width (0 for a constant dimension) and base. */
export interface Int8Decoder {
  widths: Float64Array;
  bases: Float64Array;
}

/**
 * Decoding constants for codes quantized with `ranges`. The codes used sentence-transformers'
 * steps, where a step that comes out 0 is replaced by 1. That happens for a constant dimension
 * and for one whose width is so small (below about 1.8e-43, a subnormal float32) that width / 255
 * underflows to 0. Either way every stored value in range lands in bucket 0, and a step of 1
 * would decode it as min + 0.5: a score of 0.5 where the float dot product is ~1e-43. So such a
 * dimension decodes to the middle of its range, width 0: off by at most half its (tiny) width.
 */
export function int8Decoder(ranges: Ranges): Int8Decoder {
  const steps = stepsOf(ranges);
  const widths = new Float64Array(steps.length);
  const bases = new Float64Array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const min = ranges.min[i];
    const max = ranges.max[i];
    const stepReplaced = Math.fround(Math.fround(max - min) / 255) === 0;
    widths[i] = stepReplaced ? 0 : steps[i];
    bases[i] = stepReplaced ? (min + max) / 2 : min + 128.5 * widths[i];
  }
  return { widths, bases };
}

/** A query encoded for asymmetric int8 scoring: score = dot(codes, int8 codes) / scale + offset. */
export interface Int8Query {
  codes: Int16Array;
  scale: number;
  offset: number;
}

/** Encodes a float query for `dot_i16i8` against codes decoded by `decoder`. */
export function encodeInt8Query(query: Float32Array, decoder: Int8Decoder): Int8Query {
  const dims = query.length;
  const weights = new Float64Array(dims);
  let offset = 0;
  let sumAbs = 0;
  let maxAbs = 0;
  for (let i = 0; i < dims; i++) {
    weights[i] = query[i] * decoder.widths[i];
    offset += query[i] * decoder.bases[i];
    const abs = Math.abs(weights[i]);
    sumAbs += abs;
    if (abs > maxAbs) maxAbs = abs;
  }
  const codes = new Int16Array(dims);
  if (maxAbs === 0) return { codes, scale: 1, offset };
  // Rounding adds at most 0.5 per dimension, hence the dims / 2 of headroom.
  const scale = Math.min(32767 / maxAbs, (SUM_LIMIT - dims / 2) / sumAbs);
  for (let i = 0; i < dims; i++) codes[i] = Math.round(weights[i] * scale);
  return { codes, scale, offset };
}

/** The float32 score of an int8 integer dot product. */
export function int8Score(dot: number, query: Int8Query): number {
  return Math.fround(dot / query.scale + query.offset);
}

/** The float32 score of a Hamming distance over `bits` dimensions. */
export function binaryScore(distance: number, bits: number): number {
  return Math.fround(1 - (2 * distance) / bits);
}
