// Ids you can manage: after random interleavings of add, remove, upsert and compact, every search
// (single and batched, unfiltered and filtered by set, array, typed array and predicate) equals
// brute force over the live rows the filter allows — on 1 and 2 threads, in one shard and in
// several small ones (filled past the first shard before the interleaving starts, in every mode).

import { afterEach, describe, expect, it } from "vitest";
import { calibrate, Index, type IndexOptions } from "../src/index.js";
import { type BruteForceConfig, bruteForceSearch } from "./brute-force.js";
import { randomNormal, rng, SEARCH_CONFIGS } from "./helpers.js";
import { rejectsUnchanged } from "./unchanged.js";

const DIMS = 96;
/** The smallest shard every mode's 96-d rows are accepted in: 64 KiB of rows beside 128 KiB of page and scratch. */
const SMALL_SHARD = 192 * 1024;
const open: Index[] = [];
afterEach(() => {
  for (const index of open.splice(0)) index.dispose();
});

/** Seeded vectors; every fifth repeats an earlier one, so scores tie and ids must break them. */
function vectors(random: () => number, count: number, pool: Float32Array[]): Float32Array[] {
  return Array.from({ length: count }, () =>
    pool.length > 0 && random() < 0.2 ? pool[Math.floor(random() * pool.length)].slice() : randomNormal(random, DIMS));
}

const FILTER_KINDS = ["set", "array", "typed", "predicate"] as const;
type FilterKind = (typeof FILTER_KINDS)[number];

/** The live model the index must agree with: id → vector. */
class Model {
  readonly rows = new Map<number, Float32Array>();

  search(query: Float32Array, k: number, multiplier: number, oracle: BruteForceConfig, allowed?: Set<number>) {
    const ids = [...this.rows.keys()].filter((id) => allowed === undefined || allowed.has(id));
    return bruteForceSearch(ids.map((id) => this.rows.get(id)!), ids, query, k, multiplier, oracle);
  }
}

function makeFilter(kind: FilterKind, allowed: Set<number>) {
  if (kind === "set") return allowed;
  if (kind === "array") return [...allowed];
  if (kind === "typed") return Uint32Array.from(allowed);
  return (id: number) => allowed.has(id);
}

/** A result as plain arrays, as the oracle gives it. */
const plain = (result: { ids: Uint32Array; scores: Float32Array }) => ({ ids: Array.from(result.ids), scores: Array.from(result.scores) });

/**
 * Checks every search form against the oracle. `round` rotates the filter kinds over the
 * fractions, so that any four consecutive checks try every kind at every fraction.
 */
async function check(index: Index, model: Model, oracle: BruteForceConfig, random: () => number, label: string, round: number) {
  expect(index.size, label).toBe(model.rows.size);
  const queries = [randomNormal(random, DIMS), randomNormal(random, DIMS)];
  const live = [...model.rows.keys()];
  if (live.length > 0) queries.push(model.rows.get(live[Math.floor(random() * live.length)])!);
  for (const query of queries) {
    const got = await index.search(query, { k: 7, rescoreMultiplier: 3 });
    const want = model.search(query, 7, 3, oracle);
    expect(Array.from(got.ids), `${label}: unfiltered`).toEqual(want.ids);
    expect(Array.from(got.scores), `${label}: unfiltered scores`).toEqual(want.scores);
  }
  const batch = await index.searchBatch(queries, { k: 5, rescoreMultiplier: 2 });
  queries.forEach((query, q) => expect(plain(batch[q]), `${label}: batch ${q}`).toEqual(model.search(query, 5, 2, oracle)));

  // Filters admitting 0%, 1%, 50% and 100% of the live rows, plus ids the index does not hold.
  for (const [f, fraction] of [0, 0.01, 0.5, 1].entries()) {
    const allowed = new Set(live.filter(() => random() < fraction));
    if (fraction === 0.01 && allowed.size === 0 && live.length > 0) allowed.add(live[0]);
    allowed.add(4_000_000_000); // never stored
    const kind = FILTER_KINDS[(round + f) % FILTER_KINDS.length];
    const filter = makeFilter(kind, allowed);
    const k = allowed.size + 3; // more than the allowed rows whenever few are allowed
    const query = queries[0];
    const kk = Math.min(k, 12);
    const got = await index.search(query, { k: kk, rescoreMultiplier: 3, filter });
    const want = model.search(query, kk, 3, oracle, allowed);
    expect(Array.from(got.ids), `${label}: ${kind} filter ${fraction}`).toEqual(want.ids);
    expect(Array.from(got.scores), `${label}: ${kind} filter ${fraction} scores`).toEqual(want.scores);
    if (allowed.size <= 6) expect(got.ids.length).toBe(allowed.size - 1);
    const batched = await index.searchBatch(queries, { k: kk, rescoreMultiplier: 3, filter });
    queries.forEach((q, i) => expect(plain(batched[i]), `${label}: batched ${kind} filter ${fraction}`).toEqual(model.search(q, kk, 3, oracle, allowed)));
  }
}

