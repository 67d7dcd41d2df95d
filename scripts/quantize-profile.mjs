// Where the time of quantizing goes: the public quantize() paths and Index.add (binary, int8,
// binary → int8) beside their parts (the streaming read of the float bytes, the staging copy
// into WebAssembly memory, the kernels in cache, a fresh output array's page faults, toMatrix's
// copy and check), all timed in turn (A B A B …, src/cli/measure.ts) in one process.
//
//   npm run build && node --expose-gc scripts/quantize-profile.mjs [rows=100000] [timeMs=1500] [groups=parts,api,add]
//
// Prints GB/s of float input (rows × 1024 × 4 bytes) per contender: p50 and the spread of the
// rounds' medians (lowest–highest round). Outputs and index memory are new on every call, so
// each call pays the first touch of their pages (the "fresh Int8Array" row measures that alone).

import { Index, quantize, ready } from "../dist/index.js";
import { measure } from "../dist/cli/measure.js";
import { randomNormal } from "../dist/cli/kernel-bench.js";
import { toMatrix } from "../dist/embeddings.js";
import { findNonFinite, packBits, quantizeRows, stepsOf } from "../dist/quantize.js";
import { Arena } from "../dist/wasm.js";

const DIMS = 1024;
const rows = Number(process.argv[2] ?? 100_000);
const timeMs = Number(process.argv[3] ?? 1500);
const groups = (process.argv[4] ?? "parts,api,add").split(",");

await ready();
const data = randomNormal(rows * DIMS, 7);
const bytes = data.byteLength;
const ranges = { min: new Float32Array(DIMS).fill(-2.5), max: new Float32Array(DIMS).fill(2.5) };
const steps = stepsOf(ranges);
const int8 = new Int8Array(rows * DIMS);
const bits = new Uint8Array(rows * (DIMS / 8));

const arena = new Arena("profile", undefined, false, "simd128");
const whole = arena.alloc("profile", bytes);
arena.f32.set(data, whole >>> 2);
const staging = (chunkFloats) => {
  const ptr = arena.scratchFor("profile", `stage-${chunkFloats}`, chunkFloats * 4);
  return () => {
    const f32 = arena.f32;
    for (let at = 0; at < data.length; at += chunkFloats) f32.set(data.subarray(at, at + chunkFloats), ptr >>> 2);
    return ptr;
  };
};
const chunkPtr = arena.scratchFor("profile", "kernel-chunk", (1 << 20) * 4);
arena.f32.set(data.subarray(0, 1 << 20), chunkPtr >>> 2);
const chunkOut = arena.scratchFor("profile", "kernel-out", 1 << 20);
const mins = arena.scratchFor("profile", "mins", DIMS * 4);
const stepsPtr = arena.scratchFor("profile", "steps", DIMS * 4);
arena.f32.set(ranges.min, mins >>> 2);
arena.f32.set(steps, stepsPtr >>> 2);
const chunkRows = (1 << 20) / DIMS;
const repeats = rows / chunkRows; // the kernels in cache run as often as over the whole input

const ids = Uint32Array.from({ length: rows }, (_, i) => 3 * i + 1);
let sharedCopy;
const shared = () => {
  sharedCopy ??= new Float32Array(new SharedArrayBuffer(bytes));
  sharedCopy.set(data);
  return sharedCopy;
};

const tasks = {
  parts: [
    { name: "streaming read (read_sum, WASM memory)", fn: () => arena.kernels.read_sum(whole, bytes) },
    { name: "staging copy only, 4 MiB chunks", fn: staging(1 << 20) },
    { name: "staging copy only, 256 KiB chunks", fn: staging(1 << 16) },
    { name: "staging copy only, 64 KiB chunks", fn: staging(1 << 14) },
    { name: "int8 kernel alone, 4 MiB chunk in cache", fn: () => { for (let i = 0; i < repeats; i++) arena.kernels.quantize_u8_f32(chunkPtr, chunkRows, DIMS, mins, stepsPtr, chunkOut, 0x80); } },
    { name: "bits kernel alone, 4 MiB chunk in cache", fn: () => { for (let i = 0; i < repeats; i++) arena.kernels.pack_bits_f32(chunkPtr, chunkRows, DIMS, chunkOut, 0); } },
    { name: "find_nonfinite alone, 4 MiB chunk in cache", fn: () => { for (let i = 0; i < repeats; i++) arena.kernels.find_nonfinite_f32(chunkPtr, 1 << 20); } },
    { name: "findNonFinite (staging + check), whole input", fn: () => findNonFinite({ data, rows, cols: DIMS }) },
    { name: "fresh Int8Array(rows × dims), filled", fn: () => new Int8Array(rows * DIMS).fill(1).length },
    { name: "toMatrix (JS copy + isFinite loop)", fn: () => toMatrix("profile", data, { dims: DIMS }).rows },
  ],
  api: [
    { name: "streaming read (read_sum, WASM memory)", fn: () => arena.kernels.read_sum(whole, bytes) },
    { name: "quantize(…, \"int8\")", fn: () => quantize(data, "int8", { ranges, dims: DIMS }).data.length },
    { name: "quantize(…, \"ubinary\")", fn: () => quantize(data, "ubinary", { dims: DIMS }).data.length },
    { name: "quantizeRows (preallocated out)", fn: () => (quantizeRows(data, 0, rows, DIMS, ranges.min, steps, int8, 0, -128), 1) },
    { name: "packBits (preallocated out)", fn: () => (packBits(data, 0, rows, DIMS, bits, 0, 0), 1) },
  ],
  // The same rows in a SharedArrayBuffer take the copying path every input took before (toMatrix:
  // a private copy, checked value by value in JS): before and after, timed in turn.
  add: [
    { name: "streaming read (read_sum, WASM memory)", fn: () => arena.kernels.read_sum(whole, bytes) },
    ...[["binary", "none"], ["int8", "none"], ["binary", "int8"]].flatMap(([precision, rescore]) =>
      [["in place", data], ["in place, explicit ids (checked again after them)", data, ids], ["copied (shared buffer)", shared()]].map(([how, vectors, given]) => ({
        name: `Index.add ${precision}${rescore === "none" ? "" : ` → ${rescore}`}, ${how}`,
        fn: async () => {
          const index = await Index.create({ dims: DIMS, precision, rescore, ranges });
          index.add(vectors, given);
          const n = index.size;
          index.dispose();
          return n;
        },
      }))),
  ],
};

console.log(`${rows} × ${DIMS} float32 = ${(bytes / 1e6).toFixed(0)} MB; node ${process.version}; load ${(await import("node:os")).loadavg().map((x) => x.toFixed(2)).join(" ")}`);
for (const group of groups) {
  const timings = await measure(tasks[group], timeMs);
  console.log(`\n[${group}]  GB/s of float input: p50 (rounds low–high)`);
  for (const [name, t] of timings) {
    const gb = (ms) => bytes / (ms / 1000) / 1e9;
    const perRound = t.roundsMs.map(gb);
    console.log(`  ${name.padEnd(62)} ${gb(t.p50Ms).toFixed(2).padStart(6)}  (${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)})  ${t.p50Ms.toFixed(1)} ms, ${t.samples} calls`);
  }
}
console.log(`\nload after: ${(await import("node:os")).loadavg().map((x) => x.toFixed(2)).join(" ")}`);
