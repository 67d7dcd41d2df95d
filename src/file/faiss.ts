// faiss binary index files: IndexBinaryFlat ("IBxF") and IndexBinaryIDMap ("IBMp", and "IBM2",
// IndexBinaryIDMap2, which stores the same bytes). Little-endian, no padding, no checksum; layout
// as faiss 1.7.3's write_index_binary produces it (docs/FORMAT.md, "faiss binary files"):
//
//   IBxF: "IBxF" i32 d (bits) · i32 code_size (d/8) · i64 ntotal · u8 is_trained · i32 metric_type
//         · u64 byte count (ntotal·code_size) · the codes, row after row          33 + n·code_size
//   IBMp: "IBMp" + the same five fields (faiss 1.7.3 writes code_size 0 here) · a complete IBxF
//         · u64 id count (ntotal) · ntotal × i64 ids                              66 + n·(code_size + 8)
//
// The codes are np.packbits(x > 0) rows, MSB first: quantvec's "ubinary" bytes, unchanged.

import { describe } from "../errors.js";
import { fileSink, type Sink, streamSink } from "./sinks.js";
import { BlobSource, BytesSource, collectStream, type ContainerSource, NodeFileSource, type RandomAccessSource } from "./sources.js";

/** The faiss index types quantvec reads and writes. */
export type FaissBinaryKind = "IndexBinaryFlat" | "IndexBinaryIDMap" | "IndexBinaryIDMap2";

const FLAT_HEADER_BYTES = 33;
const IDMAP_HEADER_BYTES = 25;
const FOURCC: Record<FaissBinaryKind, string> = { IndexBinaryFlat: "IBxF", IndexBinaryIDMap: "IBMp", IndexBinaryIDMap2: "IBM2" };
/** faiss's METRIC_L2, what write_index_binary stores for binary indexes (their metric is Hamming regardless). */
const METRIC_WRITTEN = 1;
/** faiss stores d as an i32; codes up to this many bits. */
const MAX_DIMS = 2 ** 31 - 8;

/** A faiss binary index read from a file. */
export interface FaissBinaryIndex {
  readonly kind: FaissBinaryKind;
  /** Bits per code (faiss's d); a multiple of 8. */
  readonly dims: number;
  /** Bytes per code: dims / 8. */
  readonly codeBytes: number;
  readonly count: number;
  /** count × codeBytes bytes, row after row (quantvec's "ubinary" layout); a view of the source when it is in memory. */
  readonly codes: Uint8Array;
  /** The id of each row (IDMap kinds); undefined for IndexBinaryFlat, whose ids are 0..count−1. */
  readonly ids: BigInt64Array | undefined;
}

/** What to write: codes (one buffer or chunks), and ids unless they are 0..count−1. */
export interface FaissBinaryInput {
  /** Bits per code; a multiple of 8 (faiss binary indexes store whole bytes). */
  dims: number;
  count: number;
  /** count × dims/8 bytes in total, row after row, as one buffer or in chunks of any size. */
  codes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  /** One id per row (int64); omitted means 0..count−1. */
  ids?: BigInt64Array | ArrayLike<number>;
}

export interface FaissWriteOptions {
  /** "auto" (the default): IndexBinaryFlat when the ids are absent or 0..count−1, else IndexBinaryIDMap. */
  kind?: "auto" | FaissBinaryKind;
  /** The API entry point named in errors (default "writeFaissBinary"). */
  caller?: string;
}

/**
 * An error in a faiss file's content, naming the file and the field.
 *
 * @example
 * await readFaissBinary("x.faiss").catch((error) => {
 *   if (error instanceof FaissFormatError) console.error(error.message);
 * });
 */
export class FaissFormatError extends Error {
  readonly file: string;
  /**
   * @param caller the API entry point.
   * @param file the file's name.
   * @param problem what is wrong.
   */
  constructor(caller: string, file: string, problem: string) {
    super(`${caller}: ${JSON.stringify(file)}: ${problem}`);
    this.name = "FaissFormatError";
    this.file = file;
  }
}

