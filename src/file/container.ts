// The container every quantvec file is: a header, a section table, 64-byte-aligned sections and a
// checksum table at the end (docs/FORMAT.md is the specification; this file implements it).
//
// The writer knows every section's length before it writes a byte, so the header and table go
// first and the sections stream after them; the checksums, known only once the bytes have gone
// by, go last. That lets a WritableStream (no seeking) receive a file in one pass. The reader
// checks the header, the table and the checksum table when it opens a file, then verifies each
// section (or each block of a blocked section) when it is read.

import { Checksum, xxh64Blocks } from "../checksum.js";
import { describe } from "../errors.js";
import { DiskColumn } from "./disk-column.js";
import { BlobSource, BytesSource, collectStream, type ContainerSource, NodeFileSource, type RandomAccessSource } from "./sources.js";
import { fileSink, type Sink, streamSink } from "./sinks.js";

export type { ContainerSource } from "./sources.js";

/** `\x89QVEC\r\n\x1a`: not text, and damaged by any newline translation. */
export const MAGIC = Uint8Array.of(0x89, 0x51, 0x56, 0x45, 0x43, 0x0d, 0x0a, 0x1a);
/** The format version this code writes; it reads every file of the same major version. */
export const FORMAT_VERSION = { major: 1, minor: 0 } as const;
/** Length of the header at offset 0. */
export const HEADER_BYTES = 64;
/** Length of one section table entry. */
export const ENTRY_BYTES = 64;
/** Sections start at multiples of this, so typed-array views of them need no copy. */
export const SECTION_ALIGN = 64;
/** Most sections in one file (bounds the section table a reader allocates). */
export const MAX_SECTIONS = 1024;
/** Smallest checksum block of a blocked section. */
export const MIN_BLOCK_BYTES = 64;
/** Largest checksum block of a blocked section (a block is read and hashed at once). */
export const MAX_BLOCK_BYTES = 1 << 24;
/** The xxh64 seed of every checksum in the file. */
const SEED = 0n;
const CRITICAL = 1;
/** Bytes read and hashed per step when a whole section is read or verified. */
const PIECE_BYTES = 1 << 20;

/** One section of a container as its table describes it. */
export interface SectionInfo {
  /** Four printable ASCII characters (the first not a space), unique in the file. */
  readonly tag: string;
  /** Byte offset in the file (a multiple of 64). */
  readonly offset: number;
  readonly byteLength: number;
  /** 0: one checksum over the section; otherwise the section's checksum granularity in bytes. */
  readonly blockBytes: number;
  /** A reader that does not know this tag must refuse the file (it would misread it otherwise). */
  readonly critical: boolean;
}

/** A section to write: its tag, exact length, and its bytes as chunks (produced lazily if you like). */
export interface SectionInput {
  /** Four printable ASCII characters (0x20–0x7e, the first not a space), unique in the file. */
  tag: string;
  /** The exact total length of `chunks`; the writer rejects a mismatch. */
  byteLength: number;
  /** The bytes, in order, in chunks of any size; each chunk may be reused after the next is requested. */
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  /**
   * 0 (the default): one checksum for the section, verified when it is read whole. A power of two
   * from 64 to 16 MiB: a checksum per block of that many bytes, so that parts of the section can be
   * read and verified on their own (readRows). Use it for sections read on demand from disk.
   */
  blockBytes?: number;
  /** Readers that do not know the tag must refuse the file (default false: they may skip it). */
  critical?: boolean;
}

/**
 * An error in a file's content: foreign, newer, truncated, extended or corrupt. The message names
 * the caller, the file and the part; `file` and `part` hold them for programs.
 *
 * @example
 * try {
 *   await openContainer("index.qv");
 * } catch (error) {
 *   if (error instanceof FileFormatError) console.error(`damaged: ${error.file} (${error.part})`);
 * }
 */
export class FileFormatError extends Error {
  /** The path, File.name or given name of the file. */
  readonly file: string;
  /** "header", "section table", "checksum table" or the section's tag. */
  readonly part: string;

  /**
   * @param caller the API entry point that read the file.
   * @param file the file's name.
   * @param part which part of the file is wrong.
   * @param problem what is wrong.
   */
  constructor(caller: string, file: string, part: string, problem: string) {
    super(`${caller}: ${JSON.stringify(file)}: ${part}: ${problem}`);
    this.name = "FileFormatError";
    this.file = file;
    this.part = part;
  }
}

const alignUp = (value: number) => Math.ceil(value / SECTION_ALIGN) * SECTION_ALIGN;
const hex = (value: bigint) => `0x${value.toString(16).padStart(16, "0")}`;

