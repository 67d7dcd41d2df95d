// Scan drivers: one query against `count` rows stored back to back, either writing every
// score or keeping only the best k in a heap (topk.ts). Each exported kernel in index.ts
// calls a driver with a constant `metric` (and `blocks`); after inlining, the optimizer folds
// the switches away, so every kernel is a straight loop around its own row functions.
//
// Visiting order. WebAssembly has no prefetch instruction, and one sequential stream leaves the
// core waiting on DRAM. So the rows are split into a few contiguous chunks (STREAMS) walked in
// lockstep, four chunks at a time: at each step the four-row kernels (dot.ts, hamming.ts) score
// row `step` of four chunks together, sharing every query load, their loads interleaved finely
// enough for the hardware prefetchers to keep all the streams in flight. Measured on the CI
// machine (128 MB of codes): one stream and one row at a time reads 7 GB/s, eight streams
// 10–11 GB/s, eight streams four rows at a time 12–14 GB/s, against 13–15 GB/s for a bare
// streaming read. On an AMD EPYC (Zen 4 and later, AVX-512) eight streams often kept the
// prefetchers from following them: a 1024-bit top-k scan of 128–256 MB read 2–7 GB/s from memory
// with eight streams and 8–18 GB/s with four (interleaved A/B, loaded machine); the int16 × int8
// scan of 1 GiB, in one process of two, 11.9–13.9 GB/s with eight and 20.0 with four, and in the
// other processes 28–29.5 GB/s with either (eight never ahead by more than the noise); float32
// 31.6 with eight, 33.9 with four. In cache they run alike. So every scan walks four (STREAMS).
// The chunks must not start a large power of two apart: the rows the streams read together then
// share every lower address bit, and on an AMD EPYC VM (Zen 4, 32 MiB L3, 2026-12-03) a read of
// 1 GiB whose four chunks began exactly 256 MiB apart ran at 7.5–8.6 GB/s against 24–25.5 when
// they began 256 MiB + 64–256 KiB apart (128 MiB apart: 14.6 against 24.1; 32 MiB: 22.4 against
// 25.7; 16 MiB: no loss). That was every scan of 2^20 int8 rows of 1 KiB or of 2^23 binary codes,
// through the kernels or an index. So streamRows lengthens the first chunks by a few rows until
// their starts lie STREAM_SKEW_MIN apart or more modulo STREAM_SKEW_PERIOD; the last chunk is
// then shorter, and the steps past its end score the other chunks' rows one at a time.
// The order cannot change a result: scores land in their row's slot, and the heap breaks ties by
// id whatever order rows arrive in.

import { hammingBlocks, hammingBlocksX4, hammingU1 } from "./hamming";
import { dotF32, dotF32x4, dotI16I8, dotI16I8Q4R2, dotI16I8x4, dotI8, dotI8x4, secondRow } from "./dot";
import { heapIds, heapKeys, heapOffer, orderedKeyF32, orderedKeysF32x4 } from "./topk";

/** How many chunks a scan walks in lockstep (a multiple of 4): see "Visiting order" above. */
export const STREAMS: i32 = 4;

/** Chunk starts lie this many bytes apart or more modulo STREAM_SKEW_PERIOD… */
const STREAM_SKEW_MIN: usize = 128 << 10;
const STREAM_SKEW_PERIOD: usize = 1 << 20;
/** …in scans whose chunks are this long or longer (shorter ones were not slowed). */
const STREAM_SKEW_FROM: usize = 8 << 20;
/** How far a chunk grows per try: the allowed starts come in runs at least this long. */
const STREAM_SKEW_STEP: usize = 16 << 10;
/** Tries enough to cross the widest run of disallowed starts (2 · STREAM_SKEW_MIN, around 0). */
const STREAM_SKEW_TRIES: i32 = <i32>(2 * STREAM_SKEW_MIN / STREAM_SKEW_STEP);

/** Whether chunks `hop` bytes long start STREAM_SKEW_MIN apart or more modulo STREAM_SKEW_PERIOD. */
@inline function spreadApart(hop: usize): bool {
  for (let s: usize = 1; s < <usize>STREAMS; s++) {
    const residue = (s * hop) & (STREAM_SKEW_PERIOD - 1);
    if (residue < STREAM_SKEW_MIN || residue > STREAM_SKEW_PERIOD - STREAM_SKEW_MIN) return false;
  }
  return true;
}