const cases = SEARCH_CONFIGS.flatMap((config) => [
  { ...config, threads: 1, shardBytes: undefined },
  { ...config, threads: 1, shardBytes: SMALL_SHARD },
  { ...config, threads: 2, shardBytes: SMALL_SHARD },
]);

describe.each(cases)("$precision → $rescore, threads $threads, shardBytes $shardBytes", (config) => {
  it("equals brute force over the live rows after random adds, removes, upserts and compactions", async () => {
    const random = rng(1000 + cases.indexOf(config));
    const seed = vectors(random, 300, []);
    const ranges = calibrate(seed);
    const options: IndexOptions = { dims: DIMS, precision: config.precision, rescore: config.rescore, ranges, threads: config.threads };
    if (config.shardBytes !== undefined) options.shardBytes = config.shardBytes;
    const index = await Index.create(options);
    open.push(index);
    (index as unknown as { parallelMinBytes: number }).parallelMinBytes = 1; // small corpus: split across threads anyway
    const oracle: BruteForceConfig = { precision: config.precision, rescore: config.rescore, storedDims: DIMS, normalize: false, ranges };
    const model = new Model();
    const pool: Float32Array[] = [];
    let nextFresh = 0;
    const fresh = () => (nextFresh += 1 + Math.floor(random() * 5));
    const addRows = (count: number, explicitIds: boolean) => {
      const rows = vectors(random, count, pool);
      const stored = index.add(rows, explicitIds ? rows.map(() => fresh()) : undefined);
      stored.forEach((id, i) => model.rows.set(id, rows[i]));
      nextFresh = Math.max(nextFresh, ...stored);
      pool.push(...rows);
    };

    // Small shards: fill past the first one in every mode (a binary code of 96 bits is 12 bytes,
    // so the binary modes need thousands of rows), so that every operation below meets two shards.
    if (config.shardBytes !== undefined) {
      for (let adds = 0; index.shards < 2; adds++) {
        expect(adds, "rows added without a second shard").toBeLessThan(20);
        addRows(400, true);
      }
      await check(index, model, oracle, random, "filled past one shard", 0);
    }

    // Two adds, then every other operation at least once, in a seeded order.
    const later = ["add", "remove", "upsert", "compact", "add-default", "remove", "compact"].sort(() => random() - 0.5);
    for (const [step, op] of [...["add", "add"], ...later].entries()) {
      const label = `step ${step}`;
      const live = [...model.rows.keys()];
      if (op === "add" || op === "add-default") {
        addRows(120 + Math.floor(random() * 200), op === "add");
      } else if (op === "remove") {
        const chosen = live.filter(() => random() < 0.3);
        const unknown = [nextFresh + 1000, 3_999_999_999];
        expect(index.remove([...chosen, ...unknown, chosen[0] ?? 1])).toBe(chosen.length);
        for (const id of chosen) {
          model.rows.delete(id);
          expect(index.has(id)).toBe(false);
        }
      } else if (op === "upsert") {
        const replaced = live.filter(() => random() < 0.15);
        const added = Array.from({ length: 20 }, () => fresh());
        const ids = [...replaced, ...added].sort(() => random() - 0.5);
        const rows = vectors(random, ids.length, pool);
        expect(index.upsert(rows, ids)).toBe(replaced.length);
        ids.forEach((id, i) => model.rows.set(id, rows[i]));
      } else {
        const before = index.memoryBytes;
        await index.compact();
        expect(index.memoryBytes).toBeLessThanOrEqual(before + 64 * 1024 * (index.shards + 1));
      }
      await check(index, model, oracle, random, `${label} (${op})`, step + 1);
    }
    if (config.shardBytes !== undefined) expect(index.shards).toBeGreaterThanOrEqual(2);
  });
});

