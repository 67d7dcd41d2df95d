// The shape of what `quantvec bench` and `quantvec eval` measure: written as results.json, and
// the only input of the report (BENCHMARKS.md) and the plots. Nothing in a report is typed by hand.

/** Where and with what a run happened. */
export interface RunMeta {
  /** ISO 8601 time the run started. */
  date: string;
  node: string;
  cpu: string;
  cores: number;
  platform: string;
  quantvecVersion: string;
  mode: "quick" | "full" | "eval";
  /** The CPU features that decide which kernels are fastest (AVX-512 VNNI, VPOPCNTDQ, …), from /proc/cpuinfo where there is one. */
  cpuFlags?: string[];
  /** os.loadavg() when the run started: other work on the machine skews every timing. */
  loadAverage?: number[];
  /** When parts of a run were measured again later, what and how (scripts/refresh-bench-quality.mjs). */
  refreshed?: string;
  seed: number;
  /** Package versions of the peers, null when a peer could not be loaded. */
  peers: Record<string, string | null>;
  /** The kernels quantvec ran ("simd128" or "relaxed-simd") and why (kernels.features). */
  kernelPath?: string;
  kernelPathReason?: string;
}

/** One implementation's timing of one kernel scan (one query against the whole corpus, top-10 included). */
export interface KernelRow {
  /** "quantvec", "plain JS (SWAR popcount)", "simsimd 6.5.5", "usearch 2.25.x exactSearch", … */
  implementation: string;
  status: "ok" | "unavailable" | "failed";
  /** Why a peer is unavailable or failed, or a caveat (e.g. "per-pair N-API calls"). */
  note?: string;
  p50Ms?: number;
  vectorsPerSec?: number;
  gbPerSec?: number;
  /** GB/s as a percentage of the streaming-read baseline measured in the same run. */
  percentOfBound?: number;
  /** Floating-point operations per second, in billions (the rotation suite: 2 · rows · dims² per call). */
  gflopsPerSec?: number;
  /** quantvec's p50 divided by this row's p50 (above 1: this row is slower than quantvec). */
  quantvecSpeedup?: number;
  /** The same ratio taken round by round (contenders timed in turn): its lowest and highest round. */
  quantvecSpeedupLow?: number;
  quantvecSpeedupHigh?: number;
  /** The spread of single calls: 10th and 90th percentile. */
  p10Ms?: number;
  p90Ms?: number;
}

/**
 * What the machine allows in the same run: the suite's streaming read (its bound) on one thread,
 * and split with one worker (src/cli/reference.ts).
 */
export interface HardwareReferenceRow {
  oneThreadGbPerSec?: number;
  /** 2 threads vs 1, round by round: median, lowest and highest round. */
  twoThreadSpeedup?: number;
  twoThreadSpeedupLow?: number;
  twoThreadSpeedupHigh?: number;
  /** Why there is no measurement (no shared memory or worker here). */
  note?: string;
}

export interface KernelSuite {
  /** "hamming", "int8", "float32". */
  kernel: string;
  /** Human title, e.g. "Hamming 1024-bit, top-10". */
  title: string;
  vectors: number;
  bytesPerVector: number;
  /** Streaming reads of this suite's bytes in the same run. The bound: the faster of the two below (in runs before 2026-12-02, the interleaved read). */
  boundGbPerSec?: number;
  oneStreamGbPerSec?: number;
  /** The same bytes read in the scans' interleaved order (read_sum_rows: 4 streams; 8 before 2026-12-02 19:20). */
  interleavedGbPerSec?: number;
  reference?: HardwareReferenceRow;
  rows: KernelRow[];
}

/**
 * The streaming-read baseline: a WASM v128 sum over the widest suite's bytes, the machine's
 * practical ceiling: the faster of one stream and the scans' interleaved order (in runs before
 * 2026-12-02, the interleaved read, then 8 streams).
 */
export interface Bandwidth {
  bytes: number;
  p50Ms: number;
  gbPerSec: number;
  oneStreamGbPerSec?: number;
  interleavedGbPerSec?: number;
}

/** End-to-end search latency over the large corpus. */
export interface EndToEndRow {
  name: string;
  vectors: number;
  p50Ms: number;
  p99Ms: number;
  /** p50 relative to the binary scan alone. */
  vsBinaryScan: number;
}

