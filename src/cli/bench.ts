// `quantvec bench`: everything measured in one run, so ratios hold on a noisy machine.
//   1. kernel scans beside plain JS and the peers, each as a share of a streaming read
//   2. end-to-end search latency: two-stage binary → int8 against the binary scan alone
//   3. threads and batching: 2 threads against 1, a 16-query batch against 16 single searches
//   4. recall on real vectors (MiniLM) for every configuration, with sentence-transformers' defaults
//   5. ids: filtered search against the unfiltered scan, removal, compaction and upserts
//   6. scale (full mode, or --scale): tens of millions of codes in several shards
//   7. persistence: index.save and Index.load against copying the same file

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";
import type { Matrix } from "../embeddings.js";
import { kernels } from "../kernels.js";
import { calibrate } from "../quantize.js";
import { Index, type IndexOptions } from "../vector-index.js";
import { ready } from "../wasm.js";
import { K, kernelSuites, type KernelSizes, randomNormal, referenceTasks } from "./kernel-bench.js";
import { fillRandom } from "./random.js";
import { measure, speedup, type Task } from "./measure.js";
import { persistenceSuite } from "./persistence-bench.js";
import { loadSimSimd, loadUSearch } from "./peers.js";
import type { Progress } from "./progress.js";
import { HardwareReference } from "./reference.js";
import type { BenchResults, EndToEndRow, IdsRow, QualityStudy, ScaleRun, ScalingRow } from "./results.js";
import { qualityStudy, rotationSplitRows } from "./study.js";

export type BenchMode = "quick" | "full";

interface ModeSettings {
  kernels: KernelSizes;
  /** Vectors in the end-to-end index. */
  endToEnd: number;
  /** Vectors in the thread and batch comparisons. */
  scaling: KernelSizes;
  /** Queries held out of the MiniLM vectors. */
  qualityQueries: number;
  timeMs: number;
  /** 1024-bit codes in the ids suite. */
  ids: number;
  /** 1024-bit codes in the scale suite; 0 leaves it out. */
  scale: number;
  /** 1024-d binary → int8 vectors saved and loaded, and rounds of the persistence suite. */
  persistence: { vectors: number; rounds: number };
}

// Quick mode's corpora are 128 MB: small enough for a quick run, but these VMs report shared L3
// caches of hundreds of MiB, so they may partly sit in cache (the suites' bound says how fast
// the bytes came). Full mode's are 1 GiB, beyond any cache: the memory decides there.
/** The scale suite: 40M 1024-bit codes, 5.1 GB, more than one 4 GiB WebAssembly memory holds. */
export const SCALE_VECTORS = 40_000_000;

const QUICK_SIZES: KernelSizes = { hamming: 1_000_000, int8: 128_000, float32: 32_000 };
/** 1 GiB of each: 2^30 bytes in rows of 128, 1024 and 4096 bytes. */
const FULL_SIZES: KernelSizes = { hamming: 8_388_608, int8: 1_048_576, float32: 262_144 };

const MODES: Record<BenchMode, ModeSettings> = {
  quick: { kernels: QUICK_SIZES, endToEnd: 100_000, scaling: QUICK_SIZES, qualityQueries: 150, timeMs: 500, ids: 1_000_000, scale: 0,
    persistence: { vectors: 100_000, rounds: 3 } },
  full: { kernels: FULL_SIZES, endToEnd: 1_000_000, scaling: FULL_SIZES, qualityQueries: 200, timeMs: 2000, ids: 1_000_000, scale: SCALE_VECTORS,
    persistence: { vectors: 1_000_000, rounds: 5 } },
};

const require = createRequire(import.meta.url);

export function packageVersion(): string {
  return (require("../../package.json") as { version: string }).version;
}

/** The 778 all-MiniLM-L6-v2 vectors that @sap-ux/fiori-docs-embeddings ships, or null if absent. */
export function loadMiniLM(): Matrix | null {
  try {
    const root = dirname(require.resolve("@sap-ux/fiori-docs-embeddings/package.json"));
    const bytes = readFileSync(join(root, "data/embeddings/embeddings.bin"));
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    return { data, rows: data.length / 384, cols: 384 };
  } catch {
    return null;
  }
}

