// Rescoring rows kept on disk: a column of fixed-size rows in a file (a section of a saved index,
// or the file an index built with `rescoreTo` appends to, src/file/row-file.ts), read on demand
// at search time. A search gathers its candidates once per query block and shard: the checksum
// blocks holding them are read (sorted by offset, adjacent blocks in one read), each block is verified against its xxh64, and only then are the rows packed
// back to back into the shard's memory, where the rescoring kernels read them exactly as they
// read rows of an in-memory column. Node files are read with synchronous preads: a search reads a
// few KiB per candidate, mostly from the page cache, where a pread costs ~4 µs and a trip through
// libuv's thread pool 20–100 µs (bench/disk-rescore.mjs); browsers read Blob slices, all in flight.

import { xxh64Blocks } from "../checksum.js";
import type { Arena } from "../wasm.js";
import { FileFormatError } from "./container.js";
import type { RandomAccessSource } from "./sources.js";

/** Where a column's rows are in a file and how they are checksummed. */
export interface DiskColumnSpec {
  /** The file (Node: positional reads on a handle; browsers: Blob.slice). */
  source: RandomAccessSource;
  /** How errors name the column's place in the file, e.g. `section "RSC0"`. */
  part: string;
  /** Byte offset of row 0 in the file. */
  offset: number;
  rowBytes: number;
  rows: number;
  /** Checksum granularity: block j covers column bytes [j·B, (j+1)·B); the last may be shorter. */
  blockBytes: number;
  /**
   * Bytes the blocks cover, when a fixed section holds more than rows · rowBytes (bytes after its
   * last whole row, which its last checksum covers too). A growing column leaves it out.
   */
  byteLength?: number;
  /** xxh64 (seed 0) of each block, ⌈rows · rowBytes / blockBytes⌉ of them (more may follow, unused). */
  checksums: BigUint64Array;
}

/** Most bytes of consecutive blocks fetched by one read. */
const RUN_BYTES = 1 << 20;

const hex = (value: bigint) => `0x${value.toString(16).padStart(16, "0")}`;

/**
 * A column of rows on disk, gathered into WebAssembly memory on demand and verified as it is read.
 *
 * @example
 * const column = new DiskColumn({ source, part: 'section "RSC0"', offset, rowBytes: 1024, rows, blockBytes: 4096, checksums });
 * const packed = await column.gather("index.search", shard.arena, [17, 3, 999]); // 3 × 1024 bytes at `packed`
 */
export class DiskColumn {
  readonly source: RandomAccessSource;
  readonly part: string;
  readonly offset: number;
  readonly rowBytes: number;
  readonly blockBytes: number;
  /** Rows the column holds; a growing column (row-file.ts) raises it as it appends. */
  rows: number;
  /** One xxh64 per block; a growing column replaces it as it appends. */
  checksums: BigUint64Array;
  private readonly fixedLength: number | undefined;

  constructor(spec: DiskColumnSpec) {
    this.source = spec.source;
    this.part = spec.part;
    this.offset = spec.offset;
    this.rowBytes = spec.rowBytes;
    this.blockBytes = spec.blockBytes;
    this.rows = spec.rows;
    this.checksums = spec.checksums;
    this.fixedLength = spec.byteLength;
    if (this.checksums.length < Math.ceil(this.byteLength / this.blockBytes)) {
      throw new RangeError(`DiskColumn: ${this.part} has ${this.rows} rows of ${this.rowBytes} bytes but only ${this.checksums.length} block checksums of ${this.blockBytes} bytes`);
    }
  }

  /** Bytes the column's blocks cover: its rows, and any bytes after them up to the section's end. */
  get byteLength(): number {
    return this.fixedLength ?? this.rows * this.rowBytes;
  }

  /** Bytes of memory this column keeps: its block checksums. */
  get memoryBytes(): number {
    return this.checksums.byteLength;
  }

  /**
   * Reads `rows` (row numbers in any order, repeats allowed) and verifies every block they touch; `pack`
   * then copies them into WebAssembly memory, as many at a time as the caller has room for.
   *
   * @param caller the API entry point named in errors.
   * @param rows row numbers below `this.rows`.
   * @returns the verified rows.
   * @throws (rejects) FileFormatError naming the file, the part and the block when a block's
   *   checksum does not match or the file ended early; the column stays usable for other rows.
   */
  async fetch(caller: string, rows: ArrayLike<number>): Promise<FetchedRows> {
    const { rowBytes: R, blockBytes: B } = this;
    const length = this.byteLength;
    for (let i = 0; i < rows.length; i++) {
      if (!(rows[i] >= 0 && rows[i] < this.rows)) throw new RangeError(`${caller}: row ${rows[i]} is outside ${this.part}'s ${this.rows} rows`);
    }
    const blocks = this.blocksOf(rows);
    // Taken now: an append may change the last block's checksum while the reads are in flight,
    // but never the bytes below `length`, which are what is read.
    const expected = Array.from(blocks, (block) => this.checksums[block]);
    const blockLength = (block: number) => Math.min(B, length - block * B);

    // Blocks are laid out in sorted order, so block i starts at i · B (only the column's last block is short).
    const staging = new Uint8Array(blocks.length === 0 ? 0 : (blocks.length - 1) * B + blockLength(blocks[blocks.length - 1]));
    const runs: Array<{ first: number; at: number; bytes: number }> = [];
    for (let i = 0; i < blocks.length;) {
      let count = 1;
      while (i + count < blocks.length && blocks[i + count] === blocks[i] + count && (count + 1) * B <= RUN_BYTES) count++;
      runs.push({ first: blocks[i], at: i * B, bytes: (count - 1) * B + blockLength(blocks[i + count - 1]) });
      i += count;
    }
    const unreadable = (first: number, error: unknown) => this.unreadable(caller, first, error);
    const source = this.source;
    if (source.readIntoSync !== undefined) {
      // Node: synchronous preads (see RandomAccessSource.readIntoSync), one per run.
      for (const { first, at, bytes } of runs) {
        try {
          source.readIntoSync(this.offset + first * B, staging.subarray(at, at + bytes));
        } catch (error) {
          throw unreadable(first, error);
        }
      }
    } else {
      const settled = await Promise.allSettled(runs.map(({ first, at, bytes }) =>
        source.readInto(this.offset + first * B, staging.subarray(at, at + bytes)).catch((error: unknown) => {
          throw unreadable(first, error);
        })));
      const failed = settled.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }

    const computed = xxh64Blocks(staging, B);
    blocks.forEach((block, i) => {
      if (computed[i] !== expected[i]) throw this.mismatch(caller, block, blockLength(block), expected[i], computed[i]);
    });
    return new FetchedRows(rows, R, B, blocks, staging);
  }