/** One configuration of the quality study. */
export interface QualityRow {
  /** Short label: "binary→int8 ×4 @256", "int8 @768", "ST int8 codes·codes →rescore ×2". */
  label: string;
  precision: "float32" | "int8" | "binary";
  rescore: "none" | "int8" | "float32";
  /** Stored dimensions after MRL truncation. */
  dims: number;
  /** The learned rotation applied before truncation ("pca" or "itq"), if any. */
  rotation?: "pca" | "itq";
  /** Rescoring multiplier (1 when there is no rescoring). */
  multiplier: number;
  /** Mean recall@k against exact float search on the full vectors. */
  recall: number;
  bytesPerVector: number;
  /** Median single-query search latency, milliseconds. */
  p50Ms: number;
  /** A row replicating another tool's default (sentence-transformers), shown for comparison. */
  reference?: boolean;
  /**
   * A row of the split rotation study (fitted on one half of the vectors, measured on the other):
   * a different corpus, so it is shown but neither joins the Pareto front nor is recommended.
   */
  split?: boolean;
  /** On the recall-vs-bytes Pareto front (filled in by the study). */
  pareto?: boolean;
  /** Why the row has no measurement (e.g. the index would exceed WebAssembly memory); recall is NaN then. */
  note?: string;
}

export interface QualityStudy {
  /** "all-MiniLM-L6-v2 (@sap-ux/fiori-docs-embeddings)", or the user's file name. */
  dataset: string;
  vectors: number;
  dims: number;
  queries: number;
  k: number;
  rows: QualityRow[];
  /** The row numbers of the vectors held out as queries (0-based, ascending). */
  queryRows?: number[];
  /** The cheapest row meeting the target recall, when a target was given. */
  recommendation?: { targetRecall: number; label: string | null; reason: string };
}

/** Threads and batching (filled in once the worker pool exists). */
export interface ScalingRow {
  name: string;
  baseline: string;
  p50Ms: number;
  baselineP50Ms: number;
  speedup: number;
  /** The speedup taken round by round (contenders timed in turn): its lowest and highest round. */
  speedupLow?: number;
  speedupHigh?: number;
  /** A "2 threads" row: the hardware reference's 2-thread speedup in the same run, and ours as a share of it. */
  referenceSpeedup?: number;
  ofReference?: number;
}

/** One timing of the ids suite (filters, removal, upserts), with its baseline where it has one. */
export interface IdsRow {
  name: string;
  p50Ms: number;
  /** What the ratio compares with (e.g. the unfiltered scan), if anything. */
  baseline?: string;
  baselineP50Ms?: number;
  /** p50Ms / baselineP50Ms: below 1 is faster than the baseline. */
  ratio?: number;
  /** The lowest and highest round's time ÷ the baseline's in that round (contenders timed in turn). */
  ratioLow?: number;
  ratioHigh?: number;
}

/** The scale suite: one index past one WebAssembly memory. */
export interface ScaleRun {
  vectors: number;
  codeBytes: number;
  shards: number;
  addSeconds: number;
  searchP50Ms: number;
  batchQueries: number;
  batchP50Ms: number;
  /** Queries per second of searchBatch. */
  batchQps: number;
  /** memoryBytes / vectors: WebAssembly memory (and id table) held per vector, spare capacity included. */
  memoryPerVector: number;
  /** Code bytes, id and live bit per vector: what the rows themselves take. */
  rowBytesPerVector: number;
}

/** The persistence suite: index.save and Index.load against copying the same file, timed in turn. */
export interface PersistenceRun {
  vectors: number;
  fileBytes: number;
  rounds: number;
  /** Each contender's median seconds, throughput and every round's seconds. */
  rows: Array<{ name: string; p50Seconds: number; gbPerSec: number; seconds: number[] }>;
  /** Save throughput as a fraction of copyFile + fsync throughput (goal ≥ 0.7). */
  saveVsCopyFsync: number;
  /** Save throughput as a fraction of writing the same bytes from memory to a new file, fsync, rename. */
  saveVsWriteNew: number;
  /** Load throughput as a fraction of copyFile throughput (goal ≥ 0.7). */
  loadVsCopy: number;
  /** Load throughput as a fraction of reading the file into new memory (readFile) and checksumming it (xxh64). */
  loadVsReadFresh: number;
}

export interface BenchResults {
  meta: RunMeta;
  bandwidth?: Bandwidth;
  kernels: KernelSuite[];
  endToEnd: EndToEndRow[];
  quality?: QualityStudy;
  scaling?: ScalingRow[];
  ids?: IdsRow[];
  scale?: ScaleRun;
  persistence?: PersistenceRun;
}
