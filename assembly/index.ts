// The raw kernel ABI. Every pointer is a byte offset into the one imported memory; nothing here
// allocates, validates or traps on bad input: src/ validates before calling. Names follow
// <metric>_<dtype>[_<variant>]; each has a scalar twin of the same name in src/reference.ts.
//
//   <kernel>(query, base, dims, count, out)                   score of every row -> out
//   <kernel>_topk(query, base, dims, count, ids, rowBase, heap) best rows -> heap (topk.ts)
//   <kernel>_rows(query, rowPtrs, dims, count, out)           rows listed by address -> out
//   <kernel>_topk_batch(queries, queryBytes, queryCount, base, dims, count, ids, rowBase, heaps)
//                                    each query's best rows -> its heap (heaps: u32 addresses)
//
// `dims` is bytes for hamming_u1 and elements otherwise. Rows are stored back to back.
// Scores: hamming_u1 writes i32 distances (its heap key is the negated distance), dot_i8 and
// dot_i16i8 write i32, dot_f32 writes f32 (its heap key is the order-preserving i32 of the f32).

import { DOT_F32, DOT_I16I8, DOT_I8, HAMMING_U1, gatherScores, scanScores, scanTopK, scanTopKBatch } from "./scan";

import { MAX_REGISTER_BLOCKS } from "./hamming";

export { HEAP_HEADER } from "./topk";

/** First byte that the host may use; everything below belongs to the module. */
export const HEAP_BASE: usize = __heap_base;

export function hamming_u1(query: usize, base: usize, bytes: i32, count: i32, out: usize): void {
  scanScores(HAMMING_U1, 0, query, base, bytes, count, out);
}

export function hamming_u1_topk(
  query: usize, base: usize, bytes: i32, count: i32, ids: usize, rowBase: u32, heap: usize,
): void {
  // Codes of 16…128 bytes in whole blocks (128 to 1024 bits) keep the query in registers.
  if ((bytes & 15) == 0 && bytes >= 16 && bytes <= 16 * MAX_REGISTER_BLOCKS) {
    switch (bytes >> 4) {
      case 1: scanTopK(HAMMING_U1, 1, query, base, bytes, count, ids, rowBase, heap); return;
      case 2: scanTopK(HAMMING_U1, 2, query, base, bytes, count, ids, rowBase, heap); return;
      case 3: scanTopK(HAMMING_U1, 3, query, base, bytes, count, ids, rowBase, heap); return;
      case 4: scanTopK(HAMMING_U1, 4, query, base, bytes, count, ids, rowBase, heap); return;
      case 5: scanTopK(HAMMING_U1, 5, query, base, bytes, count, ids, rowBase, heap); return;
      case 6: scanTopK(HAMMING_U1, 6, query, base, bytes, count, ids, rowBase, heap); return;
      case 7: scanTopK(HAMMING_U1, 7, query, base, bytes, count, ids, rowBase, heap); return;
      default: scanTopK(HAMMING_U1, 8, query, base, bytes, count, ids, rowBase, heap); return;
    }
  }
  scanTopK(HAMMING_U1, 0, query, base, bytes, count, ids, rowBase, heap);
}

export function dot_i8(query: usize, base: usize, dims: i32, count: i32, out: usize): void {
  scanScores(DOT_I8, 0, query, base, dims, count, out);
}

export function dot_i8_topk(
  query: usize, base: usize, dims: i32, count: i32, ids: usize, rowBase: u32, heap: usize,
): void {
  scanTopK(DOT_I8, 0, query, base, dims, count, ids, rowBase, heap);
}

export function dot_i16i8(query: usize, base: usize, dims: i32, count: i32, out: usize): void {
  scanScores(DOT_I16I8, 0, query, base, dims, count, out);
}

export function dot_i16i8_topk(
  query: usize, base: usize, dims: i32, count: i32, ids: usize, rowBase: u32, heap: usize,
): void {
  scanTopK(DOT_I16I8, 0, query, base, dims, count, ids, rowBase, heap);
}

