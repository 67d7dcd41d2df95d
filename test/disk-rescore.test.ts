// Rescoring rows kept on disk: the DiskColumn gathers exactly the rows asked for and rejects a
// corrupt block (only the reads that touch it); an index built with `rescoreTo` answers every
// search exactly as the same index with its rescoring codes in memory (ids, scores, ties), for
// int8 and float32 rescoring, one and two threads, several shards, filters, removals and
// upserts; a rejected add leaves the file and the index as they were.

import { spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, statSync, writeSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { xxh64Blocks } from "../src/checksum.js";
import { FileFormatError, openContainer } from "../src/file/container.js";
import { DiskColumn } from "../src/file/disk-column.js";
import { BytesSource } from "../src/file/sources.js";
import { calibrate, Index, type IndexOptions } from "../src/index.js";
import { Arena, ready } from "../src/wasm.js";
import { randomNormal, rng } from "./helpers.js";
import { rejectsUnchanged } from "./unchanged.js";

// 520 dims: int8 rows of 520 bytes straddle the row file's 4 KiB checksum blocks.
const DIMS = 520;
const random = rng(9090);
// Every ninth row repeats an earlier one, so rescoring ties happen and must go to the smaller id.
const ROWS = Array.from({ length: 3000 }, () => randomNormal(random, DIMS));
for (let i = 8; i < ROWS.length; i += 9) ROWS[i] = ROWS[i - 7].slice();
const IDS = Array.from({ length: ROWS.length }, (_, i) => (i * 7919) % 100_003);
const QUERIES = [...Array.from({ length: 45 }, () => randomNormal(random, DIMS)), ROWS[4], ROWS[1500], ROWS[2999]];
const RANGES = calibrate(ROWS);

let dir: string;
beforeAll(async () => {
  await ready();
  dir = mkdtempSync(join(tmpdir(), "quantvec-disk-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const open: Index[] = [];
afterEach(() => {
  for (const index of open.splice(0)) index.dispose();
});
let files = 0;
async function create(options: Omit<IndexOptions, "dims">, split = false): Promise<Index> {
  const index = await Index.create({ dims: DIMS, ranges: RANGES, ...options });
  if (split) (index as unknown as { parallelMinBytes: number }).parallelMinBytes = 1; // a small corpus: use both threads anyway
  open.push(index);
  return index;
}
const rowFile = () => join(dir, `rows-${files++}.bin`);
const shardsOf = (index: Index) => index.shards;

describe("DiskColumn", () => {
  // Rows of 100 bytes in 256-byte blocks: rows straddle blocks, and the last block is short.
  const ROW = 100;
  const COUNT = 77;
  const BLOCK = 256;
  const bytes = Uint8Array.from({ length: ROW * COUNT }, () => Math.floor(random() * 256));
  const columnOver = (data: Uint8Array, name = "column.qv") =>
    new DiskColumn({ source: new BytesSource(name, data), part: 'section "RSC0"', offset: 0, rowBytes: ROW, rows: COUNT, blockBytes: BLOCK, checksums: xxh64Blocks(bytes, BLOCK) });

  it("packs the rows asked for, in the order asked, whatever blocks they straddle", async () => {
    const arena = new Arena("test");
    const column = columnOver(bytes);
    for (const rows of [[0], [COUNT - 1], [5, 2, 3, 76, 40, 41], Array.from({ length: COUNT }, (_, i) => COUNT - 1 - i)]) {
      const packed = await column.gather("test", arena, rows);
      rows.forEach((row, i) => {
        expect(arena.u8.slice(packed + i * ROW, packed + (i + 1) * ROW), `row ${row}`).toEqual(bytes.slice(row * ROW, (row + 1) * ROW));
      });
    }
  });

  it("streams a range of rows in order (what a save copies)", async () => {
    const column = columnOver(bytes);
    for (const [first, count] of [[0, COUNT], [3, 10], [COUNT - 1, 1], [40, 0]]) {
      const parts: Uint8Array[] = [];
      for await (const chunk of column.chunks("test", first, count)) parts.push(chunk.slice());
      expect(Buffer.concat(parts)).toEqual(Buffer.from(bytes.subarray(first * ROW, (first + count) * ROW)));
    }
  });

  it("rejects a gather that touches a corrupt block, naming the file, the section and the block; other gathers still work", async () => {
    const arena = new Arena("test");
    const damaged = bytes.slice();
    damaged[3 * BLOCK + 17] ^= 0x40; // block 3 holds bytes 768–1023: rows 7–10
    const column = columnOver(damaged, "index.qv");
    const error = await column.gather("index.search", arena, [1, 9, 50]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as Error).message).toMatch(/^index\.search: "index\.qv": section "RSC0" block 3: checksum mismatch over file bytes 768–1024/);
    // A row whose bytes start in the good block 2 but end in block 3 is refused too.
    await expect(column.gather("index.search", arena, [7])).rejects.toThrow(/block 3/);
    const packed = await column.gather("index.search", arena, [1, 50, 6]);
    expect(arena.u8.slice(packed, packed + ROW)).toEqual(bytes.slice(ROW, 2 * ROW));
    expect(arena.u8.slice(packed + 2 * ROW, packed + 3 * ROW)).toEqual(bytes.slice(6 * ROW, 7 * ROW));
  });
});

describe.each([
  { rescore: "int8" as const, threads: 1 },
  { rescore: "int8" as const, threads: 2 },
  { rescore: "float32" as const, threads: 1 },
  { rescore: "float32" as const, threads: 2 },
])("rescoreTo: binary → $rescore, $threads thread(s)", ({ rescore, threads }) => {
  it("answers exactly as the in-memory index: search, searchBatch, filters, several shards", async () => {
    // A small shardBytes (4 pages) puts the rows in two shards, so file rows and shard rows differ.
    const options = { precision: "binary" as const, rescore, threads, shardBytes: 4 << 16 };
    const memory = await create({ ...options, shardBytes: undefined }, true); // one shard: merging across shards is exact
    const disk = await create({ ...options, rescoreTo: rowFile() }, true);
    for (let at = 0; at < ROWS.length; at += 1100) {
      memory.add(ROWS.slice(at, at + 1100), IDS.slice(at, at + 1100));
      disk.add(ROWS.slice(at, at + 1100), IDS.slice(at, at + 1100));
    }
    expect(shardsOf(disk)).toBeGreaterThan(1);
    expect(disk.threads).toBe(threads);
    const tiedResults = (await memory.searchBatch(QUERIES, { k: 12 })).filter((r) => r.scores.some((s, i) => i > 0 && s === r.scores[i - 1]));
    expect(tiedResults.length, "the corpus has tied rescoring scores").toBeGreaterThan(0);
    for (const query of QUERIES.slice(0, 10)) {
      expect(await disk.search(query, { k: 10 })).toEqual(await memory.search(query, { k: 10 }));
    }
    for (const options of [{ k: 12 }, { k: 3, rescoreMultiplier: 9 }, { k: 8, filter: (id: number) => id % 3 !== 0 }, { k: 5, filter: IDS.slice(100, 400) }]) {
      expect(await disk.searchBatch(QUERIES, options)).toEqual(await memory.searchBatch(QUERIES, options));
    }
    // Memory holds the binary codes and ids only: under a third of the in-memory index here.
    expect(disk.memoryBytes).toBeLessThan(memory.memoryBytes / (rescore === "int8" ? 2 : 3));
  });
});

describe("rescoreTo", () => {
  it("keeps answering as the in-memory index through removals and upserts; compact refuses and changes nothing", async () => {
    const options = { precision: "binary" as const, rescore: "int8" as const };
    const memory = await create(options);
    const disk = await create({ ...options, rescoreTo: rowFile() });
    for (const index of [memory, disk]) {
      index.add(ROWS.slice(0, 2000), IDS.slice(0, 2000));
      index.remove(IDS.slice(0, 300));
      index.upsert(ROWS.slice(2000, 2400), IDS.slice(100, 500)); // 200 new ids, 200 replaced
      index.add(ROWS.slice(2400), IDS.slice(2400));
    }
    expect(disk.size).toBe(memory.size);
    expect(await disk.searchBatch(QUERIES, { k: 10 })).toEqual(await memory.searchBatch(QUERIES, { k: 10 }));
    await rejectsUnchanged(disk, QUERIES.slice(0, 4), () => disk.compact(), Error, /rescoring codes are on disk \(rescoreTo\).*To drop them: save the index, load the file with rescoreFrom "memory", compact and save again/);
  });

  it("a rejected add leaves the file and the index as they were", async () => {
    const path = rowFile();
    const disk = await create({ precision: "binary", rescore: "int8", rescoreTo: path, maxMemoryBytes: 1 << 20 });
    disk.add(ROWS.slice(0, 1000), IDS.slice(0, 1000));
    expect(statSync(path).size).toBe(1000 * DIMS);
    const before = await disk.searchBatch(QUERIES, { k: 10 });
    const many = Array.from({ length: 20_000 }, (_, i) => ROWS[i % ROWS.length]);
    // The first refusal may leave the arena grown (WebAssembly memory cannot shrink); rows, file and answers are as before.
    expect(() => disk.add(many)).toThrow(/maxMemoryBytes\); nothing was changed/);
    expect(statSync(path).size).toBe(1000 * DIMS);
    expect(disk.size).toBe(1000);
    expect(await disk.searchBatch(QUERIES, { k: 10 })).toEqual(before);
    await rejectsUnchanged(disk, QUERIES.slice(0, 4), () => disk.add(ROWS.slice(0, 2), [IDS[0], 5]), RangeError, /already in the index/);
    expect(statSync(path).size).toBe(1000 * DIMS);
  });

  it.skipIf(process.platform === "win32")("a write that fails halfway (file size limit) truncates the file back; the index answers as before and takes the next add", () => {
    // bash's ulimit -f counts KiB: the add's first MiB piece (2016 rows) is written, its second (1984 rows) hits the limit.
    const path = rowFile();
    const script = `
      import { statSync } from "node:fs";
      import { Index } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
      process.on("SIGXFSZ", () => {}); // the write then fails with EFBIG instead of killing the process
      const dims = ${DIMS};
      let seed = 5;
      const row = () => Array.from({ length: dims }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5));
      const rows = Array.from({ length: 5000 }, row);
      const index = await Index.create({ dims, precision: "binary", rescore: "int8", rescoreTo: ${JSON.stringify(path)} });
      index.add(rows.slice(0, 900));
      const before = JSON.stringify(await index.searchBatch(rows.slice(0, 20), { k: 10 }));
      let message = "no error";
      try { index.add(rows.slice(900, 4900)); } catch (error) { message = error.message; }
      const same = JSON.stringify(await index.searchBatch(rows.slice(0, 20), { k: 10 })) === before;
      const after = [index.size, statSync(${JSON.stringify(path)}).size];
      index.add(rows.slice(4900));
      console.log(JSON.stringify({ message, same, after, then: [index.size, statSync(${JSON.stringify(path)}).size] }));
      index.dispose();
    `;
    const child = spawnSync("bash", ["-c", `ulimit -f 2000 && exec "${process.execPath}" --input-type=module -e "$0"`, script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)), timeout: 60_000, encoding: "utf8",
    });
    expect(child.stderr).toBe("");
    const report = JSON.parse(child.stdout);
    expect(report.message).toMatch(/^index\.add: could not append 1031680 bytes of rescoring rows to ".*": EFBIG.*; nothing was changed$/);
    expect(report.same).toBe(true);
    expect(report.after).toEqual([900, 900 * DIMS]);
    expect(report.then).toEqual([1000, 1000 * DIMS]);
  });

  it("a corrupt block of the file rejects the searches that read it, naming the file and block; other searches still work", async () => {
    const path = rowFile();
    const options = { precision: "binary" as const, rescore: "int8" as const };
    const memory = await create(options);
    const disk = await create({ ...options, rescoreTo: path });
    memory.add(ROWS, IDS);
    disk.add(ROWS, IDS);
    // Row 4 (bytes 2080–2599) is in block 0; flip a byte of it on disk.
    const fd = openSync(path, "r+");
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, 4 * DIMS + 5);
    byte[0] ^= 1;
    writeSync(fd, byte, 0, 1, 4 * DIMS + 5);
    closeSync(fd);
    const error = await disk.search(ROWS[4], { k: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as Error).message).toMatch(new RegExp(`^index\\.search: ${JSON.stringify(path).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: rescoring rows block 0: checksum mismatch over file bytes 0–4096 \\(stored 0x[0-9a-f]{16}, computed 0x[0-9a-f]{16}\\): the file is corrupt$`));
    const away = { k: 5, filter: IDS.slice(100) }; // candidates only from rows 100 on: blocks 12 and up
    expect(await disk.search(ROWS[1500], away)).toEqual(await memory.search(ROWS[1500], away));
    await expect(disk.searchBatch([ROWS[1500], ROWS[4]], { k: 5 })).rejects.toThrow(/block 0/);
    expect(await disk.searchBatch([ROWS[1500], ROWS[2999]], away)).toEqual(await memory.searchBatch([ROWS[1500], ROWS[2999]], away));
  });

  it("rejects a rescoreTo that is not a path, or for an index that does not rescore", async () => {
    await expect(Index.create({ dims: DIMS, precision: "binary", rescoreTo: 7 as unknown as string })).rejects.toThrow(/rescoreTo must be a file path \(a non-empty string\), got 7/);
    await expect(Index.create({ dims: DIMS, precision: "binary", rescore: "none", rescoreTo: rowFile() })).rejects.toThrow(/does not rescore \(rescore "none"\)/);
    await expect(Index.create({ dims: DIMS, precision: "binary", rescoreTo: join(dir, "missing", "rows.bin") })).rejects.toThrow(/rescoreTo ".*missing\/rows\.bin" could not be created: ENOENT/);
  });
});

