// The Index: vectors in, ids and scores out. A vector travels
//   truncate (MRL) → quantize (codec per precision) → store (rows of a shard's memory)
//   → scan (fused kernel + top-k, per shard) → merge (exact, across shards) → rescore → scores.
//
// The index coordinates: it owns the options, the ids (src/ids.ts), query encoding, filters and
// the search queue, and merges what its shards (src/shard.ts, one WebAssembly memory each)
// return. Merging first-stage candidates across shards before rescoring gives exactly the
// result one big shard would.

import { binaryCodec, type Codec, type EncodedQuery, float32Codec, Int8Codec, rowBytesOf } from "./codec.js";
import { checkStillHeld, type EmbeddingsInput, type Matrix, type QueryInput, toMatrix, toVector } from "./embeddings.js";
import { checkChoice, checkInteger, describe } from "./errors.js";
import { IdMap } from "./ids.js";
import { type ContainerReader, type ContainerSource, FileFormatError, openContainer, type SectionInput, writeContainer } from "./file/container.js";
import {
  INDEX_FORMAT, INDEX_VERSION, type IndexMeta, type IndexPlan, indexSections, MAX_SAVED_SHARDS, META_TAG, readIndexPlan, readLiveBitmap, ROTATION_TAG, type SavedShard, shardTag,
} from "./file/index-file.js";
import { INDEX_OPTION_KEYS, LOAD_OPTION_KEYS, readOptions, SEARCH_OPTION_KEYS } from "./options.js";
import { prepareVectors, Rotation, type VectorPipeline, vectorPipeline } from "./rotation.js";
import { checkedInPlace, type Ranges, type RangesInput, rangesOf, toRanges } from "./quantize.js";
import { mergeCandidates, type Located } from "./scan.js";
import { headroomFor, Shard, type ShardScan } from "./shard.js";
import { type Column, type ColumnWidths, lastStartingBy, type Slot } from "./store.js";
import { RowFile } from "./file/row-file.js";
import type { KernelPath } from "./relaxed.js";
import { type Arena, buildFor, compile, MAX_MEMORY_BYTES, type MemoryBudget, PAGE_BYTES, pathChoice, ready } from "./wasm.js";

export type ScanPrecision = "binary" | "int8" | "float32";
export type RescorePrecision = "int8" | "float32" | "none";

export interface IndexOptions {
  /** Length of the vectors you add and search with. */
  dims: number;
  /** What the first stage scans: bit codes (Hamming), int8 codes (asymmetric) or floats. */
  precision: ScanPrecision;
  /** How the first stage's candidates are re-ranked; default "int8" for binary, "none" otherwise. */
  rescore?: RescorePrecision;
  /** A learned rotation (fitRotation) applied to every vector and query first; inputDims must equal dims. */
  rotation?: Rotation;
  /** Matryoshka truncation (after the rotation, if any) applied to every vector and query. */
  truncateTo?: number;
  /** L2-normalize vectors and queries (after truncation); default true with `truncateTo` or `rotation`, else false. */
  normalize?: boolean;
  /** int8 ranges ({ min, max } or [min, max]) over the stored dimensions (`truncateTo` if set). */
  ranges?: RangesInput;
  /** Ceiling for all of this index's WebAssembly memory, over every shard; default: none. */
  maxMemoryBytes?: number;
  /**
   * Ceiling for one shard's WebAssembly memory; past it, new rows go to a new shard. Default and
   * maximum 4 GiB, what a 32-bit WebAssembly memory can address.
   */
  shardBytes?: number;
  /**
   * Threads that scan: 1 (default) scans on the calling thread; N > 1 adds N − 1 workers per
   * shard over its shared memory; "auto" uses every core. Falls back to 1, with `threadingNote`
   * saying why, where shared memory or workers are unavailable.
   */
  threads?: number | "auto";
  /**
   * Node: keep the rescoring codes (int8 or float32) in this file instead of memory. Rows are
   * appended to it as they are added (the file is created, or emptied), so memory holds only the
   * first-stage codes, ids and bookkeeping; searches read their candidates' rows from it, verified
   * against block checksums kept in memory. `save` writes a normal index file. See the README.
   */
  rescoreTo?: string;
}

/** Options of `Index.load`. */
export interface LoadOptions {
  /** Threads that scan, as for `Index.create` (the file does not fix it); default 1. */
  threads?: number | "auto";
  /**
   * Where the rescoring codes are read from: "memory" (default) reads them into the index;
   * "disk" leaves them in the file (which stays open until `dispose`) and reads each search's
   * candidate rows on demand, verified block by block, so memory holds only the first-stage codes,
   * ids and bookkeeping. Such an index takes removals but not adds (see the README).
   */
  rescoreFrom?: "memory" | "disk";
}

/** Allowed ids: an iterable of them (`Set`, array, `Uint32Array`, …) or a predicate. */
export type Filter = Iterable<number> | ((id: number) => boolean);

export interface SearchOptions {
  /** How many results; default 10. */
  k?: number;
  /** Two-stage search rescores k × rescoreMultiplier candidates; default 4. */
  rescoreMultiplier?: number;
  /**
   * Only these ids may be returned: the k best allowed rows (fewer when fewer are allowed). A
   * predicate is called once per live row when the search is called, never inside the scan.
   */
  filter?: Filter;
}

/** Best first: `ids[i]` scored `scores[i]`; ties in score go to the smaller id. */
export interface SearchResult {
  ids: Uint32Array;
  scores: Float32Array;
}

/**
 * Codes quantized elsewhere (sentence-transformers `quantize_embeddings`, transformers.js):
 * `binary` as "ubinary" bytes (`Uint8Array`) or "binary" (`Int8Array`, byte − 128), and `int8`
 * as int8 codes made with this index's ranges. Rows back to back.
 */
export interface QuantizedCodes {
  binary?: Uint8Array | Int8Array;
  int8?: Int8Array;
}

const RESCORE_ALLOWED: Record<ScanPrecision, readonly RescorePrecision[]> = {
  binary: ["int8", "float32", "none"],
  int8: ["float32", "none"],
  float32: ["none"],
};
const MAX_DIMS = 65536;
const MAX_ID = 2 ** 32 - 1;
const MIN_AUTO_CALIBRATION_ROWS = 100;

/**
 * A search is split across threads only where each gets at least this many bytes of codes
 * (about 0.3 ms of scanning): handing rows to a worker and back costs about 0.1 ms.
 */
const PARALLEL_MIN_BYTES = 4 * 1024 * 1024;

/** Rescoring codes encoded and written to a `rescoreTo` file per step of an add. */
const ROW_FILE_PIECE_BYTES = 1024 * 1024;

/** Bytes of a column handed to the writer at once by `save` (a view of the shard's memory). */
const SAVE_PIECE_BYTES = 8 * 1024 * 1024;

/** Queries scanned together in one pass over the rows by searchBatch. */
const QUERY_BLOCK = 32;

/**
 * A filter that allows at most 1 row in this many is scanned as a list of rows (only those rows
 * are read); a larger one as a bitmap the scan checks for rows that would enter the top k.
 */
const LIST_FILTER_RATIO = 16;

/** What a search saw when it was called: each shard, the rows appended by then, and its filter. */
type Snapshot = Array<ShardScan & { shard: Shard }>;

/**
 * An in-memory vector index over WebAssembly SIMD kernels: binary, int8 or float32 scans
 * with exact top-k, optional rescoring of the candidates, optional MRL truncation, removal,
 * upserts, filtered search and shards past one WebAssembly memory.
 *
 * @example
 * const index = await Index.create({ dims: 384, precision: "binary", rescore: "int8" });
 * index.add(vectors);                         // the first add of ≥ 100 rows calibrates int8
 * const { ids, scores } = await index.search(query, { k: 10 });
 * index.dispose();
 */
export class Index {
  readonly dims: number;
  readonly storedDims: number;
  readonly precision: ScanPrecision;
  readonly rescore: RescorePrecision;
  readonly normalize: boolean;
  /** The learned rotation vectors and queries go through, if any. */
  readonly rotation: Rotation | undefined;

  /** Threads that scan (the calling thread included). */
  threads: number;
  /**
   * Why the index runs on fewer threads than asked for, if it does (or, rarely, why its threads
   * run the SIMD128 kernels although relaxed SIMD was chosen: the shared build failed its check).
   */
  threadingNote: string | undefined;