/** How many checksums a section has in the checksum table. */
function digestCount(byteLength: number, blockBytes: number): number {
  return blockBytes === 0 ? 1 : Math.ceil(byteLength / blockBytes);
}

/** The byte range [start, end) of checksum block `block` of a section. */
function blockRange(section: SectionInfo, block: number): [number, number] {
  if (section.blockBytes === 0) return [0, section.byteLength];
  const start = block * section.blockBytes;
  return [start, Math.min(start + section.blockBytes, section.byteLength)];
}

interface Layout {
  sections: SectionInfo[];
  /** Index of each section's first checksum in the checksum table. */
  firstDigest: number[];
  digests: number;
  checksumOffset: number;
  checksumBytes: number;
  fileLength: number;
}

function layout(sections: Array<Omit<SectionInfo, "offset">>): Layout {
  let at = HEADER_BYTES + sections.length * ENTRY_BYTES;
  let digests = 0;
  const placed: SectionInfo[] = [];
  const firstDigest: number[] = [];
  for (const section of sections) {
    at = alignUp(at);
    placed.push({ ...section, offset: at });
    firstDigest.push(digests);
    digests += digestCount(section.byteLength, section.blockBytes);
    at += section.byteLength;
  }
  const checksumOffset = alignUp(at);
  const checksumBytes = 8 * (digests + 1);
  return { sections: placed, firstDigest, digests, checksumOffset, checksumBytes, fileLength: checksumOffset + checksumBytes };
}

function isTag(tag: unknown): tag is string {
  return typeof tag === "string" && tag.length === 4 && tag[0] !== " " && [...tag].every((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) <= 0x7e);
}

function isBlockBytes(value: number): boolean {
  return value === 0 || (Number.isInteger(value) && value >= MIN_BLOCK_BYTES && value <= MAX_BLOCK_BYTES && (value & (value - 1)) === 0);
}

/** The header and section table of a layout; the header checksum covers both. */
function encodeHead(plan: Layout): Uint8Array {
  const head = new Uint8Array(HEADER_BYTES + plan.sections.length * ENTRY_BYTES);
  const view = new DataView(head.buffer);
  head.set(MAGIC, 0);
  view.setUint16(8, FORMAT_VERSION.major, true);
  view.setUint16(10, FORMAT_VERSION.minor, true);
  view.setUint32(12, plan.sections.length, true);
  view.setBigUint64(16, BigInt(plan.fileLength), true);
  view.setBigUint64(24, BigInt(plan.checksumOffset), true);
  view.setBigUint64(32, BigInt(plan.checksumBytes), true);
  plan.sections.forEach((section, i) => {
    const at = HEADER_BYTES + i * ENTRY_BYTES;
    for (let c = 0; c < 4; c++) head[at + c] = section.tag.charCodeAt(c);
    view.setUint32(at + 4, section.critical ? CRITICAL : 0, true);
    view.setBigUint64(at + 8, BigInt(section.offset), true);
    view.setBigUint64(at + 16, BigInt(section.byteLength), true);
    view.setUint32(at + 24, section.blockBytes, true);
  });
  view.setBigUint64(56, headChecksum(head), true);
  return head;
}

/** xxh64 of header bytes 0–55 followed by the section table. */
function headChecksum(head: Uint8Array): bigint {
  return new Checksum({ seed: SEED }).update(head.subarray(0, 56)).update(head.subarray(HEADER_BYTES)).digest();
}

/** Hashes a section's bytes as they stream by: one checksum, or one per block. */
class SectionHasher {
  private readonly hash = new Checksum({ seed: SEED });
  private inBlock = 0;
  private block = 0;
  constructor(private readonly blockBytes: number, private readonly out: BigUint64Array) {}

  update(chunk: Uint8Array): void {
    if (this.blockBytes === 0) {
      this.hash.update(chunk);
      return;
    }
    for (let at = 0; at < chunk.length;) {
      if (this.inBlock === 0 && chunk.length - at >= this.blockBytes) {
        // Whole blocks at a block boundary: one kernel call per 256 KiB.
        const whole = Math.floor((chunk.length - at) / this.blockBytes) * this.blockBytes;
        const digests = xxh64Blocks(chunk.subarray(at, at + whole), this.blockBytes, { seed: SEED });
        this.out.set(digests, this.block);
        this.block += digests.length;
        at += whole;
        continue;
      }
      const take = Math.min(this.blockBytes - this.inBlock, chunk.length - at);
      this.hash.update(chunk.subarray(at, at + take));
      this.inBlock += take;
      at += take;
      if (this.inBlock === this.blockBytes) this.endBlock();
    }
  }

  finish(): void {
    if (this.blockBytes === 0) this.out[0] = this.hash.digest();
    else if (this.inBlock > 0) this.endBlock();
  }

