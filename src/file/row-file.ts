// The file an index built with `rescoreTo` appends its rescoring rows to (Node only): the rows
// back to back from byte 0, nothing else. Their block checksums stay in memory (8 bytes per 4 KiB
// block), in the DiskColumn searches read the rows through. `Index.add` is synchronous, so appends
// are synchronous positional writes; searches read through the same descriptor asynchronously.
// A failed add truncates the file back to where it was (mark / rollback).

import { xxh64, xxh64Blocks } from "../checksum.js";
import { Arena } from "../wasm.js";
import { DiskColumn } from "./disk-column.js";
import { type RandomAccessSource, readFully } from "./sources.js";

type Fs = typeof import("node:fs");

/** Checksum granularity of a row file: a row read costs at most two 4 KiB blocks beyond it. */
export const ROW_FILE_BLOCK_BYTES = 4096;

/** Where a row file was before an add, so that a failed add can put it back. */
export interface RowFileMark {
  readonly byteLength: number;
  readonly tail: Uint8Array;
  readonly tailChecksum: bigint;
}

/**
 * A growing file of rows, read as a DiskColumn.
 *
 * @example
 * const file = await RowFile.create("Index.create", "/data/rescore.bin", 1024);
 * file.append(rows);            // synchronous, updates the block checksums
 * await file.column.gather("index.search", arena, [3, 17]);
 */
export class RowFile implements RandomAccessSource {
  readonly column: DiskColumn;
  /** Memory of its own where an add encodes rows before they are written (shards keep little room to spare). */
  readonly staging: Arena;
  private length = 0;
  /** The bytes of the last, partly filled block (its checksum is recomputed as it fills). */
  private readonly tail: Uint8Array;
  private pendingReads = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Closes the descriptor and settles `closing`; set by close(), run once no read is in flight. */
  private release: (() => void) | undefined;

  private constructor(private readonly fs: Fs, private readonly fd: number, readonly name: string, rowBytes: number) {
    this.tail = new Uint8Array(ROW_FILE_BLOCK_BYTES);
    this.staging = new Arena("Index.create");
    this.column = new DiskColumn({
      source: this, part: "rescoring rows", offset: 0, rowBytes, rows: 0, blockBytes: ROW_FILE_BLOCK_BYTES, checksums: new BigUint64Array(64),
    });
  }

  /**
   * Creates (or empties) the file at `path`.
   *
   * @param caller the API entry point named in errors.
   * @param path where the rows go.
   * @param rowBytes bytes of one row.
   * @throws (rejects) TypeError outside Node; the OS error when the file cannot be created.
   */
  static async create(caller: string, path: string, rowBytes: number): Promise<RowFile> {
    const node = typeof process === "object" && !!process.versions?.node;
    if (!node) throw new TypeError(`${caller}: rescoreTo writes a file, which needs Node; in a browser keep the rescoring codes in memory`);
    const specifier = "node:fs"; // not a static import: browsers have no such module
    const fs = (await import(/* @vite-ignore */ specifier)) as Fs;
    let fd: number;
    try {
      fd = fs.openSync(path, "w+");
    } catch (error) {
      throw new Error(`${caller}: rescoreTo ${JSON.stringify(path)} could not be created: ${(error as Error).message}`, { cause: error });
    }
    try {
      return new RowFile(fs, fd, path, rowBytes);
    } catch (error) {
      fs.closeSync(fd); // its staging memory could not be made: the descriptor must not leak
      throw error;
    }
  }

  get byteLength(): number {
    return this.length;
  }

  /** Bytes of memory it keeps: the block checksums and the staging memory. */
  get memoryBytes(): number {
    return this.column.memoryBytes + this.staging.byteLength;
  }

  /** Where the file is now (before an add writes to it). */
  mark(): RowFileMark {
    const B = ROW_FILE_BLOCK_BYTES;
    const fill = this.length % B;
    return { byteLength: this.length, tail: this.tail.slice(0, fill), tailChecksum: fill === 0 ? 0n : this.column.checksums[Math.floor(this.length / B)] };
  }