  private disposed = false;
  private shardList: Shard[] = [];
  /** Shards being built (a compaction's), counted against maxMemoryBytes like the others. */
  private readonly building = new Set<Shard>();
  private readonly widths: ColumnWidths;
  /** What shards keep in memory: `widths` less the rescoring column when it is on disk. */
  private readonly storeWidths: ColumnWidths;
  /** The file the rescoring rows are appended to (`rescoreTo`). */
  private rowFile: RowFile | undefined;
  /** The file the rescoring rows are read from (loaded with rescoreFrom "disk"). */
  private rescoreFile: ContainerReader | undefined;
  private readonly shardBytes: number;
  private readonly budget: MemoryBudget;
  private readonly shared: boolean;
  private readonly path: KernelPath;
  private readonly ids: IdMap;
  private readonly binary: Codec | undefined;
  private readonly float32: Codec | undefined;
  private int8: Int8Codec | undefined;
  /** Bytes of codes each thread must get before a search is split (the tests lower it). */
  private parallelMinBytes = PARALLEL_MIN_BYTES;
  /** Searches, and the removals and compactions that must wait for them, run in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;

  private constructor(options: {
    dims: number; storedDims: number; precision: ScanPrecision; rescore: RescorePrecision; normalize: boolean;
    ranges?: Ranges; maxMemoryBytes: number; shardBytes: number; shared: boolean; path: KernelPath; rotation?: Rotation;
    rescoreOnDisk?: boolean;
  }) {
    this.dims = options.dims;
    this.storedDims = options.storedDims;
    this.precision = options.precision;
    this.rescore = options.rescore;
    this.normalize = options.normalize;
    this.rotation = options.rotation;
    this.threads = 1;
    this.threadingNote = undefined;
    this.shardBytes = options.shardBytes;
    this.shared = options.shared;
    this.path = options.path;
    const uses = (p: ScanPrecision) => this.precision === p || this.rescore === p;
    const d = this.storedDims;
    this.binary = uses("binary") ? binaryCodec(d) : undefined;
    this.float32 = uses("float32") ? float32Codec(d) : undefined;
    this.widths = {
      ids: 4,
      binary: this.binary?.rowBytes ?? 0,
      int8: uses("int8") ? rowBytesOf("int8", d) : 0,
      float32: this.float32?.rowBytes ?? 0,
    };
    this.storeWidths = { ...this.widths };
    if (options.rescoreOnDisk) this.storeWidths[this.rescore as "int8" | "float32"] = 0;
    if (options.ranges) this.int8 = new Int8Codec(d, options.ranges);
    this.budget = { limit: options.maxMemoryBytes, used: () => (this.disposed ? 0 : this.arenaBytes("budget")) };
    const rows = () => this.appendedRows;
    this.ids = new IdMap({
      get rows() {
        return rows();
      },
      idAt: (row) => {
        const { shard, row: r } = this.locate(row);
        return shard.store.idOf(r);
      },
      isLive: (row) => {
        const { shard, row: r } = this.locate(row);
        return shard.isAlive(r);
      },
    });
    this.shardList.push(this.newShard("Index.create"));
  }

  /**
   * Creates an empty index (compiling the kernels on first use).
   *
   * @param options dims, precision, and optionally rescore, truncateTo, normalize, ranges,
   *   maxMemoryBytes, shardBytes, threads.
   * @returns a promise of the index; it rejects with TypeError/RangeError for invalid options.
   * @example
   * const index = await Index.create({ dims: 768, precision: "int8", truncateTo: 256 });
   */
  static async create(options: IndexOptions): Promise<Index> {
    const caller = "Index.create";
    return Index.construct(caller, readOptions(caller, options, INDEX_OPTION_KEYS, "an object with dims and precision") as IndexOptions);
  }

  /**
   * Loads an index written by `index.save`: the same options, ids, removals, shards and codes, so
   * every search returns exactly what the saved index returned. The whole file is verified on the
   * way in; a load that fails leaves nothing behind.
   *
   * @param source a file path (Node), a Uint8Array or ArrayBuffer, a Blob or File, or a
   *   ReadableStream<Uint8Array> (a fetch body).
   * @param options `threads` (as for `Index.create`; the file does not fix it) and `rescoreFrom`
   *   ("memory": the rescoring codes are read into memory, the default and for now the only choice).
   * @returns a promise of the index.
   * @throws (rejects) TypeError/RangeError for a bad source or options; FileFormatError (naming the
   *   file and the section) for a file that is not a quantvec index, was written by a newer version,
   *   is truncated, extended or corrupt anywhere; RangeError when memory runs out (maxMemoryBytes).
   * @example
   * await index.save("vectors.qv");
   * const again = await Index.load("vectors.qv", { threads: 2 });
   */
  static async load(source: ContainerSource, options: LoadOptions = {}): Promise<Index> {
    const caller = "Index.load";
    options = readOptions(caller, options, LOAD_OPTION_KEYS, "an object like { threads: 2 }");
    if (options.threads !== undefined && options.threads !== "auto") checkInteger(caller, "threads (a count or \"auto\")", options.threads, 1, 256);
    const rescoreFrom = checkChoice(caller, "rescoreFrom", options.rescoreFrom ?? "memory", ["memory", "disk"] as const);
    if (rescoreFrom === "disk" && typeof ReadableStream === "function" && source instanceof ReadableStream) {
      throw new TypeError(
        `${caller}: rescoreFrom "disk" reads rows from the source at every search, and a ReadableStream cannot be read again ` +
          "(it would be held whole in memory): pass a file path (Node), a Blob or File, or load it with rescoreFrom \"memory\"",
      );
    }
    await ready();
    const file = await openContainer(source, { caller });
    let index: Index | undefined;
    try {
      const plan = await readIndexPlan(file, caller);
      const { meta } = plan;
      const formatError = (tag: string) => (error: unknown) => {
        if (error instanceof TypeError || error instanceof RangeError) throw new FileFormatError(caller, file.name, `section ${JSON.stringify(tag)}`, error.message);
        throw error;
      };
      let rotation: Rotation | undefined;
      if (meta.rotation !== undefined) {
        try {
          rotation = new Rotation(meta.rotation.method, meta.rotation.inputDims, meta.rotation.outputDims, plan.rotation!);
        } catch (error) {
          formatError(ROTATION_TAG)(error);
        }
      }
      index = await Index.construct(caller, {
        dims: meta.dims, precision: meta.precision, rescore: meta.rescore, rotation, truncateTo: meta.storedDims, normalize: meta.normalize,
        ranges: meta.ranges, maxMemoryBytes: meta.maxMemoryBytes, shardBytes: meta.shardBytes, threads: options.threads,
      }, rescoreFrom === "disk").catch(formatError(META_TAG));
      await index.restore(caller, file, plan);
      // Rescoring from disk reads the file until the index is disposed.
      if (index.rescoringOnDisk) index.rescoreFile = file;
      return index;
    } catch (error) {
      index?.dispose();
      throw error;
    } finally {
      if (index?.rescoreFile !== file) await file.close();
    }
  }

  /** Index.create after its options were read: checks them, compiles, starts the threads. */
  private static async construct(caller: string, options: IndexOptions, rescoreFromDisk = false): Promise<Index> {
    const dims = checkInteger(caller, "dims", options.dims, 1, MAX_DIMS);
    const precision = checkChoice(caller, "precision", options.precision, ["binary", "int8", "float32"] as const);
    const rescore = checkChoice(
      caller, `rescore (with precision "${precision}")`,
      options.rescore ?? (precision === "binary" ? "int8" : "none"), RESCORE_ALLOWED[precision],
    );
    const { rotation, storedDims, normalize } = vectorPipeline(caller, options, dims);
    const ranges = options.ranges === undefined ? undefined : toRanges(caller, options.ranges, storedDims, "ranges");
    const maxMemoryBytes = options.maxMemoryBytes === undefined ? Number.MAX_SAFE_INTEGER
      : checkInteger(caller, "maxMemoryBytes", options.maxMemoryBytes, 4 * PAGE_BYTES, Number.MAX_SAFE_INTEGER);
    const shardBytes = options.shardBytes === undefined ? MAX_MEMORY_BYTES
      : checkInteger(caller, "shardBytes", options.shardBytes, 1, MAX_MEMORY_BYTES);
    const requested = options.threads === "auto" ? await availableParallelism()
      : checkInteger(caller, "threads (a count or \"auto\")", options.threads ?? 1, 1, 256);
    await ready();
    let path = pathChoice().path;
    let note = requested > 1 ? sharedMemoryUnavailable() : undefined;
    let kernelNote: string | undefined;
    if (requested > 1 && note === undefined) {
      const failure = (p: KernelPath) => compile(buildFor(p, true)).then(() => undefined, (error: Error) => error.message.replace(/^quantvec: /, ""));
      note = await failure(path);
      // The relaxed shared build self-checks on its own; if it fails, the SIMD128 one may serve.
      if (note !== undefined && path !== "simd128") {
        const plain = await failure("simd128");
        if (plain === undefined) {
          kernelNote = `the threads run the SIMD128 kernels: ${note}`;
          path = "simd128";
        }
        note = plain;
      }
    }
    const shared = requested > 1 && note === undefined;
    const rescoreTo = checkRescoreTo(caller, options.rescoreTo, rescore);
    const rescoreOnDisk = rescore !== "none" && (rescoreTo !== undefined || rescoreFromDisk);
    checkShardBytes(caller, shardBytes, storedDims, precision, rescoreOnDisk ? "none" : rescore);
    const index = new Index({ dims, storedDims, precision, rescore, normalize, rotation, ranges, maxMemoryBytes, shardBytes, shared, path, rescoreOnDisk });
    if (rescoreTo !== undefined) {
      index.rowFile = await RowFile.create(caller, rescoreTo, index.widths[rescore as "int8" | "float32"]);
      index.shardList[0].disk = { column: index.rowFile.column, first: 0 };
    }
    if (shared) {
      try {
        await index.shardList[0].startWorkers(caller, requested - 1);
        index.threads = requested;
      } catch (error) {
        note = `workers could not start (${(error as Error).message})`;
      }
    }
    const notes = [note === undefined ? undefined : `asked for ${requested} threads, running on 1: ${note}`, kernelNote];
    index.threadingNote = notes.filter((n) => n !== undefined).join("; ") || undefined;
    return index;
  }