/**
 * Rows in each chunk of a scan of `count` rows of `stride` bytes (the last chunk holds the
 * rest): a quarter of them rounded up, or a few rows more where the chunks would otherwise start
 * close to a large power of two apart (see "Visiting order"): grown in steps of STREAM_SKEW_STEP
 * (one row, where rows are longer), at most STREAM_SKEW_TRIES of them.
 */
export function streamRows(count: i32, stride: usize): i32 {
  let chunk = (count + STREAMS - 1) / STREAMS;
  if (<usize>chunk * stride < STREAM_SKEW_FROM) return chunk;
  const step = stride < STREAM_SKEW_STEP ? <i32>(STREAM_SKEW_STEP / stride) : 1;
  for (let tries = 0; tries < STREAM_SKEW_TRIES && !spreadApart(<usize>chunk * stride); tries++) chunk += step;
  return chunk;
}

export const HAMMING_U1: i32 = 0;
export const DOT_I8: i32 = 1;
export const DOT_I16I8: i32 = 2;
export const DOT_F32: i32 = 3;

/** Bytes between consecutive rows of `dims` elements. */
@inline function rowBytes(metric: i32, dims: i32): usize {
  return metric == DOT_F32 ? <usize>dims << 2 : <usize>dims;
}

// The Hamming register path (blocks > 0) holds the query's 16-byte blocks in locals q0…q7 of
// the driver, passed down as parameters (inlined away), so they stay in registers.
// Only the first `blocks` are loaded.

/** One row's score: Hamming distance, integer dot product, or float dot product (as f32 bits). */
@inline function score1(
  metric: i32, blocks: i32, query: usize, q0: v128, q1: v128, q2: v128, q3: v128, q4: v128, q5: v128, q6: v128, q7: v128, row: usize, dims: i32,
): i32 {
  if (metric == HAMMING_U1) {
    return blocks > 0 ? hammingBlocks(blocks, q0, q1, q2, q3, q4, q5, q6, q7, row) : hammingU1(query, row, dims);
  }
  if (metric == DOT_I8) return dotI8(query, row, dims);
  if (metric == DOT_I16I8) return dotI16I8(query, row, dims);
  return reinterpret<i32>(dotF32(query, row, dims));
}

/** Four rows' scores, lane j for row j (f32 lanes for DOT_F32). */
@inline function score4(
  metric: i32, blocks: i32, query: usize, q0: v128, q1: v128, q2: v128, q3: v128, q4: v128, q5: v128, q6: v128, q7: v128,
  r0: usize, r1: usize, r2: usize, r3: usize, dims: i32,
): v128 {
  if (metric == HAMMING_U1) {
    if (blocks > 0) return hammingBlocksX4(blocks, q0, q1, q2, q3, q4, q5, q6, q7, r0, r1, r2, r3);
    let d = i32x4.splat(hammingU1(query, r0, dims));
    d = i32x4.replace_lane(d, 1, hammingU1(query, r1, dims));
    d = i32x4.replace_lane(d, 2, hammingU1(query, r2, dims));
    return i32x4.replace_lane(d, 3, hammingU1(query, r3, dims));
  }
  if (metric == DOT_I8) return dotI8x4(query, r0, r1, r2, r3, dims);
  if (metric == DOT_I16I8) return dotI16I8x4(query, r0, r1, r2, r3, dims);
  return dotF32x4(query, r0, r1, r2, r3, dims);
}

/** Heap keys are higher-is-better i32: negated distances, dot products, ordered float bits. */
@inline function key1(metric: i32, score: i32): i32 {
  if (metric == HAMMING_U1) return -score;
  if (metric == DOT_F32) return orderedKeyF32(reinterpret<f32>(score));
  return score;
}

@inline function key4(metric: i32, scores: v128): v128 {
  if (metric == HAMMING_U1) return i32x4.neg(scores);
  if (metric == DOT_F32) return orderedKeysF32x4(scores);
  return scores;
}

/** Like scanScores (one row at a time), for rows found through `count` u32 addresses at `rowPtrs`. */
@inline export function gatherScores(
  metric: i32, query: usize, rowPtrs: usize, dims: i32, count: i32, out: usize,
): void {
  const zero = i8x16.splat(0);
  for (let i: i32 = 0; i < count; i++) {
    const row = <usize>load<u32>(rowPtrs + (<usize>i << 2));
    store<i32>(out + (<usize>i << 2), score1(metric, 0, query, zero, zero, zero, zero, zero, zero, zero, zero, row, dims));
  }
}

