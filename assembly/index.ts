// The raw kernel ABI. Every pointer is a byte offset into the one imported memory; nothing here
// allocates, validates or traps on bad input: src/ validates before calling. Names follow
// <metric>_<dtype>[_<variant>]; each has a scalar twin of the same name in src/reference.ts.
//
//   <kernel>(query, base, dims, count, out)                   score of every row -> out
//   <kernel>_topk(query, base, dims, count, ids, rowBase, heap) best rows -> heap (topk.ts)
//   <kernel>_rows(query, rowPtrs, dims, count, out)           rows listed by address -> out
//   <kernel>_topk_batch(queries, queryBytes, queryCount, base, dims, count, ids, rowBase, heaps)
//                                    each query's best rows -> its heap (heaps: u32 addresses)
//   scan_topk(desc)                  what to scan is a descriptor in memory (scan.ts DESC_*):
//                                    metric, queries, rows, heaps, and the row filter (a bitmap,
//                                    or a list of rows). The _topk and _topk_batch kernels are
//                                    this scan with a descriptor of their arguments.
//   matmul_f32(a, b, rows, inner, cols, out, panels)  out = a · b, row-major float32 (matmul.ts);
//     panels: scratch of matmul_f32_panel_bytes(inner, cols) bytes
//   matmul_f64(a, b, rows, inner, cols, out, panels)  the same in float64 (matmul.ts); panels:
//     scratch of matmul_f64_panel_bytes(inner, cols) bytes
//   transpose_f32(a, rows, cols, out)  out = aᵀ, float32 (matmul.ts)
//   tridiagonalize_f64, accumulate_reflections_f64, implicit_ql_f64: symmetric eigendecomposition
//                                    (eigen.ts; driven by src/eigen.ts); orthogonalize_row_f64:
//                                    one Gram–Schmidt step (eigen.ts; src/rotation.ts)
//   pack_bits_f32, quantize_u8_f32             float32 rows -> codes (quantize.ts)
//
// `dims` is bytes for hamming_u1 and elements otherwise. Rows are stored back to back.
// Scores: hamming_u1 writes i32 distances (its heap key is the negated distance), dot_i8 and
// dot_i16i8 write i32, dot_f32 writes f32 (its heap key is the order-preserving i32 of the f32).

import {
  DESC_BASE, DESC_COUNT, DESC_DIMS, DESC_HEAPS, DESC_IDS, DESC_LIST, DESC_MASK, DESC_MASK_BIT, DESC_METRIC, DESC_QUERIES,
  DESC_QUERY_BYTES, DESC_QUERY_COUNT, DESC_ROW_BASE, DOT_F32, DOT_I16I8, DOT_I8, HAMMING_U1, gatherScores, scanDescriptor, scanListDescriptor, scanScores,
} from "./scan";

import { MAX_REGISTER_BLOCKS } from "./hamming";
import { matmulF32, matmulF64, matmulF64PanelBytes, matmulPanelBytes } from "./matmul";

export { HEAP_HEADER } from "./topk";
export { DESC_BYTES } from "./scan";

/** First byte that the host may use; everything below belongs to the module. */
export const HEAP_BASE: usize = __heap_base;

/** The scan a descriptor at `desc` describes (layout: scan.ts, DESC_*). */
export function scan_topk(desc: usize): void {
  const metric = load<i32>(desc, DESC_METRIC);
  const batch = load<i32>(desc, DESC_QUERY_COUNT) > 1;
  if (load<u32>(desc, DESC_LIST) != 0) scan_list(desc);
  else if (metric == HAMMING_U1) {
    if (batch) scan_hamming_u1_batch(desc);
    else scan_hamming_u1(desc);
  } else if (metric == DOT_I8) scan_dot_i8(desc, batch);
  else if (metric == DOT_I16I8) scan_dot_i16i8(desc, batch);
  else scan_dot_f32(desc, batch);
}

// The parts of scan_topk, one function each: a single function holding every scan loop takes
// the optimizer minutes (its passes grow faster than the function); exported, so it keeps them apart.

/** scan_topk of a list of rows. */
export function scan_list(desc: usize): void {
  const metric = load<i32>(desc, DESC_METRIC);
  if (metric == HAMMING_U1) scanListDescriptor(HAMMING_U1, desc);
  else if (metric == DOT_I8) scanListDescriptor(DOT_I8, desc);
  else if (metric == DOT_I16I8) scanListDescriptor(DOT_I16I8, desc);
  else scanListDescriptor(DOT_F32, desc);
}

