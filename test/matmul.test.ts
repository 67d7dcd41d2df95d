// matmul_f32 (the rotation kernel) against its scalar reference in src/reference.ts: every tile
// shape (4 × 8 tiles, 4-wide strips, single columns, leftover rows), inner lengths on both sides of
// the kernel's 256-element k blocks, more rows than one row block, unaligned addresses (the panel
// scratch included), seeded random and adversarial values.
// Results are compared bit for bit, on every kernel path this runtime runs.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as reference from "../src/reference.js";
import type { KernelPath } from "../src/relaxed.js";
import { Arena, pathChoice, ready } from "../src/wasm.js";
import { randomNormal, rng } from "./helpers.js";

await ready();
const PATHS: KernelPath[] = pathChoice().relaxedSimd ? ["simd128", "relaxed-simd"] : ["simd128"];

/**
 * Runs a product kernel with a, b and out at addresses ≡ the given misalignments (mod 64), out
 * filled with NaN first; returns out's bytes.
 */
function runProduct(
  kernel: "matmul_f32" | "matmul_f64", path: KernelPath, a: Float32Array | Float64Array, b: Float32Array | Float64Array,
  rows: number, inner: number, cols: number, misalign = [0, 0, 0],
): Uint8Array {
  const arena = new Arena("test", undefined, false, path);
  const place = (data: Float32Array | Float64Array, offset: number) => {
    const ptr = arena.alloc("test", data.byteLength + offset + data.BYTES_PER_ELEMENT, 64) + offset;
    arena.u8.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), ptr);
    return ptr;
  };
  const aPtr = place(a, misalign[0]);
  const bPtr = place(b, misalign[1]);
  const outBytes = rows * cols * a.BYTES_PER_ELEMENT;
  const out = place(kernel === "matmul_f32" ? new Float32Array(rows * cols).fill(Number.NaN) : new Float64Array(rows * cols).fill(Number.NaN), misalign[2]);
  // The panel scratch, NaN-filled and as misaligned as b: the kernel must write every byte it reads.
  const panelBytes = arena.kernels[`${kernel}_panel_bytes`](inner, cols);
  const panels = place(new Float64Array(Math.ceil(panelBytes / 8)).fill(Number.NaN), misalign[1]);
  arena.kernels[kernel](aPtr, bPtr, rows, inner, cols, out, panels);
  return arena.u8.slice(out, out + outBytes);
}

/** matmul_f32 on `path`: out's bits. */
function run(
  path: KernelPath, a: Float32Array, b: Float32Array, rows: number, inner: number, cols: number, misalign = [0, 0, 0],
): Uint32Array {
  return new Uint32Array(runProduct("matmul_f32", path, a, b, rows, inner, cols, misalign).buffer);
}

const bits = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

describe.each(PATHS)("matmul_f32 on the %s kernels", (path) => {
  it("matches reference for rows 0..9 × cols 0..19 (every tile and tail shape), inner 7", () => {
    const random = rng(11);
    for (let rows = 0; rows <= 9; rows++) {
      for (let cols = 0; cols <= 19; cols++) {
        const a = randomNormal(random, rows * 7);
        const b = randomNormal(random, 7 * cols);
        expect(run(path, a, b, rows, 7, cols), `rows=${rows} cols=${cols}`).toEqual(bits(reference.matmul_f32(a, b, rows, 7, cols)));
      }
    }
  });

  it.each([0, 1, 3, 4, 255, 256, 257, 511, 512, 513, 1000])("matches reference across k blocks (inner=%i, 9 × 21)", (inner) => {
    const random = rng(100 + inner);
    const a = randomNormal(random, 9 * inner);
    const b = randomNormal(random, inner * 21);
    expect(run(path, a, b, 9, inner, 21)).toEqual(bits(reference.matmul_f32(a, b, 9, inner, 21)));
  });

  it("matches reference past one row block, over many panels and k blocks (261 × 513 × 37, 2 × 257 × 1024)", () => {
    const random = rng(31);
    for (const [rows, inner, cols] of [[261, 513, 37], [2, 257, 1024]]) {
      const a = randomNormal(random, rows * inner);
      const b = randomNormal(random, inner * cols);
      expect(run(path, a, b, rows, inner, cols), `${rows} × ${inner} × ${cols}`).toEqual(bits(reference.matmul_f32(a, b, rows, inner, cols)));
    }
  });

  it("matches reference at unaligned addresses (offsets 4/8/12 and 1/3/2 bytes)", () => {
    const random = rng(7);
    const a = randomNormal(random, 6 * 300);
    const b = randomNormal(random, 300 * 13);
    const expected = bits(reference.matmul_f32(a, b, 6, 300, 13));
    for (const misalign of [[4, 8, 12], [1, 3, 2]]) {
      expect(run(path, a, b, 6, 300, 13, misalign), `offsets ${misalign}`).toEqual(expected);
    }
  });

  it("matches reference on adversarial values: cancellation, huge and tiny magnitudes, signed zeros", () => {
    const rows = 5;
    const inner = 260;
    const cols = 11;
    const a = new Float32Array(rows * inner);
    const b = new Float32Array(inner * cols);
    for (let i = 0; i < a.length; i++) a[i] = [1e30, -1e30, 1e-30, -0, 3.5, 1][i % 6];
    for (let i = 0; i < b.length; i++) b[i] = [1e8, 1, -1e8, 1e-8, -0, 2.5, 0][i % 7];
    const expected = reference.matmul_f32(a, b, rows, inner, cols);
    expect(run(path, a, b, rows, inner, cols)).toEqual(bits(expected));
  });
});