// Admission to a heap: a row must beat the k-th best (a higher key, or an equal key and a
// smaller id) once the heap is full. The scans keep the heap's floor (the k-th best key) in a
// local or a lane, so that most rows cost one compare; only rows that reach it touch the heap.

/** The lowest key that can still enter the heap: its root's when full, else any. */
@inline function heapFloor(heap: usize): i32 {
  return load<i32>(heap) == load<i32>(heap, 4) ? load<i32>(heapKeys(heap)) : i32.MIN_VALUE;
}

/**
 * Whether row `i` may enter a heap: bit `maskBit + i` of the bitmap at `mask` (LSB first within
 * each byte) is set. A mask of 0 admits every row. Only rows that reach a heap's floor are
 * checked, so a mask costs the scan nothing but on the admission path.
 */
@inline function admitted(mask: usize, maskBit: u32, i: i32): bool {
  if (mask == 0) return true;
  const bit = maskBit + <u32>i;
  return ((<u32>load<u8>(mask + (<usize>bit >> 3)) >> (bit & 7)) & 1) != 0;
}

/**
 * Offers row `i` with `key` to the heap unless it loses to the heap's worst entry (lower key,
 * or an equal key and a larger id); returns the heap's floor afterwards.
 */
@inline function offerTo(heap: usize, key: i32, ids: usize, rowBase: u32, i: i32): i32 {
  const capacity = load<i32>(heap, 4);
  const id = ids == 0 ? rowBase + <u32>i : load<u32>(ids + (<usize>i << 2));
  if (load<i32>(heap) == capacity) {
    const rootKey = load<i32>(heapKeys(heap));
    if (key < rootKey || (key == rootKey && id >= load<u32>(heapIds(heap, capacity)))) return rootKey;
  }
  heapOffer(heap, key, id, rowBase + <u32>i);
  return heapFloor(heap);
}

/** offerTo when `key` reaches the heap's `floor` and the mask admits row `i`; returns the floor after. */
@inline function offerAbove(heap: usize, floor: i32, key: i32, ids: usize, rowBase: u32, i: i32, mask: usize, maskBit: u32): i32 {
  return key < floor || !admitted(mask, maskBit, i) ? floor : offerTo(heap, key, ids, rowBase, i);
}

/**
 * The one row loop of every scan: writes each row's score to `out` (`topk` false; i32, or f32
 * bits for DOT_F32), or offers it to the heap at `heap` (`topk` true). Row i has id `ids[i]`
 * (or `rowBase + i` when `ids` is 0) and is recorded as row `rowBase + i`. Four rows whose keys
 * all fall below the heap's floor cost one vector compare; rows the mask (see `admitted`) does
 * not admit never enter the heap. `blocks` (a constant, 0 for none) selects the Hamming
 * register path.
 */
@inline function scanRows(
  topk: bool, metric: i32, blocks: i32, query: usize, base: usize, dims: i32, count: i32,
  out: usize, ids: usize, rowBase: u32, heap: usize, mask: usize, maskBit: u32,
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
  let floor = topk ? heapFloor(heap) : 0;
  const stride = rowBytes(metric, dims);
  const chunk = streamRows(count, stride);
  const hop = <usize>chunk * stride;
  for (let step: i32 = 0; step < chunk; step++) {
    for (let s: i32 = 0; s < STREAMS; s += 4) {
      const i = s * chunk + step;
      if (i + 3 * chunk < count) {
        const row = base + <usize>i * stride;
        const scores = score4(metric, blocks, query, q0, q1, q2, q3, q4, q5, q6, q7, row, row + hop, row + 2 * hop, row + 3 * hop, dims);
        if (topk) {
          const keys = key4(metric, scores);
          if (!v128.any_true(i32x4.ge_s(keys, i32x4.splat(floor)))) continue;
          floor = offerAbove(heap, floor, i32x4.extract_lane(keys, 0), ids, rowBase, i, mask, maskBit);
          floor = offerAbove(heap, floor, i32x4.extract_lane(keys, 1), ids, rowBase, i + chunk, mask, maskBit);
          floor = offerAbove(heap, floor, i32x4.extract_lane(keys, 2), ids, rowBase, i + 2 * chunk, mask, maskBit);
          floor = offerAbove(heap, floor, i32x4.extract_lane(keys, 3), ids, rowBase, i + 3 * chunk, mask, maskBit);
        } else {
          store<i32>(out + (<usize>i << 2), i32x4.extract_lane(scores, 0));
          store<i32>(out + (<usize>(i + chunk) << 2), i32x4.extract_lane(scores, 1));
          store<i32>(out + (<usize>(i + 2 * chunk) << 2), i32x4.extract_lane(scores, 2));
          store<i32>(out + (<usize>(i + 3 * chunk) << 2), i32x4.extract_lane(scores, 3));
        }
      } else {
        for (let r = i; r < count; r += chunk) {
          const score = score1(metric, blocks, query, q0, q1, q2, q3, q4, q5, q6, q7, base + <usize>r * stride, dims);
          if (topk) floor = offerAbove(heap, floor, key1(metric, score), ids, rowBase, r, mask, maskBit);
          else store<i32>(out + (<usize>r << 2), score);
        }
      }
    }
  }
}

