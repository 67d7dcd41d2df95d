// The first stage of a search: fused scan + top-k kernels over the stored rows, for one query or
// a block of queries, on this thread or split across a worker pool (src/pool.ts). Either way the
// same function, runScan, drives the kernels; a pool only hands each thread its own rows and
// heaps and merges the heaps afterwards. Merging partial top-k lists by (key, then smaller id)
// gives exactly the single-threaded answer.

import type { Segment } from "./store.js";
import { type Candidates, drainHeap, heapBytes, resetHeap } from "./topk.js";
import type { Arena, KernelExports } from "./wasm.js";

export type ScanKernel = "hamming_u1" | "dot_i16i8" | "dot_f32";

/** What to scan: plain numbers only, so that a job can be posted to a worker as is. */
export interface ScanJob {
  kernel: ScanKernel;
  /** The kernel's dims argument: code bytes for hamming_u1, elements otherwise. */
  dims: number;
  /** Address of the first encoded query; the others follow every `queryBytes`. */
  queries: number;
  queryBytes: number;
  queryCount: number;
}

/** Rows of one segment: `count` rows from address `base`, ids at `ids`, row numbers from `rowBase`. */
export interface RowRange {
  base: number;
  ids: number;
  rowBase: number;
  count: number;
}

/**
 * Runs the job's kernels over `ranges`, each query into its own heap (heap addresses listed as
 * u32 at `heapList`; `firstHeap` is the first of them). Self-contained — no imports, no
 * closures — because the worker pool ships its source text to the workers.
 */
export function runScan(kernels: KernelExports, job: ScanJob, ranges: readonly RowRange[], heapList: number, firstHeap: number): void {
  for (const range of ranges) {
    if (range.count === 0) continue;
    if (job.queryCount === 1) {
      kernels[`${job.kernel}_topk`](job.queries, range.base, job.dims, range.count, range.ids, range.rowBase, firstHeap);
    } else {
      kernels[`${job.kernel}_topk_batch`](
        job.queries, job.queryBytes, job.queryCount, range.base, job.dims, range.count, range.ids, range.rowBase, heapList,
      );
    }
  }
}

/** The first `rows` rows of `segments` in `column`, cut into `parts` contiguous ranges of near-equal size. */
export function splitRows(
  segments: readonly Segment[], rows: number, column: "binary" | "int8" | "float32", rowBytes: number, parts: number,
): RowRange[][] {
  const out: RowRange[][] = Array.from({ length: parts }, () => []);
  const share = Math.ceil(rows / parts);
  let part = 0;
  let room = share;
  let left = rows;
  for (const segment of segments) {
    let offset = 0;
    const end = Math.min(segment.count, left);
    while (offset < end) {
      const count = Math.min(end - offset, room);
      out[part].push({
        base: segment.ptr[column] + offset * rowBytes, ids: segment.ptr.ids + offset * 4,
        rowBase: segment.rowStart + offset, count,
      });
      offset += count;
      room -= count;
      if (room === 0 && part < parts - 1) {
        part++;
        room = share;
      }
    }
    left -= end;
  }
  return out;
}

/** Heaps for `queryCount` queries of `k` candidates, reset, and the u32 list of their addresses. */
export interface HeapSet {
  list: number;
  heaps: number[];
}

export function allocateHeaps(arena: Arena, caller: string, name: string, queryCount: number, k: number): HeapSet {
  const each = Math.ceil(heapBytes(arena, k) / 16) * 16;
  const listBytes = Math.ceil((queryCount * 4) / 16) * 16;
  const list = arena.scratchFor(caller, name, listBytes + queryCount * each);
  const heaps = Array.from({ length: queryCount }, (_, q) => list + listBytes + q * each);
  const u32 = arena.u32;
  heaps.forEach((heap, q) => {
    u32[(list >> 2) + q] = heap;
    resetHeap(arena, heap, k);
  });
  return { list, heaps };
}

/** Merges per-thread candidate lists of one query into its best `k`: higher key, then smaller id. */
export function mergeCandidates(lists: readonly Candidates[], k: number): Candidates {
  if (lists.length === 1) return lists[0];
  const entries = lists.flatMap((c) => Array.from(c.keys, (key, i) => ({ key, id: c.ids[i], row: c.rows[i] })));
  entries.sort((a, b) => b.key - a.key || a.id - b.id);
  const best = entries.slice(0, k);
  return {
    keys: Int32Array.from(best, (e) => e.key),
    ids: Uint32Array.from(best, (e) => e.id),
    rows: Uint32Array.from(best, (e) => e.row),
  };
}

/** Drains every heap of a set, best first per query. */
export function drainHeaps(arena: Arena, set: HeapSet): Candidates[] {
  return set.heaps.map((heap) => drainHeap(arena, heap));
}