  private endBlock(): void {
    this.out[this.block++] = this.hash.digest();
    this.hash.reset();
    this.inBlock = 0;
  }
}

function checkSections(caller: string, sections: unknown): SectionInput[] {
  if (!Array.isArray(sections)) throw new TypeError(`${caller}: sections must be an array of { tag, byteLength, chunks }, got ${describe(sections)}`);
  if (sections.length > MAX_SECTIONS) throw new RangeError(`${caller}: at most ${MAX_SECTIONS} sections, got ${sections.length}`);
  const seen = new Set<string>();
  sections.forEach((section: SectionInput, i) => {
    if (section === null || typeof section !== "object") throw new TypeError(`${caller}: sections[${i}] must be an object, got ${describe(section)}`);
    if (!isTag(section.tag)) throw new TypeError(`${caller}: sections[${i}].tag must be 4 printable ASCII characters (the first not a space), got ${describe(section.tag)}`);
    if (seen.has(section.tag)) throw new RangeError(`${caller}: sections[${i}].tag ${JSON.stringify(section.tag)} appears twice`);
    seen.add(section.tag);
    if (!Number.isSafeInteger(section.byteLength) || section.byteLength < 0) {
      throw new RangeError(`${caller}: sections[${i}].byteLength must be an integer >= 0, got ${describe(section.byteLength)}`);
    }
    if (section.blockBytes !== undefined && !isBlockBytes(section.blockBytes)) {
      throw new RangeError(`${caller}: sections[${i}].blockBytes must be 0 or a power of two from ${MIN_BLOCK_BYTES} to ${MAX_BLOCK_BYTES}, got ${describe(section.blockBytes)}`);
    }
    if (section.critical !== undefined && typeof section.critical !== "boolean") {
      throw new TypeError(`${caller}: sections[${i}].critical must be a boolean, got ${describe(section.critical)}`);
    }
    const chunks = section.chunks as unknown as Record<symbol, unknown> | null;
    if (chunks === null || typeof chunks !== "object" || (typeof chunks[Symbol.iterator] !== "function" && typeof chunks[Symbol.asyncIterator] !== "function")) {
      throw new TypeError(`${caller}: sections[${i}].chunks must be an Iterable or AsyncIterable of Uint8Array, got ${describe(section.chunks)}`);
    }
  });
  return sections;
}

export interface WriteOptions {
  /** The API entry point named in error messages (default "writeContainer"). */
  caller?: string;
}

/** What was written. */
export interface WrittenContainer {
  readonly byteLength: number;
  readonly sections: readonly SectionInfo[];
}

/**
 * Writes a container: the sections stream from their chunks to the target, never gathered into
 * one buffer. A file path (Node) is written to a temporary file beside it, flushed to disk and
 * renamed over the path, so the path holds either its old content or the complete new file; a
 * WritableStream receives the bytes in order and is closed at the end (aborted on failure).
 *
 * @param target a file path (Node) or a WritableStream<Uint8Array>.
 * @param sections the sections in file order.
 * @param options the caller named in errors.
 * @returns the file's length and where each section went.
 * @throws (rejects) TypeError/RangeError for malformed sections, before anything is written;
 *   RangeError when a section's chunks do not add up to its byteLength (the target is then left as
 *   it was: the temporary file removed, the stream aborted); the target's own I/O errors likewise.
 * @example
 * await ready();
 * await writeContainer("/tmp/example.qv", [
 *   { tag: "META", byteLength: 2, chunks: [Uint8Array.of(1, 2)] },
 *   { tag: "CODE", byteLength: 8192, chunks: [new Uint8Array(8192)], blockBytes: 4096 },
 * ]);
 */
