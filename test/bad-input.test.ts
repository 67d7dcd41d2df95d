// Bad input: every rejected call names the argument, the value and what is allowed, throws
// (or rejects with) the right error type, and leaves the index exactly as it was.

import { beforeAll, describe, expect, it } from "vitest";
import { calibrate, Index, quantize, ready, truncate } from "../src/index.js";
import { randomNormal, rng } from "./helpers.js";
import { rejectsUnchanged as rejectsUnchangedOn } from "./unchanged.js";

const DIMS = 16;
const random = rng(2024);
const ROWS = Array.from({ length: 120 }, () => randomNormal(random, DIMS));
const QUERIES = [ROWS[3], randomNormal(random, DIMS)];
const RANGES = calibrate(ROWS);

beforeAll(() => ready());

/** The queries that observe an index: QUERIES, or seeded ones of its own dims. */
const queriesFor = (index: Index) =>
  index.dims === DIMS ? QUERIES : [randomNormal(rng(5), index.dims), randomNormal(rng(6), index.dims)];

/** Asserts that `action` fails with `type` and a message matching `message`, and changes nothing. */
const rejectsUnchanged = (index: Index, action: () => unknown, type: ErrorConstructor, message: RegExp) =>
  rejectsUnchangedOn(index, queriesFor(index), action, type, message);

async function filledIndex(options: Partial<Parameters<typeof Index.create>[0]> = {}) {
  const index = await Index.create({ dims: DIMS, precision: "binary", rescore: "int8", ranges: RANGES, ...options });
  index.add(ROWS.slice(0, 50));
  return index;
}

describe("Index.create rejects bad options", () => {
  const cases: Array<[string, unknown, ErrorConstructor, RegExp]> = [
    ["no options", undefined, TypeError, /options must be an object/],
    ["dims 0", { dims: 0, precision: "int8" }, RangeError, /dims must be an integer from 1 to 65536, got 0/],
    ["dims 1.5", { dims: 1.5, precision: "int8" }, RangeError, /dims .* got 1\.5/],
    ["dims as a string", { dims: "384", precision: "int8" }, TypeError, /dims .* got "384"/],
    ["unknown precision", { dims: 8, precision: "int4" }, TypeError, /precision must be "binary" \| "int8" \| "float32", got "int4"/],
    ["int8 rescored by int8", { dims: 8, precision: "int8", rescore: "int8" }, TypeError, /rescore \(with precision "int8"\) must be "float32" \| "none", got "int8"/],
    ["float32 rescored", { dims: 8, precision: "float32", rescore: "float32" }, TypeError, /must be "none"/],
    ["truncateTo 0", { dims: 8, precision: "int8", truncateTo: 0 }, RangeError, /truncateTo must be an integer from 1 to 8, got 0/],
    ["truncateTo above dims", { dims: 8, precision: "int8", truncateTo: 9 }, RangeError, /truncateTo .* got 9/],
    ["truncateTo 2.5", { dims: 8, precision: "int8", truncateTo: 2.5 }, RangeError, /truncateTo .* got 2\.5/],
    ["normalize as a string", { dims: 8, precision: "int8", normalize: "yes" }, TypeError, /normalize must be true or false/],
    ["ranges of the wrong length", { dims: 8, precision: "int8", ranges: { min: [0, 0], max: [1, 1] } }, RangeError, /ranges\.min has 2 values, expected 8/],
    ["ranges for the untruncated dims", { dims: 8, precision: "int8", truncateTo: 4, ranges: calibrate([new Array(8).fill(0)]) }, RangeError, /ranges\.min has 8 values, expected 4/],
    ["ranges with NaN", { dims: 2, precision: "int8", ranges: { min: [0, NaN], max: [1, 1] } }, RangeError, /ranges\.min\[1\] is NaN/],
    ["ranges with min > max", { dims: 2, precision: "int8", ranges: [[0, 2], [1, 1]] }, RangeError, /dimension 1 has min 2 > max 1/],
    ["maxMemoryBytes too small", { dims: 8, precision: "int8", maxMemoryBytes: 1000 }, RangeError, /maxMemoryBytes/],
  ];
  it.each(cases)("%s", async (_, options, type, message) => {
    await expect(Index.create(options as never)).rejects.toThrow(type);
    await expect(Index.create(options as never)).rejects.toThrow(message);
  });
});

