// A shard: one WebAssembly memory with its rows (src/store.ts), the kernels that scan it, the
// workers that scan it with them, and the rescoring of its candidate rows. The index (src/
// vector-index.ts) coordinates shards: it owns ids, options and query encoding, and merges
// what the shards return.

import type { Codec, EncodedQuery } from "./codec.js";
import { METRIC } from "./codec.js";
import { WorkerPool } from "./pool.js";
import { allocateHeaps, type RowFilter, runScan, splitRows, type ScanJob, writeDescriptors } from "./scan.js";
import { type ColumnWidths, SegmentedStore } from "./store.js";
import { type Candidates, drainHeap } from "./topk.js";
import { intQueryBytes, type KernelPath, writeIntQuery } from "./relaxed.js";
import type { DiskColumn } from "./file/disk-column.js";
import { Arena, kernelModule, type MemoryBudget } from "./wasm.js";

export interface ShardOptions {
  widths: ColumnWidths;
  /** The most this shard's memory may grow to. */
  maxBytes: number;
  shared: boolean;
  path: KernelPath;
  budget: MemoryBudget;
}

/** What a search asks of one shard: its rows below `limit`, under a filter the index built. */
export interface ShardScan {
  /** Rows appended before the search was called. */
  limit: number;
  /** Allowed rows: a bitmap over shard rows, or an ascending list of them; none for every live row. */
  bitmap?: Uint8Array;
  list?: Uint32Array;
}

/**
 * Bytes of scratch memory a shard keeps free for searches' queries, heaps and descriptors, below
 * `limit` (the store reserves filter scratch per row on top).
 */
export function headroomFor(limit: number): number {
  return Math.max(64 * 1024, Math.min(Math.floor(limit / 64), 16 * 1024 * 1024));
}

/** Most bytes of rows from disk packed into a shard's scratch memory at once. */
const PACKED_BYTES = 1 << 20;

export class Shard {
  readonly arena: Arena;
  readonly store: SegmentedStore;
  /** Workers over this shard's shared memory, once started. */
  pool: WorkerPool | undefined;
  poolStarting: Promise<void> | undefined;
  /** Global row number of this shard's row 0. */
  offset = 0;
  /** Live rows, as the index sees them now (removals apply here at once). */
  liveRows = 0;
  /** Rows whose bit the scans' bitmap has cleared (removals reach it in search order). */
  killed = 0;
  /** Set by a compaction: where this shard's rows went. */
  successor: { shard: Shard; rank: (row: number) => number } | undefined;
  /**
   * The rescoring column, when it is on disk instead of in this shard's memory (the store's width
   * for it is then 0): shard row r is row `first + r` of the column.
   */
  disk: { column: DiskColumn; first: number } | undefined;
  /** Which rows are live as the index sees them now: bit per row. */
  private alive = new Uint8Array(8);

  constructor(caller: string, options: ShardOptions) {
    this.arena = new Arena(caller, options.maxBytes, options.shared, options.path);
    this.arena.budget = options.budget;
    this.arena.headroom = headroomFor(Math.min(this.arena.maxBytes, options.budget.limit));
    this.store = new SegmentedStore(this.arena, options.widths);
  }

  /** Starts `count` workers over this shard's memory (it must be shared). */
  startWorkers(caller: string, count: number): Promise<void> {
    this.poolStarting = WorkerPool.create(kernelModule(caller, this.arena.build), this.arena.memory, count).then((pool) => {
      this.pool = pool;
    });
    return this.poolStarting;
  }

  /** Rows appended (live or removed). */
  get rows(): number {
    return this.store.size;
  }

  /** Whether the index still holds `row`. */
  isAlive(row: number): boolean {
    return (this.alive[row >> 3] & (1 << (row & 7))) !== 0;
  }

  /**
   * Clears the bits of rows the index no longer holds in `bitmap` (bit r for row r, LSB first,
   * at most the live bits' length) and returns how many bits stay set.
   */
  keepLive(bitmap: Uint8Array): number {
    const words = bitmap.byteOffset % 4 === 0 ? bitmap.length >> 2 : 0;
    const allowed32 = new Uint32Array(bitmap.buffer, bitmap.byteOffset, words);
    const alive32 = new Uint32Array(this.alive.buffer, 0, words); // this.alive is its own buffer
    let count = 0;
    for (let w = 0; w < words; w++) {
      let v = (allowed32[w] &= alive32[w]);
      v -= (v >>> 1) & 0x55555555;
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      count += Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
    }
    for (let at = words * 4; at < bitmap.length; at++) {
      bitmap[at] &= this.alive[at];
      for (let byte = bitmap[at]; byte !== 0; byte &= byte - 1) count++;
    }
    return count;
  }

  /** Records rows `from … to − 1` as appended and live. */
  appended(from: number, to: number): void {
    if (to > this.alive.length * 8) {
      const grown = new Uint8Array(Math.max(this.alive.length * 2, Math.ceil(to / 8)));
      grown.set(this.alive);
      this.alive = grown;
    }
    for (let row = from; row < to; row++) this.alive[row >> 3] |= 1 << (row & 7);
    this.liveRows += to - from;
  }

