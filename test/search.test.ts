// Index search equals brute force (ties by smaller id) for every precision and rescoring mode,
// with and without MRL truncation, and however the vectors were added.

import { describe, expect, it } from "vitest";
import { calibrate, Index, type IndexOptions, truncate } from "../src/index.js";
import { type BruteForceConfig, bruteForceSearch } from "./brute-force.js";
import { randomInts, randomNormal, rng, SEARCH_CONFIGS } from "./helpers.js";

const CONFIGS = SEARCH_CONFIGS;

/** Seeded vectors where every fifth is an exact copy of an earlier one: real ties at every precision. */
function dataset(seed: number, rows: number, dims: number): Float32Array[] {
  const random = rng(seed);
  const out: Float32Array[] = [];
  for (let i = 0; i < rows; i++) {
    out.push(i % 5 === 4 ? out[randomInts(random, 1, 0, i - 1)[0]].slice() : randomNormal(random, dims));
  }
  return out;
}

function shuffledIds(seed: number, rows: number): number[] {
  const random = rng(seed);
  const ids = Array.from({ length: rows }, (_, i) => i * 7 + 3);
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids;
}

async function makeIndex(config: (typeof CONFIGS)[number], dims: number, truncateTo: number | undefined, rows: Float32Array[]) {
  const storedDims = truncateTo ?? dims;
  const normalize = truncateTo !== undefined;
  const prepared = normalize ? truncate(rows, storedDims) : rows;
  const ranges = calibrate(prepared);
  const index = await Index.create({ dims, ...config, truncateTo, ranges });
  const oracle: BruteForceConfig = { precision: config.precision!, rescore: config.rescore!, storedDims, normalize, ranges };
  return { index, oracle };
}

describe.each(CONFIGS)("search $precision → rescore $rescore", (config) => {
  for (const [dims, truncateTo] of [[37, undefined], [100, 61]] as const) {
    it(`equals brute force, ties by smaller id (dims=${dims}, truncateTo=${truncateTo ?? "none"}, seed=5)`, async () => {
      const rows = dataset(5 + dims, 260, dims);
      const ids = shuffledIds(6, rows.length);
      const { index, oracle } = await makeIndex(config, dims, truncateTo, rows);
      index.add(rows, ids);
      const random = rng(99);
      const queries = [...Array.from({ length: 6 }, () => randomNormal(random, dims)), rows[4], rows[9]];
      for (const [k, multiplier] of [[1, 1], [10, 4], [25, 2], [300, 3]]) {
        for (const query of queries) {
          const got = await index.search(query, { k, rescoreMultiplier: multiplier });
          const want = bruteForceSearch(rows, ids, query, k, multiplier, oracle);
          expect(Array.from(got.ids), `k=${k} ×${multiplier}`).toEqual(want.ids);
          expect(Array.from(got.scores), `k=${k} ×${multiplier}`).toEqual(want.scores);
        }
      }
      index.dispose();
    });
  }

  it("gives the same results when added in many small batches between searches as in one batch", async () => {
    const dims = 45;
    const rows = dataset(17, 400, dims);
    const ids = shuffledIds(18, rows.length);
    const { index: whole, oracle } = await makeIndex(config, dims, undefined, rows);
    whole.add(rows, ids);
    const { index: pieces } = await makeIndex(config, dims, undefined, rows);
    const random = rng(19);
    const query = randomNormal(random, dims);
    let added = 0;
    while (added < rows.length) {
      const n = Math.min(rows.length - added, randomInts(random, 1, 1, 37)[0]);
      pieces.add(rows.slice(added, added + n), ids.slice(added, added + n));
      added += n;
      const got = await pieces.search(query, { k: 7, rescoreMultiplier: 3 });
      const want = bruteForceSearch(rows.slice(0, added), ids.slice(0, added), query, 7, 3, oracle);
      expect(Array.from(got.ids), `after ${added} rows`).toEqual(want.ids);
      expect(Array.from(got.scores), `after ${added} rows`).toEqual(want.scores);
    }
    expect(pieces.size).toBe(whole.size);
    for (const q of [query, rows[0], rows[123]]) {
      expect(await pieces.search(q, { k: 20 })).toEqual(await whole.search(q, { k: 20 }));
    }
    whole.dispose();
    pieces.dispose();
  });
});

