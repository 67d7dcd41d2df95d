// Scan drivers: one query against `count` rows stored back to back, either writing every
// score or keeping only the best k in a heap (topk.ts). Each exported kernel in index.ts
// calls a driver with a constant `metric`; after inlining, the optimizer folds the metric
// switch away, so every kernel is a straight loop around its own pair function.

import { hammingBlocks, hammingU1 } from "./hamming";
import { dotF32, dotI16I8, dotI8 } from "./dot";
import { heapIds, heapKeys, heapOffer, orderedKeyF32 } from "./topk";

// Rows are visited as STREAMS interleaved sequential streams (row step, step + chunk, step +
// 2·chunk, …) rather than one: WebAssembly has no prefetch instruction, and the hardware
// prefetchers keep several streams in flight where one stream leaves the core waiting on DRAM.
// Measured on the CI machine (1M × 128-byte codes): one stream 54 M rows/s, 4 streams 81 M,
// 8 streams 87 M, against 89 M for a bare streaming read of the same bytes. The visiting order
// cannot change a result: scores land at their row's slot and the heap breaks ties by id.
const STREAMS: i32 = 8;

export const HAMMING_U1: i32 = 0;
export const DOT_I8: i32 = 1;
export const DOT_I16I8: i32 = 2;
export const DOT_F32: i32 = 3;

/** Bytes between consecutive rows of `dims` elements. */
@inline function rowBytes(metric: i32, dims: i32): usize {
  return metric == DOT_F32 ? <usize>dims << 2 : <usize>dims;
}

/** The heap key of one row: higher is better (Hamming distances are negated). */
@inline function pairKey(metric: i32, query: usize, row: usize, dims: i32): i32 {
  if (metric == HAMMING_U1) return -hammingU1(query, row, dims);
  if (metric == DOT_I8) return dotI8(query, row, dims);
  if (metric == DOT_I16I8) return dotI16I8(query, row, dims);
  return orderedKeyF32(dotF32(query, row, dims));
}

/** Stores one row's score at `slot`: i32 (distance or integer dot) or f32. */
@inline function storeScore(metric: i32, query: usize, row: usize, dims: i32, slot: usize): void {
  if (metric == HAMMING_U1) store<i32>(slot, hammingU1(query, row, dims));
  else if (metric == DOT_I8) store<i32>(slot, dotI8(query, row, dims));
  else if (metric == DOT_I16I8) store<i32>(slot, dotI16I8(query, row, dims));
  else store<f32>(slot, dotF32(query, row, dims));
}

/** Writes the score of every row to `out` (i32, or f32 for DOT_F32). */
@inline export function scanScores(
  metric: i32, query: usize, base: usize, dims: i32, count: i32, out: usize,
): void {
  const stride = rowBytes(metric, dims);
  const chunk = (count + STREAMS - 1) / STREAMS;
  for (let step: i32 = 0; step < chunk; step++) {
    for (let i = step; i < count; i += chunk) {
      storeScore(metric, query, base + <usize>i * stride, dims, out + (<usize>i << 2));
    }
  }
}

/** Like scanScores, for rows found through a list of `count` u32 addresses at `rowPtrs`. */
@inline export function gatherScores(
  metric: i32, query: usize, rowPtrs: usize, dims: i32, count: i32, out: usize,
): void {
  for (let i: i32 = 0; i < count; i++) {
    const row = <usize>load<u32>(rowPtrs + (<usize>i << 2));
    storeScore(metric, query, row, dims, out + (<usize>i << 2));
  }
}

/**
 * Offers every row to the heap at `heap`. Row i has id `ids[i]` (or `rowBase + i` when `ids`
 * is 0) and is recorded as row `rowBase + i`. The root's key and id are cached in locals so
 * that the common case, a row worse than the current k-th best, costs one compare.
 * `blocks` (a constant, 0 for none) selects hammingBlocks with the query held in registers.
 */
@inline export function scanTopK(
  metric: i32, blocks: i32, query: usize, base: usize, dims: i32, count: i32,
  ids: usize, rowBase: u32, heap: usize,
): void {
  const zero = i8x16.splat(0);
  const q0 = blocks > 0 ? v128.load(query) : zero;
  const q1 = blocks > 1 ? v128.load(query, 16) : zero;
  const q2 = blocks > 2 ? v128.load(query, 32) : zero;
  const q3 = blocks > 3 ? v128.load(query, 48) : zero;
  const q4 = blocks > 4 ? v128.load(query, 64) : zero;
  const q5 = blocks > 5 ? v128.load(query, 80) : zero;
  const q6 = blocks > 6 ? v128.load(query, 96) : zero;
  const q7 = blocks > 7 ? v128.load(query, 112) : zero;
  const stride = rowBytes(metric, dims);
  const capacity = load<i32>(heap, 4);
  const rootKey = heapKeys(heap);
  const rootId = heapIds(heap, capacity);
  let size = load<i32>(heap);
  let thresholdKey = size < capacity ? i32.MIN_VALUE : load<i32>(rootKey);
  let thresholdId = size < capacity ? u32.MAX_VALUE : load<u32>(rootId);
  const chunk = (count + STREAMS - 1) / STREAMS;
  for (let step: i32 = 0; step < chunk; step++) {
    for (let i = step; i < count; i += chunk) {
      const row = base + <usize>i * stride;
      const key = blocks > 0
        ? -hammingBlocks(blocks, q0, q1, q2, q3, q4, q5, q6, q7, row)
        : pairKey(metric, query, row, dims);
      if (key < thresholdKey) continue;
      const id = ids == 0 ? rowBase + <u32>i : load<u32>(ids + (<usize>i << 2));
      if (key == thresholdKey && id >= thresholdId && size == capacity) continue;
      size = heapOffer(heap, key, id, rowBase + <u32>i);
      if (size == capacity) {
        thresholdKey = load<i32>(rootKey);
        thresholdId = load<u32>(rootId);
      }
    }
  }
}