function header(fourcc: string, dims: number, codeBytes: number, count: number): Uint8Array {
  const bytes = new Uint8Array(IDMAP_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = fourcc.charCodeAt(i);
  view.setInt32(4, dims, true);
  view.setInt32(8, codeBytes, true);
  view.setBigInt64(12, BigInt(count), true);
  bytes[20] = 1; // is_trained
  view.setInt32(21, METRIC_WRITTEN, true);
  return bytes;
}

function toIds(caller: string, ids: BigInt64Array | ArrayLike<number>, count: number): BigInt64Array {
  if (ids instanceof BigInt64Array) {
    if (ids.length !== count) throw new RangeError(`${caller}: ids has ${ids.length} entries, expected count = ${count}`);
    return ids;
  }
  if (ids === null || typeof ids !== "object" || typeof ids.length !== "number") {
    throw new TypeError(`${caller}: ids must be a BigInt64Array or an array of integers, got ${describe(ids)}`);
  }
  if (ids.length !== count) throw new RangeError(`${caller}: ids has ${ids.length} entries, expected count = ${count}`);
  const out = new BigInt64Array(count);
  for (let i = 0; i < count; i++) {
    if (!Number.isSafeInteger(ids[i])) throw new RangeError(`${caller}: ids[${i}] must be a safe integer, got ${describe(ids[i])}`);
    out[i] = BigInt(ids[i]);
  }
  return out;
}

const isSequential = (ids: BigInt64Array) => ids.every((id, i) => id === BigInt(i));

/**
 * Writes binary codes as a faiss binary index file that faiss's `read_index_binary` loads:
 * IndexBinaryFlat when the ids are 0..count−1, IndexBinaryIDMap otherwise. Streams the codes;
 * a path is written to a temporary file, flushed and renamed (the path is never half-written).
 *
 * @param target a file path (Node) or a WritableStream<Uint8Array>.
 * @param input dims (bits), count, codes and optional ids.
 * @param options kind ("auto" by default) and the caller named in errors.
 * @returns the kind written and the file's length.
 * @throws (rejects) TypeError/RangeError for bad input, before the target is touched; RangeError
 *   when the codes do not add up to count × dims/8 bytes (the target is then left as it was).
 * @example
 * await writeFaissBinary("codes.faiss", { dims: 1024, count: n, codes, ids });
 * // python: faiss.read_index_binary("codes.faiss").search(queries, 10)
 */
export async function writeFaissBinary(
  target: string | WritableStream<Uint8Array>, input: FaissBinaryInput, options: FaissWriteOptions = {},
): Promise<{ kind: FaissBinaryKind; byteLength: number }> {
  const caller = options.caller ?? "writeFaissBinary";
  if (input === null || typeof input !== "object") throw new TypeError(`${caller}: input must be { dims, count, codes, ids? }, got ${describe(input)}`);
  const { dims, count } = input;
  if (!Number.isInteger(dims) || dims <= 0 || dims % 8 !== 0 || dims > MAX_DIMS) {
    throw new RangeError(`${caller}: dims must be a positive multiple of 8 (bits per code), got ${describe(dims)}`);
  }
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`${caller}: count must be an integer >= 0, got ${describe(count)}`);
  const codeBytes = dims / 8;
  const codesLength = count * codeBytes;
  if (!Number.isSafeInteger(codesLength)) throw new RangeError(`${caller}: count × dims/8 = ${codesLength} bytes is too large`);
  const chunks = input.codes instanceof Uint8Array ? [input.codes] : input.codes;
  const iterable = chunks as unknown as Record<symbol, unknown> | null;
  if (iterable === null || typeof iterable !== "object" || (typeof iterable[Symbol.iterator] !== "function" && typeof iterable[Symbol.asyncIterator] !== "function")) {
    throw new TypeError(`${caller}: codes must be a Uint8Array or an Iterable/AsyncIterable of Uint8Array, got ${describe(input.codes)}`);
  }
  const ids = input.ids === undefined ? undefined : toIds(caller, input.ids, count);
  const kindOption = options.kind ?? "auto";
  if (kindOption !== "auto" && !(kindOption in FOURCC)) {
    throw new TypeError(`${caller}: kind must be "auto", "IndexBinaryFlat", "IndexBinaryIDMap" or "IndexBinaryIDMap2", got ${describe(kindOption)}`);
  }
  const sequential = ids === undefined || isSequential(ids);
  const kind: FaissBinaryKind = kindOption === "auto" ? (sequential ? "IndexBinaryFlat" : "IndexBinaryIDMap") : kindOption;
  if (kind === "IndexBinaryFlat" && !sequential) throw new RangeError(`${caller}: an IndexBinaryFlat has ids 0..count−1; these ids are not (use kind "IndexBinaryIDMap")`);
  const isStream = typeof WritableStream === "function" && target instanceof WritableStream;
  if (typeof target !== "string" && !isStream) throw new TypeError(`${caller}: target must be a file path or a WritableStream, got ${describe(target)}`);

  const flat = new Uint8Array(FLAT_HEADER_BYTES);
  flat.set(header("IBxF", dims, codeBytes, count));
  new DataView(flat.buffer).setBigUint64(25, BigInt(codesLength), true);
  const wrapped = kind !== "IndexBinaryFlat";
  const sink: Sink = typeof target === "string" ? await fileSink(target) : streamSink(target);
  try {
    if (wrapped) await sink.write(header(FOURCC[kind], dims, 0, count));
    await sink.write(flat);
    let written = 0;
    for await (const chunk of chunks) {
      if (!(chunk instanceof Uint8Array)) throw new TypeError(`${caller}: codes yielded ${describe(chunk)}, expected Uint8Array chunks`);
      if (written + chunk.length > codesLength) throw new RangeError(`${caller}: codes has more than count × dims/8 = ${codesLength} bytes; nothing was written`);
      await sink.write(chunk);
      written += chunk.length;
    }
    if (written !== codesLength) throw new RangeError(`${caller}: codes has ${written} bytes, expected count × dims/8 = ${codesLength}; nothing was written`);
    if (wrapped) {
      const length = new Uint8Array(8);
      new DataView(length.buffer).setBigUint64(0, BigInt(count), true);
      await sink.write(length);
      const all = ids ?? BigInt64Array.from({ length: count }, (_, i) => BigInt(i));
      const piece = new DataView(new ArrayBuffer(64 * 1024));
      for (let at = 0; at < count; at += piece.byteLength / 8) {
        const n = Math.min(piece.byteLength / 8, count - at);
        for (let i = 0; i < n; i++) piece.setBigInt64(8 * i, all[at + i], true);
        await sink.write(new Uint8Array(piece.buffer, 0, 8 * n));
      }
    }
    await sink.finish();
  } catch (error) {
    await sink.abort(error);
    throw error;
  }
  const byteLength = FLAT_HEADER_BYTES + codesLength + (wrapped ? IDMAP_HEADER_BYTES + 8 + 8 * count : 0);
  return { kind, byteLength };
}

