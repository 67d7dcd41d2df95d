// Property suite over the public Index API: random sequences of operations with valid and invalid
// input, each checked against a model — the brute-force oracle (test/brute-force.ts) for results,
// "nothing changed" (test/unchanged.ts) for rejected calls — and size and memoryBytes after each.
//
// The operations are one table, OPERATIONS: an entry is a name and an arbitrary of commands that
// know what to expect from the model. save/load replaces the index with its reloaded copy, so the
// operations after it run on a loaded index.
// Seeds and run counts: test/property.ts.

import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { calibrate, FileFormatError, Index, type IndexOptions, type Ranges, ready, truncate } from "../src/index.js";
import { type BruteForceConfig, bruteForceSearch } from "./brute-force.js";
import { randomNormal, rng, saveToBytes, SEARCH_CONFIGS } from "./helpers.js";
import { checkProperty, propertyTimeout } from "./property.js";
import { failureOf, observe } from "./unchanged.js";

const MAX_ID = 2 ** 32 - 1;
const MIN_AUTO_CALIBRATION_ROWS = 100;
const CI_RUNS = 60;

beforeAll(() => ready());

/** What one run's index is created with (and what the oracle needs to know of it). */
interface Setup {
  options: IndexOptions;
  storedDims: number;
  normalize: boolean;
  /** A small memory ceiling, where a valid add may be refused for memory (and must change nothing). */
  tight: boolean;
}

/** The model: what the index should hold. */
interface Model {
  setup: Setup;
  rows: Float32Array[];
  ids: number[];
  idSet: Set<number>;
  /** The largest id ever stored (−1 before any): default ids continue after it, even once it is removed. */
  largestId: number;
  ranges: Ranges | undefined;
  memoryBytes: number;
}

interface Real {
  index: Index;
}

type Command = fc.AsyncCommand<Model, Real>;

/** An expected outcome: success, or a rejection of this type with a message like this. */
type ErrorType = new (...args: never[]) => Error;
type Expected = { ok: true } | { ok: false; type: ErrorType; message: RegExp };
const ok: Expected = { ok: true };
const fails = (type: ErrorType, message: RegExp): Expected => ({ ok: false, type, message });

// ---- arbitraries ---------------------------------------------------------------------------

