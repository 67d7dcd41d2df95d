// The Index: vectors in, ids and scores out. A vector travels
//   truncate (MRL) → quantize (bits, int8 codes, floats) → store (segments in WASM memory)
//   → scan (fused kernel + top-k) → rescore (candidates only) → scores.

import { type EmbeddingsInput, type Matrix, toMatrix, toVector } from "./embeddings.js";
import { checkChoice, checkInteger, describe } from "./errors.js";
import { truncateMatrix } from "./matryoshka.js";
import { type Ranges, type RangesInput, packBitsRow, quantizeRow, rangesOf, stepsOf, toRanges } from "./quantize.js";
import {
  type Int8Decoder, type Int8Query, binaryScore, encodeInt8Query, int8Decoder, int8Score,
} from "./scoring.js";
import { INDEX_OPTION_KEYS, readOptions, SEARCH_OPTION_KEYS } from "./options.js";
import { WorkerPool } from "./pool.js";
import { allocateHeaps, drainHeaps, mergeCandidates, runScan, type ScanJob, type ScanKernel, splitRows } from "./scan.js";
import { type Column, SegmentedStore, type Slot } from "./store.js";
import { type Candidates, keyToF32 } from "./topk.js";
import { intQueryBytes, type KernelPath, writeIntQuery } from "./relaxed.js";
import { Arena, buildFor, compile, kernelModule, MAX_MEMORY_BYTES, PAGE_BYTES, pathChoice, ready } from "./wasm.js";

export type ScanPrecision = "binary" | "int8" | "float32";
export type RescorePrecision = "int8" | "float32" | "none";

export interface IndexOptions {
  /** Length of the vectors you add and search with. */
  dims: number;
  /** What the first stage scans: bit codes (Hamming), int8 codes (asymmetric) or floats. */
  precision: ScanPrecision;
  /** How the first stage's candidates are re-ranked; default "int8" for binary, "none" otherwise. */
  rescore?: RescorePrecision;
  /** Matryoshka truncation applied to every vector and query before anything else. */
  truncateTo?: number;
  /** L2-normalize vectors and queries (after truncation); default true with `truncateTo`, else false. */
  normalize?: boolean;
  /** int8 ranges ({ min, max } or [min, max]) over the stored dimensions (`truncateTo` if set). */
  ranges?: RangesInput;
  /** Ceiling for this index's WebAssembly memory; default (and at most) 4 GiB. */
  maxMemoryBytes?: number;
  /**
   * Threads that scan: 1 (default) scans on the calling thread; N > 1 adds N − 1 workers over a
   * shared memory; "auto" uses every core. Falls back to 1, with `threadingNote` saying why,
   * where shared memory or workers are unavailable.
   */
  threads?: number | "auto";
}

export interface SearchOptions {
  /** How many results; default 10. */
  k?: number;
  /** Two-stage search rescores k × rescoreMultiplier candidates; default 4. */
  rescoreMultiplier?: number;
}

/** Best first: `ids[i]` scored `scores[i]`; ties in score go to the smaller id. */
export interface SearchResult {
  ids: Uint32Array;
  scores: Float32Array;
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

/** Queries scanned together in one pass over the rows by searchBatch. */
const QUERY_BLOCK = 32;

/**
 * An in-memory vector index over WebAssembly SIMD kernels: binary, int8 or float32 scans
 * with exact top-k, optional rescoring of the candidates, and optional MRL truncation.
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

  private arena: Arena | undefined;
  private readonly store: SegmentedStore;
  // int8 codes: the ranges, and what follows from them (bucket widths for quantizing, decoding constants).
  private ranges: Ranges | undefined;
  private steps: Float32Array | undefined;
  private decoder: Int8Decoder | undefined;
  // ids: while every id equals its row (the default), no set is needed to find duplicates.
  private denseIds = true;
  private idSet: Set<number> | undefined;
  private nextId = 0;

  /** Threads that scan (the calling thread included). */
  threads: number;
  /**
   * Why the index runs on fewer threads than asked for, if it does (or, rarely, why its threads
   * run the SIMD128 kernels although relaxed SIMD was chosen: the shared build failed its check).
   */
  threadingNote: string | undefined;
  private pool: WorkerPool | undefined;
  /** Bytes of codes each thread must get before a search is split (the tests lower it). */
  private parallelMinBytes = PARALLEL_MIN_BYTES;
  private searchQueue: Promise<unknown> = Promise.resolve();

