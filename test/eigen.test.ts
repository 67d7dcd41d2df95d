// symmetricEigen (Householder tridiagonalization + implicit QL, O(n³) loops in WebAssembly) against
// numpy.linalg.eigh (fixtures from test/fixtures/make_eigen.py) and against its defining
// properties at the sizes fitRotation uses: A·v = λ·v, orthonormal vectors, descending values.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { symmetricEigen } from "../src/eigen.js";
import { ready } from "../src/index.js";
import { rng } from "./helpers.js";

await ready();

interface Case { name: string; n: number; matrix: number[]; values: number[]; vectors: number[] | null }
const fixture = JSON.parse(readFileSync(new URL("./fixtures/eigen-numpy.json", import.meta.url), "utf8")) as { cases: Case[] };

/** Largest |A·v_i − λ_i·v_i| and largest |v_i·v_j − δ_ij| over all pairs, in float64. */
function residuals(a: Float64Array, n: number, values: Float64Array, vectors: Float64Array): { residual: number; orthogonality: number } {
  let residual = 0;
  let orthogonality = 0;
  for (let i = 0; i < n; i++) {
    const v = vectors.subarray(i * n, (i + 1) * n);
    for (let r = 0; r < n; r++) {
      let av = 0;
      for (let k = 0; k < n; k++) av += a[r * n + k] * v[k];
      residual = Math.max(residual, Math.abs(av - values[i] * v[r]));
    }
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += v[k] * vectors[j * n + k];
      orthogonality = Math.max(orthogonality, Math.abs(dot - (i === j ? 1 : 0)));
    }
  }
  return { residual, orthogonality };
}

describe("symmetricEigen against numpy.linalg.eigh", () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const a = Float64Array.from(c.matrix);
    const { values, vectors } = symmetricEigen(a, c.n);
    const scale = Math.max(...c.values.map(Math.abs));
    for (let i = 0; i < c.n; i++) expect(Math.abs(values[i] - c.values[i])).toBeLessThan(1e-13 * c.n * scale);
    const { residual, orthogonality } = residuals(a, c.n, values, vectors);
    expect(residual).toBeLessThan(1e-13 * c.n * scale);
    expect(orthogonality).toBeLessThan(1e-13 * c.n);
    if (c.vectors !== null) {
      // Well separated eigenvalues: each vector is numpy's up to sign.
      for (let i = 0; i < c.n; i++) {
        let dot = 0;
        for (let k = 0; k < c.n; k++) dot += vectors[i * c.n + k] * c.vectors[i * c.n + k];
        expect(Math.abs(Math.abs(dot) - 1)).toBeLessThan(1e-10);
      }
    }
  });
});

describe("symmetricEigen at fitRotation's sizes", () => {
  it.each([2, 5, 255, 384])("order %i: A·v = λ·v, orthonormal vectors, values descending, largest entry of each vector positive", (n) => {
    const random = rng(n + 100);
    // A second-moment matrix like fitRotation's: XᵀX/rows, variance falling off across coordinates.
    const rows = n + 20;
    const x = Float64Array.from({ length: rows * n }, (_, i) => (random() - 0.5) / Math.sqrt(1 + (i % n) / 8));
    const a = new Float64Array(n * n);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] += (x[r * n + i] * x[r * n + j]) / rows;
    }
    const { values, vectors } = symmetricEigen(a, n);
    const { residual, orthogonality } = residuals(a, n, values, vectors);
    expect(residual).toBeLessThan(1e-14 * n * values[0]);
    expect(orthogonality).toBeLessThan(1e-14 * n);
    for (let i = 1; i < n; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
    for (let i = 0; i < n; i++) {
      const v = Array.from(vectors.subarray(i * n, (i + 1) * n));
      const largest = v.reduce((best, value, k) => (Math.abs(value) > Math.abs(v[best]) ? k : best), 0);
      expect(v[largest]).toBeGreaterThan(0);
    }
  });

  it("gives the same bits twice, and leaves its input unchanged", () => {
    const random = rng(5);
    const n = 33;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = random() - 0.5;
    const copy = a.slice();
    const first = symmetricEigen(a, n);
    const second = symmetricEigen(a, n);
    expect(a).toEqual(copy);
    expect(second.values).toEqual(first.values);
    expect(second.vectors).toEqual(first.vectors);
  });

  it("rejects a matrix of the wrong length, naming both sizes", () => {
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow(new RangeError("symmetricEigen: matrix has 5 values, expected 2 × 2 = 4"));
  });
});