  /**
   * Appends whole rows at the end and checksums them. On failure the file is truncated back and
   * nothing changes.
   *
   * @param caller the API entry point named in errors.
   * @param bytes rows back to back (may be a view of WebAssembly memory).
   * @throws Error when the write fails (disk full, …), after putting the file back.
   */
  append(caller: string, bytes: Uint8Array): void {
    const B = ROW_FILE_BLOCK_BYTES;
    const before = this.mark();
    const start = this.length;
    try {
      for (let done = 0; done < bytes.length;) done += this.fs.writeSync(this.fd, bytes, done, bytes.length - done, start + done);
    } catch (error) {
      this.rollback(before);
      throw new Error(`${caller}: could not append ${bytes.length} bytes of rescoring rows to ${JSON.stringify(this.name)}: ${(error as Error).message}; nothing was changed`, { cause: error });
    }
    const end = start + bytes.length;
    const column = this.column;
    if (column.checksums.length < Math.ceil(end / B)) {
      const grown = new BigUint64Array(Math.max(column.checksums.length * 2, Math.ceil(end / B)));
      grown.set(column.checksums);
      column.checksums = grown;
    }
    let block = Math.floor(start / B);
    let fill = start % B;
    let at = 0;
    if (fill > 0) {
      const take = Math.min(B - fill, bytes.length);
      this.tail.set(bytes.subarray(0, take), fill);
      fill += take;
      at = take;
      column.checksums[block] = xxh64(this.tail.subarray(0, fill));
      if (fill === B) block++;
    }
    const whole = Math.floor((bytes.length - at) / B) * B;
    if (whole > 0) {
      column.checksums.set(xxh64Blocks(bytes.subarray(at, at + whole), B), block);
      block += whole / B;
      at += whole;
    }
    if (at < bytes.length) {
      this.tail.set(bytes.subarray(at), 0);
      column.checksums[block] = xxh64(this.tail.subarray(0, bytes.length - at));
    }
    this.length = end;
    column.rows = end / column.rowBytes;
  }

  /** Puts the file back where `mark` found it (an add that failed after appending). */
  rollback(mark: RowFileMark): void {
    this.fs.ftruncateSync(this.fd, mark.byteLength);
    this.length = mark.byteLength;
    this.tail.set(mark.tail);
    if (mark.tail.length > 0) this.column.checksums[Math.floor(mark.byteLength / ROW_FILE_BLOCK_BYTES)] = mark.tailChecksum;
    this.column.rows = mark.byteLength / this.column.rowBytes;
  }

  async readInto(offset: number, target: Uint8Array): Promise<void> {
    if (this.closed) throw new RangeError(`${this.name}: the file was closed (the index was disposed)`);
    this.pendingReads++;
    try {
      for (let done = 0; done < target.length;) {
        const read = await new Promise<number>((resolve, reject) => {
          this.fs.read(this.fd, target, done, target.length - done, offset + done, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
        });
        if (read === 0) throw new RangeError(`${this.name}: the file ended at ${offset + done}, before ${offset + target.length} (did it shrink?)`);
        done += read;
      }
    } finally {
      if (--this.pendingReads === 0) this.release?.();
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(length);
    await this.readInto(offset, bytes);
    return bytes;
  }

  readIntoSync(offset: number, target: Uint8Array): void {
    if (this.closed) throw new RangeError(`${this.name}: the file was closed (the index was disposed)`);
    readFully(this.fs, this.fd, this.name, offset, target);
  }

  /** Closes the descriptor once no read is in flight (a closed number could be reused by another file). */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closed = true;
      this.closing = new Promise((resolve) => {
        this.release = () => {
          this.release = undefined;
          this.fs.close(this.fd, () => resolve());
        };
      });
      if (this.pendingReads === 0) this.release?.();
    }
    return this.closing;
  }
}