/** Writes the score of every row to `out` (i32, or f32 for DOT_F32). */
@inline export function scanScores(
  metric: i32, blocks: i32, query: usize, base: usize, dims: i32, count: i32, out: usize,
): void {
  scanRows(false, metric, blocks, query, base, dims, count, out, 0, 0, 0, 0, 0);
}

/** Offers every row the mask admits to the heap at `heap` (see scanRows for ids, rows and the mask). */
@inline export function scanTopK(
  metric: i32, blocks: i32, query: usize, base: usize, dims: i32, count: i32,
  ids: usize, rowBase: u32, heap: usize, mask: usize, maskBit: u32,
): void {
  scanRows(true, metric, blocks, query, base, dims, count, 0, ids, rowBase, heap, mask, maskBit);
}

/** Bytes of rows scanned per block of a batch: small enough to stay in L2 while every query of the batch reads it. */
const BATCH_BLOCK_BYTES: usize = 128 * 1024;

/** Offers row `i` to heap j with lane j of `keys` where it reaches lane j of `floors`; returns the new floors. */
@inline function offerLanes(
  keys: v128, floors: v128, h0: usize, h1: usize, h2: usize, h3: usize, ids: usize, rowBase: u32, i: i32, mask: usize, maskBit: u32,
): v128 {
  floors = i32x4.replace_lane(floors, 0, offerAbove(h0, i32x4.extract_lane(floors, 0), i32x4.extract_lane(keys, 0), ids, rowBase, i, mask, maskBit));
  floors = i32x4.replace_lane(floors, 1, offerAbove(h1, i32x4.extract_lane(floors, 1), i32x4.extract_lane(keys, 1), ids, rowBase, i, mask, maskBit));
  floors = i32x4.replace_lane(floors, 2, offerAbove(h2, i32x4.extract_lane(floors, 2), i32x4.extract_lane(keys, 2), ids, rowBase, i, mask, maskBit));
  return i32x4.replace_lane(floors, 3, offerAbove(h3, i32x4.extract_lane(floors, 3), i32x4.extract_lane(keys, 3), ids, rowBase, i, mask, maskBit));
}

/**
 * scanTopK of DOT_I16I8 for four queries at once (`queryBytes` apart; their heaps' addresses
 * are the four u32 at `heaps`), two rows a step with dotI16I8Q4R2. The rows are one cache
 * block, so they are read in order. Same heaps as four scanTopK calls: a heap's contents do
 * not depend on the order rows are offered in.
 */
@inline function scanTopKI16I8Q4(
  queries: usize, queryBytes: usize, heaps: usize, base: usize, dims: i32, count: i32, ids: usize, rowBase: u32,
  mask: usize, maskBit: u32,
): void {
  const h0 = <usize>load<u32>(heaps);
  const h1 = <usize>load<u32>(heaps, 4);
  const h2 = <usize>load<u32>(heaps, 8);
  const h3 = <usize>load<u32>(heaps, 12);
  let floors = i32x4.splat(heapFloor(h0));
  floors = i32x4.replace_lane(floors, 1, heapFloor(h1));
  floors = i32x4.replace_lane(floors, 2, heapFloor(h2));
  floors = i32x4.replace_lane(floors, 3, heapFloor(h3));
  const stride = <usize>dims;
  for (let i: i32 = 0; i < count; i += 2) {
    const row = base + <usize>i * stride;
    const last = i + 1 == count; // an odd row out is paired with itself, its twin ignored
    const first = dotI16I8Q4R2(queries, queryBytes, row, last ? row : row + stride, dims);
    const second = secondRow();
    if (v128.any_true(i32x4.ge_s(first, floors))) floors = offerLanes(first, floors, h0, h1, h2, h3, ids, rowBase, i, mask, maskBit);
    if (!last && v128.any_true(i32x4.ge_s(second, floors))) floors = offerLanes(second, floors, h0, h1, h2, h3, ids, rowBase, i + 1, mask, maskBit);
  }
}