describe("shards under maxMemoryBytes", () => {
  it("maxMemoryBytes bounds every shard together: adds fill several shards, then one is refused with nothing changed", async () => {
    const random = rng(11);
    const maxMemoryBytes = 1024 * 1024;
    const rows = Array.from({ length: 400 }, () => randomNormal(random, DIMS));
    const index = await Index.create({ dims: DIMS, precision: "binary", rescore: "int8", ranges: calibrate(rows), shardBytes: SMALL_SHARD, maxMemoryBytes });
    open.push(index);
    let refusal: unknown;
    for (let adds = 0; refusal === undefined; adds++) {
      expect(adds, "adds never refused").toBeLessThan(100);
      expect(index.memoryBytes).toBeLessThanOrEqual(maxMemoryBytes);
      try {
        index.add(rows);
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toBeInstanceOf(RangeError);
    expect((refusal as Error).message).toMatch(/index\.add: needs \d+ bytes of WebAssembly memory, more than its limit of 1048576 bytes \(maxMemoryBytes\); nothing was changed/);
    expect(index.shards).toBeGreaterThanOrEqual(3); // 192 KiB each: the ceiling, not one shard, stopped the adds
    expect(index.memoryBytes).toBeLessThanOrEqual(maxMemoryBytes);
    // Every shard can still be searched: the headroom for its scratch memory was kept in the budget.
    const answers = await index.searchBatch(rows.slice(0, 4), { k: 200 });
    expect(answers.map((answer) => answer.ids[0])).toEqual([0, 1, 2, 3]);
    expect(index.memoryBytes).toBeLessThanOrEqual(maxMemoryBytes);
    await rejectsUnchanged(index, rows.slice(0, 2), () => index.add(rows), RangeError, /\(maxMemoryBytes\); nothing was changed/);
  });
});

describe("removal and compaction", () => {
  it("compact() reclaims memory once enough was removed, with identical results", async () => {
    const random = rng(7);
    const rows = Array.from({ length: 20_000 }, () => randomNormal(random, 64));
    const index = await Index.create({ dims: 64, precision: "float32" });
    open.push(index);
    index.add(rows);
    const ids = Array.from({ length: 20_000 }, (_, i) => i).filter((i) => i % 10 !== 0);
    expect(index.remove(ids)).toBe(18_000);
    expect(index.size).toBe(2000);
    const queries = rows.slice(0, 5);
    const before = await index.searchBatch(queries, { k: 10 });
    const bytes = index.memoryBytes;
    await index.compact();
    expect(index.memoryBytes).toBeLessThan(bytes / 2);
    expect(await index.searchBatch(queries, { k: 10 })).toEqual(before);
    for (const result of before) for (const id of result.ids) expect(id % 10).toBe(0);
  });

  it("a search answers the index as it was when called, whatever is removed, upserted or compacted meanwhile", async () => {
    const random = rng(8);
    const rows = Array.from({ length: 500 }, () => randomNormal(random, 32));
    const index = await Index.create({ dims: 32, precision: "float32" });
    open.push(index);
    index.add(rows);
    const query = rows[3];
    const first = index.search(query, { k: 3 });
    index.remove([3]);
    const second = index.search(query, { k: 3 });
    index.upsert([rows[4]], [3]); // id 3 back, with another vector
    const compacting = index.compact();
    const third = index.search(query, { k: 3 });
    index.add([query], [900]);
    const fourth = index.search(query, { k: 3 });
    await compacting;
    expect((await first).ids[0]).toBe(3);
    expect(Array.from((await second).ids)).not.toContain(3);
    const afterUpsert = await third;
    expect(Array.from(afterUpsert.ids)).not.toContain(900);
    expect((await fourth).ids[0]).toBe(900);
    expect(index.has(3)).toBe(true);
  });

  it("a predicate filter is called once per live row per search call, for a whole batch, never for removed rows", async () => {
    const random = rng(10);
    const rows = Array.from({ length: 3000 }, () => randomNormal(random, DIMS));
    const index = await Index.create({ dims: DIMS, precision: "binary", rescore: "int8", ranges: calibrate(rows), shardBytes: SMALL_SHARD });
    open.push(index);
    index.add(rows);
    expect(index.shards).toBeGreaterThanOrEqual(2);
    const removed = Array.from({ length: 300 }, (_, i) => i * 10 + 1);
    index.remove(removed);
    const calls = new Map<number, number>();
    const predicate = (id: number) => {
      calls.set(id, (calls.get(id) ?? 0) + 1);
      return id % 3 === 0;
    };
    const queries = rows.slice(0, 8);
    const results = await index.searchBatch(queries, { k: 10, filter: predicate });
    const live = rows.map((_, id) => id).filter((id) => !removed.includes(id));
    expect([...calls.keys()].sort((a, b) => a - b)).toEqual(live);
    expect(Math.max(...calls.values())).toBe(1);
    for (const result of results) for (const id of result.ids) expect(id % 3).toBe(0);
  });

  it("a filter that names removed ids, ids past the last row and duplicates admits only live rows, for every filter type", async () => {
    const random = rng(11);
    const rows = Array.from({ length: 1000 }, () => randomNormal(random, 32));
    for (const explicit of [false, true]) {
      // Default ids equal rows (the filter marks rows directly); explicit ids go through the id map.
      const index = await Index.create({ dims: 32, precision: "float32" });
      open.push(index);
      const ids = rows.map((_, i) => (explicit ? 3 * i + 1 : i));
      index.add(rows, explicit ? ids : undefined);
      const removed = ids.filter((_, i) => i % 3 !== 2); // two thirds, across every 32-row word
      index.remove(removed);
      const live = new Set(ids.filter((_, i) => i % 3 === 2));
      const query = rows[0];
      const exact = (allowed: Set<number>) =>
        ids.map((id, i) => ({ id, score: rows[i].reduce((sum, x, d) => sum + x * query[d], 0) }))
          .filter(({ id }) => live.has(id) && allowed.has(id))
          .sort((a, b) => b.score - a.score || a.id - b.id).slice(0, 10).map(({ id }) => id);
      // Few allowed (scanned as a list of rows) and many (a bitmap): removed ids in both.
      for (const named of [[...removed.slice(0, 40), ...[...live].slice(0, 4)], [...removed, ...[...live].slice(0, 300)]]) {
        const withExtras = [...named, 999_999, named[0], 65_535];
        const small = withExtras.filter((id) => id < 256);
        const filters: Array<[Iterable<number>, number[]]> = [
          [new Set(withExtras), withExtras], [withExtras, withExtras], [Uint32Array.from(withExtras), withExtras],
          [Uint16Array.from(withExtras.filter((id) => id < 65_536)), withExtras], [Uint8Array.from(small), small],
        ];
        for (const [filter, contents] of filters) {
          const got = await index.search(query, { k: 10, filter });
          const kind = `${explicit ? "explicit" : "default"} ids, ${filter.constructor.name} of ${contents.length}`;
          expect(Array.from(got.ids), kind).toEqual(exact(new Set(contents)));
        }
      }
    }
  });

  it("ids stay unique: add rejects an id the index holds, accepts one that was removed", async () => {
    const random = rng(9);
    const index = await Index.create({ dims: 8, precision: "float32" });
    open.push(index);
    index.add([randomNormal(random, 8), randomNormal(random, 8)], [5, 6]);
    expect(() => index.add([randomNormal(random, 8)], [5])).toThrow(/ids\[0\] = 5 is a duplicate of an id already in the index/);
    index.remove([5]);
    const vector = randomNormal(random, 8);
    index.add([vector], [5]);
    expect(index.size).toBe(2);
    expect(Array.from((await index.search(vector, { k: 1 })).ids)).toEqual([5]);
  });
});