interface Fields { fourcc: string; dims: number; codeBytes: number; count: bigint; trained: number; metric: number }

function fields(bytes: Uint8Array): Fields {
  const view = new DataView(bytes.buffer, bytes.byteOffset, IDMAP_HEADER_BYTES);
  return {
    fourcc: String.fromCharCode(...bytes.subarray(0, 4)),
    dims: view.getInt32(4, true),
    codeBytes: view.getInt32(8, true),
    count: view.getBigInt64(12, true),
    trained: bytes[20],
    metric: view.getInt32(21, true),
  };
}

/**
 * Reads a faiss IndexBinaryFlat, IndexBinaryIDMap or IndexBinaryIDMap2 file. Every field is
 * checked, and every size against the file's length before anything is allocated.
 *
 * @param source a file path (Node), Uint8Array/ArrayBuffer, Blob/File or ReadableStream<Uint8Array>.
 * @param options the name errors give the file, and the caller.
 * @returns kind, dims (bits), codeBytes, count, codes and ids (undefined for a flat index).
 * @throws (rejects) FaissFormatError for another file type, an unsupported faiss index, a
 *   truncated or extended file, or inconsistent fields; TypeError for another kind of source.
 * @example
 * const { dims, codes, ids } = await readFaissBinary("codes.faiss");
 */
export async function readFaissBinary(source: ContainerSource, options: { name?: string; caller?: string } = {}): Promise<FaissBinaryIndex> {
  const caller = options.caller ?? "readFaissBinary";
  let input: RandomAccessSource;
  if (typeof source === "string") input = await NodeFileSource.open(source, options.name);
  else if (source instanceof Uint8Array) input = new BytesSource(options.name ?? "bytes", source);
  else if (source instanceof ArrayBuffer) input = new BytesSource(options.name ?? "bytes", new Uint8Array(source));
  else if (typeof Blob === "function" && source instanceof Blob) input = new BlobSource(options.name ?? (source as File).name ?? "blob", source);
  else if (typeof ReadableStream === "function" && source instanceof ReadableStream) {
    const name = options.name ?? "stream";
    input = await collectStream(name, source, async (head) => {
      if (head.byteLength < 4) return undefined;
      const fourcc = String.fromCharCode(...(await head.read(0, 4)));
      if (!Object.values(FOURCC).includes(fourcc)) throw unsupported(caller, name, fourcc);
      return undefined; // the length is checked once the whole stream is in
    });
  } else {
    throw new TypeError(`${caller}: source must be a file path, Uint8Array, ArrayBuffer, Blob or ReadableStream, got ${describe(source)}`);
  }
  try {
    return await parse(input, caller);
  } finally {
    await input.close();
  }
}