/**
 * scanTopK for `queryCount` queries (each `queryBytes` apart from `queries`), each into its own
 * heap (`heaps` holds their u32 addresses). The rows are cut into cache-sized blocks and each
 * block is scanned by every query while it is in cache, so the corpus is read from memory once
 * per batch instead of once per query. Results are exactly those of one scanTopK per query.
 * int16 × int8 takes the queries four at a time (scanTopKI16I8Q4); the relaxed-SIMD builds,
 * whose queries are digit planes, and the queries left over go one at a time.
 */
@inline export function scanTopKBatch(
  metric: i32, blocks: i32, queries: usize, queryBytes: i32, queryCount: i32,
  base: usize, dims: i32, count: i32, ids: usize, rowBase: u32, heaps: usize, mask: usize, maskBit: u32,
): void {
  const stride = rowBytes(metric, dims);
  const blockRows = <i32>max<usize>(16, BATCH_BLOCK_BYTES / stride);
  const grouped = !ASC_FEATURE_RELAXED_SIMD && metric == DOT_I16I8;
  for (let start: i32 = 0; start < count; start += blockRows) {
    const rows = min(blockRows, count - start);
    const blockBase = base + <usize>start * stride;
    const blockIds: usize = ids == 0 ? 0 : ids + (<usize>start << 2);
    let q: i32 = 0;
    if (grouped) {
      for (; q + 4 <= queryCount; q += 4) {
        const group = queries + <usize>q * <usize>queryBytes;
        scanTopKI16I8Q4(
          group, <usize>queryBytes, heaps + (<usize>q << 2), blockBase, dims, rows, blockIds, rowBase + <u32>start, mask, maskBit + <u32>start,
        );
      }
    }
    for (; q < queryCount; q++) {
      const query = queries + <usize>q * <usize>queryBytes;
      const heap = <usize>load<u32>(heaps + (<usize>q << 2));
      scanTopK(metric, blocks, query, blockBase, dims, rows, blockIds, rowBase + <u32>start, heap, mask, maskBit + <u32>start);
    }
  }
}

/**
 * scanTopK over the `count` rows listed at `list` (u32 row numbers relative to `base`, ascending):
 * a filter that admits few rows scans only those. Row `list[j]` has id `ids[list[j]]` (or
 * `rowBase + list[j]` when `ids` is 0) and is recorded as row `rowBase + list[j]`. Four listed
 * rows are scored together, as in scanRows; ascending order keeps the reads moving forward.
 */
@inline function scanListTopK(
  metric: i32, query: usize, base: usize, dims: i32, list: usize, count: i32, ids: usize, rowBase: u32, heap: usize,
): void {
  const z = i8x16.splat(0); // no Hamming register path: the query is read from memory
  let floor = heapFloor(heap);
  const stride = rowBytes(metric, dims);
  let j: i32 = 0;
  for (; j + 4 <= count; j += 4) {
    const i0 = <i32>load<u32>(list + (<usize>j << 2));
    const i1 = <i32>load<u32>(list + (<usize>j << 2), 4);
    const i2 = <i32>load<u32>(list + (<usize>j << 2), 8);
    const i3 = <i32>load<u32>(list + (<usize>j << 2), 12);
    const scores = score4(
      metric, 0, query, z, z, z, z, z, z, z, z,
      base + <usize>i0 * stride, base + <usize>i1 * stride, base + <usize>i2 * stride, base + <usize>i3 * stride, dims,
    );
    const keys = key4(metric, scores);
    if (!v128.any_true(i32x4.ge_s(keys, i32x4.splat(floor)))) continue;
    floor = offerAbove(heap, floor, i32x4.extract_lane(keys, 0), ids, rowBase, i0, 0, 0);
    floor = offerAbove(heap, floor, i32x4.extract_lane(keys, 1), ids, rowBase, i1, 0, 0);
    floor = offerAbove(heap, floor, i32x4.extract_lane(keys, 2), ids, rowBase, i2, 0, 0);
    floor = offerAbove(heap, floor, i32x4.extract_lane(keys, 3), ids, rowBase, i3, 0, 0);
  }
  for (; j < count; j++) {
    const i = <i32>load<u32>(list + (<usize>j << 2));
    const score = score1(metric, 0, query, z, z, z, z, z, z, z, z, base + <usize>i * stride, dims);
    floor = offerAbove(heap, floor, key1(metric, score), ids, rowBase, i, 0, 0);
  }
}

