// quantvec/transformers through the real transformers.js feature-extraction pipeline, offline:
// the fixture model (one Gather from a seeded table) is loaded from a local folder with remote
// models disabled and fetch stubbed to throw. Every output is checked against the table itself
// (mean of the rows of the text's tokens, then normalization, layer norm or truncation done here
// in float64), never against the adapter.

import { env, pipeline } from "@huggingface/transformers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Index } from "../src/index.js";
import { type FeatureExtractionPipeline, transformersEmbedder } from "../src/transformers.js";
import { type FixtureModel, forbidNetwork, makeFixtureModel, meanOfRows, tokenIds, unit } from "./fixture-model.js";

const TEXTS = [
  "deploy the application to cloud foundry",
  "filter bar",
  "the list report shows a table with columns and a filter bar for the entity set",
  "annotations",
];

let dir: string;
let model: FixtureModel;
let fetchSpy: ReturnType<typeof forbidNetwork>;

beforeAll(() => {
  fetchSpy = forbidNetwork();
  env.allowRemoteModels = false;
  ({ dir, model } = makeFixtureModel());
});

afterAll(() => {
  expect(fetchSpy).not.toHaveBeenCalled();
});

function expectRowsClose(actual: Float32Array, expected: ArrayLike<number>[], cols: number): void {
  expect(actual.length).toBe(expected.length * cols);
  expected.forEach((row, r) => {
    for (let i = 0; i < cols; i++) expect(actual[r * cols + i]).toBeCloseTo(row[i], 6);
  });
}

const expectedMean = (text: string) => unit(meanOfRows(model, tokenIds(model, text)));

/** nomic's recipe in float64: layer norm (no affine, eps 1e-5) over all dims, keep `keep`, normalize. */
function layerNormCut(values: Float64Array, keep: number): Float64Array {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  const normed = values.map((v) => (v - mean) / Math.sqrt(variance + 1e-5));
  return unit(normed.subarray(0, keep));
}

describe("transformersEmbedder on the fixture model (local folder, offline)", () => {
  it("embedDocuments gives the normalized mean of each text's token rows, padding ignored", async () => {
    const embedder = await transformersEmbedder(dir, { batchSize: 3 }); // batches of unequal lengths: padding
    expect(embedder.dims).toBe(model.dims);
    expect(embedder.model).toBe(dir);
    const matrix = await embedder.embedDocuments(TEXTS);
    expect([matrix.rows, matrix.cols]).toEqual([TEXTS.length, model.dims]);
    expectRowsClose(matrix.data, TEXTS.map(expectedMean), model.dims);
  });

  it("embedQuery gives one row; prefixes go before the query and the documents", async () => {
    const embedder = await transformersEmbedder(dir, { prefixes: { query: "search: ", document: "document: " } });
    const query = await embedder.embedQuery("filter bar");
    expect([query.rows, query.cols]).toEqual([1, model.dims]);
    expectRowsClose(query.data, [expectedMean("search: filter bar")], model.dims);
    const docs = await embedder.embedDocuments(["filter bar"]);
    expectRowsClose(docs.data, [expectedMean("document: filter bar")], model.dims);
  });

  it("normalize: false keeps the plain mean; pooling cls takes the [CLS] row", async () => {
    const plain = await transformersEmbedder(dir, { normalize: false });
    expectRowsClose((await plain.embedDocuments(TEXTS)).data, TEXTS.map((t) => meanOfRows(model, tokenIds(model, t))), model.dims);
    const cls = await transformersEmbedder(dir, { pooling: "cls" });
    const clsRow = unit(meanOfRows(model, [model.vocab["[CLS]"]]));
    expectRowsClose((await cls.embedDocuments(TEXTS.slice(0, 2))).data, [clsRow, clsRow], model.dims);
  });

  it("matryoshka: layer norm over all dims, first dims kept, renormalized; layerNorm: false only cuts", async () => {
    const nomic = await transformersEmbedder(dir, { matryoshka: { dims: 64 } });
    expect(nomic.dims).toBe(64);
    const rows = TEXTS.map((t) => meanOfRows(model, tokenIds(model, t)));
    expectRowsClose((await nomic.embedDocuments(TEXTS)).data, rows.map((r) => layerNormCut(r, 64)), 64);
    const cut = await transformersEmbedder(dir, { matryoshka: { dims: 40, layerNorm: false } });
    expectRowsClose((await cut.embedDocuments(TEXTS)).data, rows.map((r) => unit(r.subarray(0, 40))), 40);
  });

  it("takes a ready pipeline, and a file: URL", async () => {
    const pipe = (await pipeline("feature-extraction", dir, { dtype: "fp32" })) as unknown as FeatureExtractionPipeline;
    const fromPipeline = await transformersEmbedder(pipe);
    expectRowsClose((await fromPipeline.embedDocuments(TEXTS)).data, TEXTS.map(expectedMean), model.dims);
    const fromUrl = await transformersEmbedder(new URL(`file://${dir}/`));
    expect(fromUrl.dims).toBe(model.dims);
  });

  it(`loads through the same transformers.js as this test (${env.version})`, async () => {
    // With QUANTVEC_TRANSFORMERS set (another major), the adapter's lazy import must follow too.
    const embedder = await transformersEmbedder(dir);
    const pipe = await pipeline("feature-extraction", dir, { dtype: "fp32" });
    expect(embedder.pipeline.constructor).toBe(pipe.constructor);
  });

  it("Index.search and searchBatch take the pipeline's tensors as they come, [1, d] included", async () => {
    const pipe = (await pipeline("feature-extraction", dir, { dtype: "fp32" })) as unknown as FeatureExtractionPipeline;
    // transformers.js tensors of float32 pooled embeddings: data is a Float32Array.
    type FloatTensor = { data: Float32Array; dims: number[] };
    const docs = (await pipe(TEXTS, { pooling: "mean", normalize: true })) as FloatTensor;
    const one = (await pipe(["filter bar"], { pooling: "mean", normalize: true })) as FloatTensor;
    expect(one.dims).toEqual([1, model.dims]);
    const index = await Index.create({ dims: model.dims, precision: "float32" });
    index.add(docs);
    const fromTensor = await index.search(one, { k: 4 });
    const fromArray = await index.search(Float32Array.from(one.data), { k: 4 });
    expect(Array.from(fromTensor.ids)).toEqual(Array.from(fromArray.ids));
    expect(Array.from(fromTensor.scores)).toEqual(Array.from(fromArray.scores));
    expect(fromTensor.ids[0]).toBe(1); // "filter bar" itself
    const batch = await index.searchBatch(docs, { k: 1 });
    expect(batch.map((r) => r.ids[0])).toEqual([0, 1, 2, 3]);
    await expect(index.search(docs)).rejects.toThrow(/index\.search: query is a tensor of dims \[4, 256\]; expected one row/);
    index.dispose();
  });
});

