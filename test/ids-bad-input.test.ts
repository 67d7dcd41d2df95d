// Issue 8's bad input: remove/upsert/has with bad ids, bad filters, a throwing predicate, bad
// addQuantized codes and bad shardBytes — each a clear TypeError/RangeError naming the argument,
// and the index exactly as it was. Also: codes made by sentence-transformers (the numpy replica's
// fixtures) added with addQuantized give exactly the results of adding the floats they came from.

import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { calibrate, Index, type IndexOptions, quantize } from "../src/index.js";
import { randomNormal, rng, SEARCH_CONFIGS } from "./helpers.js";
import { rejectsUnchanged } from "./unchanged.js";

const DIMS = 20;
const random = rng(31);
const ROWS = Array.from({ length: 150 }, () => randomNormal(random, DIMS));
const QUERIES = [ROWS[3], randomNormal(random, DIMS)];
const RANGES = calibrate(ROWS);
const open: Index[] = [];
afterEach(() => {
  for (const index of open.splice(0)) index.dispose();
});

async function filled(options: Partial<IndexOptions> = {}): Promise<Index> {
  const index = await Index.create({ dims: DIMS, precision: "binary", rescore: "int8", ranges: RANGES, ...options });
  open.push(index);
  index.add(ROWS, ROWS.map((_, i) => i * 3));
  index.remove([6, 9]); // some removed rows, so "unchanged" covers the live bitmap too
  return index;
}

const BAD_IDS: Array<[string, unknown, ErrorConstructor, RegExp]> = [
  ["a non-integer", 1.5, RangeError, /is 1\.5; ids must be integers from 0 to 4294967295/],
  ["a negative id", -1, RangeError, /is -1; ids must be integers/],
  ["2^32", 2 ** 32, RangeError, /is 4294967296; ids must be integers/],
  ["NaN", NaN, RangeError, /is NaN; ids must be integers/],
  ["a string", "7", TypeError, /is "7"; ids must be integers/],
];

describe("remove, upsert and has reject bad ids, leaving the index unchanged", () => {
  for (const [label, bad, type, message] of BAD_IDS) {
    it(`remove with ${label} (nothing is removed, not even the valid ids before it)`, async () => {
      const index = await filled();
      await rejectsUnchanged(index, QUERIES, () => index.remove([0, 3, bad as number]), type, new RegExp(`index\\.remove: ids\\[2\\] ${message.source}`));
      expect(index.has(3)).toBe(true);
    });
    it(`upsert with ${label}`, async () => {
      const index = await filled();
      await rejectsUnchanged(index, QUERIES, () => index.upsert([ROWS[0], ROWS[1]], [3, bad as number]), type, new RegExp(`index\\.upsert: ids\\[1\\] ${message.source}`));
    });
    it(`has with ${label}`, async () => {
      const index = await filled();
      await rejectsUnchanged(index, QUERIES, () => index.has(bad as number), type, new RegExp(`index\\.has: id ${message.source}`));
    });
  }

  it("remove with something that is not a list of ids", async () => {
    const index = await filled();
    await rejectsUnchanged(index, QUERIES, () => index.remove(42 as unknown as number[]), TypeError, /index\.remove: ids is 42; expected an array, typed array or iterable of ids/);
  });

  it("upsert with mismatched lengths, a repeated id, or no ids", async () => {
    const index = await filled();
    await rejectsUnchanged(index, QUERIES, () => index.upsert([ROWS[0], ROWS[1]], [3]), RangeError, /index\.upsert: ids has 1 entries but vectors has 2 rows/);
    await rejectsUnchanged(index, QUERIES, () => index.upsert([ROWS[0], ROWS[1]], [3, 3]), RangeError, /ids\[1\] = 3 is a duplicate within this call/);
    await rejectsUnchanged(index, QUERIES, () => index.upsert([ROWS[0]], undefined as unknown as number[]), TypeError, /index\.upsert: ids is undefined/);
    await rejectsUnchanged(index, QUERIES, () => index.upsert([ROWS[0].subarray(1)], [3]), RangeError, /vectors/);
  });
});

