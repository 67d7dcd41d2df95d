// Symmetric eigendecomposition in float64, the linear algebra behind fitRotation: Householder
// reduction to tridiagonal form, then the implicit QL algorithm with Wilkinson-style shifts
// (the EISPACK tred2/tql2 pair, written from the textbook description). O(n³); the O(n³) loops
// run in WebAssembly (assembly/eigen.ts, f64x2 lanes over contiguous rows): a 1024 × 1024 matrix
// took 1.2–2 s of CPU on the loaded 2-core CI machine (8.3 s as plain TS). No dependency.
//
// Storage: row-major throughout. The reduction reads and updates the lower triangle row by row and
// yields Qᵀ; QL then rotates pairs of its rows, so every inner loop runs over contiguous memory.

import { Arena } from "./wasm.js";

/** Eigenvalues (descending) and unit eigenvectors (row i of `vectors` belongs to `values[i]`). */
export interface SymmetricEigen {
  values: Float64Array;
  /** n × n, row-major; row i is the eigenvector of values[i], its largest-magnitude entry positive. */
  vectors: Float64Array;
}

/**
 * Eigenvalues and eigenvectors of a symmetric n × n matrix (row-major; only the lower triangle is
 * read). Deterministic: the same input gives the same bits on every engine.
 *
 * @param matrix n × n values, row-major.
 * @param n the order of the matrix.
 * @param arena where the WebAssembly kernels run (reused by callers that decompose repeatedly);
 *   a new one by default.
 * @returns eigenvalues in descending order and their unit eigenvectors as rows.
 * @throws RangeError when `matrix` does not hold n × n values, or QL does not converge; Error
 *   before `await ready()`.
 * @example
 * symmetricEigen(Float64Array.of(2, 1, 1, 2), 2).values; // Float64Array [3, 1]
 */
export function symmetricEigen(matrix: Float64Array, n: number, arena?: Arena): SymmetricEigen {
  const caller = "symmetricEigen";
  if (matrix.length !== n * n) {
    throw new RangeError(`${caller}: matrix has ${matrix.length} values, expected ${n} × ${n} = ${n * n}`);
  }
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  arena ??= new Arena(caller);
  const bytes = n * n * 8;
  const aPtr = arena.scratchFor(caller, "a", bytes);
  const wPtr = arena.scratchFor(caller, "w", bytes);
  const vectorsPtr = arena.scratchFor(caller, "d e h p", 4 * n * 8);
  const [dPtr, ePtr, hPtr, pPtr] = [0, 1, 2, 3].map((i) => vectorsPtr + i * n * 8);
  new Float64Array(arena.memory.buffer, aPtr, n * n).set(matrix);
  const { kernels } = arena;
  kernels.tridiagonalize_f64(aPtr, dPtr, ePtr, hPtr, pPtr, n);
  kernels.accumulate_reflections_f64(aPtr, hPtr, wPtr, n);
  const failed = kernels.implicit_ql_f64(wPtr, dPtr, ePtr, n);
  if (failed >= 0) throw new RangeError(`${caller}: QL did not converge at eigenvalue ${failed}`);
  const buffer = arena.memory.buffer;
  return sortDescending(new Float64Array(buffer, wPtr, n * n), new Float64Array(buffer, dPtr, n), n);
}

/** Orders the pairs by descending eigenvalue (ties by original index) and fixes each vector's sign. */
function sortDescending(w: Float64Array, d: Float64Array, n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[b] - d[a] || a - b);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    values[to] = d[from];
    let largest = 0;
    for (let k = 0; k < n; k++) if (Math.abs(w[from * n + k]) > Math.abs(w[from * n + largest])) largest = k;
    const sign = w[from * n + largest] < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) vectors[to * n + k] = sign * w[from * n + k];
  });
  return { values, vectors };
}