/** Values that stress the float paths (−0, subnormals, repeats) without overflowing float32 sums. */
const value = fc.oneof(
  { weight: 6, arbitrary: fc.float({ min: -8, max: 8, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1, -1, 0.5, 1e-40) },
);
const vector = (dims: number) => fc.array(value, { minLength: dims, maxLength: dims }).map((v) => Float32Array.from(v));

const setupArbitrary: fc.Arbitrary<Setup> = fc
  .record({
    config: fc.constantFrom(...SEARCH_CONFIGS),
    dims: fc.integer({ min: 1, max: 40 }),
    truncateBy: fc.option(fc.integer({ min: 0, max: 39 }), { nil: undefined }),
    normalize: fc.option(fc.boolean(), { nil: undefined }),
    calibration: fc.constantFrom("ranges", "ranges", "ranges", "auto"),
    tight: fc.boolean(),
    sampleSeed: fc.nat(),
  })
  .map(({ config, dims, truncateBy, normalize, calibration, tight, sampleSeed }) => {
    const truncateTo = truncateBy === undefined ? undefined : Math.max(1, dims - truncateBy);
    const storedDims = truncateTo ?? dims;
    const normalizeRows = normalize ?? truncateTo !== undefined;
    const usesInt8 = config.precision === "int8" || config.rescore === "int8";
    // Ranges over storedDims from a seeded sample (values outside them are clipped: that is tested too).
    const sample = randomNormal(rng(sampleSeed), 8 * storedDims).map((v) => 3 * v);
    const ranges = usesInt8 && calibration === "ranges" ? calibrate(sample, { dims: storedDims }) : undefined;
    const options: IndexOptions = {
      dims, ...config, ...(truncateTo === undefined ? {} : { truncateTo }), ...(normalize === undefined ? {} : { normalize }),
      ...(ranges ? { ranges } : {}), ...(tight ? { maxMemoryBytes: 4 * 65536 } : {}),
    };
    return { options, storedDims, normalize: normalizeRows, tight };
  });

// ---- the model's expectations --------------------------------------------------------------

/** Rows as the index stores them: truncated and normalized as configured. */
function prepared(setup: Setup, rows: Float32Array[]): Float32Array[] {
  if (setup.storedDims === setup.options.dims && !setup.normalize) return rows;
  const { data } = truncate(rows, setup.storedDims, { normalize: setup.normalize });
  return rows.map((_, r) => data.subarray(r * setup.storedDims, (r + 1) * setup.storedDims));
}

/** The first row (if any) whose prefix cannot be L2-normalized. */
function unnormalizable(setup: Setup, rows: Float32Array[]): number | undefined {
  if (!setup.normalize) return undefined;
  const r = rows.findIndex((row) => {
    let squares = 0;
    for (let c = 0; c < setup.storedDims; c++) squares += row[c] * row[c];
    return squares === 0 || !Number.isFinite(1 / Math.sqrt(squares));
  });
  return r < 0 ? undefined : r;
}

function oracleConfig(model: Model): BruteForceConfig {
  const { options, storedDims, normalize } = model.setup;
  return { precision: options.precision, rescore: options.rescore!, storedDims, normalize, ranges: model.ranges };
}

/** Results with −0 scores as +0 (the index reports +0), as plain arrays. */
const plain = (result: { ids: ArrayLike<number>; scores: ArrayLike<number> }) => ({
  ids: Array.from(result.ids),
  scores: Array.from(result.scores, (s) => (s === 0 ? 0 : s)),
});

function expectedResult(model: Model, query: Float32Array, k: number, multiplier: number) {
  return plain(bruteForceSearch(model.rows, model.ids, query, k, multiplier, oracleConfig(model)));
}

/** Runs `action` and checks its outcome against `expected`; a rejection must change nothing observable. */
async function expectOutcome<T>(model: Model, real: Real, expected: Expected | Expected[], action: () => T | Promise<T>): Promise<T | undefined> {
  const outcomes = Array.isArray(expected) ? expected : [expected];
  const queries = [new Float32Array(model.setup.options.dims).fill(0.25), new Float32Array(model.setup.options.dims).fill(-0.5)];
  const before = outcomes.some((o) => !o.ok) ? await observe(real.index, queries) : undefined;
  let result: T | undefined;
  const error = await failureOf(async () => (result = await action()));
  if (error === undefined) {
    expect(outcomes.some((o) => o.ok), "the call should have failed").toBe(true);
    return result;
  }
  const matched = outcomes.find((o) => !o.ok && error instanceof o.type && o.message.test((error as Error).message));
  expect(matched, `unexpected failure: ${String(error)}`).toBeDefined();
  expect(await observe(real.index, queries)).toEqual(before);
  return undefined;
}

/** Size and memory after every command: size as the model says, memory never shrinking. */
function checkInvariants(model: Model, real: Real): void {
  expect(real.index.size).toBe(model.rows.length);
  expect(real.index.memoryBytes).toBeGreaterThanOrEqual(model.memoryBytes);
  if (model.setup.options.maxMemoryBytes !== undefined) expect(real.index.memoryBytes).toBeLessThanOrEqual(model.setup.options.maxMemoryBytes);
  model.memoryBytes = real.index.memoryBytes;
}

// ---- how inputs are presented --------------------------------------------------------------

const SHAPES = ["rows", "number[][]", "flat", "flat Float64Array", "{ data, rows, cols }", "tensor"] as const;
type Shape = (typeof SHAPES)[number];

function present(rows: Float32Array[], dims: number, shape: Shape): { vectors: unknown; flat: boolean } {
  const flat = () => {
    const data = new Float32Array(rows.length * dims);
    rows.forEach((row, r) => data.set(row, r * dims));
    return data;
  };
  switch (shape) {
    case "rows": return { vectors: rows.map((r) => r.slice()), flat: false };
    case "number[][]": return { vectors: rows.map((r) => Array.from(r)), flat: false };
    case "flat": return { vectors: flat(), flat: true };
    case "flat Float64Array": return { vectors: Float64Array.from(flat()), flat: true };
    case "{ data, rows, cols }": return { vectors: { data: flat(), rows: rows.length, cols: dims }, flat: false };
    case "tensor": return { vectors: { data: Array.from(flat()), dims: [rows.length, dims] }, flat: false };
  }
}

/** Overwrites every number the caller passed, as a careless caller reusing its buffers would. */
function scribble(vectors: unknown): void {
  if (ArrayBuffer.isView(vectors)) (vectors as Float32Array).fill(NaN);
  else if (Array.isArray(vectors)) vectors.forEach((v, i) => (typeof v === "number" ? (vectors[i] = NaN) : scribble(v)));
  else if (typeof vectors === "object" && vectors !== null && "data" in vectors) scribble(vectors.data);
}

// ---- operations ----------------------------------------------------------------------------

/** add: valid vectors in any shape, default or explicit ids (which may collide: the model knows). */
function addOperation(setup: Setup): fc.Arbitrary<Command> {
  const dims = setup.options.dims;
  return fc
    .oneof(
      { weight: 8, arbitrary: fc.array(vector(dims), { minLength: 1, maxLength: 12 }) },
      { weight: 1, arbitrary: fc.array(vector(dims), { minLength: 100, maxLength: 110 }) },
    )
    .chain((rows) => fc.record({
      rows: fc.constant(rows),
      copies: fc.array(fc.option(fc.nat(), { nil: undefined, freq: 3 }), { maxLength: rows.length }),
      // Small ids collide with stored ones now and then; ids near 2^32 − 1 exhaust the default ids.
      ids: fc.option(fc.array(fc.oneof({ weight: 9, arbitrary: fc.nat(400) }, { weight: 1, arbitrary: fc.integer({ min: MAX_ID - 20, max: MAX_ID }) }), { minLength: rows.length, maxLength: rows.length }), { nil: undefined }),
      shape: fc.constantFrom(...SHAPES),
    }))
    .map(({ rows, copies, ids, shape }): Command => ({
      check: () => true,
      toString: () => `add(${rows.length} rows as ${shape}${ids ? `, ids [${ids.slice(0, rows.length)}]` : ""}${copies.some((c) => c !== undefined) ? ", with copies of stored rows" : ""})`,
      async run(model, real) {
        // Exact copies of stored rows make real ties at every precision.
        const batch = rows.map((row, i) => (copies[i] !== undefined && model.rows.length > 0 ? model.rows[copies[i]! % model.rows.length].slice() : row));
        await addChecked(model, real, batch, ids?.slice(0, batch.length), shape);
        checkInvariants(model, real);
      },
    }));
}

/** index.add of `batch` presented as `shape`: its outcome checked against the model, which is updated when it succeeds. */
async function addChecked(model: Model, real: Real, batch: Float32Array[], explicit: number[] | undefined, shape: Shape): Promise<void> {
  const expected = expectAdd(model, batch, explicit);
  const { vectors } = present(batch, model.setup.options.dims, shape);
  const outcomes = model.setup.tight && expected.ok ? [expected, fails(RangeError, /index\.add: needs \d+ bytes of WebAssembly memory.*nothing was changed/)] : expected;
  const returned = await expectOutcome(model, real, outcomes, () => {
    const out = real.index.add(vectors as never, explicit);
    scribble(vectors); // after the call: the index must hold its own copy
    return out;
  });
  if (returned === undefined) return;
  const newIds = explicit ?? Array.from({ length: batch.length }, (_, i) => nextId(model) + i);
  expect(Array.from(returned)).toEqual(newIds);
  model.ranges ??= autoRanges(model, batch);
  model.rows.push(...batch);
  model.ids.push(...newIds);
  newIds.forEach((id) => model.idSet.add(id));
  model.largestId = Math.max(model.largestId, ...newIds);
}

const nextId = (model: Model) => model.largestId + 1;
const usesInt8 = (setup: Setup) => setup.options.precision === "int8" || setup.options.rescore === "int8";

function autoRanges(model: Model, batch: Float32Array[]): Ranges | undefined {
  return usesInt8(model.setup) ? calibrate(prepared(model.setup, batch)) : undefined;
}

/** What index.add should do with valid vectors: the checks in the order the index makes them. */
function expectAdd(model: Model, batch: Float32Array[], ids: number[] | undefined): Expected {
  const zero = unnormalizable(model.setup, batch);
  if (zero !== undefined) return fails(RangeError, new RegExp(`vectors row ${zero} has (zero|non-finite) norm`));
  if (ids === undefined) {
    if (nextId(model) + batch.length - 1 > MAX_ID) return fails(RangeError, /default ids would pass 4294967295/);
  } else {
    if (ids.length !== batch.length) return fails(RangeError, new RegExp(`ids has ${ids.length} entries but vectors has ${batch.length} rows`));
    const seen = new Set<number>();
    for (const [i, id] of ids.entries()) {
      if (seen.has(id)) return fails(RangeError, new RegExp(`ids\\[${i}\\] = ${id} is a duplicate within this call`));
      if (model.idSet.has(id)) return fails(RangeError, new RegExp(`ids\\[${i}\\] = ${id} is a duplicate of an id already in the index`));
      seen.add(id);
    }
  }
  if (usesInt8(model.setup) && model.ranges === undefined && !model.setup.options.ranges && batch.length < MIN_AUTO_CALIBRATION_ROWS) {
    return fails(RangeError, /int8 codes need ranges; this first add has \d+ rows, fewer than the 100 needed/);
  }
  return ok;
}

/** add with input that is always wrong: rejected, naming what is wrong, and nothing changes. */
function badAddOperation(setup: Setup): fc.Arbitrary<Command> {
  const dims = setup.options.dims;
  const kinds: Array<[string, (rows: Float32Array[], at: number) => { call: (index: Index) => unknown; expected: Expected }]> = [
    ["NaN", (rows, at) => poison(rows, at, NaN, /is NaN; values must be finite/)],
    ["-Infinity", (rows, at) => poison(rows, at, -Infinity, /is -Infinity; values must be finite/)],
    ["1e39", (rows, at) => poison(rows, at, 1e39, /is 1e\+39, beyond float32's range/)],
    ["a row too long", (rows) => ({ call: (i) => i.add([...rows, new Float32Array(dims + 1)]), expected: fails(RangeError, new RegExp(`has ${dims + 1} values, expected ${dims}`)) })],
    ["no rows", () => ({ call: (i) => i.add([]), expected: fails(RangeError, /vectors is empty/) })],
    ["a string", () => ({ call: (i) => i.add("rows" as never), expected: fails(TypeError, /vectors is "rows"/) })],
    ["a Proxy of a Float32Array", (rows) => ({
      call: (i) => i.add([new Proxy(rows[0], { get: (t, k) => t[k as never] })]), expected: fails(TypeError, /vectors row 0 is not a genuine Float32Array/),
    })],
    ["a detached row", (rows) => {
      const row = rows[0].slice();
      structuredClone(row.buffer, { transfer: [row.buffer] });
      return { call: (i) => i.add([row]), expected: fails(TypeError, /vectors row 0 is a Float32Array whose buffer was detached/) };
    }],
    ["a fractional id", (rows) => ({ call: (i) => i.add(rows, rows.map((_, j) => j + 0.5)), expected: fails(RangeError, /ids\[0\] is 0\.5/) })],
    ["a string id", (rows) => ({ call: (i) => i.add(rows, rows.map(() => "1") as never), expected: fails(TypeError, /ids\[0\] is "1"/) })],
    ["one id too many", (rows) => ({ call: (i) => i.add(rows, rows.map((_, j) => 5000 + j).concat(9999)), expected: fails(RangeError, /ids has \d+ entries but vectors has \d+ rows/) })],
  ];
  const poison = (rows: Float32Array[], at: number, bad: number, message: RegExp) => {
    const copy = rows.map((r) => Array.from(r));
    copy[at % copy.length][at % dims] = bad;
    return { call: (index: Index) => index.add(copy), expected: fails(RangeError, message) };
  };
  return fc
    .record({ rows: fc.array(vector(dims), { minLength: 1, maxLength: 4 }), kind: fc.integer({ min: 0, max: kinds.length - 1 }), at: fc.nat() })
    .map(({ rows, kind, at }): Command => ({
      check: () => true,
      toString: () => `add(${kinds[kind][0]})`,
      async run(model, real) {
        // A first value of 1: no row has a zero prefix, so the error is the one this kind makes.
        const { call, expected } = kinds[kind][1](rows.map((row) => Float32Array.from(row, (v, c) => (c === 0 ? 1 : v))), at);
        await expectOutcome(model, real, expected, () => call(real.index));
        checkInvariants(model, real);
      },
    }));
}

/** search: a valid query as a Float32Array or number[], scribbled over right after the call. */
function searchOperation(setup: Setup): fc.Arbitrary<Command> {
  const dims = setup.options.dims;
  return fc
    .record({ query: vector(dims), k: fc.integer({ min: 1, max: 40 }), multiplier: fc.integer({ min: 1, max: 5 }), asArray: fc.boolean(), defaults: fc.boolean() })
    .map(({ query, k, multiplier, asArray, defaults }): Command => ({
      check: () => true,
      toString: () => `search(${asArray ? "number[]" : "Float32Array"}, ${defaults ? "defaults" : `k ${k} ×${multiplier}`})`,
      async run(model, real) {
        const given = asArray ? Array.from(query) : query.slice();
        const zero = unnormalizable(model.setup, [query]);
        const expected = zero === undefined ? ok : fails(RangeError, /query row 0 has (zero|non-finite) norm/);
        const result = await expectOutcome(model, real, expected, () => {
          const pending = real.index.search(given, defaults ? undefined : { k, rescoreMultiplier: multiplier });
          scribble(given);
          return pending;
        });
        if (result !== undefined) expect(plain(result)).toEqual(expectedResult(model, query, defaults ? 10 : k, defaults ? 4 : multiplier));
        checkInvariants(model, real);
      },
    }));
}

/** searchBatch: valid queries as rows or one flat Float32Array; every result as single searches would give. */
function searchBatchOperation(setup: Setup): fc.Arbitrary<Command> {
  const dims = setup.options.dims;
  return fc
    .record({ queries: fc.array(vector(dims), { minLength: 1, maxLength: 6 }), k: fc.integer({ min: 1, max: 40 }), multiplier: fc.integer({ min: 1, max: 5 }), shape: fc.constantFrom(...SHAPES) })
    .map(({ queries, k, multiplier, shape }): Command => ({
      check: () => true,
      toString: () => `searchBatch(${queries.length} as ${shape}, k ${k} ×${multiplier})`,
      async run(model, real) {
        const { vectors } = present(queries, dims, shape);
        const zero = unnormalizable(model.setup, queries);
        const expected = zero === undefined ? ok : fails(RangeError, new RegExp(`queries row ${zero} has (zero|non-finite) norm`));
        const results = await expectOutcome(model, real, expected, () => {
          const pending = real.index.searchBatch(vectors as never, { k, rescoreMultiplier: multiplier });
          scribble(vectors);
          return pending;
        });
        if (results !== undefined) expect(results.map(plain)).toEqual(queries.map((q) => expectedResult(model, q, k, multiplier)));
        checkInvariants(model, real);
      },
    }));
}

/** search and searchBatch with a wrong query or options: rejected (never thrown), nothing changes. */
function badSearchOperation(setup: Setup): fc.Arbitrary<Command> {
  const dims = setup.options.dims;
  const kinds: Array<[string, (query: Float32Array) => { call: (index: Index) => Promise<unknown>; expected: Expected }]> = [
    ["k 0", (q) => ({ call: (i) => i.search(q, { k: 0 }), expected: fails(RangeError, /k must be an integer from 1/) })],
    ["k 2.5", (q) => ({ call: (i) => i.searchBatch([q], { k: 2.5 }), expected: fails(RangeError, /k must be an integer from 1 .* got 2\.5/) })],
    ["k as a string", (q) => ({ call: (i) => i.search(q, { k: "3" as never }), expected: fails(TypeError, /k must be an integer .* got "3"/) })],
    ["rescoreMultiplier 0", (q) => ({ call: (i) => i.search(q, { rescoreMultiplier: 0 }), expected: fails(RangeError, /rescoreMultiplier must be an integer from 1/) })],
    ["an unknown option", (q) => ({ call: (i) => i.search(q, { K: 3 } as never), expected: fails(TypeError, /unknown key "K"; did you mean "k"\?/) })],
    ["options null", (q) => ({ call: (i) => i.searchBatch([q], null as never), expected: fails(TypeError, /options must be an object like \{ k: 10 \}, got null/) })],
    ["a query too short", (q) => ({ call: (i) => i.search(q.subarray(1)), expected: fails(RangeError, new RegExp(`query has ${dims - 1} values, expected ${dims}`)) })],
    ["a NaN in the query", (q) => ({ call: (i) => i.search(Array.from(q, (v, j) => (j === dims - 1 ? NaN : v))), expected: fails(RangeError, new RegExp(`query\\[${dims - 1}\\] is NaN`)) })],
    ["1e39 in a batch", (q) => ({ call: (i) => i.searchBatch([q, Array.from(q, () => 1e39)]), expected: fails(RangeError, /queries row 1, column 0 is 1e\+39, beyond float32's range/) })],
    ["a detached query", (q) => {
      const copy = q.slice();
      structuredClone(copy.buffer, { transfer: [copy.buffer] });
      return { call: (i) => i.search(copy), expected: fails(TypeError, /query is a Float32Array whose buffer was detached/) };
    }],
  ];
  return fc
    .record({ query: vector(dims), kind: fc.integer({ min: 0, max: kinds.length - 1 }) })
    .map(({ query, kind }): Command => ({
      check: () => true,
      toString: () => `search(${kinds[kind][0]})`,
      async run(model, real) {
        const { call, expected } = kinds[kind][1](query);
        let pending: Promise<unknown> | undefined;
        expect(() => (pending = call(real.index)), "async entry points reject rather than throw").not.toThrow();
        pending!.catch(() => {});
        await expectOutcome(model, real, expected, () => call(real.index));
        checkInvariants(model, real);
      },
    }));
}

/** remove: ids the index holds and ids it never held, as an array or a Set; returns how many it held. */
function removeOperation(): fc.Arbitrary<Command> {
  return fc
    .record({ picks: fc.array(fc.nat(), { maxLength: 6 }), unknown: fc.array(fc.integer({ min: 5000, max: 6000 }), { maxLength: 2 }), asSet: fc.boolean() })
    .map(({ picks, unknown, asSet }): Command => ({
      check: () => true,
      toString: () => `remove(${picks.length} held, ${unknown.length} unknown${asSet ? ", as a Set" : ""})`,
      async run(model, real) {
        const held = [...new Set(picks.filter(() => model.ids.length > 0).map((p) => model.ids[p % model.ids.length]))];
        const ids = [...held, ...unknown.filter((id) => !model.idSet.has(id))];
        const removed = await expectOutcome(model, real, ok, () => real.index.remove(asSet ? new Set(ids) : ids));
        expect(removed).toBe(held.length);
        for (const id of held) {
          const at = model.ids.indexOf(id);
          model.ids.splice(at, 1);
          model.rows.splice(at, 1);
          model.idSet.delete(id);
          expect(real.index.has(id)).toBe(false);
        }
        checkInvariants(model, real);
      },
    }));
}

/** upsert: new vectors for ids the index holds and for new ids, in one call. */
function upsertOperation(setup: Setup): fc.Arbitrary<Command> {
  const dims = setup.options.dims;
  return fc
    .record({ rows: fc.array(vector(dims), { minLength: 1, maxLength: 6 }), picks: fc.array(fc.nat(), { maxLength: 6 }), fresh: fc.array(fc.nat(400), { maxLength: 6 }) })
    .map(({ rows, picks, fresh }): Command => ({
      check: () => true,
      toString: () => `upsert(${rows.length} rows)`,
      async run(model, real) {
        const candidates = [...picks.filter(() => model.ids.length > 0).map((p) => model.ids[p % model.ids.length]), ...fresh, 7000, 7001, 7002, 7003, 7004, 7005];
        const ids = [...new Set(candidates)].slice(0, rows.length);
        const batch = rows.slice(0, ids.length);
        const zero = unnormalizable(model.setup, batch);
        let expected: Expected = ok;
        if (zero !== undefined) expected = fails(RangeError, new RegExp(`vectors row ${zero} has (zero|non-finite) norm`));
        else if (usesInt8(model.setup) && model.ranges === undefined && batch.length < MIN_AUTO_CALIBRATION_ROWS) {
          expected = fails(RangeError, /int8 codes need ranges; this first add has \d+ rows/);
        }
        const outcomes = setup.tight && expected.ok ? [expected, fails(RangeError, /index\.upsert: needs \d+ bytes of WebAssembly memory.*nothing was changed/)] : expected;
        const replaced = await expectOutcome(model, real, outcomes, () => real.index.upsert(batch, ids));
        if (replaced !== undefined) {
          expect(replaced).toBe(ids.filter((id) => model.idSet.has(id)).length);
          ids.forEach((id, i) => {
            const at = model.ids.indexOf(id);
            if (at >= 0) model.rows[at] = batch[i];
            else {
              model.ids.push(id);
              model.rows.push(batch[i]);
              model.idSet.add(id);
            }
            model.largestId = Math.max(model.largestId, id);
          });
        }
        checkInvariants(model, real);
      },
    }));
}

/** A filtered search (set, array or predicate over held and unknown ids) equals brute force over the allowed rows. */
function filteredSearchOperation(setup: Setup): fc.Arbitrary<Command> {
  const dims = setup.options.dims;
  return fc
    .record({ query: vector(dims), k: fc.integer({ min: 1, max: 20 }), picks: fc.array(fc.nat(), { maxLength: 8 }), form: fc.constantFrom("set", "array", "predicate") })
    .map(({ query, k, picks, form }): Command => ({
      check: () => true,
      toString: () => `search(filter: ${form} of ${picks.length} picks, k ${k})`,
      async run(model, real) {
        const allowed = new Set([...picks.filter(() => model.ids.length > 0).map((p) => model.ids[p % model.ids.length]), 9999]);
        const filter = form === "set" ? allowed : form === "array" ? [...allowed] : (id: number) => allowed.has(id);
        const zero = unnormalizable(model.setup, [query]);
        const expected = zero === undefined ? ok : fails(RangeError, /query row 0 has (zero|non-finite) norm/);
        const result = await expectOutcome(model, real, expected, () => real.index.search(query, { k, rescoreMultiplier: 2, filter }));
        if (result !== undefined) {
          const keep = model.ids.map((id, i) => (allowed.has(id) ? i : -1)).filter((i) => i >= 0);
          const want = plain(bruteForceSearch(keep.map((i) => model.rows[i]), keep.map((i) => model.ids[i]), query, k, 2, oracleConfig(model)));
          expect(plain(result)).toEqual(want);
        }
        checkInvariants(model, real);
      },
    }));
}

// ---- save and load -------------------------------------------------------------------------

const SOURCES = ["Uint8Array", "ArrayBuffer", "Blob", "ReadableStream"] as const;

/** A saved file's bytes in the form Index.load is handed them. */
function sourceOf(bytes: Uint8Array, kind: (typeof SOURCES)[number]): Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> {
  switch (kind) {
    case "Uint8Array": return bytes.slice();
    case "ArrayBuffer": return bytes.slice().buffer;
    case "Blob": return new Blob([bytes.slice()]);
    case "ReadableStream": return new Blob([bytes.slice()]).stream();
  }
}

/** A loaded index holds the saved model's ids and answers `query` as the oracle does over its rows. */
async function expectLoaded(saved: Model, loaded: Index, query: Float32Array, k: number): Promise<void> {
  expect(loaded.size).toBe(saved.rows.length);
  for (const id of saved.ids) expect(loaded.has(id), `id ${id}`).toBe(true);
  if (unnormalizable(saved.setup, [query]) !== undefined) return;
  expect(plain(await loaded.search(query, { k, rescoreMultiplier: 2 }))).toEqual(expectedResult(saved, query, k, 2));
}

/**
 * save, then Index.load from any source: the loaded index holds what the model held when save was
 * called and answers as the oracle says, also when its rescoring rows stay in the file
 * (rescoreFrom "disk"). Rows added while the save is writing must not reach the file. The loaded
 * index then carries on in the saved one's place, so the operations after this one (adds with
 * default ids, removals, auto-calibration, the memory ceiling) run on a loaded index.
 */
function saveLoadOperation(setup: Setup): fc.Arbitrary<Command> {
  const dims = setup.options.dims;
  return fc
    .record({
      source: fc.constantFrom(...SOURCES),
      query: vector(dims),
      k: fc.integer({ min: 1, max: 40 }),
      addedWhileSaving: fc.option(fc.array(vector(dims), { minLength: 1, maxLength: 6 }), { nil: undefined, freq: 3 }),
    })
    .map(({ source, query, k, addedWhileSaving }): Command => ({
      check: () => true,
      toString: () => `save → load(${source})${addedWhileSaving ? `, ${addedWhileSaving.length} rows added while saving` : ""}`,
      async run(model, real) {
        const saved: Model = { ...model, rows: model.rows.slice(), ids: model.ids.slice() };
        const saving = saveToBytes(real.index); // calls save at once
        if (addedWhileSaving !== undefined) await addChecked(model, real, addedWhileSaving, undefined, "rows");
        const bytes = await saving;

        const loaded = await Index.load(sourceOf(bytes, source));
        await expectLoaded(saved, loaded, query, k);
        if (setup.options.rescore !== "none") {
          const onDisk = await Index.load(new Blob([bytes.slice()]), { rescoreFrom: "disk" });
          try {
            await expectLoaded(saved, onDisk, query, k);
          } finally {
            onDisk.dispose();
          }
        }
        if (model.rows.length === saved.rows.length) {
          real.index.dispose();
          real.index = loaded;
          model.memoryBytes = loaded.memoryBytes; // a loaded index's segments are sized to its rows
        } else {
          loaded.dispose(); // the model has moved past the file
        }
        checkInvariants(model, real);
      },
    }));
}

/** save and load with a wrong target, source or options, or a damaged file: rejected, naming the cause; the index is unchanged. */
function badPersistenceOperation(): fc.Arbitrary<Command> {
  const damaged = fails(FileFormatError, /^Index\.load: "bytes": /);
  /** Index.load that disposes what it wrongly loads (the outcome check then fails). */
  const load = (...args: Parameters<typeof Index.load>) => Index.load(...args).then((index) => (index.dispose(), index));
  const kinds: Array<[string, (bytes: Uint8Array, at: number) => { call: (index: Index) => Promise<unknown>; expected: Expected }]> = [
    ["a bit flipped", (bytes, at) => {
      const bad = bytes.slice();
      bad[at % bad.length] ^= 1 << (at % 8);
      return { call: () => load(bad), expected: damaged };
    }],
    ["truncated", (bytes, at) => ({ call: () => load(bytes.slice(0, at % bytes.length)), expected: damaged })],
    ["an unknown load option", (bytes) => ({
      call: () => load(bytes, { rescoreForm: "disk" } as never), expected: fails(TypeError, /^Index\.load: options has an unknown key "rescoreForm"; did you mean "rescoreFrom"\?/),
    })],
    ["threads 0", (bytes) => ({ call: () => load(bytes, { threads: 0 }), expected: fails(RangeError, /^Index\.load: threads .*got 0/) })],
    ["rescoreFrom disk from a stream", (bytes) => ({
      call: () => load(new Blob([bytes.slice()]).stream(), { rescoreFrom: "disk" }), expected: fails(TypeError, /^Index\.load: rescoreFrom "disk" .* a ReadableStream cannot be read again/),
    })],
    ["a number as source", () => ({ call: () => load(42 as never), expected: fails(TypeError, /^Index\.load: source must be a file path, Uint8Array, ArrayBuffer, Blob or ReadableStream, got 42/) })],
    ["save to a number", () => ({ call: (index) => index.save(42 as never), expected: fails(TypeError, /^index\.save: target must be a file path or a WritableStream.*, got 42/) })],
    ["save to a stream that fails", () => ({
      call: (index) => index.save(new WritableStream({ write: () => Promise.reject(new Error("disk full")) })), expected: fails(Error, /disk full/),
    })],
  ];
  return fc
    .record({ kind: fc.integer({ min: 0, max: kinds.length - 1 }), at: fc.nat() })
    .map(({ kind, at }): Command => ({
      check: () => true,
      toString: () => `save/load(${kinds[kind][0]})`,
      async run(model, real) {
        const { call, expected } = kinds[kind][1](await saveToBytes(real.index), at);
        await expectOutcome(model, real, expected, () => call(real.index));
        checkInvariants(model, real);
      },
    }));
}

/** compact: same results afterwards; memory may shrink (the one operation allowed to). */
function compactOperation(): fc.Arbitrary<Command> {
  return fc.constant<Command>({
    check: () => true,
    toString: () => "compact()",
    async run(model, real) {
      await real.index.compact();
      expect(real.index.size).toBe(model.rows.length);
      model.memoryBytes = real.index.memoryBytes;
      checkInvariants(model, real);
    },
  });
}

/**
 * The operations, each with its weight among the random choices. A new Index operation is one
 * more entry: an arbitrary of commands that predict their outcome from the model, update it, and
 * call checkInvariants.
 */
const OPERATIONS: Array<{ name: string; weight: number; commands: (setup: Setup) => fc.Arbitrary<Command> }> = [
  { name: "add", weight: 4, commands: addOperation },
  { name: "add (invalid)", weight: 2, commands: badAddOperation },
  { name: "search", weight: 4, commands: searchOperation },
  { name: "searchBatch", weight: 2, commands: searchBatchOperation },
  { name: "search (invalid)", weight: 2, commands: badSearchOperation },
  { name: "remove", weight: 2, commands: removeOperation },
  { name: "upsert", weight: 2, commands: upsertOperation },
  { name: "search (filtered)", weight: 2, commands: filteredSearchOperation },
  { name: "compact", weight: 1, commands: compactOperation },
  { name: "save → load", weight: 1, commands: saveLoadOperation },
  { name: "save/load (invalid)", weight: 1, commands: badPersistenceOperation },
];

const scenario = setupArbitrary.chain((setup) =>
  fc.tuple(
    fc.constant(setup),
    fc.commands(OPERATIONS.flatMap((op) => Array.from({ length: op.weight }, () => op.commands(setup))), { maxCommands: 30, size: "medium" }),
  ),
);

describe("Index: random operation sequences agree with the model", () => {
  it(`every result equals brute force; every rejection names its cause and changes nothing`, async () => {
    await checkProperty(
      fc.asyncProperty(scenario, async ([setup, commands]) => {
        const real: Real = { index: await Index.create(setup.options) };
        try {
          const model: Model = { setup, rows: [], ids: [], idSet: new Set(), largestId: -1, ranges: setup.options.ranges as Ranges | undefined, memoryBytes: real.index.memoryBytes };
          await fc.asyncModelRun(() => ({ model, real }), commands);
        } finally {
          real.index.dispose(); // the last one loaded, if save → load ran
        }
      }),
      CI_RUNS,
    );
  }, propertyTimeout(CI_RUNS));
});
