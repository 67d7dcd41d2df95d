// Quality of learned rotations on real vectors: the 778 all-MiniLM-L6-v2 embeddings (384-d) from
// @sap-ux/fiori-docs-embeddings, which were not trained with Matryoshka loss. The rotation is
// fitted on one half (rows 0…388); queries and corpus come from the other half (rows 389…777):
// each of its vectors queries the rest of that half. Truth is exact float64 cosine. In-sample
// figures (fitted on the measured vectors) come from `quantvec bench` (BENCHMARKS.md).

import { describe, expect, it } from "vitest";
import { miniLMRows } from "./minilm.js";
import { fitRotation, Index, type IndexOptions, ready } from "../src/index.js";

const DIMS = 384;
const K = 10;

await ready();
const rows = miniLMRows();
const half = Math.floor(rows.length / 2);
const fitHalf = rows.slice(0, half);
const measured = rows.slice(half);

/** Exact cosine top-k of every measured vector among the others, in float64. */
const truth = (() => {
  const norms = measured.map((row) => Math.hypot(...row));
  return measured.map((query, q) => {
    const scores = measured.map((row, i) => {
      if (i === q) return -Infinity;
      let dot = 0;
      for (let c = 0; c < DIMS; c++) dot += row[c] * query[c];
      return dot / (norms[i] * norms[q]);
    });
    return new Set(scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, K));
  });
})();

/** Mean recall@10 of a configuration: one index over the measured half, each vector searched without itself. */
async function recallAt10(options: Omit<IndexOptions, "dims">, rescoreMultiplier = 1): Promise<number> {
  const index = await Index.create({ dims: DIMS, normalize: true, ...options });
  index.add(measured); // 389 rows: int8 ranges calibrate on them (rotated and truncated)
  let hits = 0;
  for (let q = 0; q < measured.length; q++) {
    const { ids } = await index.search(measured[q], { k: K + 1, rescoreMultiplier });
    hits += Array.from(ids).filter((id) => id !== q).slice(0, K).filter((id) => truth[q].has(id)).length;
  }
  index.dispose();
  return hits / (measured.length * K);
}

const pca = fitRotation(fitHalf, { method: "pca" });
const itq = fitRotation(fitHalf, { method: "itq" });

/** ‖sign(x) − x‖², summed over every coordinate (sign(0) = 1, as a binary code has it). */
function signLoss(x: Float32Array): number {
  let loss = 0;
  for (const value of x) loss += ((value > 0 ? 1 : -1) - value) ** 2;
  return loss;
}

function report(name: string, recall: number): number {
  console.log(`${name}: recall@10 = ${recall.toFixed(4)}`);
  return recall;
}

describe("recall@10 with learned rotations on held-out MiniLM vectors (fit on 389, measured on the other 389)", () => {
  it("fits on 389 rows of 384 dims (enough rows for every axis)", () => {
    expect([fitHalf.length, measured.length]).toEqual([389, 389]);
    expect([pca.inputDims, pca.outputDims, itq.outputDims]).toEqual([384, 384, 384]);
  });

  it("PCA 384 → 128, float32: ≥ 0.88 and ≥ 0.15 above the plain prefix cut", async () => {
    const prefix = report("prefix 128 float32", await recallAt10({ precision: "float32", truncateTo: 128 }));
    const rotated = report("PCA 128 float32", await recallAt10({ precision: "float32", rotation: pca, truncateTo: 128 }));
    expect(rotated).toBeGreaterThanOrEqual(0.88);
    expect(rotated - prefix).toBeGreaterThanOrEqual(0.15);
  });

  it("PCA 384 → 192, int8: ≥ 0.93", async () => {
    report("prefix 192 int8", await recallAt10({ precision: "int8", truncateTo: 192 }));
    const rotated = report("PCA 192 int8", await recallAt10({ precision: "int8", rotation: pca, truncateTo: 192 }));
    expect(rotated).toBeGreaterThanOrEqual(0.93);
  });

  // ITQ minimises the sign loss ‖sign(V·R) − V·R‖² over its fitting rows. Held out, what it learns
  // on 389 rows of 384 dims carries over to the loss only a little (about 0.6% below its random
  // start) and not measurably to recall: over seeds 1–10, numpy's replica of this split gives
  // binary recall 0.620–0.638 (mean 0.627) against 0.628 for plain signs. So the held-out loss
  // drop is asserted for each seed, and recall is reported, not asserted: asserting a recall gain
  // would pass or fail with the seed.
  it("ITQ at full dims: lowers the held-out sign loss below its random start for every seed (binary recall reported)", async () => {
    report("binary 384", await recallAt10({ precision: "binary", rescore: "none" }));
    report("binary → int8 ×4", await recallAt10({ precision: "binary", rescore: "int8" }, 4));
    const heldOut = { data: Float32Array.from(measured.flatMap((row) => Array.from(row))), rows: measured.length, cols: DIMS };
    console.log(`sign loss held out, unrotated: ${signLoss(heldOut.data).toFixed(1)}`);
    for (const seed of [1, 2, 3]) {
      const fitted = seed === 1 ? itq : fitRotation(fitHalf, { method: "itq", seed });
      const start = fitRotation(fitHalf, { method: "itq", iterations: 0, seed });
      const [before, after] = [signLoss(start.apply(heldOut).data), signLoss(fitted.apply(heldOut).data)];
      console.log(`seed ${seed}: sign loss held out ${before.toFixed(1)} at the random start → ${after.toFixed(1)} after ITQ`);
      expect(after).toBeLessThan(before * 0.997);
      report(`ITQ seed ${seed} binary 384`, await recallAt10({ precision: "binary", rescore: "none", rotation: fitted }));
      report(`ITQ seed ${seed} binary → int8 ×4`, await recallAt10({ precision: "binary", rescore: "int8", rotation: fitted }, 4));
    }
  }, 180_000);
});