/** Flips one bit of the file at `at`. */
function flipByte(path: string, at: number): void {
  const fd = openSync(path, "r+");
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, at);
  byte[0] ^= 1;
  writeSync(fd, byte, 0, 1, at);
  closeSync(fd);
}

describe.each([
  { rescore: "int8" as const, threads: 1 },
  { rescore: "float32" as const, threads: 2 },
])("Index.load(…, { rescoreFrom: \"disk\" }): binary → $rescore, $threads thread(s)", ({ rescore, threads }) => {
  it("answers exactly as the saved index, holds only the first-stage codes in memory, takes removals, refuses adds and compaction", async () => {
    // Small shards (float32 rows need more room), so the file has several.
    const original = await create({ precision: "binary", rescore, threads, shardBytes: rescore === "int8" ? 4 << 16 : 1 << 20 }, true);
    original.add(ROWS.slice(0, 2600), IDS.slice(0, 2600));
    original.remove(IDS.slice(0, 50));
    original.upsert(ROWS.slice(2600), IDS.slice(60, 460));
    const path = join(dir, `saved-${files++}.qv`);
    await original.save(path);
    const loaded = await Index.load(path, { rescoreFrom: "disk", threads });
    open.push(loaded);
    (loaded as unknown as { parallelMinBytes: number }).parallelMinBytes = 1;
    expect(loaded.shards).toBe(original.shards);
    expect(loaded.shards).toBeGreaterThan(1);
    expect(loaded.size).toBe(original.size);
    for (const options of [{ k: 10 }, { k: 4, rescoreMultiplier: 7, filter: (id: number) => id % 2 === 0 }]) {
      expect(await loaded.searchBatch(QUERIES, options)).toEqual(await original.searchBatch(QUERIES, options));
    }
    expect(await loaded.search(QUERIES[0], { k: 6 })).toEqual(await original.search(QUERIES[0], { k: 6 }));
    const inMemory = await Index.load(path);
    open.push(inMemory);
    expect(loaded.memoryBytes).toBeLessThan(inMemory.memoryBytes / (rescore === "int8" ? 2 : 3));

    await rejectsUnchanged(loaded, QUERIES.slice(0, 3), () => loaded.add(ROWS.slice(0, 1), [999_999]), Error, /loaded with rescoreFrom "disk".*Load it with rescoreFrom "memory" to add vectors; nothing was changed/);
    await rejectsUnchanged(loaded, QUERIES.slice(0, 3), () => loaded.upsert(ROWS.slice(0, 1), [IDS[100]]), Error, /loaded with rescoreFrom "disk"/);
    await rejectsUnchanged(loaded, QUERIES.slice(0, 3), () => loaded.compact(), Error, /rescoring codes are on disk \(loaded with rescoreFrom "disk"\)/);
    expect(loaded.remove(IDS.slice(200, 300))).toBe(original.remove(IDS.slice(200, 300)));
    expect(await loaded.searchBatch(QUERIES, { k: 10 })).toEqual(await original.searchBatch(QUERIES, { k: 10 }));

    // Saved again, it is the same file; a Blob source (async reads) answers the same.
    const again = join(dir, `saved-${files++}.qv`);
    const copy = join(dir, `saved-${files++}.qv`);
    await loaded.save(again);
    await original.save(copy);
    expect(readFileSync(again).equals(readFileSync(copy))).toBe(true);
    const fromBlob = await Index.load(new Blob([readFileSync(again)]), { rescoreFrom: "disk" });
    open.push(fromBlob);
    expect(await fromBlob.searchBatch(QUERIES, { k: 10 })).toEqual(await original.searchBatch(QUERIES, { k: 10 }));
  });
});

