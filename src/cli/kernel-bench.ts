// The kernel suites of `quantvec bench`: one query scanned against a whole synthetic corpus with
// top-10 selection, quantvec beside plain JS and the peers, all timed in turn (src/cli/measure.ts)
// together with a streaming read of the same bytes (the bound) and the hardware reference. Kernels do not depend on
// the data, so seeded random codes measure speed honestly; quality is measured on real vectors.

import { hammingTopK, dotTopK, perPairTopK } from "./baselines.js";
import { KernelBuffer, kernels } from "../kernels.js";
import { Index } from "../vector-index.js";
import { measure, speedup, type Task, type Timing } from "./measure.js";
import type { Peer, SimSimd, USearch } from "./peers.js";
import { fillRandom, xorshift32 } from "./random.js";
import { quantizeSuite } from "./quantize-bench.js";
import { rotationSuite } from "./rotation-bench.js";
import { HardwareReference } from "./reference.js";
import type { HardwareReferenceRow, KernelRow, KernelSuite } from "./results.js";

export const K = 10;
const DIMS = 1024;

export interface KernelSizes {
  hamming: number;
  int8: number;
  float32: number;
}

export interface Peers {
  simsimd: Peer<SimSimd>;
  usearch: Peer<USearch>;
}


/** Seeded standard normal float32 values (Box–Muller). */
export function randomNormal(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  const next = xorshift32(seed);
  const uniform = () => (next() + 0.5) / 4294967296;
  for (let i = 0; i < length; i++) out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

/** An implementation in a suite: its top-10 rows, and the rows it must agree with before timing. */
interface Contender {
  implementation: string;
  note?: string;
  run: () => number[] | Promise<number[]>;
  /** quantvec's answer to the same computation (peers without an int16 query compute int8 × int8). */
  expected: () => number[];
  /** What is timed, when it is not `run` (a reference scan without top-k: `run` adds the selection to check it). */
  timed?: () => unknown;
}

interface Unavailable {
  implementation: string;
  status: "unavailable" | "failed";
  note: string;
}

function sameTopK(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((row, i) => row === b[i]);
}

/** Times the contenders and the streaming reads in one run and turns them into table rows. */
async function runSuite(
  title: string, kernel: string, buffer: KernelBuffer<Uint8Array | Int8Array | Float32Array>, vectors: number,
  bytesPerVector: number, contenders: Array<Contender | Unavailable>, timeMs: number,
): Promise<KernelSuite> {
  const bytes = vectors * bytesPerVector;
  const arena = buffer.arena!;
  const rows: KernelRow[] = [];
  const timed: Contender[] = [];
  for (const contender of contenders) {
    if ("status" in contender) {
      rows.push({ implementation: contender.implementation, status: contender.status, note: contender.note });
      continue;
    }
    let got: number[];
    try {
      got = await contender.run();
    } catch (error) {
      rows.push({ implementation: contender.implementation, status: "failed", note: (error as Error).message.split("\n")[0] });
      continue;
    }
    const want = contender.expected();
    if (!sameTopK(got, want)) {
      rows.push({
        implementation: contender.implementation, status: "failed",
        note: `top-10 differs from quantvec's (${got.join(",")} vs ${want.join(",")}): not timed`,
      });
      continue;
    }
    timed.push(contender);
  }
  const reference = await HardwareReference.create(bytesPerVector, vectors, 17);
  try {
    const tasks: Task[] = [
      { name: "bound:streams", fn: () => arena.kernels.read_sum_rows(buffer.ptr, bytesPerVector, vectors) },
      { name: "bound:one", fn: () => arena.kernels.read_sum(buffer.ptr, bytes) },
      ...(typeof reference === "string" ? [] : referenceTasks(reference)),
      ...timed.map((c) => ({ name: c.implementation, fn: c.timed ?? c.run })),
    ];
    const timings = await measure(tasks, timeMs);
    const gbPerSec = (ms: number) => bytes / (ms / 1000) / 1e9;
    // The bound is the faster of the two reads: on an AMD EPYC either came first, by run (128-byte
    // rows as 8 streams at 17 GB/s against 27 for one stream, then 31 against 26; streams that
    // started a power of two apart, before streamRows, may explain some of it).
    const interleaved = gbPerSec(timings.get("bound:streams")!.p50Ms);
    const oneStream = gbPerSec(timings.get("bound:one")!.p50Ms);
    const bound = Math.max(interleaved, oneStream);
    const quantvec = timed[0]?.implementation;
    for (const contender of timed) {
      const { p50Ms, p10Ms, p90Ms } = timings.get(contender.implementation)!;
      const vsQuantvec = quantvec === undefined ? undefined : speedup(timings, quantvec, contender.implementation);
      rows.push({
        implementation: contender.implementation, status: "ok", note: ceilingNote(contender, gbPerSec(p50Ms), bound), p50Ms, p10Ms, p90Ms,
        vectorsPerSec: vectors / (p50Ms / 1000), gbPerSec: gbPerSec(p50Ms), percentOfBound: (100 * gbPerSec(p50Ms)) / bound,
        quantvecSpeedup: quantvec === undefined ? undefined : p50Ms / timings.get(quantvec)!.p50Ms,
        quantvecSpeedupLow: vsQuantvec?.low, quantvecSpeedupHigh: vsQuantvec?.high,
      });
    }
    rows.sort((a, b) => (a.status === "ok" ? 0 : 1) - (b.status === "ok" ? 0 : 1));
    return {
      kernel, title, vectors, bytesPerVector, boundGbPerSec: bound, oneStreamGbPerSec: oneStream, interleavedGbPerSec: interleaved,
      reference: referenceRow(reference, timings, bytes), rows,
    };
  } finally {
    if (typeof reference !== "string") reference.dispose();
  }
}

/**
 * A peer's note, plus how far any scan of these bytes could lead it here when it already reads
 * at half the streaming bound or more (the faster of the two reads): a lead asked of quantvec
 * beyond this ceiling is not in this machine's memory to give.
 */
function ceilingNote(contender: Contender, gbPerSec: number, bestRead: number): string | undefined {
  if (contender.implementation.startsWith("quantvec") || contender.timed !== undefined || gbPerSec < bestRead / 2) return contender.note;
  const ceiling = `at most ${(bestRead / gbPerSec).toFixed(2)}× faster than it for a scan of these bytes here (the streaming bound ÷ its rate)`;
  return contender.note === undefined ? ceiling : `${contender.note}; ${ceiling}`;
}

/** The hardware reference's two tasks, to time beside a suite's contenders. */
export function referenceTasks(reference: HardwareReference): Task[] {
  return [
    { name: "reference:1 thread", fn: () => reference.one() },
    { name: "reference:2 threads", fn: () => reference.two() },
  ];
}

/** The hardware reference's row from timings that included referenceTasks (or why there is none). */
export function referenceRow(reference: HardwareReference | string, timings: Map<string, Timing>, bytes: number): HardwareReferenceRow {
  if (typeof reference === "string") return { note: reference };
  const two = speedup(timings, "reference:2 threads", "reference:1 thread");
  return {
    oneThreadGbPerSec: bytes / (timings.get("reference:1 thread")!.p50Ms / 1000) / 1e9,
    twoThreadSpeedup: two.median, twoThreadSpeedupLow: two.low, twoThreadSpeedupHigh: two.high,
  };
}

const peerMissing = (peer: Peer<unknown>): Unavailable => ({
  implementation: peer.name, status: "unavailable", note: peer.reason ?? "not loaded",
});

/** Hamming over 1024-bit codes. */
async function hammingSuite(count: number, seed: number, peers: Peers, timeMs: number): Promise<KernelSuite> {
  const bytes = DIMS / 8;
  const buffer = kernels.alloc("uint8", count * bytes);
  let index: Index | undefined;
  try {
    fillRandom(buffer.array, seed);
    const codes = buffer.array.slice();
    const query = new Uint8Array(bytes);
    fillRandom(query, seed + 1);
    const ours = () => Array.from(kernels.hamming_u1_topk(query, buffer, K).rows);
    // The same codes through an index: one timing method for the kernel and Index.search.
    index = await Index.create({ dims: DIMS, precision: "binary", rescore: "none" });
    index.addQuantized({ binary: codes });
    const signs = Float32Array.from({ length: DIMS }, (_, i) => ((query[i >> 3] >> (7 - (i & 7))) & 1 ? 1 : -1));
    const searched = index;
    const scan = referenceScan(buffer, query, count);
    const { simsimd, usearch } = peers;
    const contenders: Array<Contender | Unavailable> = [
      { implementation: "quantvec", run: ours, expected: ours },
      {
        implementation: "quantvec Index.search", note: "the same codes and query through Index.search, awaited",
        run: async () => Array.from((await searched.search(signs, { k: K })).ids), expected: ours,
      },
      {
        implementation: "hardware reference scan", timed: scan.run, expected: ours,
        note: "the plainest SIMD popcount scan (i8x16.popcnt, one row at a time, one stream): every distance written, no top-k; checked by selecting its top-10 untimed",
        run: () => (scan.run(), perPairTopK(count, K, (row) => -scan.distances()[row])),
      },
      { implementation: "plain JS (SWAR popcount)", run: () => hammingTopK(query, codes, K), expected: ours },
      simsimd.lib
        ? {
            implementation: `simsimd ${simsimd.version}`, note: "one N-API call per vector",
            run: () => perPairTopK(count, K, (row) => -simsimd.lib!.hamming(query, codes.subarray(row * bytes, (row + 1) * bytes))),
            expected: ours,
          }
        : peerMissing(simsimd),
      usearch.lib ? usearchHamming(usearch, codes, query, bytes) : peerMissing(usearch),
    ];
    return await runSuite("Hamming, 1024-bit codes, top-10", "hamming", buffer, count, bytes, contenders, timeMs);
  } finally {
    buffer.dispose();
    index?.dispose();
  }
}

/**
 * The Hamming suite's hardware reference scan (popcount_scan_1024) over the suite's codes, with
 * its query and distances beside them in the buffer's memory.
 */
function referenceScan(buffer: KernelBuffer<Uint8Array>, query: Uint8Array, count: number): { run: () => void; distances: () => Int32Array } {
  const arena = buffer.arena!;
  const q = arena.alloc("quantvec bench", query.length);
  const out = arena.alloc("quantvec bench", count * 4);
  arena.u8.set(query, q);
  return {
    run: () => arena.kernels.popcount_scan_1024(q, buffer.ptr, count, out),
    distances: () => arena.i32.subarray(out >>> 2, (out >>> 2) + count),
  };
}

/** usearch's exactSearch has no bit-vector input from JS: record what it says when asked. */
function usearchHamming(usearch: Peer<USearch>, codes: Uint8Array, query: Uint8Array, bytes: number): Unavailable {
  try {
    usearch.lib!.exactSearch(codes as never, query as never, bytes, K, (usearch.lib!.MetricKind as Record<string, unknown>).Hamming, 1);
    return { implementation: `usearch ${usearch.version}`, status: "unavailable", note: "exactSearch accepted bit codes, but this suite has no adapter for it yet" };
  } catch (error) {
    return {
      implementation: `usearch ${usearch.version}`, status: "unavailable",
      note: `exactSearch does not take packed bits from JavaScript ("${(error as Error).message}")`,
    };
  }
}

/** int8 codes, 1024 dims: quantvec's asymmetric int16 × int8 scan. */
async function int8Suite(count: number, seed: number, peers: Peers, timeMs: number): Promise<KernelSuite> {
  const buffer = kernels.alloc("int8", count * DIMS);
  let other: KernelBuffer<Int8Array> | undefined;
  try {
    fillRandom(buffer.array, seed + 2);
    const codes = buffer.array.slice();
    const floats = randomNormal(DIMS, seed + 3);
    // |query| ≤ 8000 keeps Σ|q|·128 < 2^31, as the index's query encoder guarantees.
    const query16 = Int16Array.from(floats, (v) => Math.max(-8000, Math.min(8000, Math.round(v * 2000))));
    const query8 = Int8Array.from(floats, (v) => Math.max(-128, Math.min(127, Math.round(v * 40))));
    const ours = () => Array.from(kernels.dot_i16i8_topk(query16, buffer, K).rows);
    const oursI8 = () => Array.from(kernels.dot_i8_topk(query8, buffer, K).rows);
    const { simsimd, usearch } = peers;
    const { path, relaxedSimd, pathReason } = kernels.features;
    // The kernels ready() did not choose, over their own copy of the codes, where they run correctly.
    const otherPath = path === "simd128" ? "relaxed-simd" : "simd128";
    const otherBuffer = relaxedSimd ? (other = new KernelBuffer(Int8Array, count * DIMS, otherPath)) : undefined;
    otherBuffer?.array.set(codes);
    const contenders: Array<Contender | Unavailable> = [
      { implementation: "quantvec", note: `int16 query × int8 codes (asymmetric), ${path} kernels`, run: ours, expected: ours },
      otherBuffer
        ? {
            implementation: `quantvec ${otherPath}`, note: `the same scan with the ${otherPath} kernels (not chosen: ${pathReason})`,
            run: () => Array.from(kernels.dot_i16i8_topk(query16, otherBuffer, K).rows), expected: ours,
          }
        : { implementation: "quantvec relaxed-simd", status: "unavailable", note: pathReason },
      { implementation: "plain JS (unrolled ×4)", note: "int16 query × int8 codes", run: () => dotTopK(query16, codes, K), expected: ours },
      usearch.lib
        ? {
            implementation: `usearch ${usearch.version} exactSearch`, note: "int8 query × int8 codes, inner product, 1 thread",
            run: () => usearchTopK(usearch.lib!, codes, query8),
            expected: oursI8,
          }
        : peerMissing(usearch),
      simsimd.lib
        ? {
            implementation: `simsimd ${simsimd.version}`, note: "int8 × int8, one N-API call per vector",
            run: () => perPairTopK(count, K, (row) => simsimd.lib!.inner(query8, codes.subarray(row * DIMS, (row + 1) * DIMS))),
            expected: oursI8,
          }
        : peerMissing(simsimd),
    ];
    return await runSuite("int8, 1024 dims, top-10", "int8", buffer, count, DIMS, contenders, timeMs);
  } finally {
    buffer.dispose();
    other?.dispose();
  }
}

/** float32 vectors, 1024 dims. */
async function float32Suite(count: number, seed: number, peers: Peers, timeMs: number): Promise<KernelSuite> {
  const buffer = kernels.alloc("float32", count * DIMS);
  try {
    buffer.array.set(randomNormal(count * DIMS, seed + 4));
    const vectors = buffer.array.slice();
    const query = randomNormal(DIMS, seed + 5);
    const ours = () => Array.from(kernels.dot_f32_topk(query, buffer, K).rows);
    const { simsimd, usearch } = peers;
    const contenders: Array<Contender | Unavailable> = [
      { implementation: "quantvec", run: ours, expected: ours },
      { implementation: "plain JS (unrolled ×4)", run: () => dotTopK(query, vectors, K), expected: ours },
      usearch.lib
        ? {
            implementation: `usearch ${usearch.version} exactSearch`, note: "inner product, 1 thread",
            run: () => usearchTopK(usearch.lib!, vectors, query), expected: ours,
          }
        : peerMissing(usearch),
      simsimd.lib
        ? {
            implementation: `simsimd ${simsimd.version}`, note: "one N-API call per vector",
            run: () => perPairTopK(count, K, (row) => simsimd.lib!.inner(query, vectors.subarray(row * DIMS, (row + 1) * DIMS))),
            expected: ours,
          }
        : peerMissing(simsimd),
    ];
    return await runSuite("float32, 1024 dims, top-10", "float32", buffer, count, DIMS * 4, contenders, timeMs);
  } finally {
    buffer.dispose();
  }
}

/** usearch exactSearch top-10 rows, best first (its IP distance is 1 − dot: ascending). */
function usearchTopK(lib: USearch, dataset: Int8Array | Float32Array, query: Int8Array | Float32Array): number[] {
  const { keys } = lib.exactSearch(dataset, query, DIMS, K, lib.MetricKind.IP, 1);
  return Array.from(keys, Number);
}

export async function kernelSuites(
  sizes: KernelSizes, seed: number, peers: Peers, timeMs: number, onSuite: (title: string) => void,
): Promise<KernelSuite[]> {
  const suites: KernelSuite[] = [];
  onSuite("Hamming scan");
  suites.push(await hammingSuite(sizes.hamming, seed, peers, timeMs));
  onSuite("int8 scan");
  suites.push(await int8Suite(sizes.int8, seed, peers, timeMs));
  onSuite("float32 scan");
  suites.push(await float32Suite(sizes.float32, seed, peers, timeMs));
  onSuite("quantization");
  suites.push(await quantizeSuite(sizes.float32, seed, timeMs));
  onSuite("rotation");
  suites.push(await rotationSuite(4096, 384, seed, timeMs));
  return suites;
}