export async function writeContainer(
  target: string | WritableStream<Uint8Array>, sections: readonly SectionInput[], options: WriteOptions = {},
): Promise<WrittenContainer> {
  const caller = options.caller ?? "writeContainer";
  const inputs = checkSections(caller, sections);
  const isStream = typeof WritableStream === "function" && target instanceof WritableStream;
  if (typeof target !== "string" && !isStream) {
    throw new TypeError(`${caller}: target must be a file path or a WritableStream, got ${describe(target)}`);
  }
  const plan = layout(inputs.map((s) => ({ tag: s.tag, byteLength: s.byteLength, blockBytes: s.blockBytes ?? 0, critical: s.critical ?? false })));
  const head = encodeHead(plan);
  const checksums = new BigUint64Array(plan.digests + 1);
  const sink: Sink = typeof target === "string" ? await fileSink(target) : streamSink(target);
  try {
    await sink.write(head);
    let at = head.length;
    for (const [i, input] of inputs.entries()) {
      const section = plan.sections[i];
      await sink.write(new Uint8Array(section.offset - at));
      const count = digestCount(section.byteLength, section.blockBytes);
      const hasher = new SectionHasher(section.blockBytes, checksums.subarray(plan.firstDigest[i], plan.firstDigest[i] + count));
      let written = 0;
      for await (const chunk of input.chunks) {
        if (!(chunk instanceof Uint8Array)) throw new TypeError(`${caller}: section ${JSON.stringify(section.tag)} yielded ${describe(chunk)}, expected Uint8Array chunks`);
        if (written + chunk.length > section.byteLength) {
          throw new RangeError(`${caller}: section ${JSON.stringify(section.tag)} yielded more than its byteLength of ${section.byteLength} bytes; nothing was written`);
        }
        // Hash while the write is in flight (both only read the chunk).
        const writing = sink.write(chunk);
        try {
          hasher.update(chunk);
        } finally {
          await writing;
        }
        written += chunk.length;
      }
      if (written !== section.byteLength) {
        throw new RangeError(`${caller}: section ${JSON.stringify(section.tag)} yielded ${written} bytes, but its byteLength is ${section.byteLength}; nothing was written`);
      }
      hasher.finish();
      at = section.offset + section.byteLength;
    }
    await sink.write(new Uint8Array(plan.checksumOffset - at));
    const table = new Uint8Array(checksums.buffer);
    checksums[plan.digests] = new Checksum({ seed: SEED }).update(table.subarray(0, plan.digests * 8)).digest();
    // The checksum table is stored little-endian; BigUint64Array is in platform order.
    if (!littleEndian) byteSwap64(table);
    await sink.write(table);
    await sink.finish();
  } catch (error) {
    await sink.abort(error);
    throw error;
  }
  return { byteLength: plan.fileLength, sections: plan.sections };
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
function byteSwap64(bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; at += 8) bytes.subarray(at, at + 8).reverse();
}

export interface OpenOptions {
  /** The API entry point named in error messages (default "openContainer"). */
  caller?: string;
  /** How errors name the file (default: the path, File.name, or "bytes"/"blob"/"stream"). */
  name?: string;
}

/**
 * A container opened for reading. Opening checks the header, the section table and the checksum
 * table; each section is verified when it is read (whole, or block by block with readRows).
 *
 * @example
 * await ready();
 * const file = await openContainer("/tmp/example.qv");
 * try {
 *   const meta = await file.read("META");
 *   const rows = await file.readRows("CODE", 1024, [7, 3, 4096]);
 * } finally {
 *   await file.close();
 * }
 */
export class ContainerReader {
  /** The format version the file was written with. */
  readonly version: { readonly major: number; readonly minor: number };
  /** The sections in file order. */
  readonly sections: readonly SectionInfo[];
  private readonly byTag: Map<string, number>;

  private constructor(
    private readonly source: RandomAccessSource,
    private readonly caller: string,
    version: { major: number; minor: number },
    private readonly plan: Layout,
    private readonly checksums: BigUint64Array,
  ) {
    this.version = version;
    this.sections = plan.sections;
    this.byTag = new Map(plan.sections.map((s, i) => [s.tag, i]));
  }

  /** The file's name as errors give it. */
  get name(): string {
    return this.source.name;
  }

  /** The file's length in bytes. */
  get byteLength(): number {
    return this.source.byteLength;
  }

  /** @internal opens a source; see openContainer. */
  static async open(source: RandomAccessSource, caller: string): Promise<ContainerReader> {
    try {
      const { version, plan } = await readHead(source, caller, true);
      const checksums = await readChecksumTable(source, caller, plan);
      await checkPadding(source, caller, plan);
      return new ContainerReader(source, caller, version, plan, checksums);
    } catch (error) {
      await source.close().catch(() => {});
      throw error;
    }
  }

  /**
   * Refuses the file when it has a critical section this reader does not understand (docs/FORMAT.md,
   * "Versioning"); unknown non-critical sections may be skipped.
   *
   * @param known the tags the caller understands.
   * @throws FileFormatError naming the first unknown critical section.
   * @example
   * file.checkCritical(["META", "CODE", "IDS "]);
   */
  checkCritical(known: Iterable<string>): void {
    const understood = new Set(known);
    const unknown = this.sections.find((s) => s.critical && !understood.has(s.tag));
    if (unknown !== undefined) {
      throw new FileFormatError(this.caller, this.name, `section ${JSON.stringify(unknown.tag)}`, `a critical section this version of quantvec does not know (written by a newer quantvec? upgrade to read it)`);
    }
  }

  /** The section with this tag, or undefined. */
  section(tag: string): SectionInfo | undefined {
    const i = this.byTag.get(tag);
    return i === undefined ? undefined : this.sections[i];
  }