describe("index.add rejects bad vectors and ids, leaving the index unchanged", () => {
  const bad = (row: number, col: number, value: number) => {
    const rows = ROWS.slice(50, 60).map((r) => r.slice());
    rows[row][col] = value;
    return rows;
  };
  const cases: Array<[string, (index: Index) => unknown, ErrorConstructor, RegExp]> = [
    ["a short row", (i) => i.add([ROWS[0], ROWS[1].subarray(0, 15)]), RangeError, /vectors row 1 has 15 values, expected 16/],
    ["rows of the wrong dims", (i) => i.add([new Float32Array(17)]), RangeError, /row 0 has 17 values, expected 16/],
    ["NaN", (i) => i.add(bad(3, 7, NaN)), RangeError, /vectors row 3, column 7 is NaN; values must be finite/],
    ["Infinity", (i) => i.add(bad(0, 0, Infinity)), RangeError, /row 0, column 0 is Infinity/],
    ["-Infinity in a flat array", (i) => i.add(Float32Array.from({ length: 32 }, (_, j) => (j === 20 ? -Infinity : 1))), RangeError, /row 1, column 4 is -Infinity/],
    ["an empty array", (i) => i.add([]), RangeError, /vectors is empty/],
    ["a flat array that is not whole rows", (i) => i.add(new Float32Array(20)), RangeError, /20 values, not a multiple of dims = 16/],
    ["a string", (i) => i.add("vectors" as never), TypeError, /vectors is "vectors"/],
    ["a row that is a string", (i) => i.add([ROWS[0], "x" as never]), TypeError, /vectors row 1 is "x"/],
    ["a tensor of the wrong shape", (i) => i.add({ data: new Float32Array(32), dims: [2, 16, 1] }), RangeError, /dims is \[2, 16, 1\]/],
    ["fewer ids than rows", (i) => i.add(ROWS.slice(50, 53), [100, 101]), RangeError, /ids has 2 entries but vectors has 3 rows/],
    ["a fractional id", (i) => i.add(ROWS.slice(50, 52), [100, 1.5]), RangeError, /ids\[1\] is 1\.5; ids must be integers from 0 to 4294967295/],
    ["a negative id", (i) => i.add(ROWS.slice(50, 52), [-1, 100]), RangeError, /ids\[0\] is -1/],
    ["an id of 2^32", (i) => i.add(ROWS.slice(50, 51), [2 ** 32]), RangeError, /ids\[0\] is 4294967296/],
    ["a string id", (i) => i.add(ROWS.slice(50, 51), ["7" as never]), TypeError, /ids\[0\] is "7"/],
    ["ids that are not an array", (i) => i.add(ROWS.slice(50, 51), 7 as never), TypeError, /ids is 7/],
    ["a duplicate within the call", (i) => i.add(ROWS.slice(50, 53), [100, 101, 100]), RangeError, /ids\[2\] = 100 is a duplicate within this call/],
    ["a duplicate of a stored id", (i) => i.add(ROWS.slice(50, 52), [200, 7]), RangeError, /ids\[1\] = 7 is a duplicate of an id already in the index/],
  ];
  it.each(cases)("%s", async (_, action, type, message) => {
    const index = await filledIndex();
    await rejectsUnchanged(index, () => action(index), type, message);
    // Still usable, and default ids continue where they were.
    expect(Array.from(index.add(ROWS.slice(50, 52)))).toEqual([50, 51]);
  });

  it("a duplicate of a stored custom id", async () => {
    const index = await filledIndex();
    index.add(ROWS.slice(50, 52), [1000, 2000]);
    await rejectsUnchanged(index, () => index.add(ROWS.slice(52, 53), [2000]), RangeError, /ids\[0\] = 2000 is a duplicate of an id already/);
  });

  it("int8 codes without ranges and fewer than 100 rows", async () => {
    const index = await Index.create({ dims: DIMS, precision: "int8" });
    await rejectsUnchanged(index, () => index.add(ROWS.slice(0, 99)), RangeError,
      /this first add has 99 rows, fewer than the 100 needed.*Pass ranges to Index\.create or call index\.calibrate/);
    index.add(ROWS.slice(0, 100)); // 100 rows calibrate
    expect(index.size).toBe(100);
  });

  it("a zero vector when vectors are normalized", async () => {
    const index = await filledIndex({ normalize: true });
    const rows = ROWS.slice(50, 53).map((r) => r.slice());
    rows[2].fill(0);
    await rejectsUnchanged(index, () => index.add(rows), RangeError, /vectors row 2 has zero norm over its first 16 values/);
  });

  it("running out of WebAssembly memory: a RangeError, and the index still works", async () => {
    const index = await Index.create({ dims: 256, precision: "float32", maxMemoryBytes: 4 * 65536 });
    const big = Array.from({ length: 40 }, () => randomNormal(random, 256));
    let added = 0;
    let failure: unknown;
    for (let i = 0; i < 100 && failure === undefined; i++) {
      try {
        index.add(big);
        added += big.length;
      } catch (e) {
        failure = e;
      }
    }
    expect(failure).toBeInstanceOf(RangeError);
    expect((failure as Error).message).toMatch(/index\.add: needs \d+ bytes of WebAssembly memory, more than its limit of 262144 bytes \(maxMemoryBytes\); nothing was changed/);
    expect(index.size).toBe(added);
    const before = await index.search(big[5], { k: 3 });
    expect(before.ids[0]).toBe(5);
    await rejectsUnchanged(index, () => index.add(big), RangeError, /nothing was changed/);
  });
});