/** Hamming scans: codes of 16…128 bytes in whole blocks (128 to 1024 bits) keep the query in registers. */
@inline function scanHamming(desc: usize, batch: bool): void {
  const bytes = load<i32>(desc, DESC_DIMS);
  if ((bytes & 15) == 0 && bytes >= 16 && bytes <= 16 * MAX_REGISTER_BLOCKS) {
    switch (bytes >> 4) {
      case 1: scanDescriptor(HAMMING_U1, 1, batch, desc); return;
      case 2: scanDescriptor(HAMMING_U1, 2, batch, desc); return;
      case 3: scanDescriptor(HAMMING_U1, 3, batch, desc); return;
      case 4: scanDescriptor(HAMMING_U1, 4, batch, desc); return;
      case 5: scanDescriptor(HAMMING_U1, 5, batch, desc); return;
      case 6: scanDescriptor(HAMMING_U1, 6, batch, desc); return;
      case 7: scanDescriptor(HAMMING_U1, 7, batch, desc); return;
      default: scanDescriptor(HAMMING_U1, 8, batch, desc); return;
    }
  }
  scanDescriptor(HAMMING_U1, 0, batch, desc);
}

/** scan_topk of one Hamming query. */
export function scan_hamming_u1(desc: usize): void {
  scanHamming(desc, false);
}

/** scan_topk of several Hamming queries (one heap each). */
export function scan_hamming_u1_batch(desc: usize): void {
  scanHamming(desc, true);
}

export function scan_dot_i8(desc: usize, batch: bool): void {
  if (batch) scanDescriptor(DOT_I8, 0, true, desc);
  else scanDescriptor(DOT_I8, 0, false, desc);
}

export function scan_dot_i16i8(desc: usize, batch: bool): void {
  if (batch) scanDescriptor(DOT_I16I8, 0, true, desc);
  else scanDescriptor(DOT_I16I8, 0, false, desc);
}

export function scan_dot_f32(desc: usize, batch: bool): void {
  if (batch) scanDescriptor(DOT_F32, 0, true, desc);
  else scanDescriptor(DOT_F32, 0, false, desc);
}

// The positional top-k kernels fill this descriptor (module memory, below HEAP_BASE) and run
// scan_topk. Only the owning thread calls them; workers scan descriptors the host wrote.
const ARGS: usize = memory.data(64, 16);
const ONE_HEAP: usize = 60; // a single query's heap list: one u32 after the fields

function scanArgs(
  metric: i32, queries: usize, queryBytes: i32, queryCount: i32, base: usize, dims: i32, count: i32,
  ids: usize, rowBase: u32, heaps: usize,
): void {
  store<u32>(ARGS, metric, DESC_METRIC);
  store<u32>(ARGS, queries, DESC_QUERIES);
  store<i32>(ARGS, queryBytes, DESC_QUERY_BYTES);
  store<i32>(ARGS, queryCount, DESC_QUERY_COUNT);
  store<u32>(ARGS, base, DESC_BASE);
  store<i32>(ARGS, dims, DESC_DIMS);
  store<i32>(ARGS, count, DESC_COUNT);
  store<u32>(ARGS, ids, DESC_IDS);
  store<u32>(ARGS, rowBase, DESC_ROW_BASE);
  store<u32>(ARGS, heaps, DESC_HEAPS);
  store<u32>(ARGS, 0, DESC_MASK);
  store<u32>(ARGS, 0, DESC_MASK_BIT);
  store<u32>(ARGS, 0, DESC_LIST);
  scan_topk(ARGS);
}

function scanOne(metric: i32, query: usize, base: usize, dims: i32, count: i32, ids: usize, rowBase: u32, heap: usize): void {
  store<u32>(ARGS + ONE_HEAP, heap);
  scanArgs(metric, query, 0, 1, base, dims, count, ids, rowBase, ARGS + ONE_HEAP);
}

export function hamming_u1(query: usize, base: usize, bytes: i32, count: i32, out: usize): void {
  scanScores(HAMMING_U1, 0, query, base, bytes, count, out);
}

export function hamming_u1_topk(query: usize, base: usize, bytes: i32, count: i32, ids: usize, rowBase: u32, heap: usize): void {
  scanOne(HAMMING_U1, query, base, bytes, count, ids, rowBase, heap);
}

export function dot_i8(query: usize, base: usize, dims: i32, count: i32, out: usize): void {
  scanScores(DOT_I8, 0, query, base, dims, count, out);
}

export function dot_i8_topk(query: usize, base: usize, dims: i32, count: i32, ids: usize, rowBase: u32, heap: usize): void {
  scanOne(DOT_I8, query, base, dims, count, ids, rowBase, heap);
}