describe("rescoreFrom: \"disk\" and rescoreTo files", () => {
  it("a corrupt block of a saved index's rescoring section loads, then rejects the searches that read it, naming the file, section and block", async () => {
    const options = { precision: "binary" as const, rescore: "int8" as const };
    const original = await create(options);
    original.add(ROWS, IDS);
    const path = join(dir, `saved-${files++}.qv`);
    await original.save(path);
    const file = await openContainer(path);
    const section = file.sections.find((s) => s.tag === "R000")!;
    await file.close();
    expect(section.blockBytes).toBe(4096);
    flipByte(path, section.offset + 4 * DIMS + 9); // row 4, in block 0
    await expect(Index.load(path)).rejects.toThrow(/section "R000" block 0: checksum mismatch/); // loading it into memory reads it whole
    const loaded = await Index.load(path, { rescoreFrom: "disk" });
    open.push(loaded);
    const error = await loaded.search(ROWS[4], { k: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileFormatError);
    expect((error as Error).message).toMatch(new RegExp(`^index\\.search: ".*saved-\\d+\\.qv": section "R000" block 0: checksum mismatch over file bytes ${section.offset}–${section.offset + 4096} `));
    const away = { k: 5, filter: IDS.slice(100) };
    expect(await loaded.search(ROWS[1500], away)).toEqual(await original.search(ROWS[1500], away));
    await expect(loaded.save(join(dir, `saved-${files++}.qv`))).rejects.toThrow(/section "R000" block 0: checksum mismatch/);
  });

  it("an index built with rescoreTo saves a normal index file: byte for byte the in-memory build's, loading (memory or disk) with its answers", async () => {
    // One shard each (shards fill by the bytes they hold in memory, so with a small shardBytes the two would split differently).
    const options = { precision: "binary" as const, rescore: "int8" as const };
    const memory = await create(options);
    const built = await create({ ...options, rescoreTo: rowFile() });
    for (const index of [memory, built]) {
      for (let at = 0; at < ROWS.length; at += 1000) index.add(ROWS.slice(at, at + 1000), IDS.slice(at, at + 1000));
      index.remove(IDS.slice(500, 520));
    }
    const fromMemory = join(dir, `saved-${files++}.qv`);
    const fromDisk = join(dir, `saved-${files++}.qv`);
    await memory.save(fromMemory);
    await built.save(fromDisk);
    expect(readFileSync(fromDisk).equals(readFileSync(fromMemory))).toBe(true);
    const expected = await memory.searchBatch(QUERIES, { k: 10 });
    for (const rescoreFrom of ["memory", "disk"] as const) {
      const loaded = await Index.load(fromDisk, { rescoreFrom });
      open.push(loaded);
      expect(await loaded.searchBatch(QUERIES, { k: 10 })).toEqual(expected);
    }
  });
});