// The scan descriptor: what one `scan_topk` call scans, as u32 fields at `desc`. New features
// add a field here instead of one more positional argument to every kernel.
export const DESC_METRIC: usize = 0; //       HAMMING_U1 | DOT_I8 | DOT_I16I8 | DOT_F32
export const DESC_QUERIES: usize = 4; //      address of the first encoded query
export const DESC_QUERY_BYTES: usize = 8; //  bytes from one query to the next
export const DESC_QUERY_COUNT: usize = 12; // queries, each with its own heap
export const DESC_BASE: usize = 16; //        address of row 0
export const DESC_DIMS: usize = 20; //        bytes per row for HAMMING_U1, elements otherwise
export const DESC_COUNT: usize = 24; //       rows from `base` on, or entries of `list`
export const DESC_IDS: usize = 28; //         u32 id of each row (0: the id is rowBase + row)
export const DESC_ROW_BASE: usize = 32; //    the number recorded for row 0
export const DESC_HEAPS: usize = 36; //       u32 addresses of the queries' heaps
export const DESC_MASK: usize = 40; //        bitmap of the rows that may enter a heap (0: all)
export const DESC_MASK_BIT: usize = 44; //    bit of row 0 in the bitmap
export const DESC_LIST: usize = 48; //        u32 rows to scan, ascending (0: rows 0…count−1)
export const DESC_BYTES: usize = 64;

/**
 * A descriptor's scan of a list of rows (DESC_LIST set). Lists are short by design (a filter that
 * admits few rows): each query takes the list whole, in cache-sized runs of rows, with the
 * query read from memory (no Hamming register variants: they would multiply the code for little).
 */
@inline export function scanListDescriptor(metric: i32, desc: usize): void {
  const queries = <usize>load<u32>(desc, DESC_QUERIES);
  const queryBytes = load<i32>(desc, DESC_QUERY_BYTES);
  const queryCount = load<i32>(desc, DESC_QUERY_COUNT);
  const base = <usize>load<u32>(desc, DESC_BASE);
  const dims = load<i32>(desc, DESC_DIMS);
  const count = load<i32>(desc, DESC_COUNT);
  const ids = <usize>load<u32>(desc, DESC_IDS);
  const rowBase = load<u32>(desc, DESC_ROW_BASE);
  const heaps = <usize>load<u32>(desc, DESC_HEAPS);
  const list = <usize>load<u32>(desc, DESC_LIST);
  const run = <i32>max<usize>(16, BATCH_BLOCK_BYTES / rowBytes(metric, dims));
  for (let start: i32 = 0; start < count; start += run) {
    const n = min(run, count - start);
    for (let q: i32 = 0; q < queryCount; q++) {
      const heap = <usize>load<u32>(heaps + (<usize>q << 2));
      scanListTopK(metric, queries + <usize>q * <usize>queryBytes, base, dims, list + (<usize>start << 2), n, ids, rowBase, heap);
    }
  }
}

/**
 * A descriptor's scan of contiguous rows, with `metric`, `blocks` and `batch` (several queries)
 * constants (see scan_topk in index.ts).
 */
@inline export function scanDescriptor(metric: i32, blocks: i32, batch: bool, desc: usize): void {
  const queries = <usize>load<u32>(desc, DESC_QUERIES);
  const queryBytes = load<i32>(desc, DESC_QUERY_BYTES);
  const queryCount = load<i32>(desc, DESC_QUERY_COUNT);
  const base = <usize>load<u32>(desc, DESC_BASE);
  const dims = load<i32>(desc, DESC_DIMS);
  const count = load<i32>(desc, DESC_COUNT);
  const ids = <usize>load<u32>(desc, DESC_IDS);
  const rowBase = load<u32>(desc, DESC_ROW_BASE);
  const heaps = <usize>load<u32>(desc, DESC_HEAPS);
  const mask = <usize>load<u32>(desc, DESC_MASK);
  const maskBit = load<u32>(desc, DESC_MASK_BIT);
  if (!batch) {
    scanTopK(metric, blocks, queries, base, dims, count, ids, rowBase, <usize>load<u32>(heaps), mask, maskBit);
  } else {
    scanTopKBatch(metric, blocks, queries, queryBytes, queryCount, base, dims, count, ids, rowBase, heaps, mask, maskBit);
  }
}