function unsupported(caller: string, name: string, fourcc: string): FaissFormatError {
  const printable = /^[\x20-\x7e]{4}$/.test(fourcc) ? JSON.stringify(fourcc) : "unprintable bytes";
  return new FaissFormatError(caller, name, `not a faiss binary index this reader supports: it starts with ${printable}, expected "IBxF" (IndexBinaryFlat), "IBMp" (IndexBinaryIDMap) or "IBM2" (IndexBinaryIDMap2)`);
}

async function parse(input: RandomAccessSource, caller: string): Promise<FaissBinaryIndex> {
  const fail = (problem: string): never => {
    throw new FaissFormatError(caller, input.name, problem);
  };
  const length = input.byteLength;
  const first = await input.read(0, Math.min(4, length));
  const fourcc = String.fromCharCode(...first);
  const kind = (Object.keys(FOURCC) as FaissBinaryKind[]).find((k) => FOURCC[k] === fourcc);
  if (kind === undefined) throw unsupported(caller, input.name, fourcc);
  const wrapped = kind !== "IndexBinaryFlat";
  const flatAt = wrapped ? IDMAP_HEADER_BYTES : 0;
  if (length < flatAt + FLAT_HEADER_BYTES) fail(`truncated: ${length} bytes, shorter than the ${flatAt + FLAT_HEADER_BYTES}-byte ${kind} header`);
  const flat = fields(await input.read(flatAt, IDMAP_HEADER_BYTES));
  if (flat.fourcc !== "IBxF") fail(`the index inside the ${kind} is ${JSON.stringify(flat.fourcc)}, expected "IBxF" (IndexBinaryFlat); other sub-indexes are not supported`);
  if (flat.dims <= 0 || flat.dims % 8 !== 0) fail(`d = ${flat.dims} bits, expected a positive multiple of 8`);
  if (flat.codeBytes !== flat.dims / 8) fail(`code_size = ${flat.codeBytes}, expected d/8 = ${flat.dims / 8}`);
  if (flat.count < 0n) fail(`ntotal = ${flat.count}, expected >= 0`);
  if (flat.trained > 1) fail(`is_trained = ${flat.trained}, expected 0 or 1`);
  const codeBytes = flat.codeBytes;
  const codesAt = flatAt + FLAT_HEADER_BYTES;
  const storedBytes = u64(await input.read(flatAt + 25, 8));
  if (storedBytes !== flat.count * BigInt(codeBytes)) fail(`the code vector holds ${storedBytes} bytes, expected ntotal × code_size = ${flat.count * BigInt(codeBytes)}`);
  // Every size against the file's length, in BigInt so that no lie can overflow, before any allocation.
  const expected = BigInt(codesAt) + storedBytes + (wrapped ? 8n + 8n * flat.count : 0n);
  if (BigInt(length) < expected) fail(`truncated: ${length} bytes, its header says ${expected} (ntotal ${flat.count} × ${codeBytes} bytes${wrapped ? " + ids" : ""})`);
  if (BigInt(length) > expected) fail(`${BigInt(length) - expected} unexpected bytes after the end (${expected} bytes): appended data, or an index type this reader does not know`);
  const count = Number(flat.count);
  if (wrapped) {
    const outer = fields(await input.read(0, IDMAP_HEADER_BYTES));
    if (outer.dims !== flat.dims) fail(`the ${kind} says d = ${outer.dims}, its IndexBinaryFlat says ${flat.dims}`);
    if (outer.codeBytes !== 0 && outer.codeBytes !== codeBytes) fail(`the ${kind} says code_size = ${outer.codeBytes}, expected 0 or ${codeBytes}`);
    if (outer.count !== flat.count) fail(`the ${kind} says ntotal = ${outer.count}, its IndexBinaryFlat says ${flat.count}`);
  }
  const codes = await input.read(codesAt, count * codeBytes);
  let ids: BigInt64Array | undefined;
  if (wrapped) {
    const idsAt = codesAt + count * codeBytes;
    const idCount = u64(await input.read(idsAt, 8));
    if (idCount !== flat.count) fail(`the id vector holds ${idCount} ids, expected ntotal = ${flat.count}`);
    const raw = await input.read(idsAt + 8, 8 * count);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    ids = new BigInt64Array(count);
    for (let i = 0; i < count; i++) ids[i] = view.getBigInt64(8 * i, true);
  }
  return { kind, dims: flat.dims, codeBytes, count, codes, ids };
}

const u64 = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