  /**
   * `fetch` and `pack` in one: all of `rows` back to back in `arena`'s scratch memory.
   *
   * @returns the address of the packed rows.
   */
  async gather(caller: string, arena: Arena, rows: ArrayLike<number>): Promise<number> {
    return (await this.fetch(caller, rows)).pack(caller, arena, 0, rows.length);
  }

  /**
   * Rows `first … first + count − 1` in order, verified, as chunks of about 1 MiB (each valid
   * until the next is requested): how a save copies the column into a new file.
   *
   * @param caller the API entry point named in errors.
   * @throws (rejects) FileFormatError as `gather`.
   */
  async *chunks(caller: string, first: number, count: number): AsyncGenerator<Uint8Array> {
    const { rowBytes: R, blockBytes: B } = this;
    const end = (first + count) * R;
    const length = this.byteLength;
    const piece = Math.max(B, Math.floor(RUN_BYTES / B) * B);
    for (let at = Math.floor((first * R) / B) * B; at < end; at += piece) {
      const firstBlock = at / B;
      const bytes = Math.min(piece, length - at);
      const staging = new Uint8Array(bytes);
      await this.source.readInto(this.offset + at, staging).catch((error: unknown) => {
        throw this.unreadable(caller, firstBlock, error);
      });
      xxh64Blocks(staging, B).forEach((digest, i) => {
        const stored = this.checksums[firstBlock + i];
        if (digest !== stored) throw this.mismatch(caller, firstBlock + i, Math.min(B, bytes - i * B), stored, digest);
      });
      yield staging.subarray(Math.max(0, first * R - at), Math.min(bytes, end - at));
    }
  }

  private unreadable(caller: string, block: number, error: unknown): FileFormatError {
    return new FileFormatError(caller, this.source.name, `${this.part} block ${block}`, `could not be read: ${(error as Error).message}`);
  }

  private mismatch(caller: string, block: number, length: number, stored: bigint, computed: bigint): FileFormatError {
    const start = this.offset + block * this.blockBytes;
    return new FileFormatError(
      caller, this.source.name, `${this.part} block ${block}`,
      `checksum mismatch over file bytes ${start}–${start + length} (stored ${hex(stored)}, computed ${hex(computed)}): the file is corrupt`,
    );
  }

  /** The blocks `rows` touch, ascending, each once. */
  private blocksOf(rows: ArrayLike<number>): Uint32Array {
    const { rowBytes: R, blockBytes: B } = this;
    const all: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const start = rows[i] * R;
      for (let block = Math.floor(start / B); block * B < start + R; block++) all.push(block);
    }
    const sorted = Uint32Array.from(all).sort();
    let n = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i];
    return sorted.subarray(0, n);
  }
}

/** Rows read and verified by `DiskColumn.fetch`, held in JS memory until packed. */
export class FetchedRows {
  /** @internal */
  constructor(
    private readonly rows: ArrayLike<number>, private readonly rowBytes: number, private readonly blockBytes: number,
    private readonly blocks: Uint32Array, private readonly staging: Uint8Array,
  ) {}

  /**
   * Copies rows `from … to − 1` of the fetched list back to back into `arena`'s scratch memory:
   * list row i at `packed + (i − from) · rowBytes`. Valid until the next pack on this arena.
   *
   * @returns the address of the packed rows.
   */
  pack(caller: string, arena: Arena, from: number, to: number): number {
    const packed = arena.scratchFor(caller, "diskRows", Math.max(64, (to - from) * this.rowBytes));
    this.copy(arena.u8, packed, from, to);
    return packed;
  }

  /** All the rows, back to back in the order they were asked for, into `target` at `at`. */
  copyTo(target: Uint8Array, at = 0): void {
    this.copy(target, at, 0, this.rows.length);
  }

  private copy(target: Uint8Array, at: number, from: number, to: number): void {
    const { rowBytes: R, blockBytes: B } = this;
    for (let i = from; i < to; i++) {
      const start = this.rows[i] * R;
      const block = Math.floor(start / B);
      const offset = indexOf(this.blocks, block) * B + (start - block * B);
      target.set(this.staging.subarray(offset, offset + R), at + (i - from) * R);
    }
  }
}

/** Position of `value` in the ascending `list` (which holds it). */
function indexOf(list: Uint32Array, value: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