  private constructor(
    options: Required<Omit<IndexOptions, "ranges" | "truncateTo" | "threads">> & { storedDims: number; ranges?: Ranges; shared: boolean; path: KernelPath },
  ) {
    this.dims = options.dims;
    this.storedDims = options.storedDims;
    this.precision = options.precision;
    this.rescore = options.rescore;
    this.normalize = options.normalize;
    this.arena = new Arena("Index.create", options.maxMemoryBytes, options.shared, options.path);
    this.threads = 1;
    this.threadingNote = undefined;
    const uses = (p: ScanPrecision) => this.precision === p || this.rescore === p;
    this.store = new SegmentedStore(this.arena, {
      ids: 4,
      binary: uses("binary") ? Math.ceil(this.storedDims / 8) : 0,
      int8: uses("int8") ? this.storedDims : 0,
      float32: uses("float32") ? this.storedDims * 4 : 0,
    });
    if (options.ranges) this.setRanges(options.ranges);
  }

  /**
   * Creates an empty index (compiling the kernels on first use).
   *
   * @param options dims, precision, and optionally rescore, truncateTo, normalize, ranges, maxMemoryBytes.
   * @returns a promise of the index; it rejects with TypeError/RangeError for invalid options.
   * @example
   * const index = await Index.create({ dims: 768, precision: "int8", truncateTo: 256 });
   */
  static async create(options: IndexOptions): Promise<Index> {
    const caller = "Index.create";
    options = readOptions(caller, options, INDEX_OPTION_KEYS, "an object with dims and precision") as IndexOptions;
    const dims = checkInteger(caller, "dims", options.dims, 1, MAX_DIMS);
    const precision = checkChoice(caller, "precision", options.precision, ["binary", "int8", "float32"] as const);
    const rescore = checkChoice(
      caller, `rescore (with precision "${precision}")`,
      options.rescore ?? (precision === "binary" ? "int8" : "none"), RESCORE_ALLOWED[precision],
    );
    const storedDims = options.truncateTo === undefined ? dims : checkInteger(caller, "truncateTo", options.truncateTo, 1, dims);
    const normalize = options.normalize ?? options.truncateTo !== undefined;
    if (typeof normalize !== "boolean") {
      throw new TypeError(`${caller}: normalize must be true or false, got ${describe(normalize)}`);
    }
    const ranges = options.ranges === undefined ? undefined : toRanges(caller, options.ranges, storedDims, "ranges");
    const maxMemoryBytes = checkInteger(caller, "maxMemoryBytes", options.maxMemoryBytes ?? MAX_MEMORY_BYTES, 4 * PAGE_BYTES, MAX_MEMORY_BYTES);
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
    const index = new Index({
      dims, storedDims, precision, rescore, normalize, ranges, maxMemoryBytes, shared: requested > 1 && note === undefined, path,
    });
    if (requested > 1 && note === undefined) {
      try {
        index.pool = await WorkerPool.create(kernelModule(caller, index.arena!.build), index.arena!.memory, requested - 1);
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
    return this.arena?.path ?? "simd128";
  }

  /** Vectors held. */
  get size(): number {
    return this.arena === undefined ? 0 : this.store.size;
  }

  /** Bytes of codes stored per vector (bits, int8 codes and floats; the 4-byte id not counted). */
  get bytesPerVector(): number {
    const { binary, int8, float32 } = this.store.widths;
    return binary + int8 + float32;
  }

  /** Bytes of WebAssembly memory this index holds now (codes, ids, scratch and spare capacity). */
  get memoryBytes(): number {
    return this.arena?.byteLength ?? 0;
  }

  /** True when this index keeps int8 codes, which need ranges. */
  get usesInt8(): boolean {
    return this.store.widths.int8 > 0;
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
    if (this.usesInt8 && this.store.size > 0) {
      throw new Error(
        `${caller}: the index already holds ${this.store.size} vectors quantized with its current ranges; ` +
          "calibrate before the first add (or create a new index)",
      );
    }
    this.setRanges(rangesOf(this.prepare(caller, toMatrix(caller, sample, { dims: this.dims, name: "sample" }), "sample"), caller, "sample"));
  }

  /**
   * Adds vectors. Every check runs before anything changes: a rejected call leaves the index as it was.
   *
   * @param vectors rows of `dims` values in any accepted shape.
   * @param ids one id per row, integers in [0, 2^32); default: consecutive from one past the largest id so far.
   * @returns the ids of the added rows.
   * @throws TypeError/RangeError for bad vectors or ids, a duplicate id, int8 codes without ranges
   *   (pass `ranges`, call `calibrate`, or add at least 100 rows first), or memory exhaustion.
   * @example
   * const ids = index.add([[0.1, 0.2, ...], [0.3, 0.1, ...]], [17, 42]);
   */
  add(vectors: EmbeddingsInput, ids?: ArrayLike<number>): Uint32Array {
    const caller = "index.add";
    const arena = this.live(caller);
    const matrix = this.prepare(caller, toMatrix(caller, vectors, { dims: this.dims, name: "vectors" }), "vectors");
    const rowIds = this.checkIds(caller, ids, matrix.rows);
    let ranges = this.ranges;
    if (this.usesInt8 && ranges === undefined) {
      if (matrix.rows < MIN_AUTO_CALIBRATION_ROWS) {
        throw new RangeError(
          `${caller}: int8 codes need ranges; this first add has ${matrix.rows} rows, fewer than the ` +
            `${MIN_AUTO_CALIBRATION_ROWS} needed to calibrate on them. Pass ranges to Index.create or call index.calibrate(sample) first`,
        );
      }
      ranges = rangesOf(matrix, caller, "vectors");
    }
    const slots = this.store.reserve(caller, matrix.rows); // the last step that can fail
    if (ranges !== this.ranges) this.setRanges(ranges!);
    for (const slot of slots) this.write(arena, slot, matrix, rowIds);
    this.store.commit(slots);
    this.rememberIds(rowIds);
    return rowIds;
  }

  /**
   * The `k` nearest vectors to `query` (default k = 10): best first, ties by smaller id; fewer
   * when the index holds fewer. See the README for what each precision's score estimates.
   *
   * @param query `dims` values.
   * @param options `k` (positive integer) and `rescoreMultiplier` (positive integer, default 4).
   * @returns a promise of `{ ids, scores }`; it rejects with TypeError/RangeError for bad input.
   * @example
   * const { ids, scores } = await index.search(queryVector, { k: 5 });
   */
  async search(query: Float32Array | readonly number[], options: SearchOptions = {}): Promise<SearchResult> {
    const caller = "index.search";
    this.live(caller);
    const { k, multiplier } = this.checkSearchOptions(caller, options);
    const vector = toVector(caller, query, this.dims);
    const prepared = this.prepare(caller, { data: vector, rows: 1, cols: this.dims }, "query").data;
    return (await this.searchPrepared(caller, [prepared], k, multiplier))[0];
  }

  /**
   * `search` for many queries; every query is validated before any is run.
   *
   * @param queries rows of `dims` values in any accepted shape.
   * @param options as for `search`.
   * @returns a promise of one `{ ids, scores }` per query, in order.
   * @example
   * const results = await index.searchBatch([q1, q2, q3], { k: 10 });
   */
  async searchBatch(queries: EmbeddingsInput, options: SearchOptions = {}): Promise<SearchResult[]> {
    const caller = "index.searchBatch";
    this.live(caller);
    const { k, multiplier } = this.checkSearchOptions(caller, options);
    const matrix = this.prepare(caller, toMatrix(caller, queries, { dims: this.dims, name: "queries" }), "queries");
    const rows = Array.from({ length: matrix.rows }, (_, r) => matrix.data.subarray(r * this.storedDims, (r + 1) * this.storedDims));
    return this.searchPrepared(caller, rows, k, multiplier);
  }

  /** Frees the index's memory. Every later call throws; disposing twice is harmless. */
  dispose(): void {
    this.pool?.terminate();
    this.pool = undefined;
    this.arena = undefined;
    this.store.segments.length = 0;
    this.idSet = undefined;
  }

  // ---- validation ----------------------------------------------------------------------

  private live(caller: string): Arena {
    if (this.arena === undefined) throw new TypeError(`${caller}: this index was disposed; create a new one`);
    return this.arena;
  }

  private checkSearchOptions(caller: string, options: SearchOptions): { k: number; multiplier: number } {
    options = readOptions(caller, options, SEARCH_OPTION_KEYS, "an object like { k: 10 }");
    return {
      k: checkInteger(caller, "k", options.k ?? 10, 1, 2 ** 31 - 1),
      multiplier: checkInteger(caller, "rescoreMultiplier", options.rescoreMultiplier ?? 4, 1, 2 ** 16),
    };
  }

  /** Validates ids for `rows` new rows (or makes default ones) without recording them. */
  private checkIds(caller: string, ids: ArrayLike<number> | undefined, rows: number): Uint32Array {
    if (ids === undefined) {
      if (this.nextId + rows - 1 > MAX_ID) {
        throw new RangeError(`${caller}: default ids would pass ${MAX_ID}; pass ids explicitly`);
      }
      return Uint32Array.from({ length: rows }, (_, i) => this.nextId + i);
    }
    if (!(Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView)))) {
      throw new TypeError(`${caller}: ids is ${describe(ids)}; expected an array of integers`);
    }
    if (ids.length !== rows) {
      throw new RangeError(`${caller}: ids has ${ids.length} entries but vectors has ${rows} rows`);
    }
    const batch = new Set<number>();
    const read = new Uint32Array(rows);
    for (let i = 0; i < rows; i++) {
      const id = ids[i]; // read once: the checked value is the stored one
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > MAX_ID) {
        const kind = typeof id === "number" ? RangeError : TypeError;
        throw new kind(`${caller}: ids[${i}] is ${describe(id)}; ids must be integers from 0 to ${MAX_ID}`);
      }
      if (batch.has(id) || this.hasId(id)) {
        throw new RangeError(`${caller}: ids[${i}] = ${id} is a duplicate${batch.has(id) ? " within this call" : " of an id already in the index"}`);
      }
      batch.add(id);
      read[i] = id;
    }
    return read;
  }

  private hasId(id: number): boolean {
    return this.denseIds ? id < this.store.size : this.idSet!.has(id);
  }

  private rememberIds(ids: Uint32Array): void {
    const start = this.store.size - ids.length;
    if (this.denseIds && ids.every((id, i) => id === start + i)) {
      this.nextId = this.store.size;
      return;
    }
    if (this.denseIds) {
      this.idSet = new Set(Array.from({ length: start }, (_, i) => i));
      this.denseIds = false;
    }
    for (const id of ids) {
      this.idSet!.add(id);
      if (id >= this.nextId) this.nextId = id + 1;
    }
  }

  // ---- the pipeline ----------------------------------------------------------------------

  /** MRL truncation and normalization, as configured. */
  private prepare(caller: string, matrix: Matrix, name: string): Matrix {
    if (this.storedDims === this.dims && !this.normalize) return matrix;
    return truncateMatrix(caller, matrix, this.storedDims, this.normalize, name);
  }

  private setRanges(ranges: Ranges): void {
    this.ranges = ranges;
    this.steps = stepsOf(ranges);
    this.decoder = int8Decoder(ranges);
  }

  /** Quantizes the slot's rows straight into the segment's columns. */
  private write(arena: Arena, slot: Slot, matrix: Matrix, ids: Uint32Array): void {
    const { segment, offset, count, first } = slot;
    const { ptr } = segment;
    const { binary, int8 } = this.store.widths;
    const d = this.storedDims;
    arena.u32.set(ids.subarray(first, first + count), (ptr.ids >> 2) + offset);
    if (ptr.float32) arena.f32.set(matrix.data.subarray(first * d, (first + count) * d), (ptr.float32 >> 2) + offset * d);
    if (ptr.binary) {
      const u8 = arena.u8;
      for (let r = 0; r < count; r++) packBitsRow(matrix.data, (first + r) * d, d, u8, ptr.binary + (offset + r) * binary, 0);
    }
    if (ptr.int8) {
      const i8 = arena.i8;
      for (let r = 0; r < count; r++) {
        quantizeRow(matrix.data, (first + r) * d, d, this.ranges!.min, this.steps!, i8, ptr.int8 + (offset + r) * int8, -128);
      }
    }
  }

  /** Searches prepared (truncated, normalized) queries, in blocks that share one pass over the rows. */
  private searchPrepared(caller: string, queries: Float32Array[], k: number, multiplier: number): Promise<SearchResult[]> {
    // A search sees exactly the rows added before it was called, even when it waits in the queue.
    // Searches share scratch memory (and, threaded, the workers' heaps), and a search awaits
    // between its scan and its drain, so concurrent calls queue up and run one at a time.
    const rows = this.store.size;
    const run = this.searchQueue.then(() => this.runSearch(caller, queries, k, multiplier, rows));
    this.searchQueue = run.catch(() => {});
    return run;
  }

  private async runSearch(caller: string, queries: Float32Array[], k: number, multiplier: number, size: number): Promise<SearchResult[]> {
    this.live(caller);
    if (size === 0) return queries.map(() => ({ ids: new Uint32Array(0), scores: new Float32Array(0) }));
    const twoStage = this.rescore !== "none";
    const firstK = Math.min(size, twoStage ? k * multiplier : k);
    const results: SearchResult[] = [];
    for (let start = 0; start < queries.length; start += QUERY_BLOCK) {
      const block = queries.slice(start, start + QUERY_BLOCK);
      const { candidates, int8Queries } = await this.firstStage(caller, block, firstK, size);
      block.forEach((query, q) => {
        results.push(twoStage ? this.rescoreCandidates(caller, query, candidates[q], k) : this.firstStageResult(candidates[q], int8Queries?.[q], k));
      });
    }
    return results;
  }

  /** Encodes the queries for the scan precision and runs the fused scan + top-k over every segment. */
  private async firstStage(
    caller: string, queries: Float32Array[], k: number, rows: number,
  ): Promise<{ candidates: Candidates[]; int8Queries?: Int8Query[] }> {
    const arena = this.arena!;
    const d = this.storedDims;
    const kernel: ScanKernel = this.precision === "binary" ? "hamming_u1" : this.precision === "int8" ? "dot_i16i8" : "dot_f32";
    const dims = this.precision === "binary" ? this.store.widths.binary : d;
    const queryBytes = Math.ceil((this.precision === "binary" ? dims : this.precision === "int8" ? intQueryBytes(arena.path, d, true) : 4 * d) / 16) * 16;
    const at = arena.scratchFor(caller, "queries", queryBytes * queries.length);
    const int8Queries = this.precision === "int8" ? queries.map((q) => encodeInt8Query(q, this.decoder!)) : undefined;
    queries.forEach((query, q) => {
      const ptr = at + q * queryBytes;
      if (this.precision === "binary") packBitsRow(query, 0, d, arena.u8, ptr, 0);
      else if (int8Queries) writeIntQuery(arena.u8, ptr, int8Queries[q].codes, arena.path);
      else arena.f32.set(query, ptr >> 2);
    });
    const job: ScanJob = { kernel, dims, queries: at, queryBytes, queryCount: queries.length };
    // Each thread scans its own rows into its own heaps; this thread takes the first share.
    // Waking a worker costs about 0.1 ms: below parallelMinBytes of work per thread, fewer threads scan.
    const rowBytes = this.store.widths[this.precision];
    // A block of queries does about that much work per byte for each query.
    const parts = Math.max(1, Math.min(this.threads, Math.floor((rows * rowBytes * queries.length) / this.parallelMinBytes)));
    const shares = splitRows(this.store.segments, rows, this.precision, rowBytes, parts);
    const heaps = shares.map((_, t) => allocateHeaps(arena, caller, `heaps${t}`, queries.length, k));
    const remote = shares.slice(1).map((rows, w) => this.pool!.scan(w, job, rows, heaps[w + 1].list, heaps[w + 1].heaps[0]));
    runScan(arena.kernels, job, shares[0], heaps[0].list, heaps[0].heaps[0]);
    // Wait for every worker, even after a failure, so none is still writing a heap the next search reuses.
    const failed = (await Promise.allSettled(remote)).find((r) => r.status === "rejected");
    this.live(caller); // dispose() may have run while this search waited: say so, rather than fail inside
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const perThread = heaps.map((set) => drainHeaps(arena, set));
    return { candidates: queries.map((_, q) => mergeCandidates(perThread.map((lists) => lists[q]), k)), int8Queries };
  }

  /** Results straight from the first stage: its keys turned into scores. */
  private firstStageResult(candidates: Candidates, int8Query: Int8Query | undefined, k: number): SearchResult {
    const scores = Float32Array.from(candidates.keys, (key) =>
      this.precision === "binary" ? binaryScore(-key, this.storedDims) : int8Query ? int8Score(key, int8Query) : keyToF32(key));
    return finish(candidates.ids.slice(0, k), scores.slice(0, k));
  }

  /** Second stage: scores only the candidates, with int8 codes or floats, and keeps the best k. */
  private rescoreCandidates(caller: string, query: Float32Array, candidates: Candidates, k: number): SearchResult {
    const arena = this.arena!;
    const n = candidates.rows.length;
    const column: Column = this.rescore === "int8" ? "int8" : "float32";
    const rowPtrs = arena.scratchFor(caller, "rowPtrs", n * 4);
    const out = arena.scratchFor(caller, "scores", n * 4);
    let int8Query: Int8Query | undefined;
    let q: number;
    if (this.rescore === "int8") {
      int8Query = encodeInt8Query(query, this.decoder!);
      q = arena.scratchFor(caller, "rescoreQuery", intQueryBytes(arena.path, this.storedDims, true));
      writeIntQuery(arena.u8, q, int8Query.codes, arena.path);
    } else {
      q = arena.scratchFor(caller, "rescoreQuery", this.storedDims * 4);
      arena.f32.set(query, q >> 2);
    }
    const u32 = arena.u32;
    for (let i = 0; i < n; i++) u32[(rowPtrs >> 2) + i] = this.store.address(column, candidates.rows[i]);
    if (int8Query) arena.kernels.dot_i16i8_rows(q, rowPtrs, this.storedDims, n, out);
    else arena.kernels.dot_f32_rows(q, rowPtrs, this.storedDims, n, out);

    const raw = int8Query ? arena.i32.slice(out >> 2, (out >> 2) + n) : arena.f32.slice(out >> 2, (out >> 2) + n);
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => raw[b] - raw[a] || candidates.ids[a] - candidates.ids[b]);
    const best = order.slice(0, k);
    const ids = Uint32Array.from(best, (i) => candidates.ids[i]);
    const scores = Float32Array.from(best, (i) => (int8Query ? int8Score(raw[i], int8Query) : raw[i]));
    return finish(ids, scores);
  }
}

/**
 * Orders results by their float32 scores, ties by smaller id. Ranking already happened on exact
 * keys; this only matters where two keys round to the same float32 score.
 */
function finish(ids: Uint32Array, scores: Float32Array): SearchResult {
  const order = Array.from(ids.keys()).sort((a, b) => scores[b] - scores[a] || ids[a] - ids[b]);
  return { ids: Uint32Array.from(order, (i) => ids[i]), scores: Float32Array.from(order, (i) => scores[i]) };
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
