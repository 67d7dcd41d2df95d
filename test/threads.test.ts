// Threads: an index scanned by workers over shared memory gives exactly the single-threaded
// results, never a torn one while adds interleave, recovers from a dead worker, falls back to
// one thread where shared memory is unavailable, and leaves nothing running after dispose.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { calibrate, Index, type IndexOptions } from "../src/index.js";
import type { WorkerPool } from "../src/pool.js";
import { bruteForceSearch } from "./brute-force.js";
import { randomNormal, rng, SEARCH_CONFIGS } from "./helpers.js";

const CONFIGS = SEARCH_CONFIGS;

const DIMS = 48;
const random = rng(404);
// Every seventh row repeats an earlier one, so ties cross the threads' row boundaries.
const ROWS = Array.from({ length: 2500 }, (_, i) => randomNormal(random, DIMS));
for (let i = 6; i < ROWS.length; i += 7) ROWS[i] = ROWS[i - 5].slice();
const IDS = Array.from({ length: ROWS.length }, (_, i) => (i * 7919) % 1_000_003);
const QUERIES = [...Array.from({ length: 40 }, () => randomNormal(random, DIMS)), ROWS[1], ROWS[1200]];
const RANGES = calibrate(ROWS);

const open: Index[] = [];
/** Small test corpora: split every search across all threads anyway (the default waits for 4 MB per thread). */
const splitEverything = (index: Index) => ((index as unknown as { parallelMinBytes: number }).parallelMinBytes = 1);
async function create(options: Omit<IndexOptions, "dims">, split = true): Promise<Index> {
  const index = await Index.create({ dims: DIMS, ranges: RANGES, ...options });
  if (split) splitEverything(index);
  open.push(index);
  return index;
}
afterEach(() => {
  for (const index of open.splice(0)) index.dispose();
});

const poolOf = (index: Index) => (index as unknown as { shardList: Array<{ pool: WorkerPool }> }).shardList[0].pool;

describe.each(CONFIGS)("threads: 3, $precision → $rescore", (config) => {
  it("returns exactly the single-threaded results (search and searchBatch)", async () => {
    const single = await create(config);
    const threaded = await create({ ...config, threads: 3 });
    expect(threaded.threads).toBe(3);
    expect(threaded.threadingNote).toBeUndefined();
    single.add(ROWS, IDS);
    threaded.add(ROWS, IDS);
    for (const query of QUERIES.slice(0, 8)) {
      expect(await threaded.search(query, { k: 15, rescoreMultiplier: 3 })).toEqual(await single.search(query, { k: 15, rescoreMultiplier: 3 }));
    }
    expect(await threaded.searchBatch(QUERIES, { k: 6 })).toEqual(await single.searchBatch(QUERIES, { k: 6 }));
  });
});

