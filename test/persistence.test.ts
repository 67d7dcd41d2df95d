// Saving and loading whole indexes (index.save, Index.load; docs/FORMAT.md "Index sections"):
// for every precision and rescoring mode, with truncation, rotation, 1 and 2 threads, every id
// mode, removals, upserts, compaction and several shards, the loaded index answers every search
// exactly as the saved one (ids, scores, ties) and goes on behaving the same after more changes.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { persistenceSuite } from "../src/cli/persistence-bench.js";
import { Progress } from "../src/cli/progress.js";
import { fitRotation, Index, type IndexOptions, ready, truncate } from "../src/index.js";
import { randomNormal, rng, saveToBytes, SEARCH_CONFIGS } from "./helpers.js";

await ready();
const folder = mkdtempSync(join(tmpdir(), "quantvec-persistence-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const open: Index[] = [];
afterEach(() => {
  for (const index of open.splice(0)) index.dispose();
});
const track = (index: Index) => (open.push(index), index);

const DIMS = 64;
const SMALL_SHARD = 256 * 1024;

/** Seeded vectors; every fifth repeats an earlier one, so scores tie and ids must break the ties. */
function vectors(random: () => number, count: number, dims = DIMS): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < count; i++) out.push(out.length > 0 && random() < 0.2 ? out[Math.floor(random() * out.length)].slice() : randomNormal(random, dims));
  return out;
}

/** Byte-for-byte equality (toEqual walks big arrays slowly). */
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i]);

type Answers = Array<{ ids: number[]; scores: number[] }>;

/** Single and batched searches, unfiltered and filtered, as plain arrays. */
async function answers(index: Index, queries: Float32Array[], filter: number[]): Promise<Answers> {
  const plain = (r: { ids: Uint32Array; scores: Float32Array }) => ({ ids: Array.from(r.ids), scores: Array.from(r.scores) });
  const out: Answers = [];
  for (const query of queries.slice(0, 3)) out.push(plain(await index.search(query, { k: 10 })));
  out.push(...(await index.searchBatch(queries, { k: 7, rescoreMultiplier: 3 })).map(plain));
  out.push(...(await index.searchBatch(queries, { k: 5, filter })).map(plain));
  return out;
}

/** The id map's mode: "dense" (id = row), "sorted" (ascending ids, binary search) or "hashed". */
function idMode(index: Index): string {
  const ids = (index as unknown as { ids: { isDense: boolean; hashedCount: number | undefined } }).ids;
  return ids.isDense ? "dense" : ids.hashedCount === undefined ? "sorted" : "hashed";
}

/**
 * Checks that `loaded` is `saved` again: same size, shards and id mode, same answers; then applies
 * the same adds, removals, upserts and a compaction to both and checks that they still agree.
 */
async function expectSameIndex(saved: Index, loaded: Index, random: () => number, label: string): Promise<void> {
  expect(loaded.size, label).toBe(saved.size);
  expect(loaded.shards, label).toBe(saved.shards);
  expect(idMode(loaded), label).toBe(idMode(saved));
  for (const key of ["dims", "storedDims", "precision", "rescore", "normalize", "bytesPerVector"] as const) expect(loaded[key], `${label}: ${key}`).toEqual(saved[key]);
  const stored = vectors(random, 40, saved.dims);
  const queries = [...vectors(random, 6, saved.dims), stored[0]];
  const filter = Array.from({ length: 120 }, (_, i) => i * 3);
  expect(await answers(loaded, queries, filter), `${label}: after load`).toEqual(await answers(saved, queries, filter));
  for (const index of [saved, loaded]) {
    index.add(stored);
    index.remove([1, 2, 3, 50, 51]);
    index.upsert(stored.slice(0, 3), [7, 8, 1]);
  }
  expect(loaded.size, label).toBe(saved.size);
  expect(await answers(loaded, queries, filter), `${label}: after changes`).toEqual(await answers(saved, queries, filter));
  await Promise.all([saved.compact(), loaded.compact()]);
  expect(await answers(loaded, queries, filter), `${label}: after compact`).toEqual(await answers(saved, queries, filter));
}

