// The rotation kernel in `quantvec bench`: a block of vectors times a learned rotation matrix
// (matmul_f32, WebAssembly SIMD) against the same product in plain JS, timed in one run. Both sum
// in the same order, so their outputs are compared bit for bit before timing.

import { Arena } from "../wasm.js";
import { measure } from "./measure.js";
import { randomNormal } from "./kernel-bench.js";
import type { KernelRow, KernelSuite } from "./results.js";

/** out = a · b in plain JS: the i-k-j loop a careful JS programmer writes, rounded like the kernel. */
function plainMatmul(a: Float32Array, b: Float32Array, rows: number, inner: number, cols: number, out: Float32Array): Float32Array {
  out.fill(0);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let k = 0; k < inner; k++) {
      const x = a[r * inner + k];
      const bk = k * cols;
      for (let c = 0; c < cols; c++) out[o + c] = out[o + c] + Math.fround(x * b[bk + c]);
    }
  }
  return out;
}

/**
 * Times rotating `rows` vectors of `dims` by a dims × dims matrix: quantvec's kernel and plain JS.
 *
 * @param rows vectors per call.
 * @param dims vector length (and rotation size).
 * @param seed seeds the vectors and the matrix.
 * @param timeMs time per task in each round (measure.ts).
 * @returns a kernel suite whose rows carry GFLOP/s (2 · rows · dims² per call).
 * @throws Error when the two disagree on any output bit.
 * @example
 * const suite = await rotationSuite(4096, 384, 42, 500);
 */
export async function rotationSuite(rows: number, dims: number, seed: number, timeMs: number): Promise<KernelSuite> {
  const arena = new Arena("quantvec bench");
  const vectors = randomNormal(rows * dims, seed + 20);
  const matrix = randomNormal(dims * dims, seed + 21);
  const aPtr = arena.alloc("quantvec bench", vectors.byteLength);
  const bPtr = arena.alloc("quantvec bench", matrix.byteLength);
  const outPtr = arena.alloc("quantvec bench", rows * dims * 4);
  arena.f32.set(vectors, aPtr >> 2);
  arena.f32.set(matrix, bPtr >> 2);
  const ours = () => {
    arena.matmulF32("quantvec bench", aPtr, bPtr, rows, dims, dims, outPtr);
    return arena.f32[outPtr >> 2];
  };
  const scratch = new Float32Array(rows * dims);
  const plain = () => plainMatmul(vectors, matrix, rows, dims, dims, scratch)[0];
  ours();
  plain();
  const kernelOut = new Uint32Array(arena.f32.slice(outPtr >> 2, (outPtr >> 2) + rows * dims).buffer);
  const plainOut = new Uint32Array(scratch.buffer);
  if (!kernelOut.every((bits, i) => bits === plainOut[i])) throw new Error("rotation bench: matmul_f32 and plain JS disagree");
  const timings = await measure([{ name: "quantvec", fn: ours }, { name: "plain", fn: plain }], timeMs);
  const flops = 2 * rows * dims * dims;
  const row = (implementation: string, name: string, note: string): KernelRow => {
    const p50Ms = timings.get(name)!.p50Ms;
    const gflopsPerSec = flops / (p50Ms * 1e6);
    return {
      implementation, status: "ok", p50Ms, vectorsPerSec: rows / (p50Ms / 1000), gflopsPerSec,
      quantvecSpeedup: p50Ms / timings.get("quantvec")!.p50Ms, note: `${gflopsPerSec.toFixed(2)} GFLOP/s; ${note}`,
    };
  };
  return {
    kernel: "rotation",
    title: `Rotation ${dims} → ${dims} (matmul_f32), ${rows} vectors per call`,
    vectors: rows,
    bytesPerVector: dims * 4,
    rows: [
      row("quantvec", "quantvec", "4 × 8 tiles of f32x4"),
      row("plain JS (i-k-j loop)", "plain", "same summation order, bit-identical output"),
    ],
  };
}