describe("threads", () => {
  it("keeps small scans on the calling thread (handing rows to a worker costs more than it saves)", async () => {
    const index = await create({ precision: "int8", threads: 2 }, false);
    index.add(ROWS.slice(0, 500));
    const scan = vi.spyOn(poolOf(index), "scan");
    const alone = await index.search(QUERIES[0], { k: 5 });
    expect(scan).not.toHaveBeenCalled();
    splitEverything(index);
    expect(await index.search(QUERIES[0], { k: 5 })).toEqual(alone);
    expect(scan).toHaveBeenCalledTimes(1);
  });

  it("every shard scans with a kernel instance and workers of its own, shards made by later adds included", async () => {
    const index = await create({ precision: "binary", rescore: "int8", threads: 2, shardBytes: 192 * 1024 });
    const single = await create({ precision: "binary", rescore: "int8" });
    index.add(ROWS.slice(0, 500), IDS.slice(0, 500));
    index.add(ROWS.slice(500), IDS.slice(500));
    single.add(ROWS, IDS);
    const shards = (index as unknown as { shardList: Array<{ pool?: WorkerPool; poolStarting?: Promise<void>; arena: { kernels: object } }> }).shardList;
    expect(shards.length).toBeGreaterThanOrEqual(2);
    await Promise.all(shards.map((shard) => shard.poolStarting));
    expect(new Set(shards.map((shard) => shard.arena.kernels)).size).toBe(shards.length);
    expect(shards.every((shard) => shard.pool !== undefined)).toBe(true);
    expect(new Set(shards.map((shard) => shard.pool)).size).toBe(shards.length);
    const scans = shards.map((shard) => vi.spyOn(shard.pool!, "scan"));
    expect(await index.searchBatch(QUERIES.slice(0, 4), { k: 10 })).toEqual(await single.searchBatch(QUERIES.slice(0, 4), { k: 10 }));
    scans.forEach((scan, s) => expect(scan, `shard ${s}'s workers`).toHaveBeenCalled());
  });

  it("hands the worker its share before the calling thread scans its own (the two shares overlap)", async () => {
    const index = await create({ precision: "binary", threads: 2 });
    index.add(ROWS);
    await index.search(QUERIES[0], { k: 5 }); // the worker has started
    const shard = (index as unknown as { shardList: Array<{ pool: WorkerPool; arena: { kernels: { scan_topk(desc: number): void } } }> }).shardList[0];
    const events: string[] = [];
    const port = (shard.pool as unknown as { slots: Array<{ port: { post(message: unknown): void } }> }).slots[0].port;
    const post = port.post;
    port.post = (message) => (events.push("worker gets its share"), post(message));
    const kernels = shard.arena.kernels;
    shard.arena.kernels = { ...kernels, scan_topk: (desc) => (events.push("caller scans"), kernels.scan_topk(desc)) };
    try {
      await index.search(QUERIES[1], { k: 5 });
    } finally {
      shard.arena.kernels = kernels;
      port.post = post;
    }
    expect(events[0]).toBe("worker gets its share");
    expect(events).toContain("caller scans");
  });

  it("never returns a torn result while adds and searches interleave", async () => {
    const index = await create({ precision: "binary", rescore: "int8", threads: 2 });
    const oracle = { precision: "binary", rescore: "int8", storedDims: DIMS, normalize: false, ranges: RANGES } as const;
    let added = 0;
    const pending: Array<{ promise: Promise<{ ids: Uint32Array }>; rows: number; query: Float32Array }> = [];
    while (added < ROWS.length) {
      const n = Math.min(ROWS.length - added, 97 + (added % 301));
      // The search is started before the add and not awaited: it must see none of this add.
      const query = QUERIES[pending.length % QUERIES.length];
      pending.push({ promise: index.search(query, { k: 10 }), rows: added, query });
      index.add(ROWS.slice(added, added + n), IDS.slice(added, added + n));
      added += n;
      pending.push({ promise: index.search(query, { k: 10 }), rows: added, query });
    }
    for (const { promise, rows, query } of pending) {
      const want = bruteForceSearch(ROWS.slice(0, rows), IDS.slice(0, rows), query, 10, 4, oracle);
      expect(Array.from((await promise).ids), `after ${rows} rows`).toEqual(want.ids);
    }
  });

  it("rejects a search whose worker dies, then works with a replacement", async () => {
    const single = await create({ precision: "float32" });
    const index = await create({ precision: "float32", threads: 2 });
    single.add(ROWS, IDS);
    index.add(ROWS, IDS);
    poolOf(index).workerPort(0).terminate();
    await expect(index.search(QUERIES[0])).rejects.toThrow(/quantvec: worker 0 died \(exited with code \d+\); the search was abandoned and the worker replaced/);
    expect(await index.search(QUERIES[1])).toEqual(await single.search(QUERIES[1]));
    expect(await index.searchBatch(QUERIES.slice(0, 5))).toEqual(await single.searchBatch(QUERIES.slice(0, 5)));
  });

  it("rejects searches still running when the index is disposed", async () => {
    const index = await create({ precision: "int8", threads: 2 });
    index.add(ROWS, IDS);
    const search = index.search(QUERIES[0]);
    index.dispose();
    await expect(search).rejects.toThrow(/disposed/);
  });

  it("falls back to one thread, and says why, where SharedArrayBuffer is unavailable", async () => {
    const saved = globalThis.SharedArrayBuffer;
    // @ts-expect-error: simulating a browser page that is not cross-origin isolated
    delete globalThis.SharedArrayBuffer;
    try {
      const index = await create({ precision: "binary", threads: 4 });
      expect(index.threads).toBe(1);
      expect(index.threadingNote).toMatch(/asked for 4 threads, running on 1: SharedArrayBuffer is unavailable .*cross-origin isolated/);
      index.add(ROWS.slice(0, 200));
      expect((await index.search(QUERIES[0], { k: 3 })).ids).toHaveLength(3);
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
  });

  it("accepts \"auto\" and rejects a bad thread count", async () => {
    const auto = await create({ precision: "binary", threads: "auto" });
    expect(auto.threads).toBeGreaterThanOrEqual(1);
    await expect(Index.create({ dims: DIMS, precision: "binary", threads: 0 })).rejects.toThrow(RangeError);
    await expect(Index.create({ dims: DIMS, precision: "binary", threads: 1.5 })).rejects.toThrow(/threads .* got 1\.5/);
    await expect(Index.create({ dims: DIMS, precision: "binary", threads: "many" as never })).rejects.toThrow(TypeError);
  });

  it("leaves no worker running after dispose: a process exits on its own", () => {
    const script = `
      import { Index } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
      const index = await Index.create({ dims: 8, precision: "float32", threads: 2 });
      if (index.threads !== 2) throw new Error("expected 2 threads, got " + index.threads + ": " + index.threadingNote);
      index.parallelMinBytes = 1; // the worker scans too, small as the index is
      index.add(Array.from({ length: 500 }, (_, i) => Array.from({ length: 8 }, (_, c) => Math.sin(i * 8 + c))));
      const { ids } = await index.search([1, 0, 0, 0, 0, 0, 0, 0], { k: 3 });
      index.dispose();
      console.log("ok", ids.length);
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)), timeout: 20_000, encoding: "utf8",
    });
    expect(child.stderr).toBe("");
    expect(child.stdout.trim()).toBe("ok 3");
    expect(child.status).toBe(0); // a worker left running would keep the process alive until the timeout
  });
});
