// faiss binary index files against Debian's real faiss (python3-faiss, imported from /usr/bin/python3;
// .ci/run installs it): faiss loads what quantvec writes and its search returns the ids and Hamming
// distances of a brute-force search (src/reference.ts hamming_u1); quantvec reads what faiss writes
// with the same codes and ids; both write byte-identical files. Without faiss the interop tests are
// skipped with a warning; the reader's size and consistency checks run everywhere.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FaissFormatError, readFaissBinary, writeFaissBinary } from "../src/file/faiss.js";
import * as reference from "../src/reference.js";
import { codesOf, faissVersion, hasFaiss, python, SEARCH, warnWithoutFaiss, WRITE } from "./faiss-python.js";
import { rng } from "./helpers.js";

warnWithoutFaiss("faiss interop tests");

const folder = mkdtempSync(join(tmpdir(), "quantvec-faiss-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Distinct int64 ids, negative and beyond 2^53 included. */
function idsOf(seed: number, count: number): BigInt64Array {
  const random = rng(seed);
  const ids = new BigInt64Array(count);
  for (let i = 0; i < count; i++) ids[i] = BigInt(i) * 1_000_003n * BigInt(1 + Math.floor(random() * 1000)) * (i % 3 === 0 ? -1n : 1n) + (i % 7 === 0 ? 2n ** 60n : 0n) + BigInt(i);
  return ids;
}

const bytesOfIds = (ids: BigInt64Array) => new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength);

/**
 * faiss's answer must be a correct top-k: its distances are the k smallest brute-force distances,
 * in order, and every id it returns is a distinct row at exactly the distance it reports (rows at
 * the same distance may come in either order).
 */
function expectSameSearch(codes: Uint8Array, codeBytes: number, queries: Uint8Array, ids: BigInt64Array | undefined, k: number, D: Int32Array, I: BigInt64Array): void {
  const idToRow = new Map<bigint, number>();
  const count = codes.length / codeBytes;
  for (let row = 0; row < count; row++) idToRow.set(ids === undefined ? BigInt(row) : ids[row], row);
  const nq = queries.length / codeBytes;
  for (let q = 0; q < nq; q++) {
    const distances = reference.hamming_u1(queries.subarray(q * codeBytes, (q + 1) * codeBytes), codes);
    const best = Array.from(distances).sort((a, b) => a - b).slice(0, k);
    expect(Array.from(D.subarray(q * k, (q + 1) * k)), `query ${q} distances`).toEqual(best);
    const seen = new Set<number>();
    for (let j = 0; j < k; j++) {
      const row = idToRow.get(I[q * k + j]);
      expect(row, `query ${q} rank ${j}: faiss returned id ${I[q * k + j]}, which quantvec never wrote`).toBeDefined();
      expect(distances[row!], `query ${q} rank ${j} distance of id ${I[q * k + j]}`).toBe(D[q * k + j]);
      expect(seen.has(row!)).toBe(false);
      seen.add(row!);
    }
  }
}

describe.skipIf(!hasFaiss)(`faiss ${faissVersion} interop`, () => {
  it.each([
    ["IndexBinaryIDMap with int64 ids (256-bit codes)", 256, 3000, true],
    ["IndexBinaryFlat (ids 0..n-1, 200-bit codes)", 200, 1500, false],
    ["IndexBinaryIDMap with one row (1024-bit codes)", 1024, 1, true],
  ] as const)("faiss loads %s written by quantvec and searches it like brute force", async (_, dims, count, withIds) => {
    const codes = codesOf(dims + count, count, dims);
    const codeBytes = dims / 8;
    const ids = withIds ? idsOf(count, count) : undefined;
    const path = join(folder, `quantvec-${dims}.faiss`);
    // Codes in uneven chunks: the writer streams them.
    const chunks = [codes.subarray(0, 7), codes.subarray(7, Math.floor(codes.length / 2)), codes.subarray(Math.floor(codes.length / 2))];
    const written = await writeFaissBinary(path, { dims, count, codes: chunks, ids });
    expect(written.kind).toBe(withIds ? "IndexBinaryIDMap" : "IndexBinaryFlat");
    expect(readFileSync(path).length).toBe(written.byteLength);
    const nq = 25;
    const queries = codesOf(dims * 7 + count, nq, dims);
    writeFileSync(join(folder, "queries.bin"), queries);
    const k = Math.min(10, count);
    const out = join(folder, "result");
    const described = python(SEARCH, path, join(folder, "queries.bin"), String(nq), String(k), out);
    expect(described.trim()).toBe(`${withIds ? "IndexBinaryIDMap" : "IndexBinaryFlat"} ${count} ${dims}`);
    const D = new Int32Array(Uint8Array.from(readFileSync(`${out}.D`)).buffer);
    const I = new BigInt64Array(Uint8Array.from(readFileSync(`${out}.I`)).buffer);
    expect(D.length).toBe(nq * k);
    expectSameSearch(codes, codeBytes, queries, ids, k, D, I);
  });

  it.each(["flat", "idmap", "idmap2", "empty"] as const)("quantvec reads a %s index written by faiss with the same codes and ids, and writes the same bytes", async (kind) => {
    const dims = 128;
    const count = kind === "empty" ? 0 : 777;
    const codes = codesOf(5, count, dims);
    const ids = idsOf(6, count);
    writeFileSync(join(folder, "codes.bin"), codes);
    writeFileSync(join(folder, "ids.bin"), bytesOfIds(ids));
    const path = join(folder, `faiss-${kind}.faiss`);
    python(WRITE, join(folder, "codes.bin"), join(folder, "ids.bin"), String(dims), kind === "empty" ? "flat" : kind, path);
    const fromFaiss = new Uint8Array(readFileSync(path));
    for (const source of [path, fromFaiss, new Blob([fromFaiss])]) {
      const read = await readFaissBinary(source);
      expect(read.kind).toBe({ flat: "IndexBinaryFlat", empty: "IndexBinaryFlat", idmap: "IndexBinaryIDMap", idmap2: "IndexBinaryIDMap2" }[kind]);
      expect(read.dims).toBe(dims);
      expect(read.count).toBe(count);
      expect(read.codes).toEqual(codes);
      expect(read.ids).toEqual(kind === "flat" || kind === "empty" ? undefined : ids);
    }
    const ours = join(folder, `ours-${kind}.faiss`);
    const idsToWrite = kind === "flat" || kind === "empty" ? undefined : ids;
    const chosen = kind === "idmap2" ? "IndexBinaryIDMap2" : "auto";
    await writeFaissBinary(ours, { dims, count, codes, ids: idsToWrite }, { kind: chosen });
    expect(new Uint8Array(readFileSync(ours))).toEqual(fromFaiss);
  });
});

describe("faiss reader checks (no faiss needed)", async () => {
  const codes = codesOf(9, 40, 64);
  const ids = idsOf(10, 40);
  const chunks: Uint8Array[] = [];
  await writeFaissBinary(new WritableStream({ write: (c) => void chunks.push(c) }), { dims: 64, count: 40, codes, ids });
  const file = new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer());
  const set = (bytes: Uint8Array, at: number, value: bigint | number, size: 4 | 8) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    if (size === 4) view.setInt32(at, Number(value), true);
    else view.setBigInt64(at, BigInt(value), true);
    return bytes;
  };

  it("round-trips through a WritableStream and a ReadableStream", async () => {
    expect(file.length).toBe(66 + 40 * (8 + 8));
    const read = await readFaissBinary(new Blob([file]).stream(), { name: "x.faiss" });
    expect(read.codes).toEqual(codes);
    expect(read.ids).toEqual(ids);
  });

  it("a file truncated at every length, or with bytes appended, is rejected naming the file", async () => {
    for (let cut = 0; cut < file.length; cut++) {
      await expect(readFaissBinary(file.subarray(0, cut), { name: "cut.faiss" }), `cut at ${cut}`).rejects.toThrow(/"cut\.faiss": (truncated|not a faiss binary index)/);
    }
    await expect(readFaissBinary(new Uint8Array([...file, 0]), { name: "long.faiss" })).rejects.toThrow(/"long\.faiss": 1 unexpected bytes after the end/);
  });

  it.each([
    ["a huge ntotal (consistent in both headers)", (b: Uint8Array) => set(set(set(b, 12, 2n ** 50n, 8), 25 + 12, 2n ** 50n, 8), 25 + 25, 2n ** 53n, 8), /code vector holds|truncated: \d+ bytes, its header says/],
    ["a huge byte count", (b: Uint8Array) => set(b, 25 + 25, 2n ** 60n, 8), /the code vector holds 1152921504606846976 bytes, expected ntotal × code_size = 320/],
    ["a negative ntotal", (b: Uint8Array) => set(set(b, 12, -1, 8), 25 + 12, -1, 8), /ntotal = -1, expected >= 0/],
    ["d not a multiple of 8", (b: Uint8Array) => set(b, 25 + 4, 63, 4), /d = 63 bits, expected a positive multiple of 8/],
    ["code_size not d/8", (b: Uint8Array) => set(b, 25 + 8, 9, 4), /code_size = 9, expected d\/8 = 8/],
    ["an outer d that disagrees", (b: Uint8Array) => set(b, 4, 128, 4), /the IndexBinaryIDMap says d = 128, its IndexBinaryFlat says 64/],
    ["an id count that disagrees", (b: Uint8Array) => set(b, 58 + 320, 39, 8), /the id vector holds 39 ids, expected ntotal = 40/],
    ["a sub-index other than IBxF", (b: Uint8Array) => (b.set([..."IBHh"].map((c) => c.charCodeAt(0)), 25), b), /the index inside the IndexBinaryIDMap is "IBHh"/],
    ["another faiss index type", (b: Uint8Array) => (b.set([..."IxF2"].map((c) => c.charCodeAt(0)), 0), b), /starts with "IxF2", expected "IBxF"/],
  ])("%s is rejected before anything is allocated", async (_, mutate, message) => {
    const error = await readFaissBinary(mutate(file.slice()), { name: "bad.faiss" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaissFormatError);
    expect(String(error)).toMatch(/"bad\.faiss"/);
    expect(String(error)).toMatch(message);
  });

  it("rejects bad writer input before touching the target", async () => {
    const path = join(folder, "never.faiss");
    await expect(writeFaissBinary(path, { dims: 12, count: 1, codes: new Uint8Array(2) })).rejects.toThrow(/dims must be a positive multiple of 8 \(bits per code\), got 12/);
    await expect(writeFaissBinary(path, { dims: 64, count: 2, codes: new Uint8Array(16), ids: [1] })).rejects.toThrow(/ids has 1 entries, expected count = 2/);
    await expect(writeFaissBinary(path, { dims: 64, count: 2, codes: new Uint8Array(16), ids: [5, 6] }, { kind: "IndexBinaryFlat" })).rejects.toThrow(/IndexBinaryFlat has ids 0..count−1/);
    await expect(writeFaissBinary(path, { dims: 64, count: 2, codes: new Uint8Array(15) })).rejects.toThrow(/codes has 15 bytes, expected count × dims\/8 = 16/);
    expect(() => readFileSync(path)).toThrow(/ENOENT/);
  });
});