/** Builds indexes of the given options over the same seeded 1024-d vectors, added in batches. */
async function syntheticIndexes(
  count: number, seed: number, configs: Array<Omit<IndexOptions, "dims" | "ranges">>, progress: Progress, label: string,
): Promise<Index[]> {
  const dims = 1024;
  const batchRows = 8192;
  const batch = (b: number) => randomNormal(batchRows * dims, seed + 100 + b);
  const ranges = calibrate(batch(0), { dims });
  const indexes = await Promise.all(configs.map((config) => Index.create({ dims, ranges, ...config })));
  for (let b = 0; b * batchRows < count; b++) {
    const rows = Math.min(batchRows, count - b * batchRows);
    const data = batch(b).subarray(0, rows * dims);
    for (const index of indexes) index.add(data);
    progress.update(b * batchRows + rows, count, label);
  }
  progress.clear();
  return indexes;
}

/** Two-stage binary → int8 search against the binary scan alone, over the same vectors. */
async function endToEnd(count: number, seed: number, timeMs: number, progress: Progress): Promise<EndToEndRow[]> {
  const [binary, twoStage] = await syntheticIndexes(
    count, seed, [{ precision: "binary", rescore: "none" }, { precision: "binary", rescore: "int8" }], progress, "building the indexes",
  );
  try {
    const query = randomNormal(1024, seed + 99);
    const timings = await measure(
      [
        { name: "binary", fn: () => binary.search(query, { k: K }) },
        { name: "x4", fn: () => twoStage.search(query, { k: K, rescoreMultiplier: 4 }) },
        { name: "x8", fn: () => twoStage.search(query, { k: K, rescoreMultiplier: 8 }) },
      ],
      timeMs,
    );
    const base = timings.get("binary")!.p50Ms;
    const row = (name: string, key: string): EndToEndRow => {
      const t = timings.get(key)!;
      return { name, vectors: count, p50Ms: t.p50Ms, p99Ms: t.p99Ms, vsBinaryScan: t.p50Ms / base };
    };
    return [
      row("binary scan alone, top-10", "binary"),
      row("binary → int8 rescoring ×4, top-10", "x4"),
      row("binary → int8 rescoring ×8, top-10", "x8"),
    ];
  } finally {
    binary.dispose();
    twoStage.dispose();
  }
}

/**
 * Two indexes over the same `count` seeded 1024-d rows, on 1 and on 2 threads. Binary and int8
 * rows go in as random codes (addQuantized): a scan does not depend on the data, and quantizing
 * a gigabyte of floats in JS would take minutes.
 */
async function threadPair(
  precision: "binary" | "int8" | "float32", count: number, seed: number, progress: Progress,
): Promise<[Index, Index]> {
  if (precision === "float32") {
    const [one, two] = await syntheticIndexes(count, seed, [{ precision, rescore: "none" }, { precision, rescore: "none", threads: 2 }], progress, "building the indexes");
    return [one, two];
  }
  const dims = 1024;
  const ranges = precision === "int8" ? calibrate(randomNormal(8192 * dims, seed + 100), { dims }) : undefined;
  const [one, two] = await Promise.all([1, 2].map((threads) => Index.create({ dims, precision, rescore: "none", ranges, threads })));
  const rowBytes = precision === "binary" ? dims / 8 : dims;
  const chunkRows = 65_536;
  const codes = new Uint8Array(chunkRows * rowBytes);
  for (let start = 0, c = 0; start < count; start += chunkRows, c++) {
    const rows = Math.min(chunkRows, count - start);
    fillRandom(codes, seed + 5000 + c);
    const chunk = codes.subarray(0, rows * rowBytes);
    const quantized = precision === "binary" ? { binary: chunk } : { int8: new Int8Array(chunk.buffer, 0, chunk.length) };
    one.addQuantized(quantized);
    two.addQuantized(quantized);
    progress.update(start + rows, count, "building the indexes");
  }
  progress.clear();
  return [one, two];
}