  /** The kernels this index scans with ("simd128" or "relaxed-simd"): `kernels.features.path` when it was created. */
  get kernelPath(): KernelPath {
    return this.path;
  }

  /** Live vectors held (removed ones not counted). */
  get size(): number {
    return this.disposed ? 0 : this.shardList.reduce((sum, shard) => sum + shard.liveRows, 0);
  }

  /** Shards (WebAssembly memories) the rows live in. */
  get shards(): number {
    return this.disposed ? 0 : this.shardList.length;
  }

  /** Bytes of codes stored per vector (bits, int8 codes and floats; the 4-byte id not counted). */
  get bytesPerVector(): number {
    const { binary, int8, float32 } = this.widths;
    return binary + int8 + float32;
  }

  /** Bytes this index holds now: every shard's WebAssembly memory (codes, ids, live bits, scratch, spare capacity) and its id table. */
  get memoryBytes(): number {
    if (this.disposed) return 0;
    // Rows on disk keep their block checksums (8 bytes per 4 KiB) in memory.
    const disk = this.rowFile?.memoryBytes ?? this.shardList.reduce((sum, shard) => sum + (shard.disk?.column.memoryBytes ?? 0), 0);
    return this.ids.bytes + this.arenaBytes("memory") + disk;
  }

  /**
   * Bytes over every shard: of WebAssembly memory ("memory"), or as maxMemoryBytes counts them
   * ("budget": a shard's memory, or its rows plus the scratch headroom kept for its searches if more).
   */
  private arenaBytes(count: "memory" | "budget"): number {
    let bytes = 0;
    for (const shard of [...this.shardList, ...this.building]) bytes += count === "memory" ? shard.arena.byteLength : shard.arena.budgetBytes;
    return bytes;
  }

  /** True when the rescoring codes are read from a file (`rescoreTo`, or loaded with rescoreFrom "disk"), not memory. */
  private get rescoringOnDisk(): boolean {
    return this.rescore !== "none" && this.storeWidths[this.rescore] === 0;
  }

  /** True when this index keeps int8 codes, which need ranges. */
  get usesInt8(): boolean {
    return this.widths.int8 > 0;
  }

  /**
   * Sets the int8 ranges from sample vectors (truncated and normalized like every added vector).
   * Call it before the first add; codes already stored cannot be re-quantized.
   *
   * @param sample vectors of `dims` values in any accepted shape.
   * @throws TypeError/RangeError for bad input; Error when int8 codes are already stored.
   * @example
   * index.calibrate(sampleOfYourCorpus);
   */
  calibrate(sample: EmbeddingsInput): void {
    const caller = "index.calibrate";
    this.live(caller);
    if (this.usesInt8 && this.appendedRows > 0) {
      throw new Error(
        `${caller}: the index already holds ${this.appendedRows} vectors quantized with its current ranges; ` +
          "calibrate before the first add (or create a new index)",
      );
    }
    const ranges = rangesOf(this.prepare(caller, toMatrix(caller, sample, { dims: this.dims, name: "sample" }), "sample"), caller, "sample");
    this.int8 = new Int8Codec(this.storedDims, ranges);
  }

  /**
   * Adds vectors. Every check runs before anything changes: a rejected call leaves the index as it was.
   *
   * @param vectors rows of `dims` values in any accepted shape.
   * @param ids one id per row, integers in [0, 2^32); default: consecutive from one past the largest id so far.
   * @returns the ids of the added rows.
   * @throws TypeError/RangeError for bad vectors or ids, an id already in the index, int8 codes
   *   without ranges (pass `ranges`, call `calibrate`, or add at least 100 rows first), or memory exhaustion.
   * @example
   * const ids = index.add([[0.1, 0.2, ...], [0.3, 0.1, ...]], [17, 42]);
   */
  add(vectors: EmbeddingsInput, ids?: ArrayLike<number>): Uint32Array {
    const caller = "index.add";
    this.live(caller);
    const { matrix, rowIds } = this.readRows(caller, vectors, ids, "new");
    const int8 = this.int8OrCalibrate(caller, matrix);
    this.append(caller, rowIds, (arena, ptr, column, first, count) => {
      if (column === "int8") int8!.encodeRows(arena, ptr, matrix, first, count);
      else this[column]!.encodeRows(arena, ptr, matrix, first, count);
    }, int8);
    return rowIds;
  }

  /**
   * Adds new ids and replaces the vectors of ids the index holds, in one step: a rejected call
   * changes nothing. A replaced row takes its place after every other row (ties still go to
   * the smaller id, so results do not depend on where a row is stored).
   *
   * @param vectors rows of `dims` values in any accepted shape.
   * @param ids one id per row, integers in [0, 2^32), no id twice.
   * @returns how many of the ids were already in the index (and were replaced).
   * @throws TypeError/RangeError as `add`, and for a missing ids argument or mismatched lengths.
   * @example
   * index.upsert([vectorFor17], [17]);
   */
  upsert(vectors: EmbeddingsInput, ids: ArrayLike<number>): number {
    const caller = "index.upsert";
    this.live(caller);
    if (ids === undefined) throw new TypeError(`${caller}: ids is undefined; upsert needs one id per row`);
    const { matrix, rowIds } = this.readRows(caller, vectors, ids, "any");
    const int8 = this.int8OrCalibrate(caller, matrix);
    const replaced = Array.from(rowIds, (id) => this.ids.find(id)).filter((row) => row >= 0);
    this.append(caller, rowIds, (arena, ptr, column, first, count) => {
      if (column === "int8") int8!.encodeRows(arena, ptr, matrix, first, count);
      else this[column]!.encodeRows(arena, ptr, matrix, first, count);
    }, int8, replaced);
    return replaced.length;
  }

