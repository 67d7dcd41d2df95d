// Where a container is read from: a Node file (positional reads on a file handle), bytes in
// memory, a Blob/File, or a ReadableStream (collected chunk by chunk, never more than it delivers).
// Every source answers "how long are you" before anything is read, so the reader can check each
// size against the length before allocating for it.

import { describe } from "../errors.js";

/**
 * A source the container and faiss readers can read at any offset.
 *
 * @example
 * const source = new BytesSource("index.qv", bytes);
 * const header = await source.read(0, 64);
 */
export interface RandomAccessSource {
  /** How errors name it: the path, File.name, or what the caller said. */
  readonly name: string;
  readonly byteLength: number;
  /** Fills `target` with the bytes at `offset`; rejects if the source ends first. */
  readInto(offset: number, target: Uint8Array): Promise<void>;
  /** The bytes at [offset, offset + length): a view without copying where the source is in memory. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Fills `target` synchronously, where the source can (Node files: pread on the descriptor).
   * For the few KiB a search reads from the page cache this costs ~4 µs a read, against 20–100 µs
   * for a trip through libuv's thread pool; a cold read blocks the thread until the disk answers.
   */
  readIntoSync?(offset: number, target: Uint8Array): void;
  close(): Promise<void>;
}

/** What a container or faiss file can be read from. */
export type ContainerSource = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;

/** The largest positional read handed to the OS at once (Node rejects reads of 2 GiB and more). */
const MAX_READ_BYTES = 1 << 30;

/**
 * Bytes in memory: reads are views, nothing is copied.
 *
 * @example
 * const source = new BytesSource("bytes", new Uint8Array(await blob.arrayBuffer()));
 */
export class BytesSource implements RandomAccessSource {
  /**
   * @param name how errors name it.
   * @param bytes the whole file.
   */
  constructor(readonly name: string, private readonly bytes: Uint8Array) {}
  get byteLength(): number {
    return this.bytes.length;
  }
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    target.set(this.slice(offset, target.length));
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.slice(offset, length);
  }
  private slice(offset: number, length: number): Uint8Array {
    if (offset + length > this.bytes.length) throw new RangeError(`${this.name}: read past the end (${offset}+${length} > ${this.bytes.length})`);
    return this.bytes.subarray(offset, offset + length);
  }
  async close(): Promise<void> {}
}

/** Chunks collected from a stream, read as one byte range. */
class ChunksSource implements RandomAccessSource {
  private readonly starts: number[] = [];
  readonly byteLength: number;
  constructor(readonly name: string, private readonly chunks: Uint8Array[]) {
    let at = 0;
    for (const chunk of chunks) {
      this.starts.push(at);
      at += chunk.length;
    }
    this.byteLength = at;
  }
  /** Index of the chunk holding byte `offset`. */
  private chunkAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    if (offset + target.length > this.byteLength) throw new RangeError(`${this.name}: read past the end`);
    let done = 0;
    for (let i = this.chunkAt(offset); done < target.length; i++) {
      const chunk = this.chunks[i];
      const from = offset + done - this.starts[i];
      const take = Math.min(chunk.length - from, target.length - done);
      target.set(chunk.subarray(from, from + take), done);
      done += take;
    }
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (length > 0 && offset + length <= this.byteLength) {
      const i = this.chunkAt(offset);
      const from = offset - this.starts[i];
      if (from + length <= this.chunks[i].length) return this.chunks[i].subarray(from, from + length);
    }
    const out = new Uint8Array(length);
    await this.readInto(offset, out);
    return out;
  }
  async close(): Promise<void> {
    this.chunks.length = 0;
  }
}

/**
 * Collects a stream. `inspect` sees the bytes received so far after every chunk and returns the
 * length the file declares once it knows it (it throws for a foreign or corrupt header); the
 * stream is cancelled as soon as it delivers more than that, or `inspect` throws.
 *
 * @param name how errors name the stream.
 * @param stream the stream; locked while it is read, released afterwards.
 * @param inspect the early header check.
 * @returns the chunks as one random-access source (reads inside one chunk are views).
 * @throws (rejects) TypeError for a chunk that is not a Uint8Array; whatever inspect throws.
 * @example
 * const source = await collectStream("stream", response.body!, async () => undefined);
 */
