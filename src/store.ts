// Where a shard keeps its rows: columns (ids, bit codes, int8 codes, floats) and a live bitmap,
// in segments inside one Arena. A segment, once allocated, never moves: appending fills the last
// segment and then allocates one more, so adds cost no copies, a scan sees stable addresses, and
// workers can read segments while the owner appends.

import type { Arena } from "./wasm.js";

/** Bytes per row of each column; 0 for a column the index does not keep. */
export interface ColumnWidths {
  ids: number;
  binary: number;
  int8: number;
  float32: number;
}

export type Column = keyof ColumnWidths;
const COLUMNS: readonly Column[] = ["ids", "binary", "int8", "float32"];

export interface Segment {
  /** Shard row number of the segment's first row. */
  readonly rowStart: number;
  /** Rows it can hold: a multiple of 64, so its live bitmap is whole 64-bit words. */
  readonly capacity: number;
  /** Rows written and committed. */
  count: number;
  /** Address of each column's first row (0 for an absent column). */
  readonly ptr: Readonly<Record<Column, number>>;
  /** Address of the live bitmap: bit r (LSB first in each byte) is set while row r is live. */
  readonly live: number;
}

/** Where the rows of one append go: `count` rows at `offset` of `segment`. */
export interface Slot {
  segment: Segment;
  offset: number;
  count: number;
  /** Index of the slot's first row among the appended rows. */
  first: number;
}

const MIN_SEGMENT_ROWS = 64;
/**
 * Segments double with the store, up to this many bytes: beyond it they grow linearly, so the
 * capacity allocated but not yet filled stays below 32 MiB whatever the store's size.
 */
const MAX_SEGMENT_BYTES = 32 * 1024 * 1024;

const roundUp64 = (rows: number) => Math.ceil(rows / 64) * 64;

export class SegmentedStore {
  readonly segments: Segment[] = [];
  private rows = 0;
  /** Bytes of one row over every column, plus its bit in the live bitmap. */
  private readonly rowBytes: number;

  constructor(
    private readonly arena: Arena,
    readonly widths: ColumnWidths,
  ) {
    // Each row also takes a bit of live bitmap, and reserves 3/8 of a byte of scratch memory for
    // the filters of searches (a bitmap over rows, or a list of up to 1 in 16 rows, 4 bytes each).
    this.rowBytes = COLUMNS.reduce((sum, column) => sum + widths[column], 0) + 1 / 8 + 3 / 8;
  }

  /** Committed rows (live or removed). */
  get size(): number {
    return this.rows;
  }

  /** Rows that can be reserved now without growing the arena past its limit. */
  room(): number {
    const last = this.segments.at(-1);
    const spare = last === undefined ? 0 : last.capacity - last.count;
    return spare + Math.max(0, Math.floor(this.arena.room() / this.rowBytes) - MIN_SEGMENT_ROWS);
  }

  /**
   * Makes room for `count` more rows and says where they go. Allocates at most one segment, in
   * one piece, so a failure (RangeError) leaves the store exactly as it was. The rows become
   * visible only with `commit`.
   */
  reserve(caller: string, count: number): Slot[] {
    const slots: Slot[] = [];
    let first = 0;
    const last = this.segments.at(-1);
    if (last !== undefined && last.count < last.capacity) {
      const n = Math.min(count, last.capacity - last.count);
      slots.push({ segment: last, offset: last.count, count: n, first });
      first += n;
    }
    if (first < count) {
      const needed = roundUp64(count - first);
      const preferred = roundUp64(Math.max(needed, Math.min(this.rows, Math.floor(MAX_SEGMENT_BYTES / this.rowBytes)), MIN_SEGMENT_ROWS));
      // Near the arena's limit, take only what this add needs rather than doubling.
      const fits = Math.floor(this.arena.room() / this.rowBytes / 64) * 64 - 64;
      const segment = this.allocate(caller, preferred <= fits ? preferred : needed);
      slots.push({ segment, offset: 0, count: count - first, first });
    }
    return slots;
  }

  /** Makes the rows written into `slots` visible to scans, live. */
  commit(slots: readonly Slot[]): void {
    const u8 = this.arena.u8;
    for (const slot of slots) {
      if (!this.segments.includes(slot.segment)) this.segments.push(slot.segment);
      for (let r = slot.offset; r < slot.offset + slot.count; r++) u8[slot.segment.live + (r >> 3)] |= 1 << (r & 7);
      slot.segment.count = slot.offset + slot.count;
      this.rows += slot.count;
    }
  }

  /** The segment holding shard row `row`. */
  segmentOf(row: number): Segment {
    return lastStartingBy(this.segments, (segment) => segment.rowStart, row);
  }

  /** Address of `column` for shard row `row`. */
  address(column: Column, row: number): number {
    const segment = this.segmentOf(row);
    return segment.ptr[column] + (row - segment.rowStart) * this.widths[column];
  }

  /** The id stored for `row`. */
  idOf(row: number): number {
    return this.arena.u32[this.address("ids", row) >>> 2];
  }

  /** Whether `row` is live in the bitmap the scans read. */
  isLive(row: number): boolean {
    const segment = this.segmentOf(row);
    const r = row - segment.rowStart;
    return (this.arena.u8[segment.live + (r >> 3)] & (1 << (r & 7))) !== 0;
  }

  /** Clears `row`'s live bit: scans stop admitting it. */
  kill(row: number): void {
    const segment = this.segmentOf(row);
    const r = row - segment.rowStart;
    this.arena.u8[segment.live + (r >> 3)] &= ~(1 << (r & 7));
  }

  private allocate(caller: string, capacity: number): Segment {
    const offsets = {} as Record<Column, number>;
    let bytes = 0;
    for (const column of COLUMNS) {
      offsets[column] = bytes;
      bytes += Math.ceil((capacity * this.widths[column]) / 64) * 64; // each column 64-byte aligned
    }
    const liveOffset = bytes;
    bytes += capacity / 8;
    const base = this.arena.alloc(caller, bytes);
    const ptr = {} as Record<Column, number>;
    for (const column of COLUMNS) ptr[column] = this.widths[column] === 0 ? 0 : base + offsets[column];
    const rowStart = this.segments.reduce((sum, s) => sum + s.capacity, 0);
    return { rowStart, capacity, count: 0, ptr, live: base + liveOffset };
  }
}

/** The last of `items` (ascending by `start`, the first starting at 0) that starts at or before `row`. */
export function lastStartingBy<T>(items: readonly T[], start: (item: T) => number, row: number): T {
  let lo = 0;
  let hi = items.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (start(items[mid]) <= row) lo = mid;
    else hi = mid - 1;
  }
  return items[lo];
}
