// Learned rotations: the eigensolver, fitRotation (PCA and ITQ), the JSON round trip, the index
// pipeline (rotate → truncate → normalize → quantize) and nomic's layer-norm truncation; every
// bad input is rejected with a clear error and changes nothing.

import { describe, expect, it } from "vitest";
import { symmetricEigen } from "../src/eigen.js";
import { fitRotation, Index, ready, Rotation, truncate } from "../src/index.js";
import { iterativeQuantization } from "../src/rotation.js";
import { Arena } from "../src/wasm.js";
import { miniLMRows } from "./minilm.js";
import { randomNormal, rng } from "./helpers.js";

await ready();

/** Rows of `dims` values whose variance falls off along a known orthonormal basis. */
function anisotropicSample(rows: number, dims: number, seed: number): { sample: Float32Array[]; topAxis: Float64Array } {
  const random = rng(seed);
  // A random unit direction carries ten times the spread of any other.
  const axis = Float64Array.from(randomNormal(random, dims));
  const norm = Math.hypot(...axis);
  axis.forEach((v, i) => (axis[i] = v / norm));
  const sample = Array.from({ length: rows }, () => {
    const noise = randomNormal(random, dims);
    const along = 10 * randomNormal(random, 1)[0];
    return Float32Array.from(noise, (v, i) => v + along * axis[i]);
  });
  return { sample, topAxis: axis };
}