  /**
   * Adds codes quantized elsewhere: sentence-transformers' `quantize_embeddings` or
   * transformers.js output. The index takes the columns it keeps: `binary` for a binary scan,
   * `int8` for an int8 scan or int8 rescoring (made with this index's ranges). An index that
   * keeps float32 vectors needs them: use `add`.
   *
   * @param codes `{ binary?, int8? }`: rows back to back, ceil(storedDims / 8) bytes or storedDims codes each.
   * @param ids as for `add`.
   * @returns the ids of the added rows.
   * @throws TypeError for a wrong typed array, a column the index does not use or one it needs
   *   missing; RangeError for byte lengths, nonzero padding bits, missing ranges, or ids as `add`.
   * @example
   * const { data } = quantize(vectors, "ubinary"); // or sentence-transformers' output
   * index.addQuantized({ binary: data });
   */
  addQuantized(codes: QuantizedCodes, ids?: ArrayLike<number>): Uint32Array {
    const caller = "index.addQuantized";
    this.live(caller);
    if (typeof codes !== "object" || codes === null) {
      throw new TypeError(`${caller}: codes must be an object like { binary: Uint8Array }, got ${describe(codes)}`);
    }
    if (this.float32 !== undefined) {
      throw new TypeError(`${caller}: this index keeps float32 vectors (precision ${this.precision}, rescore ${this.rescore}), which codes cannot provide; use add`);
    }
    for (const key of Object.keys(codes)) {
      if (key !== "binary" && key !== "int8") throw new TypeError(`${caller}: codes.${key} is not a column; codes may have binary and int8`);
    }
    const columns = (["binary", "int8"] as const).filter((column) => this.widths[column] > 0);
    for (const column of ["binary", "int8"] as const) {
      const given = codes[column] !== undefined;
      const used = columns.includes(column);
      if (given && !used) throw new TypeError(`${caller}: codes.${column} was given, but this index does not keep ${column} codes (it keeps ${columns.join(" and ")})`);
      if (!given && used) throw new TypeError(`${caller}: codes.${column} is missing; this index keeps ${columns.join(" and ")} codes`);
    }
    const copies: Partial<Record<"binary" | "int8", Uint8Array>> = {};
    let rows = -1;
    for (const column of columns) {
      const value: unknown = codes[column];
      const expected = column === "binary" ? "a Uint8Array (ubinary) or Int8Array (binary)" : "an Int8Array";
      if (!(value instanceof Int8Array || (column === "binary" && value instanceof Uint8Array))) {
        throw new TypeError(`${caller}: codes.${column} is ${describe(value)}; expected ${expected}`);
      }
      const width = this.widths[column];
      const copy = new Uint8Array(value.length);
      copy.set(value instanceof Int8Array ? new Uint8Array(value.buffer, value.byteOffset, value.length) : value);
      if (copy.length === 0 || copy.length % width !== 0) {
        throw new RangeError(`${caller}: codes.${column} has ${copy.length} bytes, not a positive multiple of ${width} (bytes per row)`);
      }
      if (rows >= 0 && copy.length / width !== rows) {
        throw new RangeError(`${caller}: codes.binary holds ${rows} rows but codes.int8 holds ${copy.length / width}`);
      }
      rows = copy.length / width;
      if (column === "binary" && value instanceof Int8Array) for (let i = 0; i < copy.length; i++) copy[i] ^= 0x80;
      if (column === "binary" && this.storedDims % 8 !== 0) {
        const padding = 0xff >> (this.storedDims % 8);
        for (let r = 0; r < rows; r++) {
          if ((copy[(r + 1) * width - 1] & padding) !== 0) {
            throw new RangeError(`${caller}: codes.binary row ${r} sets padding bits past dimension ${this.storedDims}; they must be 0 (packbits pads with zeros)`);
          }
        }
      }
      copies[column] = copy;
    }
    if (columns.includes("int8") && this.int8 === undefined) {
      throw new RangeError(`${caller}: int8 codes need the ranges they were made with: pass ranges to Index.create or call index.calibrate(sample) first`);
    }
    const rowIds = this.checkNewIds(caller, ids, rows, "new", "codes");
    this.append(caller, rowIds, (arena, ptr, column, first, count) => {
      const width = this.widths[column];
      arena.u8.set(copies[column as "binary" | "int8"]!.subarray(first * width, (first + count) * width), ptr);
    }, this.int8);
    return rowIds;
  }

  /**
   * Removes the rows with these ids; ids the index does not hold are skipped. Searches called
   * before it still see the rows; searches called after never return them.
   *
   * @param ids integers in [0, 2^32): an array, a typed array or any iterable.
   * @returns how many of the ids were in the index.
   * @throws TypeError/RangeError for an id that is not an integer in range (nothing is removed then).
   * @example
   * index.remove([17, 42]);
   */
  remove(ids: Iterable<number> | ArrayLike<number>): number {
    const caller = "index.remove";
    this.live(caller);
    const list = readIds(caller, ids, "ids");
    const removed: Array<{ shard: Shard; row: number }> = [];
    for (const id of list) {
      const row = this.ids.find(id);
      if (row < 0) continue;
      const at = this.locate(row);
      at.shard.remove(at.row);
      this.ids.removed(id);
      removed.push(at);
    }
    if (removed.length > 0) this.afterSearches(() => removed.forEach(({ shard, row }) => killFollowing(shard, row)));
    return removed.length;
  }

  /**
   * Whether the index holds `id`.
   *
   * @param id an integer in [0, 2^32).
   * @throws TypeError/RangeError when `id` is not such an integer.
   * @example
   * if (!index.has(17)) index.add([vector], [17]);
   */
  has(id: number): boolean {
    const caller = "index.has";
    this.live(caller);
    checkId(caller, "id", id);
    return this.ids.find(id) >= 0;
  }

  /**
   * The binary codes of the live rows with their ids, in the order the rows are stored: what
   * `quantvec export --faiss` writes. The ids are read at the call; the codes are copied out
   * about 1 MiB at a time as `codes` is iterated, and iterating throws if the index was changed
   * since the call (an add, upsert, removal, compaction or dispose).
   *
   * @returns `ids`, one per live row, and `codes`: ceil(storedDims / 8) bytes per row in the same
   *   order, MSB first, padding bits zero (sentence-transformers' "ubinary", faiss's binary codes).
   * @throws TypeError when the index keeps no binary codes (neither precision nor rescore is "binary").
   * @example
   * const { ids, codes } = index.binaryCodes();
   * await writeFaissBinary("codes.faiss", { dims: 8 * Math.ceil(index.storedDims / 8), count: ids.length, codes, ids });
   */
  binaryCodes(): { ids: Uint32Array; codes: Iterable<Uint8Array> } {
    const caller = "index.binaryCodes";
    this.live(caller);
    if (this.binary === undefined) {
      throw new TypeError(`${caller}: this index keeps no binary codes (precision ${this.precision}, rescore ${this.rescore})`);
    }
    const shards = [...this.shardList];
    const width = this.widths.binary;
    /** Runs of consecutive live rows: the segment, its first row and how many. */
    function* liveRuns() {
      for (const shard of shards) {
        for (const segment of shard.store.segments) {
          for (let r = 0; r < segment.count;) {
            if (!shard.isAlive(segment.rowStart + r)) {
              r++;
              continue;
            }
            let count = 1;
            while (r + count < segment.count && shard.isAlive(segment.rowStart + r + count)) count++;
            yield { arena: shard.arena, segment, first: r, count };
            r += count;
          }
        }
      }
    }
    const ids = new Uint32Array(this.size);
    let filled = 0;
    for (const { arena, segment, first, count } of liveRuns()) {
      ids.set(arena.u32.subarray((segment.ptr.ids >>> 2) + first, (segment.ptr.ids >>> 2) + first + count), filled);
      filled += count;
    }
    const state = () => `${this.disposed} ${this.appendedRows} ${this.size} ${this.shardList.length}`;
    const before = state();
    const unchanged = () => {
      if (state() !== before || this.shardList.some((shard, i) => shard !== shards[i])) {
        throw new Error(`${caller}: the index changed while its codes were read; call binaryCodes() again`);
      }
    };
    const batchRows = Math.max(1, Math.floor((1 << 20) / width));
    function* codes() {
      let batch = new Uint8Array(Math.min(batchRows, ids.length) * width);
      let rows = 0;
      for (const { arena, segment, first, count } of liveRuns()) {
        for (let done = 0; done < count;) {
          unchanged();
          const n = Math.min(count - done, batchRows - rows);
          const from = segment.ptr.binary + (first + done) * width;
          batch.set(arena.u8.subarray(from, from + n * width), rows * width);
          rows += n;
          done += n;
          if (rows === batchRows) {
            yield batch;
            batch = new Uint8Array(batch.length);
            rows = 0;
          }
        }
      }
      if (rows > 0) yield batch.subarray(0, rows * width);
    }
    return { ids, codes: { [Symbol.iterator]: codes } };
  }