/** An index of `rows` vectors with some removed and some upserted (ids hashed after the upsert). */
async function populated(options: IndexOptions, random: () => number, rows = 300): Promise<Index> {
  const index = track(await Index.create(options));
  index.add(vectors(random, rows, options.dims));
  index.remove([0, 5, 17, 18, 19, 200]);
  index.upsert(vectors(random, 2, options.dims), [30, 1000]);
  return index;
}

describe("round trip: load(save(index)) answers exactly as the index", () => {
  const pipelines: Array<{ name: string; options: (random: () => number) => Partial<IndexOptions> }> = [
    { name: "plain", options: () => ({}) },
    { name: "truncateTo 40", options: () => ({ truncateTo: 40 }) },
    { name: "truncateTo 40, normalize false", options: () => ({ truncateTo: 40, normalize: false }) },
    { name: "pca rotation, truncateTo 48", options: (random) => ({ rotation: fitRotation(vectors(random, 200), { method: "pca" }), truncateTo: 48 }) },
    { name: "itq rotation to 56 dims", options: (random) => ({ rotation: fitRotation(vectors(random, 200), { method: "itq", dims: 56, iterations: 5 }) }) },
  ];
  for (const config of SEARCH_CONFIGS) {
    for (const pipeline of pipelines) {
      // Two threads for the plain pipeline only: the threads split scans, not the pipeline.
      for (const threads of pipeline.name === "plain" ? [1, 2] : [1]) {
        const label = `${config.precision} → ${config.rescore}, ${pipeline.name}, threads ${threads}`;
        it(label, async () => {
          const random = rng(threads * 1000 + SEARCH_CONFIGS.indexOf(config) * 10 + pipelines.indexOf(pipeline));
          const saved = await populated({ dims: DIMS, ...config, ...pipeline.options(random), threads }, random);
          const bytes = await saveToBytes(saved);
          const loaded = track(await Index.load(bytes, { threads }));
          expect(loaded.threads).toBe(saved.threads);
          expect(sameBytes(await saveToBytes(loaded), bytes), "save(load(bytes)) = bytes").toBe(true);
          if (threads > 1) (loaded as unknown as { parallelMinBytes: number }).parallelMinBytes = (saved as unknown as { parallelMinBytes: number }).parallelMinBytes = 1;
          await expectSameIndex(saved, loaded, random, label);
        });
      }
    }
  }

  it("layerNorm-truncated vectors (the nomic recipe, applied before add) round-trip", async () => {
    const random = rng(5);
    const full = vectors(random, 300, 96);
    const index = track(await Index.create({ dims: 48, precision: "binary", rescore: "int8" }));
    index.add(truncate(full, 48, { layerNorm: true }));
    const loaded = track(await Index.load(await saveToBytes(index)));
    await expectSameIndex(index, loaded, random, "layerNorm");
  });

  it("ids in every mode: dense, sorted (sparse ascending), hashed (out of order)", async () => {
    const random = rng(6);
    const modes: Array<[string, (index: Index) => void]> = [
      ["dense", (index) => index.add(vectors(random, 200))],
      ["sorted", (index) => index.add(vectors(random, 200), Array.from({ length: 200 }, (_, i) => 5 + i * 7))],
      ["hashed", (index) => index.add(vectors(random, 200), Array.from({ length: 200 }, (_, i) => (i * 7919) % 1009))],
    ];
    for (const [mode, fill] of modes) {
      const index = track(await Index.create({ dims: DIMS, precision: "binary", rescore: "int8" }));
      fill(index);
      expect(idMode(index), mode).toBe(mode);
      const loaded = track(await Index.load(await saveToBytes(index)));
      expect(idMode(loaded), mode).toBe(mode);
      await expectSameIndex(index, loaded, random, mode);
    }
  });

  it("removals with and without compaction; an emptied index; an empty one", async () => {
    const random = rng(7);
    for (const compact of [false, true]) {
      const index = await populated({ dims: DIMS, precision: "int8", rescore: "float32" }, random);
      if (compact) await index.compact();
      const loaded = track(await Index.load(await saveToBytes(index)));
      await expectSameIndex(index, loaded, random, `compact ${compact}`);
    }
    const emptied = track(await Index.create({ dims: DIMS, precision: "binary", rescore: "none" }));
    const ids = emptied.add(vectors(random, 10));
    emptied.remove(ids);
    const again = track(await Index.load(await saveToBytes(emptied)));
    expect(again.size).toBe(0);
    expect(Array.from(again.add(vectors(random, 1)))).toEqual(Array.from(emptied.add(vectors(random, 1))));
    const empty = track(await Index.create({ dims: DIMS, precision: "int8" }));
    const loadedEmpty = track(await Index.load(await saveToBytes(empty)));
    expect(loadedEmpty.size).toBe(0);
    expect(loadedEmpty.usesInt8).toBe(true);
  });

  it("several shards (small shardBytes), with maxMemoryBytes, on 1 and 2 threads", async () => {
    for (const threads of [1, 2]) {
      const random = rng(8 + threads);
      const index = await populated({ dims: DIMS, precision: "binary", rescore: "float32", shardBytes: SMALL_SHARD, maxMemoryBytes: 64 * 1024 * 1024, threads }, random, 2000);
      expect(index.shards).toBeGreaterThan(2);
      const loaded = track(await Index.load(await saveToBytes(index), { threads }));
      expect(loaded.memoryBytes).toBeLessThanOrEqual(64 * 1024 * 1024);
      await expectSameIndex(index, loaded, random, `shards, threads ${threads}`);
    }
  });
});

