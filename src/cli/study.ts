// The quality study behind `quantvec eval` and the quality section of `quantvec bench`: how much
// recall@k each compression keeps, what it costs in bytes per vector, and how long a search takes.
//
// Queries are sampled from the vectors and held out of the corpus; the truth is exact float32
// cosine search over the full vectors, so MRL rows measure what truncation loses too.

import type { Matrix } from "../embeddings.js";
import { kernels, type KernelBuffer } from "../kernels.js";
import { type Ranges, quantize, rangesOf } from "../quantize.js";
import { fitRotation, prepareVectors, type Rotation, type RotationMethod } from "../rotation.js";
import { Index, type IndexOptions, type RescorePrecision, type ScanPrecision } from "../vector-index.js";
import { xorshift32 } from "./random.js";
import type { QualityRow, QualityStudy } from "./results.js";

export interface StudyOptions {
  /** How many vectors to hold out as queries. */
  queries: number;
  k: number;
  seed: number;
  /** Rescoring multipliers of the two-stage rows; default 1, 2, 4, 8. */
  multipliers?: number[];
  /** Add rows that replicate sentence-transformers' default scoring. */
  references?: boolean;
  /**
   * Learned rotations to try before truncation: "pca" rows for every precision, "itq" rows for
   * binary codes. Fitted on the corpus (never on the held-out queries) unless `rotationSample` is given.
   */
  rotations?: RotationMethod[];
  /** The vectors rotations are fitted on; default: the corpus (at most MAX_FIT_ROWS of it, sampled). */
  rotationSample?: Matrix;
  /** ITQ iterations; default 50. */
  itqIterations?: number;
  /** Receives every fitted rotation, keyed by `rotationKey` (tune writes the chosen one to a file). */
  fitted?: Map<string, Rotation>;
  /** The stored sizes to try; default `mrlDims` (full, 1/2, 1/4, 1/8). */
  dimsList?: number[];
  onProgress?: (done: number, total: number, label: string) => void;
}

/** The configurations of the study, one index each (two-stage rows share one per dims). */
interface Config {
  precision: ScanPrecision;
  rescore: RescorePrecision;
  dims: number;
  multipliers: number[];
  rotation?: RotationMethod;
}

/** Rows a rotation is fitted on at most (a sample of the corpus): enough for any dims ≤ 4096 several times over. */
const MAX_FIT_ROWS = 20_000;
/** ITQ solves a d × d eigenproblem per iteration in TS: above this many dims a fit takes minutes, so those rows are skipped. */
const MAX_ITQ_DIMS = 512;

/** The key of a fitted rotation: "pca@384" (one PCA serves every truncation), "itq@96" (one ITQ per size). */
export function rotationKey(method: RotationMethod, dims: number): string {
  return `${method}@${dims}`;
}

/**
 * The exact Index.create options of a study row (without `rotation`, which is an object: the row's
 * `rotation` and `rotationKey` say which fitted one to pass).
 */
export function rowOptions(row: QualityRow, inputDims: number): IndexOptions {
  return {
    dims: inputDims, precision: row.precision, rescore: row.rescore, normalize: true,
    ...(row.rotation === "itq" ? {} : { truncateTo: row.dims }),
  };
}

/** Mean recall@k: the share of each true top-k found in the returned top-k. */
export function meanRecall(found: ArrayLike<number>[], truth: ArrayLike<number>[], k: number): number {
  let hits = 0;
  for (let q = 0; q < truth.length; q++) {
    const expected = new Set(Array.from(truth[q]).slice(0, k));
    hits += Array.from(found[q]).slice(0, k).filter((id) => expected.has(id)).length;
  }
  return truth.length === 0 ? 0 : hits / (truth.length * k);
}

/** `count` distinct row indices out of `rows`, chosen by a seeded shuffle, in ascending order. */
export function sampleRows(rows: number, count: number, seed: number): number[] {
  const random = xorshift32(seed);
  const next = () => random() / 4294967296;
  const picked = Array.from({ length: rows }, (_, i) => i);
  const n = Math.min(count, rows);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(next() * (rows - i));
    [picked[i], picked[j]] = [picked[j], picked[i]];
  }
  return picked.slice(0, n).sort((a, b) => a - b);
}

