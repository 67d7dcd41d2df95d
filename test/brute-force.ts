// Brute-force search, the oracle of the index tests: the same pipeline as the Index, composed
// from the scalar reference kernels (src/reference.ts) and the public quantize/truncate, with
// every row scored and sorted instead of scanned, heaped and rescored in WebAssembly.

import { quantize, type Ranges, truncate } from "../src/index.js";
import * as reference from "../src/reference.js";
import { binaryScore, encodeInt8Query, int8Decoder, int8Score } from "../src/scoring.js";

export interface BruteForceConfig {
  precision: "binary" | "int8" | "float32";
  rescore: "int8" | "float32" | "none";
  storedDims: number;
  normalize: boolean;
  ranges?: Ranges;
}

export interface Result {
  ids: number[];
  scores: number[];
}

/** Rows prepared as the index stores them (truncated, normalized). */
function prepare(rows: Float32Array[], config: BruteForceConfig): Float32Array {
  const dims = rows[0].length;
  if (config.storedDims === dims && !config.normalize) {
    const flat = new Float32Array(rows.length * dims);
    rows.forEach((row, i) => flat.set(row, i * dims));
    return flat;
  }
  return truncate(rows, config.storedDims, { normalize: config.normalize }).data;
}

/** Best k of `positions` by key (higher first, ties by smaller id). */
function best(keys: ArrayLike<number>, ids: ArrayLike<number>, positions: number[], k: number): number[] {
  const chosen = reference.topk(positions.map((p) => keys[p]), positions.map((p) => ids[p]), k);
  return chosen.map((i) => positions[i]);
}

/** Final presentation order: float32 score descending, ties by smaller id. */
function present(ids: number[], scores: number[]): Result {
  const order = ids.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || ids[a] - ids[b]);
  return { ids: order.map((i) => ids[i]), scores: order.map((i) => scores[i]) };
}

export function bruteForceSearch(
  rows: Float32Array[], ids: number[], query: Float32Array, k: number, multiplier: number, config: BruteForceConfig,
): Result {
  if (rows.length === 0) return { ids: [], scores: [] };
  const d = config.storedDims;
  const stored = prepare(rows, config);
  const q = prepare([query], config);
  const all = rows.map((_, i) => i);
  const int8Query = config.ranges ? encodeInt8Query(q, int8Decoder(config.ranges)) : undefined;
  const int8Codes = () => quantize({ data: stored, rows: rows.length, cols: d }, "int8", { ranges: config.ranges! }).data;

  const stage = (precision: "binary" | "int8" | "float32", positions: number[], keep: number) => {
    if (precision === "binary") {
      const codes = quantize({ data: stored, rows: rows.length, cols: d }, "ubinary").data;
      const qBits = quantize({ data: q, rows: 1, cols: d }, "ubinary").data;
      const distances = reference.hamming_u1(qBits, codes);
      const chosen = best(Array.from(distances, (x) => -x), ids, positions, keep);
      return { chosen, score: (p: number) => binaryScore(distances[p], d) };
    }
    if (precision === "int8") {
      const dots = reference.dot_i16i8(int8Query!.codes, int8Codes());
      const chosen = best(dots, ids, positions, keep);
      return { chosen, score: (p: number) => int8Score(dots[p], int8Query!) };
    }
    const dots = reference.dot_f32(q, stored);
    return { chosen: best(dots, ids, positions, keep), score: (p: number) => dots[p] };
  };

  const first = stage(config.precision, all, config.rescore === "none" ? k : k * multiplier);
  const final = config.rescore === "none" ? first : stage(config.rescore, first.chosen, k);
  const chosen = final.chosen.slice(0, k);
  return present(chosen.map((p) => ids[p]), chosen.map(final.score));
}