  /** A copy of the live bits of rows 0 … rows − 1 (bit r, LSB first; bits past them zero). */
  liveBits(rows: number): Uint8Array {
    const bits = this.alive.slice(0, Math.ceil(rows / 8));
    if (rows % 8 !== 0) bits[bits.length - 1] &= (1 << (rows % 8)) - 1;
    return bits;
  }

  /** Records rows 0 … rows − 1, just committed to an empty shard, as live where `bitmap` says and removed elsewhere. */
  restoreLive(rows: number, bitmap: Uint8Array): void {
    this.appended(0, rows);
    for (let row = 0; row < rows; row++) {
      if ((bitmap[row >> 3] & (1 << (row & 7))) === 0) {
        this.remove(row);
        this.kill(row);
      }
    }
  }

  /** Takes `row` out of the index as it is seen from now on; `kill` later clears it for the scans. */
  remove(row: number): void {
    this.alive[row >> 3] &= ~(1 << (row & 7));
    this.liveRows--;
  }

  /** Clears `row` in the bitmap the scans read. */
  kill(row: number): void {
    if (!this.store.isLive(row)) return;
    this.store.kill(row);
    this.killed++;
  }

  /**
   * The first stage over this shard: for each query, one best-first list of up to `k` rows per
   * thread that scanned (the index merges them with the other shards' lists), under `scan`'s
   * filter, split across this thread and the workers where each gets `minBytes` of work.
   */
  async scan(
    caller: string, codec: Codec, queries: readonly Float32Array[], encoded: readonly EncodedQuery[], k: number,
    scan: ShardScan, threads: number, minBytes: number,
  ): Promise<Candidates[][]> {
    if (this.poolStarting !== undefined) await this.poolStarting.catch(() => {});
    const arena = this.arena;
    const queryBytes = codec.queryBytes(arena.path);
    const at = arena.scratchFor(caller, "queries", queryBytes * queries.length);
    queries.forEach((query, q) => codec.writeQuery(arena, at + q * queryBytes, query, encoded[q]));
    const job: ScanJob = { metric: METRIC[codec.precision], dims: codec.kernelDims, queries: at, queryBytes, queryCount: queries.length };

    let filter: RowFilter = this.killed > 0 ? { kind: "live" } : { kind: "all" };
    let visited = scan.limit;
    if (scan.list !== undefined) {
      // The kernels take each listed row relative to its segment's first row.
      const ptr = arena.scratchFor(caller, "list", Math.max(4, scan.list.byteLength));
      const u32 = arena.u32;
      scan.list.forEach((row, j) => (u32[(ptr >>> 2) + j] = row - this.store.segmentOf(row).rowStart));
      filter = { kind: "list", ptr, count: scan.list.length };
      visited = scan.list.length;
    } else if (scan.bitmap !== undefined) {
      const ptr = arena.scratchFor(caller, "bitmap", Math.max(8, scan.bitmap.byteLength));
      arena.u8.set(scan.bitmap, ptr);
      filter = { kind: "bitmap", ptr };
    }
    // Waking a worker costs about 0.1 ms: below minBytes of work per thread, fewer threads scan.
    const workers = this.pool === undefined ? 0 : threads - 1;
    const parts = Math.max(1, Math.min(workers + 1, Math.floor((visited * codec.rowBytes * queries.length) / minBytes)));
    const shares = splitRows(this.store.segments, scan.limit, codec.precision, codec.rowBytes, filter, parts, scan.list);
    const heaps = shares.map((_, t) => allocateHeaps(arena, caller, `heaps${t}`, queries.length, k));
    const descs = shares.map((ranges, t) => writeDescriptors(arena, caller, `descs${t}`, job, ranges, heaps[t].list));
    const remote = descs.slice(1).map((list, w) => this.pool!.scan(w, list));
    runScan(arena.kernels, descs[0]);
    // Wait for every worker, even after a failure, so none is still writing a heap the next search reuses.
    const failed = (await Promise.allSettled(remote)).find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return queries.map((_, q) => heaps.map((set) => drainHeap(arena, set.heaps[q])));
  }