/** Matryoshka sizes of the study: full, 1/2, 1/4, 1/8 of `dims` (distinct, at least 1). */
export function mrlDims(dims: number): number[] {
  return [...new Set([1, 2, 4, 8].map((f) => Math.max(1, Math.round(dims / f))))];
}

/** The corpus (every row not held out as a query) in batches of contiguous rows, with their ids. */
function* corpusBatches(matrix: Matrix, held: Set<number>, batchRows = 8192): Generator<{ batch: Matrix; ids: number[] }> {
  let start = 0;
  while (start < matrix.rows) {
    while (start < matrix.rows && held.has(start)) start++;
    let end = start;
    while (end < matrix.rows && !held.has(end) && end - start < batchRows) end++;
    if (end > start) {
      const data = matrix.data.subarray(start * matrix.cols, end * matrix.cols);
      yield { batch: { data, rows: end - start, cols: matrix.cols }, ids: Array.from({ length: end - start }, (_, i) => start + i) };
    }
    start = end;
  }
}

/** Per-dimension ranges of the corpus after rotation (if any), truncation to `dims` and normalization. */
function corpusRanges(matrix: Matrix, held: Set<number>, dims: number, rotation?: Rotation): Ranges {
  let ranges: Ranges | undefined;
  for (const { batch } of corpusBatches(matrix, held)) {
    const r = rangesOf(prepareVectors("quantvec eval", batch, { rotation, storedDims: dims, normalize: true }, "vectors"));
    if (ranges === undefined) ranges = r;
    else {
      for (let c = 0; c < dims; c++) {
        ranges.min[c] = Math.min(ranges.min[c], r.min[c]);
        ranges.max[c] = Math.max(ranges.max[c], r.max[c]);
      }
    }
  }
  return ranges!;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)];
};

/** Searches every query, timing each call; returns the ids found and the median latency. */
async function searchAll(index: Index, queries: Float32Array[], k: number, multiplier: number) {
  const found: Uint32Array[] = [];
  const times: number[] = [];
  for (const query of queries) {
    const start = performance.now();
    const { ids } = await index.search(query, { k, rescoreMultiplier: multiplier });
    times.push(performance.now() - start);
    found.push(ids);
  }
  return { found, p50Ms: median(times) };
}

/** Exact float32 cosine top-k of every query over the full vectors: the study's truth. */
async function exactTruth(matrix: Matrix, held: Set<number>, queries: Float32Array[], k: number): Promise<Uint32Array[]> {
  // One float32 index per chunk keeps each under the 4 GiB memory32 ceiling; merged per query.
  const chunkRows = Math.max(1, Math.floor(2 ** 30 / (matrix.cols * 4)));
  const best: Array<Array<{ id: number; score: number }>> = queries.map(() => []);
  let index: Index | undefined;
  const flush = async () => {
    if (index === undefined) return;
    for (let q = 0; q < queries.length; q++) {
      const { ids, scores } = await index.search(queries[q], { k });
      best[q].push(...Array.from(ids, (id, i) => ({ id, score: scores[i] })));
      best[q].sort((a, b) => b.score - a.score || a.id - b.id).splice(k);
    }
    index.dispose();
    index = undefined;
  };
  for (const { batch, ids } of corpusBatches(matrix, held)) {
    index ??= await Index.create({ dims: matrix.cols, precision: "float32", normalize: true });
    index.add(batch, ids);
    if (index.size >= chunkRows) await flush();
  }
  await flush();
  return best.map((entries) => Uint32Array.from(entries, (e) => e.id));
}

function label(config: Config, multiplier: number): string {
  const head = config.rescore === "none" ? config.precision : `${config.precision}→${config.rescore} ×${multiplier}`;
  return `${config.rotation ? `${config.rotation} ` : ""}${head} @${config.dims}`;
}