describe("search rejects bad queries and options", () => {
  const cases: Array<[string, (index: Index) => Promise<unknown>, ErrorConstructor, RegExp]> = [
    ["k = 0", (i) => i.search(QUERIES[0], { k: 0 }), RangeError, /index\.search: k must be an integer from 1 to 2147483647, got 0/],
    ["k = -3", (i) => i.search(QUERIES[0], { k: -3 }), RangeError, /k .* got -3/],
    ["k = 2.5", (i) => i.search(QUERIES[0], { k: 2.5 }), RangeError, /k .* got 2\.5/],
    ["k = NaN", (i) => i.search(QUERIES[0], { k: NaN }), RangeError, /k .* got NaN/],
    ["k as a string", (i) => i.search(QUERIES[0], { k: "10" as never }), TypeError, /k .* got "10"/],
    ["rescoreMultiplier 0", (i) => i.search(QUERIES[0], { rescoreMultiplier: 0 }), RangeError, /rescoreMultiplier must be an integer from 1/],
    ["a short query", (i) => i.search(QUERIES[0].subarray(0, 8)), RangeError, /query has 8 values, expected 16/],
    ["a query with NaN", (i) => i.search(Array.from(QUERIES[0], (v, j) => (j === 4 ? NaN : v))), RangeError, /query\[4\] is NaN; values must be finite/],
    ["a query that is not an array", (i) => i.search({} as never), TypeError, /query is an object/],
    ["a batch with a bad row", (i) => i.searchBatch([QUERIES[0], new Float32Array(3)]), RangeError, /queries row 1 has 3 values, expected 16/],
    ["an empty batch", (i) => i.searchBatch([]), RangeError, /queries is empty/],
  ];
  it.each(cases)("%s rejects (does not throw synchronously)", async (_, action, type, message) => {
    const index = await filledIndex();
    let promise: Promise<unknown> | undefined;
    expect(() => (promise = action(index))).not.toThrow();
    await expect(promise).rejects.toThrow(type);
    await expect(action(index)).rejects.toThrow(message);
    await rejectsUnchanged(index, () => action(index), type, message);
  });

  it("a zero query when queries are normalized", async () => {
    const index = await filledIndex({ truncateTo: 8, ranges: calibrate(truncate(ROWS, 8)) });
    await expect(index.search(new Float32Array(DIMS))).rejects.toThrow(/query row 0 has zero norm over its first 8 values/);
  });
});

describe("calibrate", () => {
  it("refuses once int8 codes are stored, and names the fix", async () => {
    const index = await filledIndex();
    await rejectsUnchanged(index, () => index.calibrate(ROWS), Error, /already holds 50 vectors .* calibrate before the first add/);
  });

  it("rejects samples of the wrong dims", async () => {
    const index = await Index.create({ dims: DIMS, precision: "int8" });
    expect(() => index.calibrate([new Float32Array(5)])).toThrow(/index\.calibrate: sample row 0 has 5 values, expected 16/);
  });
});

describe("after dispose", () => {
  it("every method fails with a TypeError saying the index was disposed", async () => {
    const index = await filledIndex();
    index.dispose();
    index.dispose(); // harmless
    expect(() => index.add(ROWS.slice(0, 1))).toThrow(TypeError);
    expect(() => index.add(ROWS.slice(0, 1))).toThrow(/index\.add: this index was disposed/);
    expect(() => index.calibrate(ROWS)).toThrow(/index\.calibrate: this index was disposed/);
    await expect(index.search(QUERIES[0])).rejects.toThrow(/index\.search: this index was disposed/);
    await expect(index.searchBatch(QUERIES)).rejects.toThrow(TypeError);
    expect(index.size).toBe(0);
    expect(index.memoryBytes).toBe(0);
  });
});

describe("quantize, calibrate and truncate reject bad input", () => {
  it.each([
    ["unknown precision", () => quantize(ROWS, "int4" as never), TypeError, /quantize: precision must be "float32" \| "int8" \| "uint8" \| "binary" \| "ubinary", got "int4"/],
    ["ragged rows", () => quantize([[1, 2], [3]], "int8"), RangeError, /quantize: embeddings row 1 has 1 values, expected 2/],
    ["NaN", () => quantize([[1, NaN]], "binary"), RangeError, /row 0, column 1 is NaN/],
    ["a flat array without dims", () => quantize(new Float32Array(8), "binary"), TypeError, /pass its row length as dims/],
    ["ranges of the wrong length", () => quantize([[1, 2]], "int8", { ranges: { min: [0], max: [1] } }), RangeError, /options\.ranges\.min has 1 values, expected 2/],
    ["calibration of the wrong dims", () => quantize([[1, 2]], "int8", { calibration: [[1, 2, 3]] }), RangeError, /quantize: options\.calibration row 0 has 3 values, expected 2/],
    ["calibrate on nothing", () => calibrate([]), RangeError, /calibrate: embeddings is empty/],
    ["truncate to 0 dims", () => truncate([[1, 2]], 0), RangeError, /truncate: dims must be an integer from 1 to 2, got 0/],
    ["truncate beyond the row", () => truncate([[1, 2]], 3), RangeError, /got 3/],
    ["truncate a zero row", () => truncate([[1, 2], [0, 0]], 2), RangeError, /truncate: embeddings row 1 has zero norm/],
  ] as Array<[string, () => unknown, ErrorConstructor, RegExp]>)("%s", (_, action, type, message) => {
    expect(action).toThrow(type);
    expect(action).toThrow(message);
  });
});