describe("transformersEmbedder rejects bad input clearly", () => {
  it("a missing model folder, named", async () => {
    await expect(transformersEmbedder("./no/such/model")).rejects.toThrow(/model folder "\.\/no\/such\/model" does not exist/);
    await expect(transformersEmbedder("/tmp")).rejects.toThrow(/model folder "\/tmp" has no config\.json/);
  });

  it("a model without last_hidden_state", async () => {
    const other = makeFixtureModel({ dims: 16, outputName: "sentence_embedding" });
    await expect(transformersEmbedder(other.dir)).rejects.toThrow(/has no last_hidden_state output \(its outputs: sentence_embedding\)/);
  });

  it("empty, blank and non-string texts, naming which", async () => {
    const embedder = await transformersEmbedder(dir);
    await expect(embedder.embedDocuments(["filter", ""])).rejects.toThrow(/embedDocuments: texts\[1\] is ""; texts must not be empty/);
    await expect(embedder.embedDocuments(["filter", "  "])).rejects.toThrow(RangeError);
    await expect(embedder.embedDocuments(["filter", 7 as unknown as string])).rejects.toThrow(/texts\[1\] is 7; expected a string/);
    await expect(embedder.embedDocuments("filter" as unknown as string[])).rejects.toThrow(TypeError);
    await expect(embedder.embedQuery("")).rejects.toThrow(/embedQuery: text is ""/);
    await expect(embedder.embedQuery(null as unknown as string)).rejects.toThrow(/embedQuery: text is null/);
  });

  it("bad options, naming the option and the value", async () => {
    await expect(transformersEmbedder(dir, { pooling: "max" as "mean" })).rejects.toThrow(/options\.pooling must be "mean" \| "cls" \| "last_token", got "max"/);
    await expect(transformersEmbedder(dir, { batchSize: 0 })).rejects.toThrow(/options\.batchSize is 0/);
    await expect(transformersEmbedder(dir, { matryoshka: { dims: 512 } })).rejects.toThrow(/matryoshka\.dims is 512, more than the model's 256/);
    await expect(transformersEmbedder(dir, { prefixes: { query: 1 as unknown as string } })).rejects.toThrow(/prefixes\.query is 1/);
    await expect(transformersEmbedder(42 as unknown as string)).rejects.toThrow(/model is 42; expected a model id/);
    await expect(transformersEmbedder(dir, { pool: "mean" } as never)).rejects.toThrow(/transformersEmbedder: options has an unknown key "pool" \(allowed: pooling, normalize/);
  });
});
