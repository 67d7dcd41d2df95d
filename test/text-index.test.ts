// TextIndex: texts in, keys and scores out. On the Fiori texts with the fixture model (offline,
// through transformers.js), results must equal a brute-force search over the embedder's own
// vectors, mapped to the keys; with small hand-made embedders, keys, progress and every kind of
// bad input, each of which must leave the index exactly as it was.

import { env } from "@huggingface/transformers";
import { beforeAll, describe, expect, it } from "vitest";
import { calibrate, type Matrix, type TextEmbedder, TextIndex } from "../src/index.js";
import { transformersEmbedder } from "../src/transformers.js";
import { bruteForceSearch } from "./brute-force.js";
import { fioriCorpus, forbidNetwork, makeFixtureModel } from "./fixture-model.js";
import { SEARCH_CONFIGS } from "./helpers.js";

/** A tiny embedder: letter counts a–h of each text, so similar spellings score alike. */
function letterEmbedder(dims = 8): TextEmbedder & { calls: number } {
  const embed = (text: string) => Float32Array.from({ length: dims }, (_, i) => text.split(String.fromCharCode(97 + i)).length - 1 + 0.5);
  const embedder = {
    model: "letters",
    dims,
    calls: 0,
    async embedDocuments(texts: readonly string[]): Promise<Matrix> {
      embedder.calls++;
      const data = new Float32Array(texts.length * dims);
      texts.forEach((text, i) => data.set(embed(text), i * dims));
      return { data, rows: texts.length, cols: dims };
    },
    async embedQuery(text: string): Promise<Matrix> {
      return { data: embed(text), rows: 1, cols: dims };
    },
  };
  return embedder;
}

/** Everything a caller can observe of an index's contents for a few queries. */
async function snapshot(texts: TextIndex) {
  return { size: texts.size, hits: await Promise.all(["abc", "hhh", "fade"].map((q) => texts.search(q, { k: 5 }))) };
}

describe("TextIndex on the Fiori texts with the fixture model (offline)", () => {
  let corpus: string[];
  let keys: string[];
  let embedder: Awaited<ReturnType<typeof transformersEmbedder>>;
  let vectors: Matrix;
  const QUERIES = ["deploy the application to cloud foundry", "configure the filter bar of a list report", "chart annotations", "building blocks"];

  beforeAll(async () => {
    forbidNetwork();
    env.allowRemoteModels = false;
    corpus = fioriCorpus();
    keys = corpus.map((_, i) => `doc-${i}`);
    embedder = await transformersEmbedder(makeFixtureModel().dir);
    vectors = await embedder.embedDocuments(corpus);
  }, 120_000);

  /** The fixture embedder with the corpus's vectors remembered: the six configurations embed it once. */
  const remembered = (): TextEmbedder => ({
    model: embedder.model,
    dims: embedder.dims,
    embedQuery: (text) => embedder.embedQuery(text),
    embedDocuments: async (list) => {
      const first = corpus.indexOf(list[0]);
      expect(corpus.slice(first, first + list.length)).toEqual(list);
      return { data: vectors.data.slice(first * vectors.cols, (first + list.length) * vectors.cols), rows: list.length, cols: vectors.cols };
    },
  });

  it.each(SEARCH_CONFIGS)("search returns the keys and scores of a brute-force search over the embedder's vectors ($precision → $rescore)", async (config) => {
    const texts = await TextIndex.create({ embedder: remembered(), ...config });
    const progress: Array<[number, number]> = [];
    const added = await texts.add(corpus, keys, { onProgress: (done, total) => progress.push([done, total]), batchSize: 200 });
    expect(added).toEqual(keys);
    expect(progress).toEqual([[200, 778], [400, 778], [600, 778], [778, 778]]);
    expect(texts.size).toBe(778);
    const rows = Array.from({ length: vectors.rows }, (_, r) => vectors.data.subarray(r * vectors.cols, (r + 1) * vectors.cols));
    const ranges = calibrate(vectors);
    for (const query of QUERIES) {
      const hits = await texts.search(query, { k: 10 });
      const q = (await embedder.embedQuery(query)).data;
      const expected = bruteForceSearch(rows, rows.map((_, i) => i), q, 10, 4, {
        ...config, storedDims: embedder.dims, normalize: false, ranges,
      });
      expect(hits.map((h) => h.key)).toEqual(expected.ids.map((id) => keys[id]));
      hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected.scores[i], 5));
    }
    texts.dispose();
  });

  it("finds texts about the query's words (the fixture model is a weighted bag of words)", async () => {
    const texts = await TextIndex.create({ embedder, precision: "binary", rescore: "int8" });
    await texts.add(corpus, keys);
    const hits = await texts.search("configure the filter bar of a list report", { k: 3 });
    const found = hits.map((hit) => corpus[keys.indexOf(hit.key as string)].toLowerCase());
    expect(found[0].split("\n")[0]).toContain("filter bar");
    for (const text of found) expect(text).toMatch(/filter[\s\S]*list report|list report[\s\S]*filter/);
    texts.dispose();
  });
});