  private indexOf(method: string, tag: unknown): number {
    const i = typeof tag === "string" ? this.byTag.get(tag) : undefined;
    if (i === undefined) {
      const have = this.sections.map((s) => JSON.stringify(s.tag)).join(", ") || "none";
      throw new FileFormatError(this.caller, this.name, `section ${typeof tag === "string" ? JSON.stringify(tag) : describe(tag)}`, `${method}: no such section (the file has ${have})`);
    }
    return i;
  }

  /**
   * Reads a whole section and verifies every checksum of it. From bytes in memory the result is a
   * view of them (no copy); otherwise a new buffer, whose start is aligned for any typed array.
   *
   * @param tag the section.
   * @returns its bytes.
   * @throws (rejects) FileFormatError when the section is missing or corrupt.
   * @example
   * const ids = new BigUint64Array((await file.read("IDS ")).slice().buffer);
   */
  async read(tag: string): Promise<Uint8Array> {
    const i = this.indexOf("read", tag);
    const section = this.sections[i];
    if (this.source instanceof BytesSource) {
      const bytes = await this.source.read(section.offset, section.byteLength);
      this.verify(i, 0, bytes);
      return bytes;
    }
    const out = new Uint8Array(section.byteLength);
    await this.fill(i, out);
    return out;
  }

  /**
   * Reads a whole section into memory you provide (e.g. a view of WebAssembly memory), verifying
   * every checksum as it goes. On rejection the target holds unverified bytes: discard them.
   *
   * @param tag the section.
   * @param target exactly the section's length.
   * @throws (rejects) RangeError when target has the wrong length; FileFormatError when the
   *   section is missing or corrupt.
   * @example
   * await file.readInto("CODE", arena.u8.subarray(ptr, ptr + file.section("CODE").byteLength));
   */
  async readInto(tag: string, target: Uint8Array): Promise<void> {
    const i = this.indexOf("readInto", tag);
    const section = this.sections[i];
    if (!(target instanceof Uint8Array) || target.length !== section.byteLength) {
      throw new RangeError(`${this.caller}: readInto ${JSON.stringify(tag)}: target must be a Uint8Array of ${section.byteLength} bytes, got ${describe(target)}`);
    }
    await this.fill(i, target);
  }

  /** Reads section i into target in pieces of whole blocks, verifying each piece as it arrives. */
  private async fill(i: number, target: Uint8Array): Promise<void> {
    const section = this.sections[i];
    const piece = section.blockBytes === 0 ? PIECE_BYTES : Math.max(section.blockBytes, PIECE_BYTES);
    const running = section.blockBytes === 0 ? new Checksum({ seed: SEED }) : undefined;
    const part = (at: number) => target.subarray(at, Math.min(at + piece, section.byteLength));
    // Verify each piece while the next one is being read.
    let reading = section.byteLength > 0 ? this.readRange(section, 0, part(0)) : undefined;
    for (let at = 0; at < section.byteLength; at += piece) {
      await reading;
      reading = at + piece < section.byteLength ? this.readRange(section, at + piece, part(at + piece)) : undefined;
      try {
        if (running !== undefined) running.update(part(at));
        else this.verify(i, at / section.blockBytes, part(at));
      } catch (error) {
        await reading?.catch(() => {});
        throw error;
      }
    }
    if (running !== undefined) this.compare(i, 0, running.digest());
  }

  /** Reads bytes of a section, turning a source that ends early into a truncation error. */
  private async readRange(section: SectionInfo, at: number, target: Uint8Array): Promise<void> {
    try {
      await this.source.readInto(section.offset + at, target);
    } catch (error) {
      if (error instanceof RangeError) throw new FileFormatError(this.caller, this.name, `section ${JSON.stringify(section.tag)}`, `could not be read: ${error.message}`);
      throw error;
    }
  }

  /**
   * A blocked section as a column of rows read on demand through this reader's source (which stays
   * open until `close`): how `Index.load(…, { rescoreFrom: "disk" })` leaves rescoring codes on disk.
   *
   * @param tag a section written with blockBytes > 0.
   * @param rowBytes the length of one row; the section holds ⌊byteLength / rowBytes⌋ rows.
   * @throws FileFormatError when the section is missing; TypeError when it has no block checksums.
   * @example
   * const column = file.diskColumn("R000", 1024);
   */
  diskColumn(tag: string, rowBytes: number): DiskColumn {
    const i = this.indexOf("diskColumn", tag);
    const section = this.sections[i];
    if (section.blockBytes === 0) throw new TypeError(`${this.caller}: diskColumn ${JSON.stringify(tag)}: the section has no block checksums (blockBytes 0)`);
    const first = this.plan.firstDigest[i];
    return new DiskColumn({
      source: this.source, part: `section ${JSON.stringify(tag)}`, offset: section.offset, rowBytes,
      rows: Math.floor(section.byteLength / rowBytes), byteLength: section.byteLength, blockBytes: section.blockBytes,
      checksums: this.checksums.subarray(first, first + digestCount(section.byteLength, section.blockBytes)), // a view: the reader stays open with the column
    });
  }

