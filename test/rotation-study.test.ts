// The rotation rows of the quality study (eval, tune, bench): which configurations exist, that
// their options rebuild the row, and that split-study rows stay out of the Pareto front.

import { describe, expect, it } from "vitest";
import { markPareto, recommend } from "../src/cli/pareto.js";
import { qualityStudy, rotationKey, rotationSplitRows, rowOptions } from "../src/cli/study.js";
import type { Rotation } from "../src/index.js";
import { ready } from "../src/index.js";
import { randomNormal, rng } from "./helpers.js";

await ready();

/** Clustered vectors in 32 dims: neighbours exist, so recall differs between configurations. */
function clustered(rows: number, dims: number, seed: number) {
  const random = rng(seed);
  const centres = Array.from({ length: 10 }, () => randomNormal(random, dims));
  const data = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    const noise = randomNormal(random, dims);
    for (let c = 0; c < dims; c++) data[r * dims + c] = centres[r % 10][c] + 0.5 * noise[c];
  }
  return { data, rows, cols: dims };
}

describe("rotation rows of the quality study", () => {
  it("adds PCA rows for every precision and ITQ rows for binary codes, fitted once per key", async () => {
    const fitted = new Map<string, Rotation>();
    const study = await qualityStudy(clustered(300, 32, 1), "clustered", {
      queries: 40, k: 5, seed: 3, rotations: ["pca", "itq"], itqIterations: 5, fitted, multipliers: [2],
    });
    const labels = study.rows.map((r) => r.label);
    expect(labels).toContain("pca float32 @16");
    expect(labels).not.toContain("pca float32 @32"); // a full-size PCA does not change float32 search
    expect(labels).toContain("pca int8 @8");
    expect(labels).toContain("itq binary @32");
    expect(labels).toContain("itq binary→int8 ×2 @16");
    expect(labels.some((l) => l.startsWith("itq int8"))).toBe(false);
    expect([...fitted.keys()].sort()).toEqual([rotationKey("itq", 16), rotationKey("itq", 32), rotationKey("itq", 4), rotationKey("itq", 8), rotationKey("pca", 32)].sort());
    expect(study.queryRows).toHaveLength(40);
    for (const row of study.rows.filter((r) => r.rotation)) expect(row.recall).toBeGreaterThan(0);
    const itqRow = study.rows.find((r) => r.label === "itq binary @16")!;
    expect(rowOptions(itqRow, 32)).toEqual({ dims: 32, precision: "binary", rescore: "none", normalize: true });
    const pcaRow = study.rows.find((r) => r.label === "pca int8 @8")!;
    expect(rowOptions(pcaRow, 32)).toEqual({ dims: 32, precision: "int8", rescore: "none", normalize: true, truncateTo: 8 });
  });

  it("skips rotation rows with a note when the corpus has fewer rows than dims", async () => {
    const study = await qualityStudy(clustered(40, 32, 2), "small", { queries: 15, k: 3, seed: 1, rotations: ["pca"], multipliers: [1] });
    const pca = study.rows.filter((r) => r.rotation === "pca");
    expect(pca.length).toBeGreaterThan(0);
    for (const row of pca) {
      expect(row.recall).toBeNaN();
      expect(row.note).toMatch(/skipped: fitRotation: sample has 25 rows but 32 rotated dimensions were asked for/);
    }
  });

  it("split-study rows are labelled, marked, and never on the front or recommended", async () => {
    const rows = await rotationSplitRows(clustered(200, 16, 4), { queries: 30, k: 5, seed: 2, itqIterations: 3 });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.split === true)).toBe(true);
    expect(rows.find((r) => r.rotation === "pca")!.label).toMatch(/ · fit on half 1, measured on half 2$/);
    expect(rows.find((r) => !r.rotation)!.label).toMatch(/ · measured on half 2$/);
    expect(markPareto(rows).some((r) => r.pareto)).toBe(false);
    expect(recommend(rows, 0)).toBeNull();
  });
});