export function dot_i16i8_rows(query: usize, rowPtrs: usize, dims: i32, count: i32, out: usize): void {
  gatherScores(DOT_I16I8, query, rowPtrs, dims, count, out);
}

export function dot_f32(query: usize, base: usize, dims: i32, count: i32, out: usize): void {
  scanScores(DOT_F32, 0, query, base, dims, count, out);
}

export function dot_f32_topk(
  query: usize, base: usize, dims: i32, count: i32, ids: usize, rowBase: u32, heap: usize,
): void {
  scanTopK(DOT_F32, 0, query, base, dims, count, ids, rowBase, heap);
}

export function dot_f32_rows(query: usize, rowPtrs: usize, dims: i32, count: i32, out: usize): void {
  gatherScores(DOT_F32, query, rowPtrs, dims, count, out);
}

export { read_sum, read_sum_rows } from "./stream";

export function hamming_u1_topk_batch(
  queries: usize, queryBytes: i32, queryCount: i32, base: usize, bytes: i32, count: i32,
  ids: usize, rowBase: u32, heaps: usize,
): void {
  if ((bytes & 15) == 0 && bytes >= 16 && bytes <= 16 * MAX_REGISTER_BLOCKS) {
    switch (bytes >> 4) {
      case 1: scanTopKBatch(HAMMING_U1, 1, queries, queryBytes, queryCount, base, bytes, count, ids, rowBase, heaps); return;
      case 2: scanTopKBatch(HAMMING_U1, 2, queries, queryBytes, queryCount, base, bytes, count, ids, rowBase, heaps); return;
      case 3: scanTopKBatch(HAMMING_U1, 3, queries, queryBytes, queryCount, base, bytes, count, ids, rowBase, heaps); return;
      case 4: scanTopKBatch(HAMMING_U1, 4, queries, queryBytes, queryCount, base, bytes, count, ids, rowBase, heaps); return;
      case 5: scanTopKBatch(HAMMING_U1, 5, queries, queryBytes, queryCount, base, bytes, count, ids, rowBase, heaps); return;
      case 6: scanTopKBatch(HAMMING_U1, 6, queries, queryBytes, queryCount, base, bytes, count, ids, rowBase, heaps); return;
      case 7: scanTopKBatch(HAMMING_U1, 7, queries, queryBytes, queryCount, base, bytes, count, ids, rowBase, heaps); return;
      default: scanTopKBatch(HAMMING_U1, 8, queries, queryBytes, queryCount, base, bytes, count, ids, rowBase, heaps); return;
    }
  }
  scanTopKBatch(HAMMING_U1, 0, queries, queryBytes, queryCount, base, bytes, count, ids, rowBase, heaps);
}

export function dot_i8_topk_batch(
  queries: usize, queryBytes: i32, queryCount: i32, base: usize, dims: i32, count: i32,
  ids: usize, rowBase: u32, heaps: usize,
): void {
  scanTopKBatch(DOT_I8, 0, queries, queryBytes, queryCount, base, dims, count, ids, rowBase, heaps);
}

export function dot_i16i8_topk_batch(
  queries: usize, queryBytes: i32, queryCount: i32, base: usize, dims: i32, count: i32,
  ids: usize, rowBase: u32, heaps: usize,
): void {
  scanTopKBatch(DOT_I16I8, 0, queries, queryBytes, queryCount, base, dims, count, ids, rowBase, heaps);
}

export function dot_f32_topk_batch(
  queries: usize, queryBytes: i32, queryCount: i32, base: usize, dims: i32, count: i32,
  ids: usize, rowBase: u32, heaps: usize,
): void {
  scanTopKBatch(DOT_F32, 0, queries, queryBytes, queryCount, base, dims, count, ids, rowBase, heaps);
}