  /** Verifies whole blocks of section i starting at block `first` (or the whole unblocked section). */
  private verify(i: number, first: number, bytes: Uint8Array): void {
    const section = this.sections[i];
    if (section.blockBytes === 0) {
      this.compare(i, 0, new Checksum({ seed: SEED }).update(bytes).digest());
      return;
    }
    const digests = xxh64Blocks(bytes, section.blockBytes, { seed: SEED });
    const stored = this.checksums.subarray(this.plan.firstDigest[i] + first, this.plan.firstDigest[i] + first + digests.length);
    for (let k = 0; k < digests.length; k++) if (digests[k] !== stored[k]) this.compare(i, first + k, digests[k]);
  }

  private compare(i: number, block: number, computed: bigint): void {
    const stored = this.checksums[this.plan.firstDigest[i] + block];
    if (stored === computed) return;
    const section = this.sections[i];
    const [start, end] = blockRange(section, block);
    const where = section.blockBytes === 0 ? "" : ` block ${block}`;
    throw new FileFormatError(
      this.caller, this.name, `section ${JSON.stringify(section.tag)}${where}`,
      `checksum mismatch over file bytes ${section.offset + start}–${section.offset + end} (stored ${hex(stored)}, computed ${hex(computed)}): the file is corrupt`,
    );
  }

  /**
   * Reads rows of a blocked section by number: only the blocks that hold them are read (sorted by
   * offset, consecutive blocks in one read, all reads in flight together) and each is verified.
   * A corrupt block rejects this call only; the reader stays usable.
   *
   * @param tag a section written with blockBytes > 0.
   * @param rowBytes the length of one row; row r is bytes [r·rowBytes, (r+1)·rowBytes).
   * @param rows row numbers, in any order, repeats allowed.
   * @param target where to put the rows back to back in the order given (rows.length·rowBytes
   *   bytes); a new buffer by default.
   * @returns the rows (target, when given).
   * @throws (rejects) RangeError for rows outside the section or a wrong target; TypeError for a
   *   section without blocks; FileFormatError when a block is corrupt.
   * @example
   * const candidates = await file.readRows("RESC", 1024, [17, 3, 999]);
   */
  async readRows(tag: string, rowBytes: number, rows: ArrayLike<number>, target?: Uint8Array): Promise<Uint8Array> {
    const i = this.indexOf("readRows", tag);
    const section = this.sections[i];
    const name = `${this.caller}: readRows ${JSON.stringify(tag)}`;
    if (section.blockBytes === 0) throw new TypeError(`${name}: the section has no block checksums (blockBytes 0); read it whole`);
    if (!Number.isSafeInteger(rowBytes) || rowBytes <= 0) throw new RangeError(`${name}: rowBytes must be an integer > 0, got ${describe(rowBytes)}`);
    const rowCount = Math.floor(section.byteLength / rowBytes);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (!Number.isInteger(row) || row < 0 || row >= rowCount) {
        throw new RangeError(`${name}: rows[${r}] must be an integer from 0 to ${rowCount - 1} (${section.byteLength} bytes / ${rowBytes}), got ${describe(row)}`);
      }
    }
    const out = target ?? new Uint8Array(rows.length * rowBytes);
    if (!(out instanceof Uint8Array) || out.length !== rows.length * rowBytes) {
      throw new RangeError(`${name}: target must be a Uint8Array of ${rows.length * rowBytes} bytes, got ${describe(target)}`);
    }
    (await this.diskColumn(tag, rowBytes).fetch(this.caller, rows)).copyTo(out);
    return out;
  }

  /**
   * Reads every section and verifies all its checksums, holding at most a few MiB at a time.
   *
   * @throws (rejects) FileFormatError naming the first corrupt section (and block).
   * @example
   * await file.verifyAll();
   */
  async verifyAll(): Promise<void> {
    for (const [i, section] of this.sections.entries()) {
      const step = section.blockBytes === 0 ? PIECE_BYTES : Math.max(section.blockBytes, PIECE_BYTES);
      const running = section.blockBytes === 0 ? new Checksum({ seed: SEED }) : undefined;
      for (let at = 0; at < section.byteLength; at += step) {
        const bytes = await this.source.read(section.offset + at, Math.min(step, section.byteLength - at));
        if (running !== undefined) running.update(bytes);
        else this.verify(i, at / section.blockBytes, bytes);
      }
      if (running !== undefined) this.compare(i, 0, running.digest());
    }
  }

  /** Releases the file handle (Node) or the collected chunks (stream). Reads reject afterwards. */
  async close(): Promise<void> {
    await this.source.close();
  }
}