  /**
   * Raw rescoring values of each query's candidate rows: int8 (i32 dot products of the encoded
   * query) or float32 (dot products), whichever column `precision` names. With the column on
   * disk, the rows of every query are fetched first in one pass (read and verified), then packed
   * into this shard's scratch memory a slice at a time, where the kernels score them exactly as
   * they score rows in memory.
   *
   * @throws (rejects) FileFormatError when a block of the rows on disk is corrupt.
   */
  async rescore(
    caller: string, precision: "int8" | "float32", dims: number, queries: readonly Float32Array[], encoded: readonly EncodedQuery[],
    rows: ReadonlyArray<readonly number[]>,
  ): Promise<Array<Int32Array | Float32Array>> {
    const values = rows.map((list) => (precision === "int8" ? new Int32Array(list.length) : new Float32Array(list.length)));
    const disk = this.disk;
    if (disk === undefined) {
      rows.forEach((list, q) => this.score(caller, precision, dims, queries[q], encoded[q], list.map((row) => this.store.address(precision, row)), values[q]));
      return values;
    }
    const wanted = Uint32Array.from(new Set(rows.flat())).sort(); // packed in file order
    const slot = new Map(Array.from(wanted, (row, i) => [row, i]));
    const slotsOf = rows.map((list) => list.map((row) => slot.get(row)!)); // each candidate's place among the packed rows
    const fetched = await disk.column.fetch(caller, wanted.map((row) => disk.first + row));
    // Pack a slice at a time, so the scratch memory stays within what the shard keeps free.
    const R = disk.column.rowBytes;
    const perSlice = Math.max(1, Math.floor(Math.min(PACKED_BYTES, this.arena.headroom / 8) / R));
    for (let from = 0; from < wanted.length; from += perSlice) {
      const to = Math.min(from + perSlice, wanted.length);
      const packed = fetched.pack(caller, this.arena, from, to);
      slotsOf.forEach((slots, q) => {
        const picks = slots.flatMap((at, j) => (at >= from && at < to ? [j] : []));
        if (picks.length === 0) return;
        const scores = this.score(caller, precision, dims, queries[q], encoded[q], picks.map((j) => packed + (slots[j] - from) * R));
        picks.forEach((j, i) => (values[q][j] = scores[i]));
      });
    }
    return values;
  }

  /** The rescoring kernel over the rows at `addresses`, into `into` (a new array by default). */
  private score(
    caller: string, precision: "int8" | "float32", dims: number, query: Float32Array, encoded: EncodedQuery, addresses: readonly number[],
    into: Int32Array | Float32Array = precision === "int8" ? new Int32Array(addresses.length) : new Float32Array(addresses.length),
  ): Int32Array | Float32Array {
    const arena = this.arena;
    const n = addresses.length;
    if (n === 0) return into;
    const rowPtrs = arena.scratchFor(caller, "rowPtrs", Math.max(4, n * 4));
    const out = arena.scratchFor(caller, "scores", Math.max(4, n * 4));
    let q: number;
    if (precision === "int8") {
      q = arena.scratchFor(caller, "rescoreQuery", intQueryBytes(arena.path, dims, true));
      writeIntQuery(arena.u8, q, encoded.int8!.codes, arena.path);
    } else {
      q = arena.scratchFor(caller, "rescoreQuery", dims * 4);
      arena.f32.set(query, q >>> 2);
    }
    arena.u32.set(addresses, rowPtrs >>> 2);
    if (precision === "int8") {
      arena.kernels.dot_i16i8_rows(q, rowPtrs, dims, n, out);
      into.set(arena.i32.subarray(out >>> 2, (out >>> 2) + n));
    } else {
      arena.kernels.dot_f32_rows(q, rowPtrs, dims, n, out);
      into.set(arena.f32.subarray(out >>> 2, (out >>> 2) + n));
    }
    return into;
  }

  /**
   * Copies this shard's rows that the scans still see as live, in order, into `target` (an
   * empty shard), and records where they went. Returns how many were copied.
   */
  copyLiveInto(caller: string, target: Shard): number {
    const source = this.store;
    const keep: number[] = [];
    for (let row = 0; row < source.size; row++) if (source.isLive(row)) keep.push(row);
    if (keep.length > 0) {
      const slots = target.store.reserve(caller, keep.length);
      const from = this.arena.u8;
      const to = target.arena.u8;
      for (const slot of slots) {
        // Copy runs of consecutive kept rows of one source segment with one set() per column.
        for (let i = 0; i < slot.count; ) {
          const row = keep[slot.first + i];
          const segment = source.segmentOf(row);
          let run = 1;
          while (i + run < slot.count && keep[slot.first + i + run] === row + run && row + run < segment.rowStart + segment.count) run++;
          const r = row - segment.rowStart;
          for (const column of ["ids", "binary", "int8", "float32"] as const) {
            const width = source.widths[column];
            if (width === 0) continue;
            const src = segment.ptr[column] + r * width;
            to.set(from.subarray(src, src + run * width), slot.segment.ptr[column] + (slot.offset + i) * width);
          }
          i += run;
        }
      }
      target.store.commit(slots);
    }
    target.appended(0, keep.length);
    // Rows removed but not yet killed for the scans were copied: take them out again.
    keep.forEach((row, i) => {
      if (!this.isAlive(row)) target.remove(i);
    });
    // A row's new number is how many kept rows precede it.
    const ranks = new Uint32Array(source.size + 1);
    let kept = 0;
    let j = 0;
    for (let row = 0; row <= source.size; row++) {
      ranks[row] = kept;
      if (j < keep.length && keep[j] === row) {
        kept++;
        j++;
      }
    }
    this.successor = { shard: target, rank: (row) => ranks[Math.min(row, source.size)] };
    return keep.length;
  }

  dispose(): void {
    this.pool?.terminate();
    this.pool = undefined;
  }
}