it("the release build multiplies with f32x4.mul and splats rows with f32x4.splat", () => {
  const text = readFileSync(new URL("../build/quantvec.wat", import.meta.url), "utf8");
  const start = text.indexOf("(func $assembly/matmul/matmulF32");
  expect(start).toBeGreaterThan(0);
  const body = text.slice(start, text.indexOf("\n (func", start + 1));
  for (const instruction of ["f32x4.mul", "f32x4.splat", "f32x4.add"]) expect(body).toContain(instruction);
});

/** out = a · b in float64, every element summed over k in order from 0: matmul_f64's order. */
function referenceMatmulF64(a: Float64Array, b: Float64Array, rows: number, inner: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += a[r * inner + k] * b[k * cols + c];
      out[r * cols + c] = sum;
    }
  }
  return out;
}

/** matmul_f64 (the same on every path): out's values. */
function runF64(a: Float64Array, b: Float64Array, rows: number, inner: number, cols: number, misalign = [0, 0, 0]): Float64Array {
  return new Float64Array(runProduct("matmul_f64", "simd128", a, b, rows, inner, cols, misalign).buffer);
}

describe("matmul_f64 (ITQ's Procrustes products) against a scalar float64 loop, bit for bit", () => {
  const normal64 = (random: () => number, length: number) => Float64Array.from(randomNormal(random, length), (v) => v * (1 + random()));

  it("every tile and tail shape: rows 0..9 × cols 0..9, inner 0, 1 and 13", () => {
    const random = rng(31);
    for (const inner of [0, 1, 13]) {
      for (let rows = 0; rows <= 9; rows++) {
        for (let cols = 0; cols <= 9; cols++) {
          const a = normal64(random, rows * inner);
          const b = normal64(random, inner * cols);
          expect(runF64(a, b, rows, inner, cols), `rows=${rows} inner=${inner} cols=${cols}`).toEqual(referenceMatmulF64(a, b, rows, inner, cols));
        }
      }
    }
  });

  it("a 64 × 300 × 37 product at unaligned addresses (offsets 8/16/24 and 1/3/2 bytes)", () => {
    const random = rng(32);
    const a = normal64(random, 64 * 300);
    const b = normal64(random, 300 * 37);
    const expected = referenceMatmulF64(a, b, 64, 300, 37);
    for (const misalign of [[0, 0, 0], [8, 16, 24], [1, 3, 2]]) expect(runF64(a, b, 64, 300, 37, misalign), `offsets ${misalign}`).toEqual(expected);
  });

  it("past one row block, over several k blocks and many panels (261 × 290 × 38)", () => {
    const random = rng(33);
    const a = normal64(random, 261 * 290);
    const b = normal64(random, 290 * 38);
    expect(runF64(a, b, 261, 290, 38)).toEqual(referenceMatmulF64(a, b, 261, 290, 38));
  });

  it("adversarial values: cancellation, huge and tiny magnitudes, signed zeros", () => {
    const [rows, inner, cols] = [5, 40, 11];
    const a = Float64Array.from({ length: rows * inner }, (_, i) => [1e150, -1e150, 1e-300, -0, 3.5, 1][i % 6]);
    const b = Float64Array.from({ length: inner * cols }, (_, i) => [1e8, 1, -1e8, 1e-8, -0, 2.5, 0][i % 7]);
    const out = runF64(a, b, rows, inner, cols);
    const expected = referenceMatmulF64(a, b, rows, inner, cols);
    expect(new Uint32Array(out.buffer)).toEqual(new Uint32Array(expected.buffer));
  });
});

describe("transpose_f32 (fitRotation's sample transpose) against the index arithmetic", () => {
  it.each([[0, 5], [1, 1], [1, 37], [33, 70], [64, 32], [100, 3]])("%i × %i, every value moved to [c][r] unchanged", (rows, cols) => {
    const random = rng(rows * 1000 + cols);
    const a = randomNormal(random, rows * cols);
    const arena = new Arena("test");
    const aPtr = arena.alloc("test", a.byteLength + 4);
    const out = arena.alloc("test", a.byteLength + 4);
    arena.f32.set(a, aPtr >>> 2);
    arena.f32.fill(Number.NaN, out >>> 2, (out >>> 2) + rows * cols + 1);
    arena.kernels.transpose_f32(aPtr, rows, cols, out);
    const expected = new Float32Array(rows * cols + 1).fill(Number.NaN);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expected[c * rows + r] = a[r * cols + c];
    expect(bits(arena.f32.slice(out >>> 2, (out >>> 2) + rows * cols + 1))).toEqual(bits(expected));
  });
});