/** Checks the header and section table; with `exact`, also that the source has exactly the declared length. */
async function readHead(source: RandomAccessSource, caller: string, exact: boolean): Promise<{ version: { major: number; minor: number }; plan: Layout }> {
  const fail = (part: string, problem: string): never => {
    throw new FileFormatError(caller, source.name, part, problem);
  };
  const length = source.byteLength;
  const head = await source.read(0, Math.min(HEADER_BYTES, length));
  if (head.length < MAGIC.length || MAGIC.some((byte, i) => head[i] !== byte)) {
    fail("header", `not a quantvec file (it does not start with the quantvec magic bytes 89 51 56 45 43 0d 0a 1a)`);
  }
  if (length < HEADER_BYTES) fail("header", `truncated: the file is ${length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  const view = new DataView(head.buffer, head.byteOffset, HEADER_BYTES);
  const version = { major: view.getUint16(8, true), minor: view.getUint16(10, true) };
  const count = view.getUint32(12, true);
  // The version is checked before the header checksum: a newer major version may define the header differently.
  if (version.major > FORMAT_VERSION.major) {
    fail("header", `written in format version ${version.major}.${version.minor}, newer than this reader's ${FORMAT_VERSION.major}.x: upgrade quantvec to read it`);
  }
  if (version.major === 0) fail("header", `format version 0.${version.minor} does not exist: the file is corrupt`);
  if (count > MAX_SECTIONS) fail("header", `declares ${count} sections, more than the ${MAX_SECTIONS} allowed: the file is corrupt`);
  const tableEnd = HEADER_BYTES + count * ENTRY_BYTES;
  if (tableEnd > length) fail("section table", `truncated: the file is ${length} bytes, its section table ends at ${tableEnd}`);
  const whole = new Uint8Array(tableEnd);
  whole.set(head.subarray(0, HEADER_BYTES));
  whole.set(await source.read(HEADER_BYTES, count * ENTRY_BYTES), HEADER_BYTES);
  const stored = view.getBigUint64(56, true);
  const computed = headChecksum(whole);
  if (stored !== computed) fail("header", `checksum mismatch over the header and section table (stored ${hex(stored)}, computed ${hex(computed)}): the file is corrupt`);
  const table = new DataView(whole.buffer);
  const entries: Array<Omit<SectionInfo, "offset"> & { offset: number }> = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const at = HEADER_BYTES + i * ENTRY_BYTES;
    const tag = String.fromCharCode(...whole.subarray(at, at + 4));
    const offset = table.getBigUint64(at + 8, true);
    const byteLength = table.getBigUint64(at + 16, true);
    const blockBytes = table.getUint32(at + 24, true);
    const part = `section table entry ${i}`;
    if (!isTag(tag) || seen.has(tag)) fail(part, `invalid or repeated tag ${JSON.stringify(tag)}`);
    seen.add(tag);
    if (offset > BigInt(Number.MAX_SAFE_INTEGER) || byteLength > BigInt(Number.MAX_SAFE_INTEGER)) fail(`section ${JSON.stringify(tag)}`, `offset or length beyond 2^53`);
    if (!isBlockBytes(blockBytes)) fail(`section ${JSON.stringify(tag)}`, `invalid block size ${blockBytes}`);
    entries.push({ tag, offset: Number(offset), byteLength: Number(byteLength), blockBytes, critical: (table.getUint32(at + 4, true) & CRITICAL) !== 0 });
  }
  // The layout is a function of the lengths: recompute it and demand that the file agrees.
  const plan = layout(entries);
  plan.sections.forEach((expected, i) => {
    if (expected.offset !== entries[i].offset) fail(`section ${JSON.stringify(expected.tag)}`, `stored at offset ${entries[i].offset}, but the layout puts it at ${expected.offset}`);
  });
  const declared = [Number(view.getBigUint64(16, true)), Number(view.getBigUint64(24, true)), Number(view.getBigUint64(32, true))];
  if (declared[0] !== plan.fileLength || declared[1] !== plan.checksumOffset || declared[2] !== plan.checksumBytes) {
    fail("header", `declares file length ${declared[0]} and checksum table ${declared[1]}+${declared[2]}, but its sections add up to ${plan.fileLength} and ${plan.checksumOffset}+${plan.checksumBytes}`);
  }
  if (exact && length !== plan.fileLength) {
    if (length > plan.fileLength) fail("checksum table", `${length - plan.fileLength} unexpected bytes after the end of the file (${plan.fileLength} bytes): appended data or a damaged copy`);
    const cut = plan.sections.find((s) => s.offset + s.byteLength > length);
    const part = cut === undefined ? "checksum table" : `section ${JSON.stringify(cut.tag)}`;
    fail(part, `truncated: the file is ${length} bytes, its header says ${plan.fileLength} (${part} ends past the end)`);
  }
  return { version, plan };
}