/**
 * Threads and batching: the same rows scanned by 1 and by 2 threads beside the hardware
 * reference (the streaming read of as many bytes on 1 and 2 threads), and 16 queries searched
 * one by one against one searchBatch call. All timed in turn in one run.
 */
async function scaling(sizes: KernelSizes, seed: number, timeMs: number, progress: Progress): Promise<ScalingRow[]> {
  const queries = Array.from({ length: 16 }, (_, i) => randomNormal(1024, seed + 300 + i));
  const rows: ScalingRow[] = [];
  const suites: Array<{ name: string; count: number; precision: "binary" | "int8" | "float32"; rowBytes: number }> = [
    { name: "Hamming 1024-bit", count: sizes.hamming, precision: "binary", rowBytes: 128 },
    { name: "int8 1024-d", count: sizes.int8, precision: "int8", rowBytes: 1024 },
    { name: "float32 1024-d", count: sizes.float32, precision: "float32", rowBytes: 4096 },
  ];
  for (const { name, count, precision, rowBytes } of suites) {
    progress.stage(`scaling: ${name}, ${count.toLocaleString("en-US")} vectors (${((count * rowBytes) / 2 ** 20).toFixed(0)} MiB)`);
    const [one, two] = await threadPair(precision, count, seed, progress);
    const reference = await HardwareReference.create(rowBytes, count, seed + 17);
    try {
      const tasks: Task[] = [
        { name: "1 thread", fn: () => one.search(queries[0], { k: K }) },
        { name: "16 singles", fn: async () => { for (const q of queries) await one.search(q, { k: K }); } },
        { name: "batch of 16", fn: () => one.searchBatch(queries, { k: K }) },
      ];
      if (two.threads === 2) tasks.push({ name: "2 threads", fn: () => two.search(queries[0], { k: K }) });
      if (typeof reference !== "string") tasks.push(...referenceTasks(reference));
      const t = await measure(tasks, timeMs);
      const pair = (label: string, ours: string, baseline: string, baselineLabel: string): ScalingRow => {
        const ratio = speedup(t, ours, baseline);
        const row: ScalingRow = {
          name: `${name}: ${label}`, baseline: baselineLabel, p50Ms: t.get(ours)!.p50Ms, baselineP50Ms: t.get(baseline)!.p50Ms,
          speedup: ratio.median, speedupLow: ratio.low, speedupHigh: ratio.high,
        };
        rows.push(row);
        return row;
      };
      const hardware = typeof reference === "string" ? undefined
        : pair("hardware reference (streaming read of as many bytes), 2 threads", "reference:2 threads", "reference:1 thread", "1 thread");
      if (two.threads === 2) {
        const ours = pair("2 threads, one query", "2 threads", "1 thread", "1 thread");
        if (hardware) {
          ours.referenceSpeedup = hardware.speedup;
          ours.ofReference = ours.speedup / hardware.speedup;
        }
      } else rows.push({ name: `${name}: 2 threads`, baseline: `unavailable: ${two.threadingNote}`, p50Ms: NaN, baselineP50Ms: NaN, speedup: NaN });
      pair("searchBatch of 16 queries", "batch of 16", "16 singles", "16 single searches");
    } finally {
      one.dispose();
      two.dispose();
      if (typeof reference !== "string") reference.dispose();
    }
  }
  return rows;
}

/** A binary-only index of `count` random 1024-bit codes, added through addQuantized in chunks. */
async function codesIndex(count: number, seed: number, progress: Progress, label: string): Promise<{ index: Index; seconds: number }> {
  const bytes = 128;
  const chunkRows = 1 << 20;
  const index = await Index.create({ dims: bytes * 8, precision: "binary", rescore: "none" });
  const codes = new Uint8Array(chunkRows * bytes);
  let seconds = 0;
  for (let start = 0, c = 0; start < count; start += chunkRows, c++) {
    const rows = Math.min(chunkRows, count - start);
    fillRandom(codes, seed + 7000 + c);
    const began = performance.now();
    index.addQuantized({ binary: codes.subarray(0, rows * bytes) });
    seconds += (performance.now() - began) / 1000;
    progress.update(start + rows, count, label);
  }
  progress.clear();
  return { index, seconds };
}

