// TextIndex save/load: the Index file plus a "TEXT" section (keys, the kept start of each text,
// the embedder's model and settings). On the Fiori texts with the fixture model (offline), a
// loaded index answers every query exactly as the saved one did, from every kind of source; it
// keeps adding and removing where the saved one left off; and it refuses another embedder, a
// plain Index file, and a damaged or inconsistent text section, leaving nothing loaded.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { env } from "@huggingface/transformers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openContainer, writeContainer } from "../src/file/container.js";
import { Index, type Matrix, type TextEmbedder, TextIndex } from "../src/index.js";
import { transformersEmbedder } from "../src/transformers.js";
import { fioriCorpus, forbidNetwork, makeFixtureModel } from "./fixture-model.js";
import { SEARCH_CONFIGS } from "./helpers.js";

const QUERIES = ["deploy the application to cloud foundry", "configure the filter bar of a list report", "chart annotations"];
const folder = mkdtempSync(join(tmpdir(), "quantvec-text-file-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const at = (name: string) => join(folder, name);

let corpus: string[];
let keys: Array<string | number>;
let modelDir: string;
let embedder: Awaited<ReturnType<typeof transformersEmbedder>>;
let vectors: Matrix;

/** The fixture embedder (its settings included) with the corpus's vectors remembered. */
const remembered = (): TextEmbedder => ({
  ...embedder,
  embedDocuments: async (list) => {
    const first = corpus.indexOf(list[0]);
    return { data: vectors.data.slice(first * vectors.cols, (first + list.length) * vectors.cols), rows: list.length, cols: vectors.cols };
  },
});

beforeAll(async () => {
  forbidNetwork();
  env.allowRemoteModels = false;
  corpus = fioriCorpus();
  // String and integer keys mixed: the file must keep "7" apart from 7.
  keys = corpus.map((_, i) => (i % 3 === 0 ? i : `doc-${i}`));
  modelDir = makeFixtureModel().dir;
  embedder = await transformersEmbedder(modelDir, { prefixes: { query: "q: ", document: "d: " } });
  vectors = await embedder.embedDocuments(corpus);
}, 120_000);

async function answers(texts: TextIndex) {
  return Promise.all(QUERIES.map((query) => texts.search(query, { k: 10 })));
}

async function built(options: Partial<Parameters<typeof TextIndex.create>[0]> = {}) {
  const texts = await TextIndex.create({ embedder: remembered(), precision: "binary", rescore: "int8", keepText: 60, ...options });
  await texts.add(corpus, keys, { batchSize: 400 });
  return texts;
}

describe("TextIndex save → load", () => {
  it.each(SEARCH_CONFIGS)("answers exactly as before ($precision → $rescore)", async (config) => {
    const texts = await built(config);
    texts.remove(keys.slice(100, 150));
    const before = await answers(texts);
    await texts.save(at("roundtrip.qv"));
    const loaded = await TextIndex.load(at("roundtrip.qv"), { embedder: remembered() });
    expect(await answers(loaded)).toEqual(before);
    expect([loaded.size, loaded.keepText, loaded.index.precision, loaded.index.rescore]).toEqual([728, 60, config.precision, config.rescore]);
    texts.dispose();
    loaded.dispose();
  });

  it("kept texts are the first keepText characters; hits carry them; without keepText there are none", async () => {
    const texts = await built();
    const hits = await texts.search(QUERIES[0], { k: 3 });
    for (const hit of hits) expect(hit.text).toBe(corpus[keys.indexOf(hit.key)].slice(0, 60));
    const bare = await built({ keepText: 0 });
    expect((await bare.search(QUERIES[0], { k: 3 })).every((hit) => !("text" in hit))).toBe(true);
    await bare.save(at("bare.qv"));
    const loaded = await TextIndex.load(at("bare.qv"), { embedder: remembered() });
    expect(await answers(loaded)).toEqual(await answers(bare));
    expect(await TextIndex.inspect(at("bare.qv"))).toEqual({
      embedder: { model: modelDir, dims: embedder.dims, pooling: "mean", normalize: true, prefixes: { query: "q: ", document: "d: " }, matryoshka: null },
      size: 778, keepText: 0,
    });
    for (const index of [texts, bare, loaded]) index.dispose();
  });

  it("never cuts a surrogate pair", async () => {
    const texts = await TextIndex.create({ embedder, precision: "float32", keepText: 4 });
    const text = `abc😀 ${corpus[0]}`; // "😀" is two UTF-16 units, the 4th and 5th
    await texts.add([text], ["emoji"]);
    expect((await texts.search("abc", { k: 1 }))[0].text).toBe("abc");
  });

  it("loads from bytes, a Blob and a ReadableStream, and saves to a WritableStream", async () => {
    const texts = await built();
    const before = await answers(texts);
    const chunks: Uint8Array[] = [];
    await texts.save(new WritableStream({ write: (chunk) => void chunks.push(chunk.slice()) }));
    const bytes = new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer());
    await texts.save(at("stream.qv"));
    expect(bytes).toEqual(new Uint8Array(readFileSync(at("stream.qv"))));
    for (const source of [bytes, bytes.buffer, new Blob([bytes]), new Blob([bytes]).stream()]) {
      const loaded = await TextIndex.load(source, { embedder: remembered() });
      expect(await answers(loaded)).toEqual(before);
      loaded.dispose();
    }
    texts.dispose();
  });

  it("a loaded index goes on where the saved one stopped: default keys, removals, another save", async () => {
    const texts = await TextIndex.create({ embedder: remembered(), precision: "float32", keepText: 10 });
    await texts.add(corpus.slice(0, 5), ["a", 41, "b", 3, "c"]);
    texts.remove(["b"]);
    await texts.save(at("continue.qv"));
    const loaded = await TextIndex.load(at("continue.qv"), { embedder: remembered() });
    expect(await loaded.add(corpus.slice(5, 7))).toEqual([42, 43]);
    expect(loaded.has("b")).toBe(false);
    expect(loaded.remove(["a", 42])).toBe(2);
    expect(await loaded.add([corpus[2]], ["b"])).toEqual(["b"]);
    await loaded.save(at("continue2.qv"));
    const again = await TextIndex.load(at("continue2.qv"), { embedder: remembered() });
    const all = (index: TextIndex) => index.search(corpus[3], { k: 10 });
    expect(await all(again)).toEqual(await all(loaded));
    expect((await all(again)).map((hit) => hit.key).sort()).toEqual([3, 41, 43, "b", "c"].sort());
    expect((await all(again)).find((hit) => hit.key === "b")?.text).toBe(corpus[2].slice(0, 10));
  });

  it("loads with the rescoring codes left on disk (rescoreFrom \"disk\"), answering the same", async () => {
    const texts = await built();
    await texts.save(at("disk.qv"));
    const loaded = await TextIndex.load(at("disk.qv"), { embedder: remembered(), rescoreFrom: "disk" });
    expect(await answers(loaded)).toEqual(await answers(texts));
    expect(loaded.index.memoryBytes).toBeLessThan(texts.index.memoryBytes);
    texts.dispose();
    loaded.dispose();
  });

  it("Index.load reads a text index file as the Index inside it", async () => {
    const texts = await built({ precision: "float32", rescore: "none" });
    await texts.save(at("as-index.qv"));
    const index = await Index.load(at("as-index.qv"));
    const query = await embedder.embedQuery(QUERIES[1]);
    const { scores } = await index.search(query, { k: 10 });
    expect(Array.from(scores)).toEqual((await texts.search(QUERIES[1], { k: 10 })).map((hit) => hit.score));
    index.dispose();
    texts.dispose();
  });
});

describe("TextIndex.load refuses and leaves nothing loaded", () => {
  let file: string;
  beforeAll(async () => {
    const texts = await built();
    file = at("refuse.qv");
    await texts.save(file);
    texts.dispose();
  });

  it("another embedder: each differing setting is named", async () => {
    const other = await transformersEmbedder(modelDir);
    await expect(TextIndex.load(file, { embedder: other })).rejects.toThrow(
      /TextIndex\.load: ".*refuse\.qv" was built with another embedder \(prefixes \{"query":"q: ","document":"d: "\} in the file, \{"query":"","document":""\} given\)/,
    );
    const stream = new Blob([readFileSync(file)]).stream();
    await expect(TextIndex.load(stream, { embedder: other })).rejects.toThrow(/TextIndex\.load: "stream" was built with another embedder \(prefixes/);
    const renamed = { ...remembered(), model: "elsewhere/model" };
    await expect(TextIndex.load(file, { embedder: renamed })).rejects.toThrow(/model ".*" in the file, "elsewhere\/model" given/);
    const narrower = { ...remembered(), dims: 8 };
    await expect(TextIndex.load(file, { embedder: narrower })).rejects.toThrow(new RegExp(`dims ${embedder.dims} in the file, 8 given`));
    await expect(TextIndex.load(file, {} as never)).rejects.toThrow(/TextIndex\.load: embedder is undefined/);
  });

  it("a plain Index file, a damaged text section, and a text section that does not match its index", async () => {
    const index = await Index.create({ dims: embedder.dims, precision: "float32" });
    index.add(vectors);
    await index.save(at("plain.qv"));
    index.dispose();
    await expect(TextIndex.load(at("plain.qv"), { embedder: remembered() })).rejects.toThrow(/section "TEXT": missing: this is not a text index \(a plain Index file\? load it with Index\.load\)/);

    const container = await openContainer(file);
    const sections = await Promise.all(container.sections.map(async (s) => ({ ...s, bytes: await container.read(s.tag) })));
    await container.close();
    const text = sections.find((s) => s.tag === "TEXT")!;
    const bytes = new Uint8Array(readFileSync(file));
    bytes[text.offset + 100] ^= 0x20;
    writeFileSync(at("flipped.qv"), bytes);
    await expect(TextIndex.load(at("flipped.qv"), { embedder: remembered() })).rejects.toThrow(/flipped\.qv.*section "TEXT"/);

    // Well-formed and checksummed, but one id too many: the keys do not belong to this index.
    const lines = new TextDecoder().decode(text.bytes).split("\n");
    const head = JSON.parse(lines[0]);
    const rewritten = new TextEncoder().encode([JSON.stringify({ ...head, count: head.count + 1, nextId: head.nextId + 1 }), ...lines.slice(1, -1), JSON.stringify([head.nextId, "stranger", "x"]), ""].join("\n"));
    await writeContainer(at("mismatch.qv"), sections.map((s) => {
      const content = s.tag === "TEXT" ? rewritten : s.bytes;
      return { tag: s.tag, byteLength: content.length, chunks: [content], blockBytes: s.blockBytes, critical: s.critical };
    }));
    await expect(TextIndex.load(at("mismatch.qv"), { embedder: remembered() })).rejects.toThrow(
      /mismatch\.qv.*section "TEXT".*the index holds 778 vectors, the text section 779 keys; the file's parts do not belong together/,
    );
  });
});