describe("search and searchBatch reject bad filters, leaving the index unchanged and usable", () => {
  it("a filter that is neither an iterable nor a function", async () => {
    const index = await filled();
    for (const bad of [42, { 1: true }, "abc"]) {
      await rejectsUnchanged(index, QUERIES, () => index.search(QUERIES[0], { filter: bad as never }), TypeError, /index\.search: filter is .*; expected an iterable of ids \(Set, array, Uint32Array\) or a function/);
      await rejectsUnchanged(index, QUERIES, () => index.searchBatch(QUERIES, { filter: bad as never }), TypeError, /index\.searchBatch: filter is/);
    }
  });

  it("a filter that yields invalid ids", async () => {
    const index = await filled();
    await rejectsUnchanged(index, QUERIES, () => index.search(QUERIES[0], { filter: [3, -2] }), RangeError, /index\.search: filter's entry 1 is -2; ids must be integers/);
    await rejectsUnchanged(index, QUERIES, () => index.search(QUERIES[0], { filter: new Set([0.5]) }), RangeError, /filter's entry 0 is 0\.5/);
    await rejectsUnchanged(index, QUERIES, () => index.search(QUERIES[0], { filter: ["3"] as never }), TypeError, /filter's entry 0 is "3"/);
  });

  it("a predicate that throws: the search rejects with its error, and the index stays usable", async () => {
    const index = await filled();
    const boom = new Error("predicate exploded");
    const before = await index.search(QUERIES[0], { k: 5 });
    await rejectsUnchanged(index, QUERIES, () => index.search(QUERIES[0], { filter: (id) => { if (id === 30) throw boom; return true; } }), Error, /predicate exploded/);
    expect(await index.search(QUERIES[0], { k: 5 })).toEqual(before);
  });

  it("searchBatch: a predicate that throws, and an iterable that yields an id past 2^32 − 1", async () => {
    const index = await filled();
    const boom = new Error("predicate exploded in a batch");
    const before = await index.searchBatch(QUERIES, { k: 5 });
    await rejectsUnchanged(index, QUERIES, () => index.searchBatch(QUERIES, { filter: (id) => { if (id === 30) throw boom; return true; } }), Error, /predicate exploded in a batch/);
    function* ids() {
      yield 0;
      yield 2 ** 32;
    }
    await rejectsUnchanged(index, QUERIES, () => index.searchBatch(QUERIES, { filter: ids() }), RangeError, /index\.searchBatch: filter's entry 1 is 4294967296; ids must be integers/);
    expect(await index.searchBatch(QUERIES, { k: 5 })).toEqual(before);
  });
});

describe("addQuantized rejects bad codes, leaving the index unchanged", () => {
  const codesOf = (rows: Float32Array[]) => ({
    ubinary: quantize(rows, "ubinary").data as Uint8Array,
    int8: quantize(rows, "int8", { ranges: RANGES }).data as Int8Array,
  });
  const good = codesOf(ROWS.slice(0, 4));

  it("the wrong byte length, the wrong typed array, a column the index does not use, a missing column", async () => {
    const index = await filled();
    const cases: Array<[unknown, ErrorConstructor, RegExp]> = [
      [{ binary: good.ubinary.subarray(1), int8: good.int8 }, RangeError, /codes\.binary has 11 bytes, not a positive multiple of 3 \(bytes per row\)/],
      [{ binary: good.ubinary, int8: good.int8.subarray(0, 60) }, RangeError, /codes\.binary holds 4 rows but codes\.int8 holds 3/],
      [{ binary: new Float32Array(12), int8: good.int8 }, TypeError, /codes\.binary is a Float32Array of 12; expected a Uint8Array \(ubinary\) or Int8Array \(binary\)/],
      [{ binary: good.ubinary, int8: new Uint8Array(good.int8.buffer) }, TypeError, /codes\.int8 is a Uint8Array of 80; expected an Int8Array/],
      [{ binary: good.ubinary }, TypeError, /codes\.int8 is missing; this index keeps binary and int8 codes/],
      [{ binary: good.ubinary, int8: good.int8, float32: new Float32Array(80) }, TypeError, /codes\.float32 is not a column/],
      [{ binary: new Uint8Array(3).fill(0xff), int8: good.int8.subarray(0, 20) }, RangeError, /codes\.binary row 0 sets padding bits past dimension 20/],
      [null, TypeError, /codes must be an object/],
    ];
    for (const [codes, type, message] of cases) {
      await rejectsUnchanged(index, QUERIES, () => index.addQuantized(codes as never), type, message);
    }
    await rejectsUnchanged(index, QUERIES, () => index.addQuantized({ binary: good.ubinary, int8: good.int8 }, [0, 1, 2, 3]), RangeError, /ids\[0\] = 0 is a duplicate of an id already in the index/);
  });

  it("a column the index does not keep, and an index that keeps float32 vectors", async () => {
    const binaryOnly = await filled({ rescore: "none" });
    await rejectsUnchanged(binaryOnly, QUERIES, () => binaryOnly.addQuantized({ binary: good.ubinary, int8: good.int8 }), TypeError, /codes\.int8 was given, but this index does not keep int8 codes \(it keeps binary\)/);
    const floats = await filled({ rescore: "float32" });
    await rejectsUnchanged(floats, QUERIES, () => floats.addQuantized({ binary: good.ubinary }), TypeError, /this index keeps float32 vectors .*; use add/);
  });

  it("int8 codes without ranges", async () => {
    const index = await Index.create({ dims: DIMS, precision: "int8" });
    open.push(index);
    await expect(async () => index.addQuantized({ int8: good.int8 })).rejects.toThrow(/int8 codes need the ranges they were made with/);
    expect(index.size).toBe(0);
  });
});

describe("addQuantized across shards and against the memory ceiling", () => {
  const dims = 96;
  const rows = (() => {
    const random = rng(32);
    return Array.from({ length: 3000 }, () => randomNormal(random, dims));
  })();
  const ranges = calibrate(rows);
  const codesOf = (part: Float32Array[]) => ({
    binary: quantize(part, "ubinary").data as Uint8Array,
    int8: quantize(part, "int8", { ranges }).data as Int8Array,
  });

  it("codes added over several small shards (default ids, then explicit ones) answer as add of the floats", async () => {
    const options: IndexOptions = { dims, precision: "binary", rescore: "int8", ranges, shardBytes: 192 * 1024 };
    const fromFloats = await Index.create(options);
    const fromCodes = await Index.create(options);
    open.push(fromFloats, fromCodes);
    const later = Array.from({ length: 2000 }, (_, i) => 10_000 + 3 * i);
    expect(Array.from(fromCodes.addQuantized(codesOf(rows.slice(0, 1000))))).toEqual(Array.from(fromFloats.add(rows.slice(0, 1000))));
    fromFloats.add(rows.slice(1000), later);
    expect(Array.from(fromCodes.addQuantized(codesOf(rows.slice(1000)), later))).toEqual(later);
    expect(fromCodes.shards).toBeGreaterThanOrEqual(2);
    expect(fromCodes.shards).toBe(fromFloats.shards);
    const queries = [rows[5], rows[2500], randomNormal(rng(33), dims)];
    const want = await fromFloats.searchBatch(queries, { k: 20 });
    expect(want.every((result) => result.ids.length === 20)).toBe(true);
    expect(await fromCodes.searchBatch(queries, { k: 20 })).toEqual(want);
    expect(await fromCodes.search(queries[1], { k: 20, filter: later })).toEqual(await fromFloats.search(queries[1], { k: 20, filter: later }));
  });

  it("past maxMemoryBytes it is refused, naming the ceiling, and nothing changes", async () => {
    const index = await Index.create({ dims, precision: "binary", rescore: "int8", ranges, maxMemoryBytes: 4 * 65536 });
    open.push(index);
    index.addQuantized(codesOf(rows.slice(0, 200)));
    await rejectsUnchanged(index, rows.slice(0, 2), () => index.addQuantized(codesOf(rows)), RangeError,
      /index\.addQuantized: needs \d+ bytes of WebAssembly memory, more than its limit of 262144 bytes \(maxMemoryBytes\); nothing was changed/);
    expect(Array.from(index.addQuantized(codesOf(rows.slice(200, 210))))).toEqual(Array.from({ length: 10 }, (_, i) => 200 + i));
  });
});

describe("shardBytes", () => {
  it("must be a positive integer that leaves room for rows", async () => {
    for (const bad of [0, -1, 1.5, NaN, 2 ** 32 + 65536, 2 ** 40]) {
      const refusal = Index.create({ dims: DIMS, precision: "binary", shardBytes: bad });
      await expect(refusal).rejects.toThrow(RangeError);
      await expect(refusal).rejects.toThrow(`Index.create: shardBytes must be an integer from 1 to 4294967296, got ${bad}`);
    }
    await expect(Index.create({ dims: DIMS, precision: "binary", shardBytes: "1MB" as unknown as number })).rejects.toThrow(TypeError);
    await expect(Index.create({ dims: DIMS, precision: "binary", shardBytes: "1MB" as unknown as number })).rejects.toThrow(/shardBytes must be an integer from 1 to 4294967296, got "1MB"/);
    await expect(Index.create({ dims: 4096, precision: "float32", shardBytes: 192 * 1024 })).rejects.toThrow(/shardBytes must leave room for at least one segment of rows besides scratch memory: \d+ bytes or more for rows of 16388 bytes, got 196608/);
  });
});

describe("addQuantized of sentence-transformers codes equals add of the floats they came from", () => {
  interface Case { name: string; dims: number; embeddings: number[][]; expected: { ranges: number[][]; int8: number[][]; binary: number[][]; ubinary: number[][] } }
  const fixture = JSON.parse(readFileSync(new URL("./fixtures/quantization.json", import.meta.url), "utf8")) as { cases: Case[] };
  const cases = fixture.cases.filter((c) => c.embeddings.length >= 5);

  for (const c of cases) {
    for (const config of SEARCH_CONFIGS.filter((s) => s.precision !== "float32" && s.rescore !== "float32")) {
      it(`${c.name}: ${config.precision} → ${config.rescore}`, async () => {
        const ranges = { min: c.expected.ranges[0], max: c.expected.ranges[1] };
        const rows = c.embeddings.map((row) => Float32Array.from(row));
        const options: IndexOptions = { dims: c.dims, ...config, ranges };
        const fromFloats = await Index.create(options);
        const fromCodes = await Index.create(options);
        const fromSigned = await Index.create(options);
        open.push(fromFloats, fromCodes, fromSigned);
        fromFloats.add(rows);
        const int8 = Int8Array.from(c.expected.int8.flat());
        const uses = (p: string) => config.precision === p || config.rescore === p;
        fromCodes.addQuantized({
          ...(uses("binary") ? { binary: Uint8Array.from(c.expected.ubinary.flat()) } : {}),
          ...(uses("int8") ? { int8 } : {}),
        });
        fromSigned.addQuantized({
          ...(uses("binary") ? { binary: Int8Array.from(c.expected.binary.flat()) } : {}),
          ...(uses("int8") ? { int8 } : {}),
        });
        const queries = [...rows.slice(0, 3), Float32Array.from(rows[0], (x, i) => x + (i % 2 ? 0.5 : -0.25))];
        for (const query of queries) {
          const want = await fromFloats.search(query, { k: rows.length, rescoreMultiplier: 2 });
          expect(want.ids.length, "k = rows: every row comes back").toBe(rows.length);
          expect(await fromCodes.search(query, { k: rows.length, rescoreMultiplier: 2 })).toEqual(want);
          expect(await fromSigned.search(query, { k: rows.length, rescoreMultiplier: 2 })).toEqual(want);
        }
      });
    }
  }
});