export async function collectStream(
  name: string, stream: ReadableStream<Uint8Array>, inspect: (head: RandomAccessSource) => Promise<number | undefined>,
): Promise<RandomAccessSource> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  let declared: number | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!(value instanceof Uint8Array)) throw new TypeError(`${name}: the stream must deliver Uint8Array chunks, got ${describe(value)}`);
      chunks.push(value);
      received += value.length;
      declared ??= await inspect(new ChunksSource(name, chunks.slice()));
      if (declared !== undefined && received > declared) break; // inspect on the whole names the extra bytes
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
  if (declared !== undefined && received > declared) await stream.cancel().catch(() => {});
  return new ChunksSource(name, chunks);
}

/**
 * A Blob or File: each read is a Blob.slice, so only the bytes asked for are loaded.
 *
 * @example
 * const source = new BlobSource(file.name, file);
 */
export class BlobSource implements RandomAccessSource {
  /**
   * @param name how errors name it.
   * @param blob the file.
   */
  constructor(readonly name: string, private readonly blob: Blob) {}
  get byteLength(): number {
    return this.blob.size;
  }
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    // Bounded pieces: one Blob read never allocates more than MAX_READ_BYTES beside the target.
    for (let done = 0; done < target.length; done += MAX_READ_BYTES) {
      const length = Math.min(MAX_READ_BYTES, target.length - done);
      target.set(await this.read(offset + done, length), done);
    }
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
    if (bytes.length !== length) throw new RangeError(`${this.name}: the blob ended at ${offset + bytes.length}, before ${offset + length}`);
    return bytes;
  }
  async close(): Promise<void> {}
}

type FileHandle = import("node:fs/promises").FileHandle;
type SyncFs = typeof import("node:fs");

/**
 * A file in Node: one handle, positional reads.
 *
 * @example
 * const source = await NodeFileSource.open("/data/index.qv");
 * try { await source.read(0, 64); } finally { await source.close(); }
 */
export class NodeFileSource implements RandomAccessSource {
  private constructor(readonly name: string, private readonly handle: FileHandle, readonly byteLength: number, private readonly fs: SyncFs) {}

  /**
   * Opens a regular file for positional reads.
   *
   * @param path the file.
   * @param name how errors name the file (default: the path).
   * @returns the source; close it when done.
   * @throws (rejects) the OS error when the path cannot be opened; TypeError when it is not a regular file.
   */
  static async open(path: string, name = path): Promise<NodeFileSource> {
    const specifier = "node:fs/promises"; // not a static import: browsers have no such module
    const fs = (await import(/* @vite-ignore */ specifier)) as typeof import("node:fs/promises");
    const syncFs = (await import(/* @vite-ignore */ "node:fs")) as SyncFs;
    const handle = await fs.open(path, "r");
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new TypeError(`${path}: not a regular file`);
      return new NodeFileSource(name, handle, stat.size, syncFs);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async readInto(offset: number, target: Uint8Array): Promise<void> {
    let done = 0;
    while (done < target.length) {
      const length = Math.min(MAX_READ_BYTES, target.length - done);
      const { bytesRead } = await this.handle.read(target, done, length, offset + done);
      if (bytesRead === 0) throw new RangeError(`${this.name}: the file ended at ${offset + done}, before ${offset + target.length} (did it shrink?)`);
      done += bytesRead;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(length);
    await this.readInto(offset, bytes);
    return bytes;
  }

  readIntoSync(offset: number, target: Uint8Array): void {
    readFully(this.fs, this.handle.fd, this.name, offset, target);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/**
 * Fills `target` from `fd` at `offset` with synchronous positional reads.
 *
 * @throws RangeError when the file ends first; the OS error when a read fails.
 */
export function readFully(fs: SyncFs, fd: number, name: string, offset: number, target: Uint8Array): void {
  for (let done = 0; done < target.length;) {
    const read = fs.readSync(fd, target, done, Math.min(MAX_READ_BYTES, target.length - done), offset + done);
    if (read === 0) throw new RangeError(`${name}: the file ended at ${offset + done}, before ${offset + target.length} (did it shrink?)`);
    done += read;
  }
}