describe("TextIndex keys", () => {
  it("string and integer keys map back; default keys continue after the largest integer key", async () => {
    const texts = await TextIndex.create({ embedder: letterEmbedder(), precision: "float32" });
    expect(await texts.add(["abc", "hhh"], ["first", 41])).toEqual(["first", 41]);
    expect(await texts.add(["fade", "ggg"])).toEqual([42, 43]);
    expect(texts.has("first") && texts.has(41) && texts.has(43) && !texts.has("41")).toBe(true);
    expect((await texts.search("abc", { k: 1 }))[0].key).toBe("first");
    expect((await texts.search("hhh", { k: 1 }))[0].key).toBe(41);
    expect((await texts.search("ggg", { k: 1 }))[0].key).toBe(43);
    expect(texts.size).toBe(4);
  });

  it("two adds racing for one key: one wins, the other leaves the index as it was", async () => {
    const texts = await TextIndex.create({ embedder: letterEmbedder(), precision: "float32" });
    const results = await Promise.allSettled([texts.add(["abc"], ["same"]), texts.add(["hhh"], ["same"])]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect((results.find((r) => r.status === "rejected") as PromiseRejectedResult).reason.message).toMatch(/keys\[0\] is "same", already in the index/);
    expect(texts.size).toBe(1);
  });
});

describe("TextIndex rejects bad input and changes nothing", () => {
  async function filled() {
    const embedder = letterEmbedder();
    const texts = await TextIndex.create({ embedder, precision: "float32" });
    await texts.add(["abc", "hhh", "fade"], ["a", "b", "c"]);
    return { texts, embedder, before: await snapshot(texts) };
  }

  it.each([
    ["an empty text", ["ok", ""], undefined, /textIndex\.add: texts\[1\] is ""; texts must not be empty or blank/],
    ["a blank text", ["  \n"], undefined, /texts\[0\] is "  \\n"; texts must not be empty or blank/],
    ["a non-string text", ["ok", 5], undefined, /texts\[1\] is 5; expected a string/],
    ["texts that are not an array", "abc", undefined, /texts is "abc"; expected an array of strings/],
    ["no texts", [], undefined, /texts is empty/],
    ["a key already in the index", ["ok"], ["a"], /keys\[0\] is "a", already in the index/],
    ["a key given twice", ["ok", "fine"], ["x", "x"], /keys\[1\] is "x", given twice/],
    ["a key of another kind", ["ok"], [1.5], /keys\[0\] is 1\.5; keys must be strings or safe integers/],
    ["fewer keys than texts", ["ok", "fine"], ["x"], /keys has 1 entries for 2 texts/],
  ])("%s: before anything is embedded", async (_, input, keys, message) => {
    const { texts, embedder, before } = await filled();
    const calls = embedder.calls;
    await expect(texts.add(input as string[], keys as string[])).rejects.toThrow(message);
    expect(embedder.calls).toBe(calls);
    expect(await snapshot(texts)).toEqual(before);
  });

  it("an embedder whose dims change between calls", async () => {
    const { texts, embedder, before } = await filled();
    embedder.embedDocuments = async (list) => ({ data: new Float32Array(list.length * 9), rows: list.length, cols: 9 });
    await expect(texts.add(["abc", "def"], ["x", "y"])).rejects.toThrow(
      /textIndex\.add: the embedder \(letters\) returned vectors of 9 values, expected 8 \(its dims when the index was created\)/,
    );
    expect(await snapshot(texts)).toEqual(before);
    expect(texts.has("x")).toBe(false);
  });

  it("a failure in a later batch adds nothing from the earlier ones", async () => {
    const { texts, embedder, before } = await filled();
    const original = embedder.embedDocuments.bind(embedder);
    embedder.embedDocuments = async (list) => {
      const out = await original(list);
      if (list[0] === "boom") out.data[3] = Number.NaN;
      return out;
    };
    await expect(texts.add(["abc", "def", "boom"], undefined, { batchSize: 2 })).rejects.toThrow(/row 0, column 3 is NaN; values must be finite/);
    expect(await snapshot(texts)).toEqual(before);
  });

  it("a query: blank, not a string, or embedded to another length", async () => {
    const { texts, embedder } = await filled();
    await expect(texts.search("")).rejects.toThrow(/textIndex\.search: text is ""; texts must not be empty or blank/);
    await expect(texts.search(3 as unknown as string)).rejects.toThrow(/text is 3; expected a string/);
    embedder.embedQuery = async () => ({ data: new Float32Array(7), rows: 1, cols: 7 });
    await expect(texts.search("abc")).rejects.toThrow(/returned vectors of 7 values, expected 8/);
  });

  it("the Index's own refusal (int8 without ranges on a first add of under 100 texts) leaves the keys free", async () => {
    const texts = await TextIndex.create({ embedder: letterEmbedder(), precision: "int8" });
    await expect(texts.add(["abc"], ["a"])).rejects.toThrow(/fewer than the 100 needed to calibrate/);
    expect(texts.size).toBe(0);
    expect(texts.has("a")).toBe(false);
    const many = Array.from({ length: 120 }, (_, i) => "abcdefgh".slice(i % 8) + "h".repeat(i % 5));
    await texts.add(many, many.map((_, i) => (i === 0 ? "a" : `k${i}`)));
    expect(texts.has("a")).toBe(true);
  });

  it("create: no embedder, a malformed one, or dims given", async () => {
    await expect(TextIndex.create({ precision: "float32" } as never)).rejects.toThrow(/TextIndex\.create: embedder is undefined/);
    await expect(TextIndex.create({ embedder: { ...letterEmbedder(), dims: 0 }, precision: "float32" })).rejects.toThrow(/embedder\.dims is 0/);
    await expect(TextIndex.create({ embedder: letterEmbedder(), precision: "float32", dims: 8 } as never)).rejects.toThrow(/options\.dims is not allowed/);
    const texts = await TextIndex.create({ embedder: letterEmbedder(), precision: "float32" });
    await expect(texts.add(["abc"], undefined, { onProgress: 1 as never })).rejects.toThrow(/onProgress is 1; expected a function/);
    await expect(texts.add(["abc"], undefined, { progress: () => {} } as never)).rejects.toThrow(/options has an unknown key "progress"/);
    expect(texts.size).toBe(0);
  });
});

describe("TextIndex remove and filter", () => {
  async function filled() {
    const texts = await TextIndex.create({ embedder: letterEmbedder(), precision: "float32" });
    await texts.add(["abc", "abd", "hhh", "fade"], ["a", "b", 7, "c"]);
    return texts;
  }

  it("removed keys are gone from search, size and has; they can be added again", async () => {
    const texts = await filled();
    expect(texts.remove(["a", 7, "nope", "a"])).toBe(2);
    expect(texts.size).toBe(2);
    expect(texts.has("a") || texts.has(7)).toBe(false);
    expect((await texts.search("abc", { k: 10 })).map((h) => h.key).sort()).toEqual(["b", "c"]);
    await texts.add(["abc"], ["a"]);
    expect((await texts.search("abc", { k: 1 }))[0].key).toBe("a");
  });

  it("a bad key removes nothing", async () => {
    const texts = await filled();
    expect(() => texts.remove(["a", 1.5 as never])).toThrow(/textIndex\.remove: keys\[1\] is 1\.5; keys must be strings or safe integers/);
    expect(() => texts.remove("a" as never)).toThrow(/keys is "a"; expected an array/);
    expect(texts.size).toBe(4);
  });

  it("filter: an iterable of keys or a predicate over keys", async () => {
    const texts = await filled();
    expect((await texts.search("abc", { k: 10, filter: ["c", 7, "unknown"] })).map((h) => h.key).sort()).toEqual([7, "c"].sort());
    expect((await texts.search("abc", { k: 10, filter: new Set(["b"]) })).map((h) => h.key)).toEqual(["b"]);
    expect((await texts.search("abc", { k: 10, filter: (key) => typeof key === "string" })).map((h) => h.key).sort()).toEqual(["a", "b", "c"]);
    await expect(texts.search("abc", { filter: 3 as never })).rejects.toThrow(/options\.filter is 3/);
  });
});
