// Issue 13, row by row: what a careless or hostile caller could do that gave wrong results,
// leaked memory or was silently ignored. Each test names its row.

import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { calibrate, Index, type IndexOptions, quantize, ready, truncate } from "../src/index.js";
import { readVectors } from "../src/cli/read-vectors.js";
import { viewRows } from "../src/embeddings.js";
import * as reference from "../src/reference.js";
import { randomNormal, rng, SEARCH_CONFIGS } from "./helpers.js";
import { failureOf, observe, rejectsUnchanged } from "./unchanged.js";

const DIMS = 16;
const random = rng(1313);
const ROWS = Array.from({ length: 120 }, () => randomNormal(random, DIMS));
const RANGES = calibrate(ROWS);
const QUERIES = [randomNormal(random, DIMS), randomNormal(random, DIMS)];

beforeAll(() => ready());

async function filled(options: Partial<IndexOptions> = {}): Promise<Index> {
  const index = await Index.create({ dims: DIMS, precision: "binary", ranges: RANGES, ...options } as IndexOptions);
  index.add(ROWS);
  return index;
}

/** A query whose answer differs from `other`'s: the row `other` is farthest from, so the top id differs. */
const opposite = (other: Float32Array) => Float32Array.from(other, (v) => -v);

/** Transfers (detaches) a buffer the way postMessage does. */
const detach = (buffer: ArrayBufferLike) => structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });

describe("row 1: a search answers the query as it was at the call, not when it runs", () => {
  it.each(SEARCH_CONFIGS)("$precision → $rescore: one buffer reused for two queued searches", async (config) => {
    const index = await filled(config);
    const [a, b] = [QUERIES[0], opposite(QUERIES[0])];
    const q = new Float32Array(DIMS);
    q.set(a);
    const first = index.search(q, { k: 5 });
    q.set(b);
    const second = index.search(q, { k: 5 });
    const [answerA, answerB] = [await index.search(a.slice(), { k: 5 }), await index.search(b.slice(), { k: 5 })];
    expect(answerA.ids[0]).not.toBe(answerB.ids[0]); // the two queries are told apart
    expect(await first).toEqual(answerA);
    expect(await second).toEqual(answerB);
  });

  it("searchBatch of a flat Float32Array, refilled after the call", async () => {
    const index = await filled({ precision: "float32", rescore: "none" });
    const flat = new Float32Array(2 * DIMS);
    flat.set(QUERIES[0]);
    flat.set(QUERIES[1], DIMS);
    const pending = index.searchBatch(flat, { k: 5 });
    flat.fill(0.5);
    expect(await pending).toEqual([await index.search(QUERIES[0], { k: 5 }), await index.search(QUERIES[1], { k: 5 })]);
  });
});

describe("row 2: a query changed or transferred before its search settles", () => {
  it("filled with NaN after the call: the call's own query is answered", async () => {
    const index = await filled({ precision: "float32", rescore: "none" });
    const q = QUERIES[0].slice();
    const pending = index.search(q, { k: 5 });
    q.fill(NaN);
    const result = await pending;
    expect(Array.from(result.scores).every(Number.isFinite)).toBe(true);
    expect(result).toEqual(await index.search(QUERIES[0], { k: 5 }));
  });

  it("its buffer transferred after the call: the call's own query is answered", async () => {
    const index = await filled({ precision: "binary", rescore: "int8" });
    const expected = await index.search(QUERIES[1], { k: 5 });
    const busy = index.search(QUERIES[0], { k: 5 }); // so that the next one waits in the queue
    const q = QUERIES[1].slice();
    const pending = index.search(q, { k: 5 });
    detach(q.buffer);
    expect(q.length).toBe(0);
    await busy;
    expect(await pending).toEqual(expected);
  });

  it("already transferred at the call: a TypeError naming the argument", async () => {
    const index = await filled();
    const q = QUERIES[0].slice();
    detach(q.buffer);
    await rejectsUnchanged(index, QUERIES, () => index.search(q), TypeError, /index\.search: query is a Float32Array whose buffer was detached/);
    const row = ROWS[0].slice();
    detach(row.buffer);
    await rejectsUnchanged(index, QUERIES, () => index.add([ROWS[1], row]), TypeError, /index\.add: vectors row 1 is a Float32Array whose buffer was detached/);
    await rejectsUnchanged(index, QUERIES, () => index.add({ data: row, rows: 1, cols: DIMS }), TypeError, /index\.add: vectors\.data is a Float32Array whose buffer was detached/);
    await rejectsUnchanged(index, QUERIES, () => index.searchBatch(row, { k: 2 }), TypeError, /index\.searchBatch: queries is a Float32Array whose buffer was detached/);
  });
});