describe("sources and targets", () => {
  it("a path (atomic), a Uint8Array, an ArrayBuffer, a Blob and a ReadableStream load the same index", async () => {
    const random = rng(11);
    const index = await populated({ dims: DIMS, precision: "binary", rescore: "int8" }, random);
    const path = join(folder, "index.qv");
    await index.save(path);
    const bytes = await saveToBytes(index);
    expect(sameBytes(readFileSync(path), bytes)).toBe(true);
    const queries = vectors(random, 4);
    const want = await answers(index, queries, [1, 2, 3]);
    const stream = (data: Uint8Array) => new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < data.length; at += 777) controller.enqueue(data.slice(at, at + 777));
        controller.close();
      },
    });
    for (const [name, source] of [
      ["path", path], ["Uint8Array", bytes], ["ArrayBuffer", bytes.slice().buffer], ["Blob", new Blob([bytes as Uint8Array<ArrayBuffer>])], ["ReadableStream", stream(bytes)],
    ] as const) {
      const loaded = track(await Index.load(source));
      expect(await answers(loaded, queries, [1, 2, 3]), name).toEqual(want);
    }
  });

  it("the file holds the index as it was when save was called, though adds and removals follow at once", async () => {
    const random = rng(12);
    const index = await populated({ dims: DIMS, precision: "float32" }, random);
    const queries = vectors(random, 3);
    const want = await answers(index, queries, [4, 6]);
    const size = index.size;
    const saving = saveToBytes(index);
    index.add(vectors(random, 100));
    index.remove([1, 2, 3, 4]);
    const loaded = track(await Index.load(await saving));
    expect(loaded.size).toBe(size);
    expect(await answers(loaded, queries, [4, 6])).toEqual(want);
  });
});

describe("the bench's persistence suite", () => {
  it("checks the loaded index first, then times every contender each round over the same file", async () => {
    const run = await persistenceSuite(2000, 42, 2, new Progress(process.stderr, false, true), folder);
    expect(run.fileBytes).toBeGreaterThan(2000 * (128 + 1024 + 4));
    expect(run.rows.map((r) => r.name)).toEqual([
      "index.save (temp file, fsync, rename)", "copyFile + fsync", "the bytes written to a new file + fsync + rename",
      "Index.load", "copyFile", "readFile (into new memory) + xxh64 of it",
    ]);
    for (const row of run.rows) {
      expect(row.seconds.length, row.name).toBe(2);
      expect(row.gbPerSec, row.name).toBeCloseTo(run.fileBytes / row.p50Seconds / 1e9, 6);
    }
    const p50 = (name: string) => run.rows.find((r) => r.name === name)!.p50Seconds;
    expect(run.loadVsCopy).toBeCloseTo(p50("copyFile") / p50("Index.load"), 9);
    expect(run.saveVsCopyFsync).toBeCloseTo(p50("copyFile + fsync") / p50("index.save (temp file, fsync, rename)"), 9);
    expect(readdirSync(folder).filter((name) => name.startsWith("quantvec-bench-persistence-"))).toEqual([]);
  });
});