export function dot_i16i8(query: usize, base: usize, dims: i32, count: i32, out: usize): void {
  scanScores(DOT_I16I8, 0, query, base, dims, count, out);
}

export function dot_i16i8_topk(query: usize, base: usize, dims: i32, count: i32, ids: usize, rowBase: u32, heap: usize): void {
  scanOne(DOT_I16I8, query, base, dims, count, ids, rowBase, heap);
}

export function dot_i16i8_rows(query: usize, rowPtrs: usize, dims: i32, count: i32, out: usize): void {
  gatherScores(DOT_I16I8, query, rowPtrs, dims, count, out);
}

export function dot_f32(query: usize, base: usize, dims: i32, count: i32, out: usize): void {
  scanScores(DOT_F32, 0, query, base, dims, count, out);
}

export function dot_f32_topk(query: usize, base: usize, dims: i32, count: i32, ids: usize, rowBase: u32, heap: usize): void {
  scanOne(DOT_F32, query, base, dims, count, ids, rowBase, heap);
}

export function dot_f32_rows(query: usize, rowPtrs: usize, dims: i32, count: i32, out: usize): void {
  gatherScores(DOT_F32, query, rowPtrs, dims, count, out);
}

// The bench's baselines (stream.ts): streaming reads, and the Hamming suite's plain popcount scan.
export { popcount_scan_1024, read_sum, read_sum_rows } from "./stream";

// pack_bits_f32(src, rows, dims, out, flip) / quantize_u8_f32(src, rows, dims, mins, steps, out, flip) /
// find_nonfinite_f32(src, count) -> first index of a NaN or ±Infinity, or -1:
// float32 rows -> sign bits or int8/uint8 buckets, bit-exact with src/quantize.ts (quantize.ts).
export { find_nonfinite_f32, pack_bits_f32, quantize_u8_f32 } from "./quantize";

export function hamming_u1_topk_batch(
  queries: usize, queryBytes: i32, queryCount: i32, base: usize, bytes: i32, count: i32, ids: usize, rowBase: u32, heaps: usize,
): void {
  scanArgs(HAMMING_U1, queries, queryBytes, queryCount, base, bytes, count, ids, rowBase, heaps);
}

export function dot_i8_topk_batch(
  queries: usize, queryBytes: i32, queryCount: i32, base: usize, dims: i32, count: i32, ids: usize, rowBase: u32, heaps: usize,
): void {
  scanArgs(DOT_I8, queries, queryBytes, queryCount, base, dims, count, ids, rowBase, heaps);
}

export function dot_i16i8_topk_batch(
  queries: usize, queryBytes: i32, queryCount: i32, base: usize, dims: i32, count: i32, ids: usize, rowBase: u32, heaps: usize,
): void {
  scanArgs(DOT_I16I8, queries, queryBytes, queryCount, base, dims, count, ids, rowBase, heaps);
}

export function dot_f32_topk_batch(
  queries: usize, queryBytes: i32, queryCount: i32, base: usize, dims: i32, count: i32, ids: usize, rowBase: u32, heaps: usize,
): void {
  scanArgs(DOT_F32, queries, queryBytes, queryCount, base, dims, count, ids, rowBase, heaps);
}

// xxh64_reset(state, seed) / xxh64_update(state, ptr, bytes) / xxh64_digest(state) -> u64, and
// xxh64_blocks(state, data, bytes, blockBytes, seed, out): one digest per block -> out (u64 each):
// the checksum of the file format, hashed incrementally in a 96-byte state (checksum.ts).
export { XXH64_STATE_BYTES, xxh64_blocks, xxh64_digest, xxh64_reset, xxh64_update } from "./checksum";

export function matmul_f32(a: usize, b: usize, rows: i32, inner: i32, cols: i32, out: usize, panels: usize): void {
  matmulF32(a, b, rows, inner, cols, out, panels);
}

export function matmul_f32_panel_bytes(inner: i32, cols: i32): usize {
  return matmulPanelBytes(inner, cols);
}

export function matmul_f64(a: usize, b: usize, rows: i32, inner: i32, cols: i32, out: usize, panels: usize): void {
  matmulF64(a, b, rows, inner, cols, out, panels);
}

export function matmul_f64_panel_bytes(inner: i32, cols: i32): usize {
  return matmulF64PanelBytes(inner, cols);
}

export { transposeF32 as transpose_f32 } from "./matmul";
export {
  accumulateReflectionsF64 as accumulate_reflections_f64, implicitQLF64 as implicit_ql_f64, orthogonalizeRowF64 as orthogonalize_row_f64,
  tridiagonalizeF64 as tridiagonalize_f64,
} from "./eigen";