/** The configurations with learned rotations: PCA before every cut (float32 only where it cuts), ITQ for binary codes. */
function rotationConfigs(methods: RotationMethod[], dims: number, dimsList: number[], multipliers: number[]): Config[] {
  const configs: Config[] = [];
  for (const d of dimsList) {
    if (methods.includes("pca")) {
      if (d < dims) configs.push({ precision: "float32", rescore: "none", dims: d, multipliers: [1], rotation: "pca" });
      configs.push(
        { precision: "int8", rescore: "none", dims: d, multipliers: [1], rotation: "pca" },
        { precision: "binary", rescore: "none", dims: d, multipliers: [1], rotation: "pca" },
        { precision: "binary", rescore: "int8", dims: d, multipliers, rotation: "pca" },
      );
    }
    if (methods.includes("itq")) {
      configs.push(
        { precision: "binary", rescore: "none", dims: d, multipliers: [1], rotation: "itq" },
        { precision: "binary", rescore: "int8", dims: d, multipliers, rotation: "itq" },
      );
    }
  }
  return configs;
}

/** The corpus rows rotations are fitted on: all of them, or a seeded sample of MAX_FIT_ROWS. */
function fitSample(matrix: Matrix, held: Set<number>, seed: number): Matrix {
  const corpusRows = Array.from({ length: matrix.rows }, (_, r) => r).filter((r) => !held.has(r));
  const picked = corpusRows.length <= MAX_FIT_ROWS ? corpusRows : sampleRows(corpusRows.length, MAX_FIT_ROWS, seed + 1).map((i) => corpusRows[i]);
  const data = new Float32Array(picked.length * matrix.cols);
  picked.forEach((r, i) => data.set(matrix.data.subarray(r * matrix.cols, (r + 1) * matrix.cols), i * matrix.cols));
  return { data, rows: picked.length, cols: matrix.cols };
}

/**
 * Runs the study: float32, int8, binary and binary→int8 (×1, 2, 4, 8) at full, 1/2, 1/4 and 1/8
 * of the dimensions, each against exact float search on the full vectors.
 */
