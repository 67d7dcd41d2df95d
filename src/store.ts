// Where an index keeps its vectors: columns (ids, bit codes, int8 codes, floats) in segments
// of doubling capacity (near the memory's ceiling: what still fits) inside one Arena. A segment,
// once allocated, never moves: appending fills the last segment and then allocates one more, so
// adds cost no copies, a scan sees stable addresses, and workers can read segments while the
// owner appends.

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
  /** Global row number of the segment's first row. */
  readonly rowStart: number;
  readonly capacity: number;
  /** Rows written and committed. */
  count: number;
  /** Address of each column's first row (0 for an absent column). */
  readonly ptr: Readonly<Record<Column, number>>;
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

export class SegmentedStore {
  readonly segments: Segment[] = [];
  private rows = 0;

  constructor(
    private readonly arena: Arena,
    readonly widths: ColumnWidths,
  ) {}

  /** Committed rows. */
  get size(): number {
    return this.rows;
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
      const segment = this.allocate(caller, segmentRows(this.arena, this.widths, count - first, this.rows));
      slots.push({ segment, offset: 0, count: count - first, first });
    }
    return slots;
  }

  /** Makes the rows written into `slots` visible to scans. */
  commit(slots: readonly Slot[]): void {
    for (const slot of slots) {
      if (!this.segments.includes(slot.segment)) this.segments.push(slot.segment);
      slot.segment.count = slot.offset + slot.count;
      this.rows += slot.count;
    }
  }

  /** Address of `column` for global `row`. */
  address(column: Column, row: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].rowStart <= row) lo = mid;
      else hi = mid - 1;
    }
    const segment = this.segments[lo];
    return segment.ptr[column] + (row - segment.rowStart) * this.widths[column];
  }

  private allocate(caller: string, capacity: number): Segment {
    const offsets = {} as Record<Column, number>;
    let bytes = 0;
    for (const column of COLUMNS) {
      offsets[column] = bytes;
      bytes += Math.ceil((capacity * this.widths[column]) / 64) * 64; // each column 64-byte aligned
    }
    const base = this.arena.alloc(caller, bytes, 64, keptFree(this.arena));
    const ptr = {} as Record<Column, number>;
    for (const column of COLUMNS) ptr[column] = this.widths[column] === 0 ? 0 : base + offsets[column];
    const rowStart = this.segments.reduce((sum, s) => sum + s.capacity, 0);
    return { rowStart, capacity, count: 0, ptr };
  }
}

/**
 * Bytes that segments leave free below the memory's ceiling, so that an index filled to its
 * ceiling can still allocate a search's scratch memory (queries, heaps, candidate scores).
 */
function keptFree(arena: Arena): number {
  return Math.min(Math.floor(arena.maxBytes / 32), 1 << 20);
}

/**
 * Capacity of the next segment for `needed` more rows: as many rows as the store holds (capacity
 * doubles, so many small adds cost few segments), but near the memory's ceiling only what still
 * fits, and never less than `needed`, so an index can fill its ceiling rather than fail at half.
 */
function segmentRows(arena: Arena, widths: ColumnWidths, needed: number, held: number): number {
  const rowBytes = COLUMNS.reduce((sum, column) => sum + widths[column], 0);
  const fits = Math.floor((arena.room() - keptFree(arena) - 64 * COLUMNS.length) / rowBytes); // 64: each column's alignment
  return Math.max(needed, Math.min(Math.max(needed, held, MIN_SEGMENT_ROWS), fits));
}