function maxOrthogonalityError(rotation: Rotation): number {
  const { inputDims: n, outputDims: m, matrix } = rotation;
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += matrix[k * m + i] * matrix[k * m + j];
      worst = Math.max(worst, Math.abs(dot - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

describe("symmetricEigen", () => {
  it("solves [[2, 1], [1, 2]]: eigenvalues 3 and 1, eigenvectors (1, 1)/√2 and (1, −1)/√2", () => {
    const { values, vectors } = symmetricEigen(Float64Array.of(2, 1, 1, 2), 2);
    expect(values[0]).toBeCloseTo(3, 12);
    expect(values[1]).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[0])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[0] * vectors[1]).toBeGreaterThan(0);
    expect(vectors[2] * vectors[3]).toBeLessThan(0);
  });

  it.each([1, 3, 17, 64])("A v = λ v and orthonormal vectors for a random symmetric matrix of order %i", (n) => {
    const random = rng(n);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = random() - 0.5;
    const { values, vectors } = symmetricEigen(a, n);
    for (let i = 0; i < n; i++) {
      if (i > 0) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
      for (let r = 0; r < n; r++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[r * n + k] * vectors[i * n + k];
        expect(Math.abs(av - values[i] * vectors[i * n + r])).toBeLessThan(1e-12);
      }
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += vectors[i * n + k] * vectors[j * n + k];
        expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it("handles repeated eigenvalues (the identity, a block of equal diagonal entries)", () => {
    const n = 6;
    const a = new Float64Array(n * n);
    [5, 5, 5, 2, 2, 0].forEach((v, i) => (a[i * n + i] = v));
    const { values } = symmetricEigen(a, n);
    expect(Array.from(values)).toEqual([5, 5, 5, 2, 2, 0]);
  });
});

describe("fitRotation", () => {
  it("PCA's first axis is the direction of largest spread, and its columns are orthonormal", () => {
    const { sample, topAxis } = anisotropicSample(400, 24, 3);
    const rotation = fitRotation(sample, { method: "pca" });
    expect([rotation.method, rotation.inputDims, rotation.outputDims]).toEqual(["pca", 24, 24]);
    let alignment = 0;
    for (let i = 0; i < 24; i++) alignment += rotation.matrix[i * 24] * topAxis[i];
    expect(Math.abs(alignment)).toBeGreaterThan(0.99);
    expect(maxOrthogonalityError(rotation)).toBeLessThan(1e-5);
  });

  it("keeps `dims` leading axes: the PCA prefix of 8 of 24 equals the first 8 columns of the full rotation", () => {
    const { sample } = anisotropicSample(300, 24, 4);
    const full = fitRotation(sample, { method: "pca" });
    const eight = fitRotation(sample, { method: "pca", dims: 8 });
    expect(eight.outputDims).toBe(8);
    for (let i = 0; i < 24; i++) for (let j = 0; j < 8; j++) expect(eight.matrix[i * 8 + j]).toBe(full.matrix[i * 24 + j]);
  });

  it("is deterministic for a seed; ITQ with another seed starts elsewhere", () => {
    const { sample } = anisotropicSample(200, 16, 5);
    const a = fitRotation(sample, { method: "itq", iterations: 10, seed: 7 });
    const b = fitRotation(sample, { method: "itq", iterations: 10, seed: 7 });
    const c = fitRotation(sample, { method: "itq", iterations: 10, seed: 8 });
    expect(a.matrix).toEqual(b.matrix);
    expect(a.matrix).not.toEqual(c.matrix);
    expect(maxOrthogonalityError(a)).toBeLessThan(1e-5);
  });

  it("ITQ's iterations cut the sign loss ‖sign(V R) − V R‖² of its starting rotation", () => {
    const { sample } = anisotropicSample(500, 16, 6);
    const quantizationLoss = (rotation: Rotation) => {
      const rotated = rotation.apply(sample).data;
      let loss = 0;
      for (const v of rotated) loss += ((v > 0 ? 1 : -1) - v) ** 2;
      return loss;
    };
    const start = quantizationLoss(fitRotation(sample, { method: "itq", iterations: 0 }));
    const itq = quantizationLoss(fitRotation(sample, { method: "itq", iterations: 30 }));
    expect(itq).toBeLessThan(start * 0.99);
  });

  it("ITQ's sign loss never rises across iterations on the MiniLM vectors, and falls overall", () => {
    const rows = miniLMRows().slice(0, 389);
    const projected = fitRotation(rows, { method: "pca" }).apply(rows).data;
    const losses: number[] = [];
    iterativeQuantization("test", new Arena("test"), projected, rows.length, 384, 50, 1, (loss) => losses.push(loss));
    expect(losses.length).toBeGreaterThan(5);
    // Each half-step is a minimisation, so only float32 rounding of V·R can make a loss tick up.
    for (let t = 1; t < losses.length; t++) expect(losses[t], `iteration ${t}`).toBeLessThanOrEqual(losses[t - 1] * (1 + 1e-6));
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.999);
  });

  it("ITQ stops once the signs repeat, with the rotation that more iterations would give", () => {
    const { sample } = anisotropicSample(500, 16, 6);
    const projected = fitRotation(sample, { method: "pca" }).apply(sample).data;
    let iterations = 0;
    iterativeQuantization("test", new Arena("test"), projected, 500, 16, 1000, 1, () => iterations++);
    expect(iterations).toBeLessThan(1000);
    // It refitted iterations − 1 times; one more refit from the repeated signs changes nothing.
    const stopped = fitRotation(sample, { method: "itq", iterations: iterations - 1 });
    expect(fitRotation(sample, { method: "itq", iterations }).matrix).toEqual(stopped.matrix);
    expect(fitRotation(sample, { method: "itq", iterations: 1000 }).matrix).toEqual(stopped.matrix);
  });

  it("rejects bad input with clear errors", () => {
    const { sample } = anisotropicSample(20, 24, 7);
    expect(() => fitRotation(sample, { method: "pca" })).toThrow(
      new RangeError(
        "fitRotation: sample has 20 rows but 24 rotated dimensions were asked for; with fewer rows than dimensions the " +
          "principal axes are not determined (PCA is ill-posed). Pass at least 24 rows (several times more is better), or fewer dims",
      ),
    );
    expect(() => fitRotation(sample, { method: "pca", dims: 20 })).not.toThrow();
    const withNaN = sample.map((row) => row.slice());
    withNaN[4][2] = Number.NaN;
    expect(() => fitRotation(withNaN, { method: "pca", dims: 4 })).toThrow(/sample row 4, column 2 is NaN; values must be finite/);
    const withInf = sample.map((row) => row.slice());
    withInf[1][0] = Number.POSITIVE_INFINITY;
    expect(() => fitRotation(withInf, { method: "itq", dims: 4 })).toThrow(/sample row 1, column 0 is Infinity/);
    expect(() => fitRotation(sample, { method: "lsh" as "pca" })).toThrow(new TypeError('fitRotation: options.method must be "pca" | "itq", got "lsh"'));
    expect(() => fitRotation(sample, { method: "pca", dims: 25 })).toThrow(/options\.dims must be an integer from 1 to 24, got 25/);
    expect(() => fitRotation(sample, { method: "itq", dims: 4, iterations: -1 })).toThrow(/options\.iterations must be an integer from 0 to 10000, got -1/);
    expect(() => fitRotation(sample, undefined as never)).toThrow(TypeError);
    expect(() => fitRotation(sample, { method: "pca", dim: 4 } as never)).toThrow(/options has an unknown key "dim"; did you mean "dims"\?/);
  });
});

describe("Rotation JSON", () => {
  const { sample } = anisotropicSample(100, 12, 8);
  const rotation = fitRotation(sample, { method: "itq", dims: 6, iterations: 5 });
  const json = () => JSON.parse(JSON.stringify(rotation));

  it("round-trips exactly", () => {
    const back = Rotation.fromJSON(json());
    expect([back.method, back.inputDims, back.outputDims]).toEqual(["itq", 12, 6]);
    expect(back.matrix).toEqual(rotation.matrix);
  });

  it("rejects tampered files", () => {
    const truncated = json();
    truncated.matrix = truncated.matrix.slice(0, -8);
    expect(() => Rotation.fromJSON(truncated)).toThrow(/json\.matrix holds 282 bytes, expected inputDims × outputDims × 4 = 288/);
    const resized = { ...json(), outputDims: 5 };
    expect(() => Rotation.fromJSON(resized)).toThrow(/json\.matrix holds 288 bytes, expected inputDims × outputDims × 4 = 240/);
    const matrix = rotation.matrix.slice();
    matrix[7] += 0.05;
    const skewed = { ...json(), matrix: btoa(String.fromCharCode(...new Uint8Array(matrix.buffer))) };
    expect(() => Rotation.fromJSON(skewed)).toThrow(/matrix columns are not orthonormal: column \d+ · column \d+ = /);
    const nan = new Float32Array(rotation.matrix);
    nan[3] = Number.NaN;
    expect(() => Rotation.fromJSON({ ...json(), matrix: btoa(String.fromCharCode(...new Uint8Array(nan.buffer))) })).toThrow(/matrix\[3\] is NaN/);
    expect(() => Rotation.fromJSON({ ...json(), version: 2 })).toThrow(/json\.version must be 1, got 2/);
    expect(() => Rotation.fromJSON({ ...json(), format: "other" })).toThrow(TypeError);
    expect(() => Rotation.fromJSON({ ...json(), outputDims: 13 })).toThrow(/json\.outputDims must be an integer from 1 to 12, got 13/);
    expect(() => Rotation.fromJSON({ ...json(), matrix: "***" })).toThrow(/json\.matrix is not valid base64/);
    expect(() => Rotation.fromJSON("{}")).toThrow(/json must be an object/);
  });
});

describe("Index with a rotation", () => {
  const dims = 24;
  const { sample } = anisotropicSample(300, dims, 9);
  const rotation = fitRotation(sample, { method: "pca" });

  it("rotates, truncates, normalizes, then scans: the same results as doing those steps by hand", async () => {
    const corpus = sample.slice(0, 200);
    const queries = sample.slice(200, 210);
    const byHand = (rows: Float32Array[]) => {
      const rotated = rotation.apply(rows);
      return truncate(rotated, 10);
    };
    const piped = await Index.create({ dims, precision: "float32", rotation, truncateTo: 10 });
    const manual = await Index.create({ dims: 10, precision: "float32" });
    piped.add(corpus);
    manual.add(byHand(corpus));
    const handQueries = byHand(queries);
    for (let q = 0; q < queries.length; q++) {
      const a = await piped.search(queries[q], { k: 5 });
      const b = await manual.search(handQueries.data.subarray(q * 10, (q + 1) * 10), { k: 5 });
      expect(a.ids).toEqual(b.ids);
      expect(a.scores).toEqual(b.scores);
    }
    expect([piped.storedDims, piped.normalize, piped.rotation]).toEqual([10, true, rotation]);
  });

  it("calibrates int8 ranges on rotated, truncated vectors", async () => {
    const index = await Index.create({ dims, precision: "int8", rotation, truncateTo: 12 });
    index.calibrate(sample);
    index.add(sample.slice(0, 50));
    const { ids } = await index.search(sample[3], { k: 1 });
    expect(ids[0]).toBe(3);
  });

  it("rejects a rotation of other dims, truncateTo above its outputDims, and non-rotations", async () => {
    const narrow = fitRotation(sample, { method: "pca", dims: 8 });
    await expect(Index.create({ dims: 32, precision: "int8", rotation })).rejects.toThrow(
      new RangeError("Index.create: rotation.inputDims is 24 but dims is 32; fit the rotation on vectors of 32 values"),
    );
    await expect(Index.create({ dims, precision: "int8", rotation: narrow, truncateTo: 9 })).rejects.toThrow(
      new RangeError("Index.create: truncateTo (rotation.outputDims is 8) must be an integer from 1 to 8, got 9"),
    );
    await expect(Index.create({ dims, precision: "int8", rotation: rotation.toJSON() as never })).rejects.toThrow(
      /rotation must be a Rotation \(from fitRotation or Rotation\.fromJSON\), got an object \(Object\)/,
    );
    const index = await Index.create({ dims, precision: "float32", rotation: narrow });
    expect(index.storedDims).toBe(8);
    index.add(sample.slice(0, 20));
    const before = await index.search(sample[0], { k: 20 });
    const bad = sample.slice(20, 25).map((row) => row.slice());
    bad[3][5] = Number.NaN;
    expect(() => index.add(bad)).toThrow(/vectors row 3, column 5 is NaN/);
    expect(index.size).toBe(20);
    expect(await index.search(sample[0], { k: 20 })).toEqual(before);
  });
});

describe("truncate with layerNorm (nomic-embed-text-v1.5's recipe)", () => {
  it("subtracts the row mean over all dims, then slices and L2-normalizes", () => {
    // [1, 2, 3, 4]: mean 2.5 → [−1.5, −0.5, 0.5, 1.5]; the first two, normalized: [−3, −1]/√10.
    const { data } = truncate([[1, 2, 3, 4]], 2, { layerNorm: true });
    expect(data[0]).toBeCloseTo(-3 / Math.sqrt(10), 6);
    expect(data[1]).toBeCloseTo(-1 / Math.sqrt(10), 6);
  });

  it("divides by √(biased variance + 1e-5) when not normalizing afterwards", () => {
    const { data } = truncate([[1, 2, 3, 4]], 3, { layerNorm: true, normalize: false });
    const scale = 1 / Math.sqrt(1.25 + 1e-5);
    expect(Array.from(data)).toEqual(Array.from(Float32Array.of(-1.5 * scale, -0.5 * scale, 0.5 * scale)));
  });

  it("differs from the plain cut, and rejects a non-boolean flag", () => {
    expect(truncate([[1, 2, 3, 4]], 2).data).not.toEqual(truncate([[1, 2, 3, 4]], 2, { layerNorm: true }).data);
    expect(() => truncate([[1, 2]], 1, { layerNorm: "yes" as never })).toThrow(
      new TypeError('truncate: options.layerNorm must be true or false, got "yes"'),
    );
  });
});
