// Quality on real vectors: the 778 all-MiniLM-L6-v2 embeddings (384-d) that
// @sap-ux/fiori-docs-embeddings ships. Leave-one-out recall@10 against exact float cosine:
// each vector queries an index of the other 777, so a query never finds itself.

import { beforeAll, describe, expect, it } from "vitest";
import { miniLMRows } from "./minilm.js";
import { Index, type IndexOptions, ready } from "../src/index.js";

const DIMS = 384;
const K = 10;

/** Exact cosine top-k of `query` among all rows but itself, computed in float64. */
function exactNeighbours(rows: Float32Array[], norms: number[], query: number, k: number): number[] {
  const scores = rows.map((row, i) => {
    if (i === query) return -Infinity;
    let dot = 0;
    for (let c = 0; c < DIMS; c++) dot += row[c] * rows[query][c];
    return dot / (norms[i] * norms[query]);
  });
  return scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, k);
}

let rows: Float32Array[];
let truth: number[][];

beforeAll(async () => {
  await ready();
  rows = miniLMRows();
  const norms = rows.map((row) => Math.hypot(...row));
  truth = rows.map((_, q) => exactNeighbours(rows, norms, q, K));
});

/** Mean leave-one-out recall@10 of an index configuration. */
async function recallAt10(options: Omit<IndexOptions, "dims">, rescoreMultiplier = 4): Promise<number> {
  let hits = 0;
  for (let q = 0; q < rows.length; q++) {
    const others = rows.filter((_, i) => i !== q);
    const ids = others.map((_, i) => (i < q ? i : i + 1));
    const index = await Index.create({ dims: DIMS, normalize: true, ...options });
    index.add(others, ids); // 777 rows: the int8 ranges calibrate on them
    const { ids: found } = await index.search(rows[q], { k: K, rescoreMultiplier });
    const expected = new Set(truth[q]);
    hits += Array.from(found).filter((id) => expected.has(id)).length;
    index.dispose();
  }
  return hits / (rows.length * K);
}

describe("recall@10 on 778 real all-MiniLM-L6-v2 vectors (leave-one-out, exact cosine truth)", () => {
  it("loads the fixture: 778 × 384 finite values", () => {
    expect(rows).toHaveLength(778);
    expect(rows.every((row) => row.length === DIMS && row.every(Number.isFinite))).toBe(true);
  });

  it("float32 is exact (≥ 0.999)", async () => {
    expect(await recallAt10({ precision: "float32" })).toBeGreaterThanOrEqual(0.999);
  });

  it("int8, asymmetric scoring: ≥ 0.99", async () => {
    const recall = await recallAt10({ precision: "int8" });
    console.log(`int8 recall@10 = ${recall.toFixed(4)}`);
    expect(recall).toBeGreaterThanOrEqual(0.99);
  });

  it("binary → int8 rescoring ×4: ≥ 0.94", async () => {
    const recall = await recallAt10({ precision: "binary", rescore: "int8" }, 4);
    console.log(`binary → int8 ×4 recall@10 = ${recall.toFixed(4)}`);
    expect(recall).toBeGreaterThanOrEqual(0.94);
  });

  it("binary → int8 rescoring ×8: ≥ 0.98", async () => {
    const recall = await recallAt10({ precision: "binary", rescore: "int8" }, 8);
    console.log(`binary → int8 ×8 recall@10 = ${recall.toFixed(4)}`);
    expect(recall).toBeGreaterThanOrEqual(0.98);
  });

  it("binary alone stays well below rescoring (so the rescoring tests measure something)", async () => {
    const recall = await recallAt10({ precision: "binary", rescore: "none" });
    console.log(`binary alone recall@10 = ${recall.toFixed(4)}`);
    expect(recall).toBeGreaterThan(0.5);
    expect(recall).toBeLessThan(0.8);
  });
});