  /**
   * Reclaims the memory of removed rows: every shard that has some is copied, live rows only, into
   * a new memory of the size they need, and the old memory is released (`memoryBytes` goes down
   * when enough was removed). Results are identical before and after. It waits for the searches
   * called before it; searches called after it answer as they would have without it.
   *
   * @returns a promise that resolves when the shards are replaced.
   * @throws (rejects) RangeError when there is no memory for the copy (maxMemoryBytes): the shards
   *   compacted by then stay compacted, results are unchanged.
   * @example
   * index.remove(staleIds);
   * await index.compact();
   */
  async compact(): Promise<void> {
    const caller = "index.compact";
    this.live(caller);
    if (this.rescoringOnDisk) {
      throw new Error(
        `${caller}: this index's rescoring codes are on disk (${this.rowFile === undefined ? "loaded with rescoreFrom \"disk\"" : "rescoreTo"}), ` +
          "where removed rows cannot be reclaimed in place (searches already skip them). To drop them: save the index, " +
          "load the file with rescoreFrom \"memory\", compact and save again",
      );
    }
    await new Promise<void>((resolve, reject) => {
      this.afterSearches(async () => {
        try {
          await this.compactShards(caller);
          resolve();
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /**
   * The `k` nearest vectors to `query` (default k = 10): best first, ties by smaller id; fewer
   * when the index (or the filter) allows fewer. See the README for what each precision's score estimates.
   *
   * @param query `dims` values: a vector, or a one-row tensor (`[d]` or `[1, d]`) or matrix.
   * @param options `k` (positive integer), `rescoreMultiplier` (positive integer, default 4), `filter`.
   * @returns a promise of `{ ids, scores }`; it rejects with TypeError/RangeError for bad input,
   *   or with the error a filter predicate threw.
   * @example
   * const { ids, scores } = await index.search(queryVector, { k: 5, filter: new Set([1, 2, 3]) });
   */
  async search(query: QueryInput, options: SearchOptions = {}): Promise<SearchResult> {
    const caller = "index.search";
    this.live(caller);
    const { k, multiplier, filter } = this.checkSearchOptions(caller, options);
    const vector = toVector(caller, query, this.dims);
    const prepared = this.prepare(caller, { data: vector, rows: 1, cols: this.dims }, "query").data;
    return (await this.enqueueSearch(caller, [prepared], k, multiplier, this.snapshot(caller, filter)))[0];
  }

  /**
   * `search` for many queries; every query is validated before any is run.
   *
   * @param queries rows of `dims` values in any accepted shape.
   * @param options as for `search`; the filter applies to every query.
   * @returns a promise of one `{ ids, scores }` per query, in order.
   * @example
   * const results = await index.searchBatch([q1, q2, q3], { k: 10 });
   */
  async searchBatch(queries: EmbeddingsInput, options: SearchOptions = {}): Promise<SearchResult[]> {
    const caller = "index.searchBatch";
    this.live(caller);
    const { k, multiplier, filter } = this.checkSearchOptions(caller, options);
    const matrix = this.prepare(caller, toMatrix(caller, queries, { dims: this.dims, name: "queries" }), "queries");
    const rows = Array.from({ length: matrix.rows }, (_, r) => matrix.data.slice(r * this.storedDims, (r + 1) * this.storedDims));
    return this.enqueueSearch(caller, rows, k, multiplier, this.snapshot(caller, filter));
  }

  /**
   * Writes the index to a file or stream: options, rotation, ranges, ids, removals, every shard's
   * codes, checksummed (docs/FORMAT.md). The file holds the index as it is when `save` is called;
   * adds, removals and searches may go on meanwhile (compactions wait). The codes stream out of the
   * index's memory: no copy of the index is made.
   *
   * @param target a file path (Node: written to a temporary file beside it, flushed, then renamed
   *   over it, so the path never holds a partial file) or a WritableStream<Uint8Array> (closed at
   *   the end, aborted on failure).
   * @returns a promise that resolves once every byte is written (and, for a path, durable).
   * @param extraSections @internal for layers over the index (TextIndex): non-critical sections
   *   written after the index's own, which Index.load skips.
   * @throws (rejects) TypeError for another target; RangeError for an index of more than 255
   *   shards; the target's I/O errors (the path then keeps its old content).
   * @example
   * await index.save("vectors.qv");
   * const again = await Index.load("vectors.qv");
   */
  async save(target: string | WritableStream<Uint8Array>, extraSections: readonly SectionInput[] = []): Promise<void> {
    const caller = "index.save";
    this.live(caller);
    if (typeof target !== "string" && !(typeof WritableStream === "function" && target instanceof WritableStream)) {
      throw new TypeError(`${caller}: target must be a file path or a WritableStream<Uint8Array>, got ${describe(target)}`);
    }
    if (this.shardList.length > MAX_SAVED_SHARDS) {
      throw new RangeError(`${caller}: the index has ${this.shardList.length} shards; a file holds at most ${MAX_SAVED_SHARDS} (use a larger shardBytes)`);
    }
    const shards = this.shardList.map((shard) => this.savedShard(shard));
    const meta: IndexMeta = {
      format: INDEX_FORMAT, version: INDEX_VERSION, dims: this.dims, storedDims: this.storedDims,
      precision: this.precision, rescore: this.rescore, normalize: this.normalize,
      ...(this.rotation && { rotation: { method: this.rotation.method, inputDims: this.rotation.inputDims, outputDims: this.rotation.outputDims } }),
      ...(this.int8 && { ranges: { min: Array.from(this.int8.ranges.min), max: Array.from(this.int8.ranges.max) } }),
      ...(this.budget.limit < Number.MAX_SAFE_INTEGER && { maxMemoryBytes: this.budget.limit }),
      shardBytes: this.shardBytes, nextId: this.ids.nextId,
      shards: this.shardList.map((shard, s) => ({ rows: shards[s].rows, live: shard.liveRows })),
    };
    const sections = [...indexSections(meta, this.rotation?.matrix, shards), ...extraSections];
    await this.enqueue(() => writeContainer(target, sections, { caller }));
  }

  /** Frees the index's memory. Every later call throws; pending searches reject; disposing twice is harmless. */
  dispose(): void {
    this.disposed = true;
    for (const shard of this.shardList) shard.dispose();
    for (const shard of this.building) shard.dispose();
    this.shardList = [];
    this.building.clear();
    void this.rowFile?.close();
    void this.rescoreFile?.close();
  }

  // ---- validation ----------------------------------------------------------------------

  private live(caller: string): void {
    if (this.disposed) throw new TypeError(`${caller}: this index was disposed; create a new one`);
  }

  private checkSearchOptions(caller: string, options: SearchOptions): { k: number; multiplier: number; filter: Filter | undefined } {
    options = readOptions(caller, options, SEARCH_OPTION_KEYS, "an object like { k: 10 }");
    const filter = options.filter;
    if (filter !== undefined && typeof filter !== "function" && !isIterable(filter)) {
      throw new TypeError(`${caller}: filter is ${describe(filter)}; expected an iterable of ids (Set, array, Uint32Array) or a function (id) => boolean`);
    }
    return {
      k: checkInteger(caller, "k", options.k ?? 10, 1, 2 ** 31 - 1),
      multiplier: checkInteger(caller, "rescoreMultiplier", options.rescoreMultiplier ?? 4, 1, 2 ** 16),
      filter,
    };
  }

  /**
   * Validates ids for `rows` rows (or makes default ones) without recording them: no id twice,
   * and (`new`) none the index holds.
   */
  private checkNewIds(caller: string, ids: ArrayLike<number> | undefined, rows: number, held: "new" | "any", rowsName = "vectors"): Uint32Array {
    if (ids === undefined) {
      if (this.ids.nextId + rows - 1 > MAX_ID) {
        throw new RangeError(`${caller}: default ids would pass ${MAX_ID}; pass ids explicitly`);
      }
      return Uint32Array.from({ length: rows }, (_, i) => this.ids.nextId + i);
    }
    if (!(Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView)))) {
      throw new TypeError(`${caller}: ids is ${describe(ids)}; expected an array of integers`);
    }
    if (ids.length !== rows) {
      throw new RangeError(`${caller}: ids has ${ids.length} entries but ${rowsName} has ${rows} rows`);
    }
    const copy = Array.from({ length: rows }, (_, i) => ids[i]);
    const batch = new Set<number>();
    copy.forEach((id, i) => {
      checkId(caller, `ids[${i}]`, id);
      if (batch.has(id)) throw new RangeError(`${caller}: ids[${i}] = ${id} is a duplicate within this call`);
      if (held === "new" && this.ids.find(id) >= 0) {
        throw new RangeError(`${caller}: ids[${i}] = ${id} is a duplicate of an id already in the index (upsert replaces vectors)`);
      }
      batch.add(id);
    });
    return Uint32Array.from(copy);
  }

  /**
   * The prepared rows of `vectors` (add, upsert) and their checked ids, the rows checked first.
   * Most inputs are read once into a private copy (toMatrix) that is validated and used. A
   * genuine Float32Array over an ArrayBuffer (not shared) is used in place, saving a copy of every
   * float (and the first touch of its pages): only this thread can change it, and only the
   * caller's code can, which runs here only while explicit ids are read. So it is checked in
   * WebAssembly, and checked again after such ids when the rows are encoded from it as they are.
   */
  private readRows(caller: string, vectors: EmbeddingsInput, ids: ArrayLike<number> | undefined, held: "new" | "any"): { matrix: Matrix; rowIds: Uint32Array } {
    const view = checkedInPlace(caller, vectors, this.dims, "vectors");
    const matrix = this.prepare(caller, view ?? toMatrix(caller, vectors, { dims: this.dims, name: "vectors" }), "vectors");
    const rowIds = this.checkNewIds(caller, ids, matrix.rows, held); // may run the caller's code (a Proxy, getters)
    if (matrix === view && ids !== undefined) {
      checkStillHeld(caller, view, "vectors", "ids were read");
      checkedInPlace(caller, vectors, this.dims, "vectors");
    }
    return { matrix, rowIds };
  }

  /** The int8 codec to write with: the one set, or one calibrated on this first add's rows. */
  private int8OrCalibrate(caller: string, matrix: Matrix): Int8Codec | undefined {
    if (!this.usesInt8 || this.int8 !== undefined) return this.int8;
    if (matrix.rows < MIN_AUTO_CALIBRATION_ROWS) {
      throw new RangeError(
        `${caller}: int8 codes need ranges; this first add has ${matrix.rows} rows, fewer than the ` +
          `${MIN_AUTO_CALIBRATION_ROWS} needed to calibrate on them. Pass ranges to Index.create or call index.calibrate(sample) first`,
      );
    }
    return new Int8Codec(this.storedDims, rangesOf(matrix, caller, "vectors"));
  }

  // ---- rows and shards --------------------------------------------------------------------

  /** Rows appended over every shard (live or removed): global row numbers run below it. */
  private get appendedRows(): number {
    const last = this.shardList.at(-1);
    return last === undefined ? 0 : last.offset + last.rows;
  }

  /** The shard and shard row of a global row. */
  private locate(row: number): { shard: Shard; row: number } {
    const shard = lastStartingBy(this.shardList, (s) => s.offset, row);
    return { shard, row: row - shard.offset };
  }

  /** Bytes a row takes in a shard: its columns and its live bit. */
  private get bytesPerRow(): number {
    const { binary, int8, float32 } = this.storeWidths;
    return binary + int8 + float32 + 4 + 1 / 8;
  }

  /**
   * A shard as `save` writes it: its rows and live bits as they are now, and its columns as views
   * of its memory, taken piece by piece as the writer asks (the memory may grow meanwhile).
   */
  private savedShard(shard: Shard): SavedShard {
    const rows = shard.rows;
    const columns = { ids: "ids", scan: this.precision, rescore: this.rescore } as const;
    const widths = this.widths;
    const disk = shard.disk;
    return {
      rows,
      live: shard.liveBits(rows),
      // Rows on disk are copied across, verified block by block on the way.
      column: (section) => (section === "rescore" && disk !== undefined ? disk.column.chunks("index.save", disk.first, rows) : inMemory(section)),
    };
    function* inMemory(section: "ids" | "scan" | "rescore"): Iterable<Uint8Array> {
      const column = columns[section];
      if (column === "none") return;
      for (const segment of shard.store.segments) {
        if (segment.rowStart >= rows) break;
        const start = segment.ptr[column];
        const end = start + Math.min(segment.count, rows - segment.rowStart) * widths[column];
        for (let at = start; at < end; at += SAVE_PIECE_BYTES) yield shard.arena.u8.subarray(at, Math.min(at + SAVE_PIECE_BYTES, end));
      }
    }
  }

  /**
   * Fills a newly constructed index with the shards of a file whose sections `plan` has checked:
   * each shard's memory is allocated in full first, then its columns are read straight into it.
   */
  private async restore(caller: string, file: ContainerReader, plan: IndexPlan): Promise<void> {
    let offset = 0;
    for (const [s, saved] of plan.meta.shards.entries()) {
      let shard = this.shardList[0];
      if (s > 0) {
        shard = this.newShard(caller);
        shard.offset = offset;
        this.shardList.push(shard);
        if (this.threads > 1) await shard.startWorkers(caller, this.threads - 1).catch(() => {});
      }
      const sections = plan.shards[s];
      if (saved.rows > 0) {
        const slots = shard.store.reserve(caller, saved.rows);
        const segment = slots[0].segment; // an empty store reserves one segment for all rows
        // Every column is allocated before the first read: the memory does not grow under a read.
        const region = (column: Column) => shard.arena.u8.subarray(segment.ptr[column], segment.ptr[column] + saved.rows * this.widths[column]);
        await file.readInto(sections.ids!.tag, region("ids"));
        await file.readInto(sections.scan!.tag, region(this.precision));
        if (this.rescoringOnDisk) shard.disk = { column: file.diskColumn(sections.rescore!.tag, this.widths[this.rescore as "int8" | "float32"]), first: 0 };
        else if (this.rescore !== "none") await file.readInto(sections.rescore!.tag, region(this.rescore));
        const live = await readLiveBitmap(file, caller, sections.live!.tag, saved.rows, saved.live);
        shard.store.commit(slots);
        shard.restoreLive(saved.rows, live);
      }
      offset += saved.rows;
    }
    this.ids.nextId = plan.meta.nextId;
    this.checkRestoredIds(caller, file, plan);
  }

  /** Rebuilds the id map from the loaded rows; every id below nextId, no live id twice. */
  private checkRestoredIds(caller: string, file: ContainerReader, plan: IndexPlan): void {
    const fail = (problem: string): never => {
      throw new FileFormatError(caller, file.name, `sections "${shardTag("ids", 0)}"…"${shardTag("ids", plan.meta.shards.length - 1)}"`, problem);
    };
    for (const [s, shard] of this.shardList.entries()) {
      for (const segment of shard.store.segments) {
        const u32 = shard.arena.u32;
        const first = segment.ptr.ids >>> 2;
        for (let r = 0; r < segment.count; r++) {
          if (u32[first + r] >= plan.meta.nextId) fail(`shard ${s} row ${r} has id ${u32[first + r]}, not below the next id ${plan.meta.nextId} the metadata gives`);
        }
      }
    }
    this.ids.rebuild();
    const live = this.size;
    const mapped = this.ids.hashedCount;
    if (mapped !== undefined && mapped !== live) fail(`${live - mapped} live ids appear twice`);
  }

  private newShard(caller: string): Shard {
    return new Shard(caller, {
      widths: this.storeWidths, maxBytes: this.shardBytes, shared: this.shared, path: this.path, budget: this.budget,
    });
  }

  /**
   * Appends rows with `rowIds`, their columns written by `write`, after reserving room in the
   * last shard and new ones as needed: every step that can fail comes before the first write.
   * `replaced` global rows are removed in the same step (upsert).
   */
  private append(
    caller: string, rowIds: Uint32Array,
    write: (arena: Arena, ptr: number, column: "binary" | "int8" | "float32", first: number, count: number) => void,
    int8: Int8Codec | undefined, replaced: number[] = [],
  ): void {
    if (this.rescoringOnDisk && this.rowFile === undefined) {
      throw new Error(
        `${caller}: this index was loaded with rescoreFrom "disk": its rescoring codes are read from the file it was loaded from, ` +
          "which does not grow. Load it with rescoreFrom \"memory\" to add vectors; nothing was changed",
      );
    }
    const rows = rowIds.length;
    const placed: Array<{ shard: Shard; slots: Slot[] }> = [];
    const fresh: Shard[] = [];
    let shard = this.shardList.at(-1)!;
    const last = { shard, mark: shard.arena.mark() }; // the one existing shard a reservation can touch
    let left = rows;
    try {
      for (;;) {
        // One reservation per shard: a shard's rows become visible (and its room changes) only at commit.
        const room = Math.min(left, shard.store.room());
        // A full shard makes way for a new one, unless maxMemoryBytes (not shardBytes) is what is full.
        // Which of the two binds does not change with a reservation, so ask before reserving: a refused
        // add then grows no memory.
        const shardFull = shard.arena.room(false) <= shard.arena.room(true); // its own ceiling binds, not the budget
        const newShardBytes = PAGE_BYTES + headroomFor(Math.min(this.shardBytes, this.budget.limit)) + 64 * this.bytesPerRow;
        if (room < left) {
          if (!shardFull) throw this.overBudget(caller, left - room);
          // Taking all of this shard's room, it counts as its whole ceiling; a new shard must fit beside that.
          const grown = this.budget.used() - shard.arena.budgetBytes + shard.arena.maxBytes;
          if (grown + newShardBytes > this.budget.limit) throw this.overBudget(caller, left - room);
        }
        if (room > 0) {
          const slots = shard.store.reserve(caller, room);
          for (const slot of slots) slot.first += rows - left; // its rows' place among all appended rows
          placed.push({ shard, slots });
        }
        left -= room;
        if (left === 0) break;
        if (this.budget.used() + newShardBytes > this.budget.limit) throw this.overBudget(caller, left);
        shard = this.newShard(caller);
        fresh.push(shard);
        this.building.add(shard);
      }
      if (this.rowFile !== undefined) this.appendRescoringRows(caller, rows, write);
    } catch (error) {
      for (const s of fresh) {
        s.dispose();
        this.building.delete(s);
      }
      // The segment reserved in the last shard is free again (its memory may have grown for it,
      // when a new shard turned out not to fit the budget after that reservation).
      last.shard.arena.rewind(last.mark);
      throw error;
    }
    // Nothing below can fail.
    for (const s of fresh) this.building.delete(s);
    if (int8 !== this.int8) this.int8 = int8;
    const firstGlobal = this.appendedRows;
    for (const { shard: s, slots } of placed) {
      if (!this.shardList.includes(s)) {
        s.offset = this.appendedRows;
        if (this.rowFile !== undefined) s.disk = { column: this.rowFile.column, first: s.offset };
        this.shardList.push(s);
        if (this.threads > 1) s.startWorkers(caller, this.threads - 1).catch(() => {});
      }
      for (const slot of slots) {
        const { segment, offset, count, first } = slot;
        s.arena.u32.set(rowIds.subarray(first, first + count), (segment.ptr.ids >>> 2) + offset);
        for (const column of ["binary", "int8", "float32"] as const) {
          const width = s.store.widths[column];
          if (width > 0) write(s.arena, segment.ptr[column] + offset * width, column, first, count);
        }
      }
      const before = s.rows;
      s.store.commit(slots);
      s.appended(before, s.rows);
    }
    for (const row of replaced) {
      const at = this.locate(row);
      at.shard.remove(at.row);
      this.ids.removed(at.shard.store.idOf(at.row));
    }
    this.ids.appended(rowIds, firstGlobal);
    if (replaced.length > 0) {
      const killed = replaced.map((row) => this.locate(row));
      this.afterSearches(() => killed.forEach(({ shard: s, row }) => killFollowing(s, row)));
    }
  }

  /** The refusal of an add whose `left` rows no shard has room for under maxMemoryBytes. */
  private overBudget(caller: string, left: number): RangeError {
    return new RangeError(
      `${caller}: needs ${this.budget.used() + Math.ceil(left * this.bytesPerRow)} bytes of WebAssembly memory, more than its ` +
        `limit of ${this.budget.limit} bytes (maxMemoryBytes); nothing was changed`,
    );
  }

  /**
   * Appends the rescoring codes of `rows` new rows to the row file (`rescoreTo`), encoded by
   * `write` into the file's staging memory a MiB at a time. A failure puts the file back.
   */
  private appendRescoringRows(
    caller: string, rows: number,
    write: (arena: Arena, ptr: number, column: "binary" | "int8" | "float32", first: number, count: number) => void,
  ): void {
    const file = this.rowFile!;
    const column = this.rescore as "int8" | "float32";
    const width = this.widths[column];
    const pieceRows = Math.max(1, Math.floor(ROW_FILE_PIECE_BYTES / width));
    const mark = file.mark();
    try {
      const staging = file.staging;
      const ptr = staging.scratchFor(caller, "rescoringRows", Math.min(rows, pieceRows) * width);
      for (let first = 0; first < rows; first += pieceRows) {
        const count = Math.min(pieceRows, rows - first);
        write(staging, ptr, column, first, count);
        file.append(caller, staging.u8.subarray(ptr, ptr + count * width));
      }
    } catch (error) {
      file.rollback(mark);
      throw error;
    }
  }

  /** Runs `task` now if no search is pending, else after the searches called before it. */
  private afterSearches(task: () => void | Promise<void>): void {
    if (this.pending === 0) {
      const result = task();
      if (result instanceof Promise) {
        this.pending++;
        this.queue = result.catch(() => {}).finally(() => this.pending--);
      }
      return;
    }
    this.pending++;
    this.queue = this.queue.then(task).catch(() => {}).finally(() => this.pending--);
  }

  /** Replaces every shard that has removed rows with a compact copy of its live rows. */
  private async compactShards(caller: string): Promise<void> {
    for (const old of [...this.shardList]) {
      if (this.disposed) return;
      if (old.killed === 0) continue;
      const target = this.newShard(caller);
      this.building.add(target);
      try {
        if (this.threads > 1) await target.startWorkers(caller, this.threads - 1).catch(() => {});
        if (this.disposed) return;
        old.copyLiveInto(caller, target);
      } catch (error) {
        target.dispose();
        throw error;
      } finally {
        this.building.delete(target);
      }
      const at = this.shardList.indexOf(old);
      const isLast = at === this.shardList.length - 1;
      if (target.rows === 0 && !isLast) this.shardList.splice(at, 1);
      else this.shardList[at] = target;
      old.dispose();
      let offset = 0;
      for (const shard of this.shardList) {
        shard.offset = offset;
        offset += shard.rows;
      }
    }
    this.ids.rebuild();
  }

  // ---- search ----------------------------------------------------------------------------

  /** Rotation, MRL truncation and normalization, as configured (src/rotation.ts). */
  private prepare(caller: string, matrix: Matrix, name: string): Matrix {
    return prepareVectors(caller, matrix, this as VectorPipeline, name);
  }

  /**
   * What a search called now may see: each shard's rows so far and, with a filter, the allowed
   * live rows (a predicate runs here, once per live row, not inside the scan).
   */
  private snapshot(caller: string, filter: Filter | undefined): Snapshot {
    const shards = this.shardList;
    if (filter === undefined) return shards.map((shard) => ({ shard, limit: shard.rows }));
    // Allowed live rows as a bitmap per shard, then a list where few are allowed.
    const bitmaps = shards.map((shard) => new Uint8Array(Math.ceil(shard.rows / 8)));
    const counts = shards.map(() => 0);
    if (typeof filter === "function") {
      shards.forEach((shard, s) => {
        const bitmap = bitmaps[s];
        for (const segment of shard.store.segments) {
          const u32 = shard.arena.u32;
          const ids = segment.ptr.ids >>> 2;
          for (let r = 0; r < segment.count; r++) {
            const row = segment.rowStart + r;
            if (shard.isAlive(row) && filter(u32[ids + r])) {
              bitmap[row >> 3] |= 1 << (row & 7);
              counts[s]++;
            }
          }
        }
      });
    } else {
      // The ids' rows are marked first, whether live or not; each shard's live bits then cut the
      // bitmap and count what is left (a word at a time, not a check per id: at 500,000 ids the
      // checks per id cost half as much again as the scan they filter).
      // One shard with ids equal to rows (the default): an id is its row, no lookup needed.
      const direct = shards.length === 1 && this.ids.isDense ? shards[0] : undefined;
      if (direct !== undefined && (filter instanceof Uint32Array || filter instanceof Uint16Array || filter instanceof Uint8Array)) {
        const bitmap = bitmaps[0];
        const rows = direct.rows;
        for (let i = 0; i < filter.length; i++) {
          const row = filter[i]; // every unsigned integer element is a valid id
          if (row < rows) bitmap[row >> 3] |= 1 << (row & 7);
        }
      } else {
        const allow = (id: unknown, i: number) => {
          if (typeof id !== "number" || id >>> 0 !== id) checkId(caller, `filter's entry ${i}`, id); // -0 passes as 0
          let s = 0;
          let row = id as number;
          if (direct !== undefined) {
            if (row >= direct.rows) return;
          } else {
            const global = this.ids.find(row);
            if (global < 0) return;
            if (shards.length > 1) s = shards.indexOf(this.locate(global).shard);
            row = global - shards[s].offset;
          }
          bitmaps[s][row >> 3] |= 1 << (row & 7);
        };
        if (Array.isArray(filter) || (ArrayBuffer.isView(filter) && !(filter instanceof DataView))) {
          const list = filter as ArrayLike<unknown>;
          for (let i = 0; i < list.length; i++) allow(list[i], i);
        } else {
          let i = 0;
          for (const id of filter as Iterable<unknown>) allow(id, i++);
        }
      }
      shards.forEach((shard, s) => (counts[s] = shard.keepLive(bitmaps[s])));
    }
    return shards.map((shard, s) => {
      const limit = shard.rows;
      if (counts[s] * LIST_FILTER_RATIO > limit) return { shard, limit, bitmap: bitmaps[s] };
      const list = new Uint32Array(counts[s]);
      let n = 0;
      bitmaps[s].forEach((byte, at) => {
        for (let bit = 0; byte !== 0; bit++, byte >>= 1) if (byte & 1) list[n++] = at * 8 + bit;
      });
      return { shard, limit, list };
    });
  }

  /** Queues a search behind the ones called before it (they share scratch memory and workers). */
  private enqueueSearch(caller: string, queries: Float32Array[], k: number, multiplier: number, snapshot: Snapshot): Promise<SearchResult[]> {
    return this.enqueue(() => this.runSearch(caller, queries, k, multiplier, snapshot));
  }

  /** Runs `task` after the searches (and saves) called before it; removals and compactions called later wait for it. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.pending++;
    const run = this.queue.then(task);
    this.queue = run.catch(() => {}).finally(() => this.pending--);
    return run;
  }

  private async runSearch(caller: string, queries: Float32Array[], k: number, multiplier: number, snapshot: Snapshot): Promise<SearchResult[]> {
    this.live(caller);
    const scans = snapshot.map(following).filter((scan) => scan.limit > 0 && (scan.list === undefined || scan.list.length > 0));
    const twoStage = this.rescore !== "none";
    const rows = scans.reduce((sum, scan) => sum + (scan.list?.length ?? scan.limit), 0);
    const firstK = Math.min(Math.max(rows, 1), twoStage ? k * multiplier : k);
    const codec = this.precision === "int8" ? this.int8 : this[this.precision];
    const results: SearchResult[] = [];
    for (let start = 0; start < queries.length; start += QUERY_BLOCK) {
      const block = queries.slice(start, start + QUERY_BLOCK);
      if (scans.length === 0 || codec === undefined) {
        block.forEach(() => results.push({ ids: new Uint32Array(0), scores: new Float32Array(0) }));
        continue;
      }
      const encoded = block.map((query) => codec.encodeQuery(query));
      const perShard: Array<{ scan: (typeof scans)[number]; lists: Awaited<ReturnType<Shard["scan"]>> }> = [];
      for (const scan of scans) {
        const lists = await scan.shard.scan(caller, codec, block, encoded, firstK, scan, this.threads, this.parallelMinBytes);
        this.live(caller);
        perShard.push({ scan, lists });
      }
      const merged = block.map((_, q) => mergeCandidates(perShard.flatMap(({ scan, lists }) => lists[q].map((candidates) => ({ candidates, shard: scans.indexOf(scan) }))), firstK));
      if (twoStage) {
        results.push(...(await this.rescoreCandidates(caller, block, merged, scans.map((scan) => scan.shard), k)));
      } else {
        merged.forEach((list, q) => results.push(finish(Uint32Array.from(list.slice(0, k), (c) => c.id), Float32Array.from(list.slice(0, k), (c) => codec.score(c.key, encoded[q])))));
      }
    }
    return results;
  }


  /** Second stage: scores only each query's candidates, with int8 codes or floats, and keeps the best k. */
  private async rescoreCandidates(caller: string, queries: Float32Array[], candidates: Located[][], shards: Shard[], k: number): Promise<SearchResult[]> {
    const precision = this.rescore as "int8" | "float32";
    const encoded: EncodedQuery[] = queries.map((query) => (precision === "int8" ? this.int8!.encodeQuery(query) : {}));
    const raw = candidates.map((list) => new Float64Array(list.length));
    for (const [s, shard] of shards.entries()) {
      const mine = candidates.map((list) => list.flatMap((c, i) => (c.shard === s ? [i] : [])));
      if (mine.every((list) => list.length === 0)) continue;
      const values = await shard.rescore(caller, precision, this.storedDims, queries, encoded, mine.map((list, q) => list.map((i) => candidates[q][i].row)));
      this.live(caller);
      mine.forEach((list, q) => list.forEach((i, j) => (raw[q][i] = values[q][j])));
    }
    return candidates.map((list, q) => {
      const order = Array.from(list.keys()).sort((a, b) => raw[q][b] - raw[q][a] || list[a].id - list[b].id);
      const best = order.slice(0, k);
      const ids = Uint32Array.from(best, (i) => list[i].id);
      const scores = Float32Array.from(best, (i) => (precision === "int8" ? this.int8!.score(raw[q][i], encoded[q]) : raw[q][i]));
      return finish(ids, scores);
    });
  }
}

/** A snapshot entry followed through compactions: the shard its rows are in now, renumbered. */
function following(scan: Snapshot[number]): Snapshot[number] {
  let { shard, limit, list, bitmap } = scan;
  while (shard.successor !== undefined) {
    const { shard: next, rank } = shard.successor;
    if (bitmap !== undefined) {
      const rows: number[] = [];
      for (let row = 0; row < limit; row++) if (bitmap[row >> 3] & (1 << (row & 7))) rows.push(rank(row));
      bitmap = new Uint8Array(Math.ceil(rank(limit) / 8));
      for (const row of rows) bitmap[row >> 3] |= 1 << (row & 7);
    }
    if (list !== undefined) list = list.map(rank);
    limit = rank(limit);
    shard = next;
  }
  return { shard, limit, list, bitmap };
}

/** Clears a row for the scans in whichever shard it lives in now (compactions move rows). */
function killFollowing(shard: Shard, row: number): void {
  while (shard.successor !== undefined) {
    row = shard.successor.rank(row);
    shard = shard.successor.shard;
  }
  shard.kill(row);
}

/**
 * Orders results by their float32 scores, ties by smaller id. Ranking already happened on exact
 * keys; this only matters where two keys round to the same float32 score.
 */
function finish(ids: Uint32Array, scores: Float32Array): SearchResult {
  const order = Array.from(ids.keys()).sort((a, b) => scores[b] - scores[a] || ids[a] - ids[b]);
  return { ids: Uint32Array.from(order, (i) => ids[i]), scores: Float32Array.from(order, (i) => scores[i]) };
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";
}

/** Throws unless `id` is an integer in [0, 2^32). */
function checkId(caller: string, name: string, id: unknown): asserts id is number {
  if (typeof id !== "number") {
    throw new TypeError(`${caller}: ${name} is ${describe(id)}; ids must be integers from 0 to ${MAX_ID}`);
  }
  if (!Number.isInteger(id) || id < 0 || id > MAX_ID) {
    throw new RangeError(`${caller}: ${name} is ${describe(id)}; ids must be integers from 0 to ${MAX_ID}`);
  }
}

/** Reads and checks every id of an array or iterable before anything is done with them. */
function readIds(caller: string, ids: Iterable<number> | ArrayLike<number>, name: string): number[] {
  let list: unknown[];
  if (Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView))) list = Array.from(ids as ArrayLike<number>);
  else if (isIterable(ids)) list = Array.from(ids);
  else throw new TypeError(`${caller}: ${name} is ${describe(ids)}; expected an array, typed array or iterable of ids`);
  list.forEach((id, i) => checkId(caller, `${name}[${i}]`, id));
  return list as number[];
}

/** The `rescoreTo` path, checked: a non-empty string, for an index that rescores. */
function checkRescoreTo(caller: string, path: unknown, rescore: RescorePrecision): string | undefined {
  if (path === undefined) return undefined;
  if (typeof path !== "string" || path === "") throw new TypeError(`${caller}: rescoreTo must be a file path (a non-empty string), got ${describe(path)}`);
  if (rescore === "none") throw new TypeError(`${caller}: rescoreTo keeps the rescoring codes in a file, but this index does not rescore (rescore "none")`);
  return path;
}

/** Throws a RangeError when one shard could not hold a single segment of rows besides its scratch. */
function checkShardBytes(caller: string, shardBytes: number, storedDims: number, precision: ScanPrecision, rescore: RescorePrecision): void {
  const uses = (p: ScanPrecision) => precision === p || rescore === p;
  const rowBytes = 4 + (uses("binary") ? Math.ceil(storedDims / 8) : 0) + (uses("int8") ? storedDims : 0) + (uses("float32") ? storedDims * 4 : 0);
  const pages = Math.floor(shardBytes / PAGE_BYTES);
  const needed = PAGE_BYTES + headroomFor(pages * PAGE_BYTES) + 128 * rowBytes + 1024;
  if (pages * PAGE_BYTES < needed) {
    throw new RangeError(
      `${caller}: shardBytes must leave room for at least one segment of rows besides scratch memory: ` +
        `${needed} bytes or more for rows of ${rowBytes} bytes, got ${shardBytes}`,
    );
  }
}

/** Cores available to this process (Node), or to this page (browsers). */
async function availableParallelism(): Promise<number> {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  if (cores) return cores;
  try {
    const specifier = "node:os"; // not a static import: browsers have no such module
    const os = (await import(/* @vite-ignore */ specifier)) as typeof import("node:os");
    return os.availableParallelism();
  } catch {
    return 1;
  }
}

/** Why workers cannot share this index's memory here, or undefined when they can. */
function sharedMemoryUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer === "undefined") {
    return "SharedArrayBuffer is unavailable (in a browser, serve the page cross-origin isolated: COOP same-origin and COEP require-corp)";
  }
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return "the page is not cross-origin isolated, so memory cannot be shared with workers (send COOP same-origin and COEP require-corp)";
  }
  const node = typeof process === "object" && !!process.versions?.node;
  if (!node && typeof Worker === "undefined") return "this runtime has no Worker";
  return undefined;
}

// `using index = await Index.create(...)` where the runtime knows Symbol.dispose.
const disposeSymbol = (Symbol as { dispose?: symbol }).dispose;
if (disposeSymbol !== undefined) {
  Object.defineProperty(Index.prototype, disposeSymbol, {
    value(this: Index) {
      this.dispose();
    },
  });
}