/**
 * Filtered search against the unfiltered scan of the same index (a set of 1% and 50% of the
 * ids, a predicate of 1%), and the cost of removing 10% of the ids, compacting, and upserting one row.
 */
export async function idsSuite(count: number, seed: number, timeMs: number, progress: Progress): Promise<IdsRow[]> {
  progress.stage(`ids: ${count.toLocaleString("en-US")} × 1024-bit codes`);
  const { index } = await codesIndex(count, seed, progress, "adding codes");
  try {
    const query = randomNormal(1024, seed + 900);
    const every = (step: number) => new Set(Array.from({ length: Math.ceil(count / step) }, (_, i) => i * step));
    const onePercent = every(100);
    const half = every(2);
    const tasks = [
      { name: "unfiltered", fn: () => index.search(query, { k: K }) },
      { name: "1% set", fn: () => index.search(query, { k: K, filter: onePercent }) },
      { name: "50% set", fn: () => index.search(query, { k: K, filter: half }) },
      { name: "1% predicate", fn: () => index.search(query, { k: K, filter: (id: number) => id % 100 === 0 }) },
    ];
    const t = await measure(tasks, timeMs);
    const base = t.get("unfiltered")!.p50Ms;
    const rows: IdsRow[] = [{ name: `search, unfiltered (${count.toLocaleString("en-US")} rows)`, p50Ms: base }];
    for (const [name, label] of [["1% set", "filter: a Set of 1% of the ids"], ["50% set", "filter: a Set of 50% of the ids"],
      ["1% predicate", "filter: a predicate allowing 1%"]] as const) {
      const p50Ms = t.get(name)!.p50Ms;
      const rounds = speedup(t, name, "unfiltered"); // baseline ÷ ours, round by round
      rows.push({ name: label, p50Ms, baseline: "the unfiltered search", baselineP50Ms: base, ratio: p50Ms / base, ratioLow: 1 / rounds.high, ratioHigh: 1 / rounds.low });
    }
    const removed = Array.from({ length: Math.floor(count / 10) }, (_, i) => i * 10 + 3);
    let began = performance.now();
    index.remove(removed);
    rows.push({ name: `remove 10% of the ids (${removed.length.toLocaleString("en-US")})`, p50Ms: performance.now() - began });
    const before = index.memoryBytes;
    began = performance.now();
    await index.compact();
    rows.push({ name: `compact() after that (memoryBytes ${(before / 1e6).toFixed(0)} → ${(index.memoryBytes / 1e6).toFixed(0)} MB)`, p50Ms: performance.now() - began });
    const vector = randomNormal(1024, seed + 901);
    let id = 0;
    const upsert = await measure([{ name: "upsert", fn: () => index.upsert([vector], [(id = (id + 7919) % count)]) }], Math.min(timeMs, 500));
    rows.push({ name: "upsert of one row (replacing an id)", p50Ms: upsert.get("upsert")!.p50Ms });
    return rows;
  } finally {
    index.dispose();
  }
}

/** The scale suite: `count` 1024-bit codes past one 4 GiB memory, single and batched search. */
export async function scaleSuite(count: number, seed: number, timeMs: number, progress: Progress): Promise<ScaleRun> {
  progress.stage(`scale: ${count.toLocaleString("en-US")} × 1024-bit codes (${((count * 128) / 1e9).toFixed(1)} GB)`);
  const { index, seconds } = await codesIndex(count, seed, progress, "adding codes");
  try {
    const queries = Array.from({ length: 32 }, (_, i) => randomNormal(1024, seed + 1000 + i));
    const t = await measure([
      { name: "one", fn: () => index.search(queries[0], { k: K }) },
      { name: "batch", fn: () => index.searchBatch(queries, { k: K }) },
    ], timeMs, 3);
    const batchP50Ms = t.get("batch")!.p50Ms;
    return {
      vectors: count, codeBytes: count * 128, shards: index.shards, addSeconds: seconds,
      searchP50Ms: t.get("one")!.p50Ms, batchQueries: queries.length, batchP50Ms, batchQps: (queries.length * 1000) / batchP50Ms,
      memoryPerVector: index.memoryBytes / count, rowBytesPerVector: 128 + 4 + 1 / 8,
    };
  } finally {
    index.dispose();
  }
}

