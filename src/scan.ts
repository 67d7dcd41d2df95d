// The first stage of a search: fused scan + top-k kernels over a shard's rows, for one query or
// a block of queries, on this thread or split across a worker pool (src/pool.ts). The host
// writes one scan descriptor (assembly/scan.ts, DESC_*) per run of rows into the shard's memory;
// a thread scans by handing descriptor addresses to `scan_topk`, so a worker needs nothing but
// those addresses. Merging per-thread top-k lists by (key, then smaller id) gives exactly the
// single-threaded answer.

import { lastStartingBy, type Segment } from "./store.js";
import { type Candidates, heapBytes, resetHeap } from "./topk.js";
import type { Arena, KernelExports } from "./wasm.js";

/** What to scan, apart from the rows: plain numbers. */
export interface ScanJob {
  /** assembly/scan.ts metric: 0 Hamming, 2 int16 × int8, 3 float32. */
  metric: number;
  /** The kernel's dims argument: code bytes for Hamming, elements otherwise. */
  dims: number;
  /** Address of the first encoded query; the others follow every `queryBytes`. */
  queries: number;
  queryBytes: number;
  queryCount: number;
}

/**
 * A run of rows of one segment: `count` rows from address `base` (or, with `list`, the `count`
 * rows listed there), ids at `ids`, shard row numbers from `rowBase`; `mask`/`maskBit` the
 * bitmap of admitted rows (0: all).
 */
export interface RowRange {
  base: number;
  ids: number;
  rowBase: number;
  count: number;
  mask: number;
  maskBit: number;
  list: number;
}

/** Which rows of a shard a scan may return. */
export type RowFilter =
  /** Every committed row below the limit (the shard has no removed rows). */
  | { kind: "all" }
  /** Rows whose bit is set in each segment's live bitmap. */
  | { kind: "live" }
  /** Rows whose bit is set in a bitmap over shard rows, at `ptr` in the shard's memory. */
  | { kind: "bitmap"; ptr: number }
  /** The rows listed (ascending shard rows, u32) at `ptr`, `count` of them. */
  | { kind: "list"; ptr: number; count: number };

/** Field offsets of the scan descriptor (assembly/scan.ts DESC_*), in u32 words. */
const DESC = {
  metric: 0, queries: 1, queryBytes: 2, queryCount: 3, base: 4, dims: 5, count: 6, ids: 7,
  rowBase: 8, heaps: 9, mask: 10, maskBit: 11, list: 12,
} as const;

/**
 * Scans the descriptors at `descs` in order. Self-contained — no imports, no closures —
 * because the worker pool ships its source text to the workers.
 */
export function runScan(kernels: KernelExports, descs: readonly number[]): void {
  for (const desc of descs) kernels.scan_topk(desc);
}

/** Writes one descriptor per range (for `job`, into the heaps listed at `heapList`); returns their addresses. */
export function writeDescriptors(
  arena: Arena, caller: string, name: string, job: ScanJob, ranges: readonly RowRange[], heapList: number,
): number[] {
  const bytes = arena.descriptorBytes;
  const at = arena.scratchFor(caller, name, Math.max(1, ranges.length) * bytes);
  const u32 = arena.u32;
  return ranges.map((range, i) => {
    const w = (at + i * bytes) >>> 2;
    u32.fill(0, w, w + bytes / 4);
    u32[w + DESC.metric] = job.metric;
    u32[w + DESC.queries] = job.queries;
    u32[w + DESC.queryBytes] = job.queryBytes;
    u32[w + DESC.queryCount] = job.queryCount;
    u32[w + DESC.base] = range.base;
    u32[w + DESC.dims] = job.dims;
    u32[w + DESC.count] = range.count;
    u32[w + DESC.ids] = range.ids;
    u32[w + DESC.rowBase] = range.rowBase;
    u32[w + DESC.heaps] = heapList;
    u32[w + DESC.mask] = range.mask;
    u32[w + DESC.maskBit] = range.maskBit;
    u32[w + DESC.list] = range.list;
    return at + i * bytes;
  });
}

/**
 * The rows a scan visits, cut into `parts` shares of near-equal work: the first `limit` rows of
 * `segments` in `column` (`rowBytes` each) under `filter`. A list is cut by entries.
 */
export function splitRows(
  segments: readonly Segment[], limit: number, column: "binary" | "int8" | "float32", rowBytes: number,
  filter: RowFilter, parts: number, listRows?: Uint32Array,
): RowRange[][] {
  const out: RowRange[][] = Array.from({ length: parts }, () => []);
  if (filter.kind === "list") {
    // listRows mirrors the list in memory: find where each segment's entries start.
    const rows = listRows!;
    const share = Math.ceil(rows.length / parts);
    for (let part = 0; part < parts; part++) {
      let j = part * share;
      const end = Math.min(rows.length, j + share);
      while (j < end) {
        const segment = lastStartingBy(segments, (g) => g.rowStart, rows[j]);
        let k = j;
        while (k < end && rows[k] < segment.rowStart + segment.count) k++;
        out[part].push({
          base: segment.ptr[column], ids: segment.ptr.ids, rowBase: segment.rowStart, count: k - j,
          mask: 0, maskBit: 0, list: filter.ptr + j * 4,
        });
        j = k;
      }
    }
    return out;
  }
  const share = Math.ceil(limit / parts);
  let part = 0;
  let room = share;
  let left = limit;
  for (const segment of segments) {
    let offset = 0;
    const end = Math.min(segment.count, left);
    while (offset < end) {
      const count = Math.min(end - offset, room);
      const rowBase = segment.rowStart + offset;
      out[part].push({
        base: segment.ptr[column] + offset * rowBytes, ids: segment.ptr.ids + offset * 4, rowBase, count,
        mask: filter.kind === "live" ? segment.live : filter.kind === "bitmap" ? filter.ptr : 0,
        maskBit: filter.kind === "live" ? offset : filter.kind === "bitmap" ? rowBase : 0,
        list: 0,
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
    u32[(list >>> 2) + q] = heap;
    resetHeap(arena, heap, k);
  });
  return { list, heaps };
}

/** A candidate of a sharded search: its key and id, and where it is stored. */
export interface Located {
  key: number;
  id: number;
  shard: number;
  row: number;
}

/** Merges candidate lists of one query (from every thread of every shard) into its best `k`: higher key, then smaller id. */
export function mergeCandidates(lists: ReadonlyArray<{ candidates: Candidates; shard: number }>, k: number): Located[] {
  const entries: Located[] = [];
  for (const { candidates, shard } of lists) {
    candidates.keys.forEach((key, i) => entries.push({ key, id: candidates.ids[i], shard, row: candidates.rows[i] }));
  }
  entries.sort((a, b) => b.key - a.key || a.id - b.id);
  return entries.slice(0, k);
}
