// Quantization in `quantvec bench`: float32 rows turned into int8 buckets and sign bits by
// quantize() (WebAssembly kernels, validation and copies included) into a new result and into a
// reused `out` array, by the kernels alone, and by the scalar JS loops they replaced, and added to
// an index, beside a streaming read of the same float bytes and the first touch of fresh memory of
// the int8 codes' size (what a new result can cost before any code is written), all timed in one run. Every quantizing contender's output is
// compared byte for byte with the scalar loops' first.

import { packBits, packBitsRow, quantize, quantizeRow, quantizeRows, stepsOf } from "../quantize.js";
import { Index } from "../vector-index.js";
import { Arena } from "../wasm.js";
import { randomNormal } from "./kernel-bench.js";
import { measure } from "./measure.js";
import type { KernelRow, KernelSuite } from "./results.js";

const DIMS = 1024;

/**
 * Times quantizing `rows` float32 rows of 1024 dims to int8 (per-dimension ranges) and to bits.
 *
 * @param rows rows per call.
 * @param seed seeds the rows.
 * @param timeMs time per task in each round (measure.ts).
 * @returns a kernel suite whose rows carry GB/s of float input and the percentage of a streaming
 *   read of those bytes measured in the same run.
 * @throws Error when a contender's codes differ from the scalar loops'.
 * @example
 * const suite = await quantizeSuite(25_000, 42, 500);
 */
export async function quantizeSuite(rows: number, seed: number, timeMs: number): Promise<KernelSuite> {
  const data = randomNormal(rows * DIMS, seed + 30);
  const ranges = { min: new Float32Array(DIMS).fill(-2.5), max: new Float32Array(DIMS).fill(2.5) };
  const steps = stepsOf(ranges);
  const bitBytes = DIMS / 8;
  const int8 = new Int8Array(rows * DIMS);
  const bits = new Uint8Array(rows * bitBytes);

  const scalarInt8 = () => {
    for (let r = 0; r < rows; r++) quantizeRow(data, r * DIMS, DIMS, ranges.min, steps, int8, r * DIMS, -128);
    return int8;
  };
  const scalarBits = () => {
    for (let r = 0; r < rows; r++) packBitsRow(data, r * DIMS, DIMS, bits, r * bitBytes, 0);
    return bits;
  };
  // The arrays the `out` rows reuse: allocated (and first touched, by the check below) once, outside the timed calls.
  const outInt8 = new Int8Array(rows * DIMS);
  const outBits = new Uint8Array(rows * bitBytes);
  const contenders = [
    {
      name: "quantize(…, \"int8\")", kind: "int8", run: () => quantize(data, "int8", { ranges, dims: DIMS }).data,
      note: "the API on a flat Float32Array, staged and validated chunk by chunk in the kernel's memory, into a new result array each call: bounded by the first touch of its pages (see the first-touch row)",
    },
    {
      name: "quantize(…, \"int8\", { out })", kind: "int8", run: () => quantize(data, "int8", { ranges, dims: DIMS, out: outInt8 }).data,
      note: "the same into one out array reused by every call; its codes (over 8 MiB) are too many to hold until every chunk is checked, so the input is checked whole first (a call that throws writes nothing into out)",
    },
    {
      name: "quantize(…, \"ubinary\")", kind: "bits", run: () => quantize(data, "ubinary", { dims: DIMS }).data,
      note: "the API on a flat Float32Array, staged and validated chunk by chunk, into a new result array each call (1/32 of the input's bytes, so its first touch costs less)",
    },
    {
      name: "quantize(…, \"ubinary\", { out })", kind: "bits", run: () => quantize(data, "ubinary", { dims: DIMS, out: outBits }).data,
      note: "the same into one out array reused by every call: its codes (up to 8 MiB) held in the kernel's memory until every chunk has passed its check, then copied into out",
    },
    { name: "int8 kernel (quantizeRows)", note: "what Index.add runs: staging copies and the kernel", kind: "int8", run: () => (quantizeRows(data, 0, rows, DIMS, ranges.min, steps, int8, 0, -128), int8) },
    { name: "bits kernel (packBits)", note: "what Index.add runs: staging copies and the kernel", kind: "bits", run: () => (packBits(data, 0, rows, DIMS, bits, 0, 0), bits) },
    { name: "int8, scalar JS loop", note: "before: quantizeRow per row", kind: "int8", run: scalarInt8 },
    { name: "bits, scalar JS loop", note: "before: packBitsRow per row", kind: "bits", run: scalarBits },
  ] as const;
  // Timed beside the contenders, not compared with them (the index tests check what add stores).
  const references = [
    {
      name: "first touch of fresh memory of the int8 codes' size",
      note: "a new WebAssembly.Memory (always fresh pages) filled once: what quantize(…, \"int8\") pays on top of its kernel when the allocator hands it fresh pages for its result (it may instead reuse freed memory, then almost nothing), and what { out } saves",
      run: () => new Int8Array(new WebAssembly.Memory({ initial: Math.ceil((rows * DIMS) / 65536) }).buffer).fill(1).length,
    },
    {
      name: "Index.add, binary → int8",
      note: "a new index per call, the flat Float32Array checked and quantized in place (no copy), both columns stored: the first touch of the index's new memory included",
      run: async () => {
        const index = await Index.create({ dims: DIMS, precision: "binary", rescore: "int8", ranges });
        index.add(data);
        index.dispose();
        return rows;
      },
    },
  ] as const;
  const expected = { int8: new Uint8Array(scalarInt8().buffer.slice(0)), bits: scalarBits().slice() };
  for (const c of contenders) {
    const got = c.run();
    const bytes = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
    if (!bytes.every((b, i) => b === expected[c.kind][i])) throw new Error(`quantize bench: ${c.name} differs from the scalar loop`);
  }

  const arena = new Arena("quantvec bench");
  const ptr = arena.alloc("quantvec bench", data.byteLength);
  arena.f32.set(data, ptr >>> 2);
  const timings = await measure([
    { name: "bound", fn: () => arena.kernels.read_sum(ptr, data.byteLength) },
    ...contenders.map((c) => ({ name: c.name, fn: () => c.run().length })),
    ...references.map((c) => ({ name: c.name, fn: c.run })),
  ], timeMs);
  const gbPerSec = (ms: number) => data.byteLength / (ms / 1000) / 1e9;
  const bound = gbPerSec(timings.get("bound")!.p50Ms);
  const row = (name: string, note: string): KernelRow => {
    const p50Ms = timings.get(name)!.p50Ms;
    return {
      implementation: name, status: "ok", p50Ms, vectorsPerSec: rows / (p50Ms / 1000), gbPerSec: gbPerSec(p50Ms),
      percentOfBound: (100 * gbPerSec(p50Ms)) / bound, note,
    };
  };
  const tableRows = [
    ...contenders.map((c) => {
      const scalar = timings.get(c.kind === "int8" ? "int8, scalar JS loop" : "bits, scalar JS loop")!.p50Ms;
      return row(c.name, `${c.note}; ${(scalar / timings.get(c.name)!.p50Ms).toFixed(1)}× the scalar loop`);
    }),
    ...references.map((c) => row(c.name, c.note)),
  ];
  return {
    kernel: "quantize",
    title: `Quantization of ${DIMS}-d float32 rows (GB/s of float input)`,
    vectors: rows,
    bytesPerVector: DIMS * 4,
    boundGbPerSec: bound,
    rows: tableRows,
  };
}