/** CPU flags that matter to the scans: SIMD widths, dot-product and popcount instructions. */
const RELEVANT_FLAGS = ["popcnt", "avx2", "avx_vnni", "avx512f", "avx512bw", "avx512_vnni", "avx512_vpopcntdq", "avx512_bitalg", "amx_int8"];

function cpuFlags(): string[] | undefined {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("flags"));
    const flags = new Set(line?.split(":")[1].trim().split(/\s+/));
    return RELEVANT_FLAGS.filter((flag) => flags.has(flag));
  } catch {
    return undefined;
  }
}

export interface BenchOptions {
  mode: BenchMode;
  seed: number;
  progress: Progress;
  /** Run the scale suite (full mode always does). */
  scale?: boolean;
}

export async function runBench({ mode, seed, progress, scale }: BenchOptions): Promise<BenchResults> {
  const settings = MODES[mode];
  await ready();
  const [simsimd, usearch] = await Promise.all([loadSimSimd(), loadUSearch()]);
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model ?? "unknown", cores: os.availableParallelism(),
      cpuFlags: cpuFlags(), loadAverage: os.loadavg(),
      platform: `${os.platform()} ${os.arch()}`, quantvecVersion: packageVersion(), mode, seed,
      peers: { simsimd: simsimd.version, usearch: usearch.version },
      kernelPath: kernels.features.path, kernelPathReason: kernels.features.pathReason,
    },
    kernels: [],
    endToEnd: [],
  };

  results.kernels = await kernelSuites(settings.kernels, seed, { simsimd, usearch }, settings.timeMs, (title) =>
    progress.stage(`kernels: ${title}`),
  );
  const widest = results.kernels.reduce((a, b) => (a.vectors * a.bytesPerVector >= b.vectors * b.bytesPerVector ? a : b));
  results.bandwidth = {
    bytes: widest.vectors * widest.bytesPerVector,
    p50Ms: (widest.vectors * widest.bytesPerVector) / (widest.boundGbPerSec! * 1e6),
    gbPerSec: widest.boundGbPerSec!,
    oneStreamGbPerSec: widest.oneStreamGbPerSec,
    interleavedGbPerSec: widest.interleavedGbPerSec,
  };

  progress.stage(`end to end: ${settings.endToEnd.toLocaleString("en-US")} × 1024-d vectors, binary → int8`);
  results.endToEnd = await endToEnd(settings.endToEnd, seed, settings.timeMs, progress);

  results.scaling = await scaling(settings.scaling, seed, settings.timeMs, progress);
  results.ids = await idsSuite(settings.ids, seed, settings.timeMs, progress);
  const scaleVectors = settings.scale || (scale ? SCALE_VECTORS : 0);
  if (scaleVectors > 0) results.scale = await scaleSuite(scaleVectors, seed, settings.timeMs, progress);
  results.persistence = await persistenceSuite(settings.persistence.vectors, seed, settings.persistence.rounds, progress);

  const miniLM = loadMiniLM();
  if (miniLM) {
    progress.stage("quality: 778 all-MiniLM-L6-v2 vectors");
    results.quality = await qualityOnMiniLM(miniLM, settings.qualityQueries, seed, progress);
  } else {
    progress.stage("quality: skipped (@sap-ux/fiori-docs-embeddings is not installed)");
  }
  progress.clear();
  return results;
}

export async function qualityOnMiniLM(matrix: Matrix, queries: number, seed: number, progress: Progress): Promise<QualityStudy> {
  const onProgress = (done: number, total: number, label: string) => progress.update(done, total, label);
  const study = await qualityStudy(matrix, "all-MiniLM-L6-v2 (778 vectors from @sap-ux/fiori-docs-embeddings)", {
    queries, k: K, seed, references: true, rotations: ["pca", "itq"], onProgress,
  });
  progress.stage("quality: rotations fitted on one half, measured on the other");
  return { ...study, rows: [...study.rows, ...(await rotationSplitRows(matrix, { queries: Math.floor(queries / 2), k: K, seed, onProgress }))] };
}