export async function qualityStudy(matrix: Matrix, dataset: string, options: StudyOptions): Promise<QualityStudy> {
  const { k } = options;
  const multipliers = options.multipliers ?? [1, 2, 4, 8];
  const queryRows = sampleRows(matrix.rows, options.queries, options.seed);
  if (matrix.rows - queryRows.length < k) {
    throw new RangeError(`quantvec eval: ${matrix.rows} vectors leave fewer than k = ${k} after holding out ${queryRows.length} queries`);
  }
  const held = new Set(queryRows);
  const queries = queryRows.map((r) => matrix.data.slice(r * matrix.cols, (r + 1) * matrix.cols));

  const configs: Config[] = [
    ...(options.dimsList ?? mrlDims(matrix.cols)).flatMap((dims) => [
      { precision: "float32", rescore: "none", dims, multipliers: [1] },
      { precision: "int8", rescore: "none", dims, multipliers: [1] },
      { precision: "binary", rescore: "none", dims, multipliers: [1] },
      { precision: "binary", rescore: "int8", dims, multipliers },
    ] satisfies Config[]),
    ...rotationConfigs(options.rotations ?? [], matrix.cols, options.dimsList ?? mrlDims(matrix.cols), multipliers),
  ];
  const steps = configs.length + 1 + (options.references ? 1 : 0);
  let done = 0;
  const progress = (what: string) => options.onProgress?.(done++, steps, what);

  progress("exact float32 search (truth)");
  const truth = await exactTruth(matrix, held, queries, k);

  const rows: QualityRow[] = [];
  const fitted = options.fitted ?? new Map<string, Rotation>();
  const failed = new Map<string, string>();
  let sample: Matrix | undefined;
  /** The rotation of a config, fitted on first use; a string says why it cannot be. */
  const rotationFor = (config: Config): Rotation | string | undefined => {
    if (config.rotation === undefined) return undefined;
    const key = rotationKey(config.rotation, config.rotation === "pca" ? matrix.cols : config.dims);
    if (config.rotation === "itq" && config.dims > MAX_ITQ_DIMS) {
      return `ITQ is fitted only up to ${MAX_ITQ_DIMS} dims here (each iteration solves a ${config.dims} × ${config.dims} eigenproblem)`;
    }
    if (!fitted.has(key) && !failed.has(key)) {
      sample ??= options.rotationSample ?? fitSample(matrix, held, options.seed);
      try {
        fitted.set(key, fitRotation(sample, {
          method: config.rotation, dims: config.rotation === "pca" ? matrix.cols : config.dims, iterations: options.itqIterations, seed: options.seed,
        }));
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        failed.set(key, error.message);
      }
    }
    return fitted.get(key) ?? failed.get(key);
  };
  for (const config of configs) {
    progress(label(config, config.multipliers[0]));
    const rotation = rotationFor(config);
    if (typeof rotation === "string") {
      rows.push({
        label: label(config, config.multipliers[0]), precision: config.precision, rescore: config.rescore, dims: config.dims,
        rotation: config.rotation, multiplier: config.multipliers[0], recall: NaN, bytesPerVector: NaN, p50Ms: NaN, note: `skipped: ${rotation}`,
      });
      continue;
    }
    const base = rowOptions({ precision: config.precision, rescore: config.rescore, dims: config.dims, rotation: config.rotation } as QualityRow, matrix.cols);
    const index = await Index.create({
      ...base, rotation,
      ranges: config.precision === "int8" || config.rescore === "int8" ? corpusRanges(matrix, held, config.dims, rotation) : undefined,
    });
    try {
      for (const { batch, ids } of corpusBatches(matrix, held)) index.add(batch, ids);
      for (const multiplier of config.multipliers) {
        const { found, p50Ms } = await searchAll(index, queries, k, multiplier);
        rows.push({
          label: label(config, multiplier), precision: config.precision, rescore: config.rescore, dims: config.dims,
          ...(config.rotation ? { rotation: config.rotation } : {}),
          multiplier, recall: meanRecall(found, truth, k), bytesPerVector: index.bytesPerVector, p50Ms,
        });
      }
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      rows.push({
        label: label(config, config.multipliers[0]), precision: config.precision, rescore: config.rescore, dims: config.dims,
        ...(config.rotation ? { rotation: config.rotation } : {}),
        multiplier: config.multipliers[0], recall: NaN, bytesPerVector: index.bytesPerVector, p50Ms: NaN,
        note: `skipped: ${error.message}`,
      });
    } finally {
      index.dispose();
    }
  }
  if (options.references) {
    progress("sentence-transformers reference scoring");
    rows.push(...(await referenceRows(matrix, held, queries, truth, k)));
  }
  options.onProgress?.(steps, steps, "done");
  return { dataset, vectors: matrix.rows - queryRows.length, dims: matrix.cols, queries: queries.length, k, rows, queryRows };
}

/**
 * sentence-transformers' default scoring on its own codes, for comparison: int8 codes compared
 * with int8 codes (what an inner-product index over them does), then semantic_search's rescoring
 * ×2 of the float query against the raw codes; and binary Hamming rescored ×2 by the float query
 * against the bits (0/1). Ranges come from the corpus as given (no normalization), as in ST.
 */