describe("row 3: values beyond float32's range are rejected like NaN, naming row and column", () => {
  const beyond = /beyond float32's range/;
  const withValue = (row: number, col: number, value: number) => {
    const rows = ROWS.slice(0, 3).map((r) => Array.from(r));
    rows[row][col] = value;
    return rows;
  };
  it.each([
    ["1e39 in a number[] row", withValue(1, 4, 1e39), /index\.add: vectors row 1, column 4 is 1e\+39, beyond float32's range/],
    ["-Number.MAX_VALUE", withValue(2, 0, -Number.MAX_VALUE), /vectors row 2, column 0 is -1\.7976931348623157e\+308, beyond/],
    ["1e39 in a Float64Array row", [ROWS[0], Float64Array.from(ROWS[1], (v, i) => (i === 7 ? 1e39 : v))], /vectors row 1, column 7 is 1e\+39, beyond/],
    ["1e39 in a flat Float64Array", Float64Array.from({ length: 2 * DIMS }, (_, i) => (i === DIMS + 3 ? 1e39 : 0.5)), /vectors row 1, column 3 is 1e\+39, beyond/],
    ["1e39 in { data, rows, cols }", { data: Array.from({ length: DIMS }, (_, i) => (i === 9 ? -1e39 : 0.5)), rows: 1, cols: DIMS }, /vectors row 0, column 9 is -1e\+39, beyond/],
  ])("index.add: %s", async (_, vectors, message) => {
    for (const precision of ["float32", "int8", "binary"] as const) {
      const index = await filled({ precision, rescore: "none" });
      await rejectsUnchanged(index, QUERIES, () => index.add(vectors as never), RangeError, message);
    }
  });

  it("queries, calibration samples, ranges and the functions", async () => {
    const index = await filled({ precision: "float32", rescore: "none" });
    const query = Array.from(QUERIES[0], (v, i) => (i === 2 ? 1e39 : v));
    await rejectsUnchanged(index, QUERIES, () => index.search(query), RangeError, /index\.search: query\[2\] is 1e\+39, beyond float32's range/);
    await rejectsUnchanged(index, QUERIES, () => index.searchBatch([QUERIES[0], query]), RangeError, /queries row 1, column 2 is 1e\+39, beyond/);
    const empty = await Index.create({ dims: DIMS, precision: "int8" });
    expect(() => empty.calibrate(withValue(0, 1, 1e39))).toThrow(/index\.calibrate: sample row 0, column 1 is 1e\+39, beyond/);
    const ranges = { min: Array.from(RANGES.min), max: Array.from(RANGES.max, (v, i) => (i === 5 ? 1e39 : v)) };
    await expect(Index.create({ dims: DIMS, precision: "int8", ranges })).rejects.toThrow(/Index\.create: ranges\.max\[5\] is 1e\+39, beyond/);
    expect(() => quantize(withValue(0, 0, 1e39), "binary")).toThrow(beyond);
    expect(() => quantize(ROWS, "int8", { ranges })).toThrow(/quantize: options\.ranges\.max\[5\] is 1e\+39, beyond/);
    expect(() => calibrate(withValue(1, 1, -1e39))).toThrow(/calibrate: embeddings row 1, column 1 is -1e\+39, beyond/);
    expect(() => truncate(withValue(1, 1, 1e39), 4)).toThrow(beyond);
  });
});

describe("row 4: ranges whose width overflows float32 are rejected", () => {
  const wide = (rows: number) => ROWS.slice(0, rows).map((r, i) => Float32Array.from(r, (v, c) => (c === 3 ? (i % 2 ? 3e38 : -3e38) : v)));
  const width = /dimension 3 spans \[-3\.\d+e\+38, 3\.\d+e\+38\], a width beyond float32's range/;

  it("Index.create ranges of ±3e38", async () => {
    const ranges = { min: Array.from(RANGES.min, (v, i) => (i === 3 ? -3e38 : v)), max: Array.from(RANGES.max, (v, i) => (i === 3 ? 3e38 : v)) };
    await expect(Index.create({ dims: DIMS, precision: "int8", ranges })).rejects.toThrow(RangeError);
    await expect(Index.create({ dims: DIMS, precision: "int8", ranges })).rejects.toThrow(/Index\.create: ranges dimension 3 spans/);
    expect(() => quantize(ROWS, "int8", { ranges })).toThrow(/quantize: options\.ranges dimension 3 spans/);
  });

  it("auto-calibration on the first add", async () => {
    const index = await Index.create({ dims: DIMS, precision: "binary", rescore: "int8" });
    await rejectsUnchanged(index, QUERIES, () => index.add(wide(100)), RangeError, /index\.add: the ranges of vectors dimension 3 spans/);
    index.add(ROWS.slice(0, 100)); // and it still calibrates on good rows
    expect(index.size).toBe(100);
  });

  it("index.calibrate, calibrate and quantize", async () => {
    const index = await Index.create({ dims: DIMS, precision: "int8" });
    expect(() => index.calibrate(wide(2))).toThrow(width);
    expect(() => calibrate(wide(2))).toThrow(RangeError);
    expect(() => calibrate(wide(2))).toThrow(/calibrate: the ranges of embeddings dimension 3 spans/);
    expect(() => quantize(wide(2), "uint8")).toThrow(width);
    expect(() => quantize(ROWS, "int8", { calibration: wide(2) })).toThrow(/quantize: the ranges of options\.calibration dimension 3/);
    await expect(index.search(QUERIES[0])).resolves.toEqual({ ids: new Uint32Array(0), scores: new Float32Array(0) });
  });
});

describe("row 5: a rejected add reserves no memory", () => {
  it("a Proxy posing as a Float32Array, added four times", async () => {
    const index = await Index.create({ dims: 256, precision: "float32", maxMemoryBytes: 64 * 65536 });
    const queries = [randomNormal(random, 256)];
    const data = new Proxy(randomNormal(random, 256 * 1000), { get: (target, key) => target[key as never] });
    const memoryBytes = index.memoryBytes;
    const failures = [];
    for (let i = 0; i < 4; i++) failures.push(await failureOf(() => index.add({ data, rows: 1000, cols: 256 })));
    expect(index.memoryBytes).toBe(memoryBytes);
    expect(index.size).toBe(0);
    for (const failure of failures) expect(failure).toBeInstanceOf(TypeError);
    await rejectsUnchanged(index, queries, () => index.add({ data, rows: 1000, cols: 256 }), TypeError,
      /index\.add: vectors\.data is not a genuine Float32Array \(a Proxy\?\); expected a Float32Array or number\[\]/);
    index.add({ data: randomNormal(random, 256 * 1000), rows: 1000, cols: 256 }); // the ceiling still has room
    expect(index.size).toBe(1000);
  });

  it("an add refused by maxMemoryBytes gives back the segment it had reserved in the last shard", async () => {
    for (const [precision, rescore] of [["binary", "int8"], ["int8", "none"], ["float32", "none"]] as const) {
      const dims = 64;
      const index = await Index.create({ dims, precision, rescore, ranges: calibrate(randomNormal(random, dims * 200), { dims }), maxMemoryBytes: 1 << 20 });
      index.add({ data: randomNormal(random, dims * 1000), rows: 1000, cols: dims });
      const queries = [randomNormal(random, dims)];
      // 20,000 rows cannot fit: the last shard's room is reserved first, then no new shard fits the budget.
      await rejectsUnchanged(index, queries, () => index.add({ data: randomNormal(random, dims * 20_000), rows: 20_000, cols: dims }), RangeError,
        /index\.add: needs \d+ bytes of WebAssembly memory, more than its limit of 1048576 bytes \(maxMemoryBytes\); nothing was changed/);
      // What fitted before the refusal still fits after it (before the fix this add was refused too).
      index.add({ data: randomNormal(random, dims * 100), rows: 100, cols: dims });
      expect(index.size, `${precision} → ${rescore}`).toBe(1100);
      index.dispose();
    }
  });

  it("an array whose reading throws half way", async () => {
    const index = await filled({ precision: "float32", rescore: "none" });
    const row = new Proxy(Array.from(ROWS[0]), {
      get: (target, key) => {
        if (key === "9") throw new Error("read failed");
        return target[key as never];
      },
    });
    await rejectsUnchanged(index, QUERIES, () => index.add([ROWS[1], row]), Error, /read failed/);
  });
});

describe("row 6: searches pending at dispose reject with the disposed message", () => {
  it.each([
    { precision: "binary", rescore: "int8" },
    { precision: "int8", rescore: "float32" },
    { precision: "float32", rescore: "none" },
  ] as const)("$precision → $rescore: 40 searches, dispose when the 11th settles", async (config) => {
    const index = await filled(config);
    const pending = Array.from({ length: 40 }, (_, i) => index.search(ROWS[i], { k: 3 }));
    void pending[10].then(() => index.dispose());
    const settled = await Promise.allSettled(pending);
    const rejected = settled.filter((s) => s.status === "rejected").map((s) => (s as PromiseRejectedResult).reason as Error);
    expect(settled.slice(0, 11).every((s) => s.status === "fulfilled")).toBe(true);
    expect(rejected.length).toBeGreaterThan(0);
    for (const error of rejected) {
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/^index\.search: this index was disposed; create a new one$/);
    }
  });
});

describe("row 6, threaded: searches in flight on workers at dispose", () => {
  it("binary → int8 on 2 threads, every search split: 40 searches, dispose when the 11th settles", async () => {
    const index = await filled({ precision: "binary", rescore: "int8", threads: 2 });
    (index as unknown as { parallelMinBytes: number }).parallelMinBytes = 1; // as test/threads.test.ts does
    const pending = Array.from({ length: 40 }, (_, i) => index.search(ROWS[i], { k: 3 }));
    void pending[10].then(() => index.dispose());
    const settled = await Promise.allSettled(pending);
    expect(settled.slice(0, 11).every((s) => s.status === "fulfilled")).toBe(true);
    for (const s of settled.filter((s) => s.status === "rejected")) {
      expect(((s as PromiseRejectedResult).reason as Error).message).toMatch(/^index\.search: this index was disposed; create a new one$/);
    }
    expect(settled.some((s) => s.status === "rejected")).toBe(true);
  });
});

describe("row 7: an unknown option is a TypeError naming it and the closest valid one", () => {
  it.each([
    ["search { K }", (i: Index) => i.search(QUERIES[0], { K: 3 } as never), /index\.search: options has an unknown key "K"; did you mean "k"\?/],
    ["search { rescoreMultiplyer }", (i: Index) => i.search(QUERIES[0], { rescoreMultiplyer: 2 } as never), /unknown key "rescoreMultiplyer"; did you mean "rescoreMultiplier"\?/],
    ["searchBatch { topK }", (i: Index) => i.searchBatch(QUERIES, { k: 2, topK: 3 } as never), /index\.searchBatch: options has an unknown key "topK"/],
  ])("%s", async (_, action, message) => {
    const index = await filled();
    await rejectsUnchanged(index, QUERIES, () => action(index), TypeError, message);
  });

  it.each([
    [{ dims: DIMS, precision: "binary", rescor: "none" }, /Index\.create: options has an unknown key "rescor"; did you mean "rescore"\?/],
    [{ dims: DIMS, precision: "binary", thread: 2 }, /unknown key "thread"; did you mean "threads"\?/],
    [{ dims: DIMS, precision: "binary", truncate: 8 }, /unknown key "truncate"; did you mean "truncateTo"\?/],
    [{ dims: DIMS, precision: "binary", maxMemory: 1 << 20 }, /unknown key "maxMemory"; did you mean "maxMemoryBytes"\?/],
  ])("Index.create %o", async (options, message) => {
    await expect(Index.create(options as never)).rejects.toThrow(TypeError);
    await expect(Index.create(options as never)).rejects.toThrow(message);
  });

  it("the functions", async () => {
    await expect(ready({ relaxedSIMD: "never" } as never)).rejects.toThrow(/ready: options has an unknown key "relaxedSIMD"; did you mean "relaxedSimd"\?/);
    expect(() => quantize(ROWS, "int8", { range: RANGES } as never)).toThrow(/quantize: options has an unknown key "range"; did you mean "ranges"\?/);
    expect(() => truncate(ROWS, 4, { normalise: false } as never)).toThrow(/truncate: options has an unknown key "normalise"; did you mean "normalize"\?/);
    expect(() => calibrate(ROWS, { dim: DIMS } as never)).toThrow(/calibrate: options has an unknown key "dim"; did you mean "dims"\?/);
    expect(() => calibrate(ROWS, { zzzzzzzz: 1 } as never)).toThrow(/unknown key "zzzzzzzz" \(allowed: dims\)/);
    await expect(readVectors("x.npy", { feild: "vector" } as never)).rejects.toThrow(/readVectors: options has an unknown key "feild"; did you mean "field"\?/);
  });
});

describe("row 8: options are read from own properties only", () => {
  const prototype = Object.prototype as Record<string, unknown>;
  afterEach(() => {
    delete prototype.truncateTo;
    delete prototype.threads;
    delete prototype.k;
    delete prototype.normalize;
  });

  it("an inherited truncateTo or normalize is not honoured", async () => {
    prototype.truncateTo = 4;
    prototype.normalize = true;
    const index = await Index.create({ dims: DIMS, precision: "float32" });
    expect(index.storedDims).toBe(DIMS);
    expect(index.normalize).toBe(false);
  });

  it("an inherited threads starts no workers", async () => {
    prototype.threads = 2;
    const index = await Index.create({ dims: DIMS, precision: "binary", ranges: RANGES });
    expect(index.threads).toBe(1);
    expect(index.threadingNote).toBeUndefined();
    index.dispose();
  });

  it("an inherited k is not honoured", async () => {
    const index = await filled({ precision: "float32", rescore: "none" });
    prototype.k = 1;
    expect((await index.search(QUERIES[0])).ids.length).toBe(10);
    expect((await index.search(QUERIES[0], {})).ids.length).toBe(10);
  });
});

describe("row 9: an index fills its memory ceiling to at least 90%", () => {
  it("1024-d binary → int8, maxMemoryBytes 64 MiB, adds of 1,000 rows", async () => {
    const dims = 1024;
    const maxMemoryBytes = 64 * 1024 * 1024;
    const batch = randomNormal(rng(9), 1000 * dims);
    const ranges = calibrate(batch.subarray(0, 100 * dims), { dims });
    const index = await Index.create({ dims, precision: "binary", rescore: "int8", ranges, maxMemoryBytes });
    let refusal: unknown;
    while (refusal === undefined) refusal = await failureOf(() => index.add(batch, undefined));
    expect(refusal).toBeInstanceOf(RangeError);
    expect((refusal as Error).message).toMatch(/index\.add: needs \d+ bytes of WebAssembly memory, more than its limit of 67108864 bytes \(maxMemoryBytes\); nothing was changed/);
    const stored = index.size * (index.bytesPerVector + 4);
    expect(stored / maxMemoryBytes).toBeGreaterThanOrEqual(0.9);
    expect(index.memoryBytes).toBeLessThanOrEqual(maxMemoryBytes);
    // Full, it still searches (its scratch memory fits) and still takes what fits.
    const query = batch.subarray(5 * dims, 6 * dims);
    expect((await index.search(query, { k: 3 })).ids[0]).toBe(5);
    const before = await observe(index, [query]);
    await rejectsUnchanged(index, [query], () => index.add(batch), RangeError, /nothing was changed/);
    expect(await observe(index, [query])).toEqual(before);
    index.dispose();
  });
});

describe("row 10: a subnormal-width range keeps scores estimates of the float dot product", () => {
  it.each([
    { precision: "int8", rescore: "none" },
    { precision: "binary", rescore: "int8" },
  ] as const)("$precision → $rescore, one dimension ranging over [0, 1e-43]", async (config) => {
    const ranges = { min: [0, -1, -1, -1], max: [1e-43, 1, 1, 1] };
    const index = await Index.create({ dims: 4, ...config, ranges });
    const row = Float32Array.of(1e-43, 0.5, -0.25, 0.75);
    index.add([row]);
    const query = Float32Array.of(1, 0.5, 0.5, 0.5);
    const exact = reference.dot_f32(query, row)[0];
    // The three normal dimensions are off by at most half a bucket (1/255) each, times |query| ≤ 0.5.
    const { scores } = await index.search(query, { k: 1 });
    expect(Math.abs(scores[0] - exact)).toBeLessThanOrEqual(1.5 / 255);
    const alone = await Index.create({ dims: 1, ...config, ranges: { min: [0], max: [1e-43] } });
    alone.add([[1e-43]]);
    expect(Math.abs((await alone.search([1], { k: 1 })).scores[0] - 1e-43)).toBeLessThanOrEqual(1e-43);
  });

  it("the codes stay sentence-transformers' (a step that underflows to 0 becomes 1)", () => {
    const ranges = { min: [0], max: [1e-43] };
    expect(Array.from(quantize([[1e-43], [0], [5]], "int8", { ranges }).data)).toEqual([-128, -128, -123]);
  });
});

describe("row 11: each input is read once, into a private copy that is validated", () => {
  /** An array Proxy that counts reads, and whose length reads `lengths` in turn (then the last one). */
  function shifty(values: number[], lengths: number[]) {
    const reads = new Map<string, number>();
    const proxy = new Proxy(values, {
      get(target, key) {
        if (typeof key === "string") reads.set(key, (reads.get(key) ?? 0) + 1);
        if (key === "length") return lengths[Math.min(reads.get(key)! - 1, lengths.length - 1)];
        return target[key as never];
      },
    });
    return { proxy, reads };
  }

  it("a row whose length reads 16, then 12: all 16 values are stored", async () => {
    const index = await filled({ precision: "float32", rescore: "none" });
    const values = Array.from(randomNormal(random, DIMS), (v) => v * 10);
    const { proxy, reads } = shifty(values.slice(), [16, 12]);
    const [id] = index.add([proxy]);
    const result = await index.search(values, { k: 1 });
    expect(result.ids[0]).toBe(id);
    expect(result.scores[0]).toBe(reference.dot_f32(Float32Array.from(values), Float32Array.from(values))[0]);
    expect([...reads.entries()].filter(([key]) => key !== "constructor")).toEqual([
      ["length", 1], ...values.map((_, i) => [String(i), 1]),
    ]);
  });

  it("a row whose length reads 16, then 12, with NaN in its last 4 values: rejected", async () => {
    const index = await filled({ precision: "int8", rescore: "none" });
    const values = Array.from(ROWS[0]);
    values[14] = NaN;
    await rejectsUnchanged(index, QUERIES, () => index.add([shifty(values, [16, 12]).proxy]), RangeError, /vectors row 0, column 14 is NaN/);
  });

  // A genuine Float32Array over an ArrayBuffer is added in place (no copy): it is checked in
  // WebAssembly after the ids, the last caller code an add runs, are read.
  describe("a flat Float32Array added in place", () => {
    const CHUNK_ROWS = (1 << 16) / DIMS; // rows per 256 KiB staging chunk of the kernels
    const many = Float32Array.from({ length: 3 * CHUNK_ROWS * DIMS }, () => random() * 2 - 1);

    it.each(SEARCH_CONFIGS)("$precision → $rescore: the same index as from a copy of each row", async (config) => {
      const inPlace = await filled(config);
      const copied = await filled(config);
      inPlace.add(many);
      copied.add(Array.from({ length: 3 * CHUNK_ROWS }, (_, r) => Array.from(many.subarray(r * DIMS, (r + 1) * DIMS))));
      expect(await observe(inPlace, QUERIES)).toEqual(await observe(copied, QUERIES));
    });

    it.each([
      ["the last value of a staging chunk", CHUNK_ROWS - 1, DIMS - 1, NaN],
      ["the first value of the next chunk", CHUNK_ROWS, 0, -Infinity],
      ["the very last value", 3 * CHUNK_ROWS - 1, DIMS - 1, Infinity],
    ])("a non-finite value in %s: rejected naming its row and column, nothing changed", async (_, row, column, bad) => {
      const poisoned = many.slice();
      poisoned[row * DIMS + column] = bad;
      for (const config of SEARCH_CONFIGS) {
        const index = await filled(config);
        const where = new RegExp(`index\\.add: vectors row ${row}, column ${column} is ${bad}; values must be finite`);
        await rejectsUnchanged(index, QUERIES, () => index.add(poisoned), RangeError, where);
        const upsertWhere = new RegExp(`index\\.upsert: vectors row ${row}, column ${column} is ${bad}`);
        await rejectsUnchanged(index, QUERIES, () => index.upsert(poisoned, Array.from({ length: 3 * CHUNK_ROWS }, (_, i) => i)), RangeError, upsertWhere);
      }
    });

    it("ids whose reading writes NaN into the vectors: the value checked is the value read, rejected", async () => {
      const index = await filled({ precision: "binary", rescore: "int8" });
      const vectors = many.slice(0, 4 * DIMS);
      const ids = new Proxy([500, 501, 502, 503], {
        get(target, key) {
          if (key === "2") vectors[3 * DIMS + 7] = NaN;
          return target[key as never];
        },
      });
      await rejectsUnchanged(index, QUERIES, () => index.add(vectors, ids), RangeError, /index\.add: vectors row 3, column 7 is NaN/);
    });

    it("ids whose reading transfers the vectors' buffer: a RangeError, nothing changed", async () => {
      const index = await filled({ precision: "int8", rescore: "none" });
      const vectors = many.slice(0, 4 * DIMS);
      const ids = new Proxy([500, 501, 502, 503], {
        get(target, key) {
          if (key === "0") detach(vectors.buffer);
          return target[key as never];
        },
      });
      await rejectsUnchanged(index, QUERIES, () => index.add(vectors, ids), RangeError,
        new RegExp(`index\\.add: vectors changed from ${4 * DIMS} to 0 values while ids were read`));
    });

    it("own subarray, slice and constructor properties of the caller's array are never called", async () => {
      const index = await filled({ precision: "int8", rescore: "float32" });
      const copied = await filled({ precision: "int8", rescore: "float32" });
      const vectors = many.slice(0, 2 * CHUNK_ROWS * DIMS);
      const trap = () => { throw new Error("the caller's code ran"); };
      for (const key of ["subarray", "slice", "constructor"]) Object.defineProperty(vectors, key, { get: trap });
      index.add(vectors);
      copied.add(many.slice(0, 2 * CHUNK_ROWS * DIMS));
      expect(await observe(index, QUERIES)).toEqual(await observe(copied, QUERIES));
    });

    it("a Float32Array over a SharedArrayBuffer is not used in place: copied once, then checked", async () => {
      const shared = new Float32Array(new SharedArrayBuffer(2 * DIMS * 4));
      shared.set(many.subarray(0, 2 * DIMS));
      expect(viewRows(shared, DIMS, true)).toBeUndefined();
      expect(viewRows(shared, DIMS, false)?.data).toBe(shared); // quantize stages it chunk by chunk, each checked as staged
      expect(viewRows(many, DIMS, true)?.data).toBe(many);
      expect(viewRows(new Proxy(many, {}), DIMS, true)).toBeUndefined();
      const index = await filled({ precision: "binary", rescore: "int8" });
      const copied = await filled({ precision: "binary", rescore: "int8" });
      index.add(shared);
      copied.add(many.slice(0, 2 * DIMS));
      expect(await observe(index, QUERIES)).toEqual(await observe(copied, QUERIES));
      shared[DIMS + 3] = NaN;
      await rejectsUnchanged(index, QUERIES, () => index.add(shared), RangeError, /index\.add: vectors row 1, column 3 is NaN/);
    });
  });

  it("a query whose values change as they are read: the values read are the ones searched", async () => {
    const index = await filled({ precision: "float32", rescore: "none" });
    let reads = 0;
    const query = new Proxy(Array.from(QUERIES[0]), {
      get: (target, key) => (key === "3" && reads++ > 0 ? NaN : target[key as never]),
    });
    const result = await index.search(query, { k: 5 });
    expect(reads).toBe(1);
    expect(result).toEqual(await index.search(QUERIES[0], { k: 5 }));
  });
});