async function readChecksumTable(source: RandomAccessSource, caller: string, plan: Layout): Promise<BigUint64Array> {
  // A copy (Buffer.slice would not copy), aligned for the BigUint64Array view.
  const bytes = new Uint8Array(plan.checksumBytes);
  bytes.set(await source.read(plan.checksumOffset, plan.checksumBytes));
  if (!littleEndian) byteSwap64(bytes);
  const checksums = new BigUint64Array(bytes.buffer);
  const computed = new Checksum({ seed: SEED }).update(bytes.subarray(0, plan.digests * 8)).digest();
  if (computed !== checksums[plan.digests]) {
    throw new FileFormatError(caller, source.name, "checksum table", `checksum mismatch (stored ${hex(checksums[plan.digests])}, computed ${hex(computed)}): the file is corrupt`);
  }
  return checksums;
}

/** The gaps before each section and before the checksum table must be zero bytes. */
async function checkPadding(source: RandomAccessSource, caller: string, plan: Layout): Promise<void> {
  let at = HEADER_BYTES + plan.sections.length * ENTRY_BYTES;
  const gaps: Array<[number, number, string]> = [];
  for (const section of plan.sections) {
    gaps.push([at, section.offset, `section ${JSON.stringify(section.tag)}`]);
    at = section.offset + section.byteLength;
  }
  gaps.push([at, plan.checksumOffset, "checksum table"]);
  for (const [start, end, part] of gaps) {
    if (end === start) continue;
    const bytes = await source.read(start, end - start);
    if (bytes.some((byte) => byte !== 0)) throw new FileFormatError(caller, source.name, part, `the padding before it (bytes ${start}–${end}) is not zero: the file is corrupt`);
  }
}

/**
 * Opens a container for reading and checks its header, section table and checksum table.
 *
 * @param source a file path (Node; read with positional reads on demand), a Uint8Array or
 *   ArrayBuffer (read in place, no copy), a Blob or File (read with Blob.slice on demand), or a
 *   ReadableStream<Uint8Array> (collected as it arrives, checked as soon as the header is in).
 * @param options the caller and file name errors give.
 * @returns the reader; close it when done.
 * @throws (rejects) TypeError for another kind of source; FileFormatError for a foreign, newer,
 *   truncated, extended or corrupt file, naming the file and the part; the OS error when a path
 *   cannot be opened.
 * @example
 * await ready();
 * const file = await openContainer(await fetch(url).then((r) => r.body!), { name: url });
 * const meta = await file.read("META");
 */
export async function openContainer(source: ContainerSource, options: OpenOptions = {}): Promise<ContainerReader> {
  const caller = options.caller ?? "openContainer";
  if (options.name !== undefined && typeof options.name !== "string") throw new TypeError(`${caller}: options.name must be a string, got ${describe(options.name)}`);
  let input: RandomAccessSource;
  if (typeof source === "string") {
    input = await NodeFileSource.open(source, options.name);
  } else if (source instanceof Uint8Array) {
    input = new BytesSource(options.name ?? "bytes", source);
  } else if (source instanceof ArrayBuffer) {
    input = new BytesSource(options.name ?? "bytes", new Uint8Array(source));
  } else if (typeof Blob === "function" && source instanceof Blob) {
    input = new BlobSource(options.name ?? (source as File).name ?? "blob", source);
  } else if (typeof ReadableStream === "function" && source instanceof ReadableStream) {
    const name = options.name ?? "stream";
    input = await collectStream(name, source, async (head) => {
      // Check the header as soon as it and the table are in; from then on the stream may only
      // deliver as many bytes as the header declares. A foreign file fails on its first bytes.
      const have = head.byteLength;
      const prefix = await head.read(0, Math.min(MAGIC.length, have));
      if (prefix.some((byte, i) => byte !== MAGIC[i])) await readHead(head, caller, false);
      if (have < HEADER_BYTES) return undefined;
      const field = await head.read(12, 4);
      const count = new DataView(field.buffer, field.byteOffset, 4).getUint32(0, true);
      if (count <= MAX_SECTIONS && have < HEADER_BYTES + count * ENTRY_BYTES) return undefined;
      return (await readHead(head, caller, false)).plan.fileLength;
    });
  } else {
    throw new TypeError(`${caller}: source must be a file path, Uint8Array, ArrayBuffer, Blob or ReadableStream, got ${describe(source)}`);
  }
  return ContainerReader.open(input, caller);
}