describe("search results", () => {
  it("returns fewer than k results when the index holds fewer, and none when it is empty", async () => {
    const index = await Index.create({ dims: 8, precision: "float32" });
    expect(await index.search(new Float32Array(8).fill(1), { k: 5 })).toEqual({ ids: new Uint32Array(0), scores: new Float32Array(0) });
    index.add([[1, 0, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0, 0]]);
    const { ids, scores } = await index.search([1, 0.5, 0, 0, 0, 0, 0, 0], { k: 10 });
    expect(Array.from(ids)).toEqual([2, 0, 1]);
    expect(Array.from(scores)).toEqual([1.5, 1, 0.5]);
  });

  it("searchBatch equals one search per query, in order", async () => {
    const rows = dataset(31, 150, 24);
    const index = await Index.create({ dims: 24, precision: "binary", rescore: "int8", ranges: calibrate(rows) });
    index.add(rows);
    const queries = rows.slice(0, 9).map((r) => r.map((v) => v + 0.1));
    const batch = await index.searchBatch(queries, { k: 4, rescoreMultiplier: 2 });
    expect(batch).toHaveLength(9);
    for (let i = 0; i < queries.length; i++) expect(batch[i]).toEqual(await index.search(queries[i], { k: 4, rescoreMultiplier: 2 }));
  });

  it.each(CONFIGS)("searchBatch over many queries and a large corpus equals single searches ($precision → $rescore)", async (config) => {
    const rows = dataset(71, 3000, 96); // 3000 × 96 floats: several cache blocks for every column
    const index = await Index.create({ dims: 96, ...config, ranges: calibrate(rows) });
    index.add(rows);
    const random = rng(72);
    const queries = [...Array.from({ length: 70 }, () => randomNormal(random, 96)), rows[10]]; // more than one query block
    const batch = await index.searchBatch(queries, { k: 7, rescoreMultiplier: 3 });
    for (let i = 0; i < queries.length; i++) {
      expect(batch[i], `query ${i}`).toEqual(await index.search(queries[i], { k: 7, rescoreMultiplier: 3 }));
    }
  });

  it("concurrent searches (Promise.all) give the same results as one after another", async () => {
    const rows = dataset(81, 2000, 64);
    const index = await Index.create({ dims: 64, precision: "binary", rescore: "int8", ranges: calibrate(rows) });
    index.add(rows);
    const random = rng(82);
    const queries = Array.from({ length: 30 }, () => randomNormal(random, 64));
    const sequential = [];
    for (const q of queries) sequential.push(await index.search(q, { k: 5 }));
    const concurrent = await Promise.all(queries.map((q) => index.search(q, { k: 5 })));
    expect(concurrent).toEqual(sequential);
    const batches = await Promise.all([index.searchBatch(queries.slice(0, 15)), index.searchBatch(queries.slice(15))]);
    expect(batches.flat().map((r) => r.ids)).toEqual((await index.searchBatch(queries)).map((r) => r.ids));
  });

  it("binary scores are 1 − 2·hamming/bits and float32 scores are dot products", async () => {
    const bin = await Index.create({ dims: 10, precision: "binary", rescore: "none" });
    bin.add([[1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, -1, 1, -1, 1, -1, 1, -1, 1, -1], [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1]]);
    const { ids, scores } = await bin.search(new Array(10).fill(2), { k: 3 });
    expect(Array.from(ids)).toEqual([0, 1, 2]);
    expect(Array.from(scores)).toEqual([1, 0, -1]);
  });

  it("int8 scores estimate the float dot product", async () => {
    const random = rng(41);
    const rows = Array.from({ length: 300 }, () => randomNormal(random, 64));
    const index = await Index.create({ dims: 64, precision: "int8", normalize: true });
    index.add(rows);
    const normalized = truncate(rows, 64).data;
    const query = truncate([randomNormal(random, 64)], 64).data;
    const { ids, scores } = await index.search(query, { k: 300 });
    let worst = 0;
    ids.forEach((id, i) => {
      let exact = 0;
      for (let c = 0; c < 64; c++) exact += query[c] * normalized[id * 64 + c];
      worst = Math.max(worst, Math.abs(exact - scores[i]));
    });
    // 64 dims, each reconstructed within half a bucket (≈ 0.004 of a ~1-wide range): errors stay small
    expect(worst).toBeLessThan(0.02);
  });

  it("defaults ids to one past the largest id so far", async () => {
    const index = await Index.create({ dims: 2, precision: "float32" });
    expect(Array.from(index.add([[1, 0], [0, 1]]))).toEqual([0, 1]);
    expect(Array.from(index.add([[1, 1]], [10]))).toEqual([10]);
    expect(Array.from(index.add([[2, 1], [1, 2]]))).toEqual([11, 12]);
    expect(index.size).toBe(5);
  });

  it("reports its size, bytes per vector and memory", async () => {
    const index = await Index.create({ dims: 384, precision: "binary", rescore: "int8", truncateTo: 256 });
    expect(index.bytesPerVector).toBe(256 / 8 + 256);
    const random = rng(3);
    index.add(Array.from({ length: 120 }, () => randomNormal(random, 384)));
    expect(index.size).toBe(120);
    expect(index.memoryBytes).toBeGreaterThanOrEqual(120 * (index.bytesPerVector + 4));
    expect((await Index.create({ dims: 384, precision: "float32" })).bytesPerVector).toBe(384 * 4);
  });
});