async function referenceRows(
  matrix: Matrix, held: Set<number>, queries: Float32Array[], truth: Uint32Array[], k: number,
): Promise<QualityRow[]> {
  const d = matrix.cols;
  const corpus = [...corpusBatches(matrix, held, Number.MAX_SAFE_INTEGER)];
  const ids = corpus.flatMap((c) => c.ids);
  const n = ids.length;
  const flat = new Float32Array(n * d);
  let at = 0;
  for (const { batch } of corpus) {
    flat.set(batch.data, at);
    at += batch.data.length;
  }
  const ranges = rangesOf({ data: flat, rows: n, cols: d });
  const codes = quantize({ data: flat, rows: n, cols: d }, "int8", { ranges }).data;
  const bits = quantize({ data: flat, rows: n, cols: d }, "ubinary").data;
  const bytes = bits.length / n;

  const int8Buffer: KernelBuffer<Int8Array> = kernels.alloc("int8", codes.length);
  int8Buffer.array.set(codes);
  const bitBuffer: KernelBuffer<Uint8Array> = kernels.alloc("uint8", bits.length);
  bitBuffer.array.set(bits);

  const rescore = (query: Float32Array, rows: Uint32Array, value: (row: number, c: number) => number) =>
    Array.from(rows)
      .map((row) => {
        let score = 0;
        for (let c = 0; c < d; c++) score += query[c] * value(row, c);
        return { row, score };
      })
      .sort((a, b) => b.score - a.score || a.row - b.row)
      .slice(0, k)
      .map((e) => ids[e.row]);
  const codeValue = (row: number, c: number) => codes[row * d + c];
  const bitValue = (row: number, c: number) => (bits[row * bytes + (c >> 3)] >> (7 - (c & 7))) & 1;

  const runs: Array<{ label: string; precision: QualityRow["precision"]; bytesPerVector: number; search: (q: Float32Array) => number[] }> = [
    {
      label: "ST int8 codes·codes", precision: "int8", bytesPerVector: d,
      search: (q) => Array.from(kernels.dot_i8_topk(quantize([q], "int8", { ranges }).data, int8Buffer, k).rows, (r) => ids[r]),
    },
    {
      label: "ST int8 codes·codes → rescore ×2", precision: "int8", bytesPerVector: d,
      search: (q) => rescore(q, kernels.dot_i8_topk(quantize([q], "int8", { ranges }).data, int8Buffer, 2 * k).rows, codeValue),
    },
    {
      label: "ST binary → rescore ×2", precision: "binary", bytesPerVector: bytes,
      search: (q) => rescore(q, kernels.hamming_u1_topk(quantize([q], "ubinary").data, bitBuffer, 2 * k).rows, bitValue),
    },
  ];
  try {
    return runs.map((run) => {
      const times: number[] = [];
      const found = queries.map((q) => {
        const start = performance.now();
        const result = run.search(q);
        times.push(performance.now() - start);
        return result;
      });
      return {
        label: run.label, precision: run.precision, rescore: run.label.includes("rescore") ? "float32" : "none", dims: d,
        multiplier: run.label.includes("×2") ? 2 : 1, recall: meanRecall(found, truth, k), bytesPerVector: run.bytesPerVector,
        p50Ms: median(times), reference: true,
      };
    });
  } finally {
    int8Buffer.dispose();
    bitBuffer.dispose();
  }
}

/**
 * The rotation study held out all the way: rotations fitted on the first half of the vectors,
 * queries and corpus from the second half, beside the same configurations without a rotation on
 * that half. Rows are labelled "· fit on half 1, measured on half 2" (or "· measured on half 2")
 * and marked `split` (another corpus).
 *
 * @param matrix the vectors (at least 2 × dims rows, so the fit half has a row per dimension).
 * @param options queries (held out of the second half), k, seed, ITQ iterations, progress.
 * @returns the rows: float32 and int8 at every size, binary alone and binary→int8 ×4.
 * @throws RangeError when the halves are too small to fit or to search.
 * @example
 * const rows = await rotationSplitRows(miniLM, { queries: 100, k: 10, seed: 42 });
 */
export async function rotationSplitRows(
  matrix: Matrix, options: Pick<StudyOptions, "queries" | "k" | "seed" | "itqIterations" | "onProgress">,
): Promise<QualityRow[]> {
  const half = Math.floor(matrix.rows / 2);
  const first = { data: matrix.data.subarray(0, half * matrix.cols), rows: half, cols: matrix.cols };
  const second = { data: matrix.data.subarray(half * matrix.cols), rows: matrix.rows - half, cols: matrix.cols };
  const d = matrix.cols;
  const dimsList = [...new Set([d, Math.round(d / 2), Math.round(d / 3), Math.round(d / 4)])];
  const study = await qualityStudy(second, "second half", {
    ...options, multipliers: [4], rotations: ["pca", "itq"], rotationSample: first, dimsList,
  });
  return study.rows
    .filter((row) => Number.isFinite(row.recall) && (row.rotation !== "pca" || row.precision !== "binary"))
    .map((row) => ({ ...row, label: `${row.label} · ${row.rotation ? "fit on half 1, " : ""}measured on half 2`, split: true }));
}
