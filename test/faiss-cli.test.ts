// `quantvec export` and `quantvec import` against Debian's real faiss: an exported index loads in
// faiss, and faiss's search returns the Hamming distances and ids of quantvec's binary search of
// the same index; a file faiss writes (IndexBinaryIDMap with custom ids, IDMap2, Flat) imports
// into an index whose search returns faiss's. Both sides are also held to a brute-force search
// (src/reference.ts hamming_u1, ties by the smaller id for quantvec). Without faiss those tests
// are skipped with a warning; index.binaryCodes() and the commands' refusals run everywhere.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readFaissBinary, writeFaissBinary } from "../src/file/faiss.js";
import { Index, quantize } from "../src/index.js";
import * as reference from "../src/reference.js";
import { faissVersion, hasFaiss, python, SEARCH, vectorsOf, warnWithoutFaiss, WRITE } from "./faiss-python.js";
import { rng } from "./helpers.js";
import { runCli } from "./run-cli.js";

warnWithoutFaiss("faiss export/import tests");

const folder = mkdtempSync(join(tmpdir(), "quantvec-faiss-cli-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const at = (name: string) => join(folder, name);

/** ±1 floats whose signs are `code`'s bits (MSB first): quantvec binarizes them back to `code`. */
function signsOf(code: Uint8Array, dims: number): Float32Array {
  return Float32Array.from({ length: dims }, (_, i) => ((code[i >> 3] >> (7 - (i & 7))) & 1 ? 1 : -1));
}

interface Ranked {
  ids: bigint[][];
  distances: number[][];
}

/** Brute force over `codes` with their ids: the k nearest per query, ties by the smaller id. */
function bruteForce(codes: Uint8Array, ids: ArrayLike<number>, queries: Uint8Array[], k: number): Ranked {
  const ranked = queries.map((query) => {
    const distances = reference.hamming_u1(query, codes);
    const order = Array.from(distances.keys()).sort((a, b) => distances[a] - distances[b] || ids[a] - ids[b]).slice(0, k);
    return { ids: order.map((row) => BigInt(ids[row])), distances: order.map((row) => distances[row]) };
  });
  return { ids: ranked.map((r) => r.ids), distances: ranked.map((r) => r.distances) };
}

/** quantvec's binary search (rescore "none": score = 1 − 2·hamming/bits) as ids and Hamming distances. */
async function quantvecSearch(index: Index, queries: Float32Array[], k: number): Promise<Ranked> {
  const results = await index.searchBatch(queries, { k });
  const bits = index.storedDims;
  return {
    ids: results.map((r) => Array.from(r.ids, BigInt)),
    distances: results.map((r) => Array.from(r.scores, (score) => Math.round(((1 - score) * bits) / 2))),
  };
}

/** faiss's search of `file` for the query codes. */
function faissSearch(file: string, queries: Uint8Array[], k: number): Ranked & { described: string } {
  writeFileSync(at("queries.bin"), Buffer.concat(queries));
  const described = python(SEARCH, file, at("queries.bin"), String(queries.length), String(k), at("result")).trim();
  const D = new Int32Array(Uint8Array.from(readFileSync(at("result.D"))).buffer);
  const I = new BigInt64Array(Uint8Array.from(readFileSync(at("result.I"))).buffer);
  return {
    described,
    ids: queries.map((_, q) => Array.from(I.subarray(q * k, (q + 1) * k))),
    distances: queries.map((_, q) => Array.from(D.subarray(q * k, (q + 1) * k))),
  };
}

/**
 * faiss agrees with quantvec: the same distances at every rank, and the same ids at every
 * distance below the k-th (at the k-th, rows tied at that distance may differ; `distanceOf` then
 * checks that faiss's are really at it).
 */
function expectAgreement(faiss: Ranked, quantvec: Ranked, distanceOf: (q: number, id: bigint) => number): void {
  faiss.distances.forEach((distances, q) => {
    expect(distances, `query ${q}: distances`).toEqual(quantvec.distances[q]);
    const last = distances.at(-1)!;
    const below = (ids: bigint[]) => ids.filter((_, j) => distances[j] < last).sort();
    expect(below(faiss.ids[q]), `query ${q}: ids nearer than the k-th distance`).toEqual(below(quantvec.ids[q]));
    faiss.ids[q].forEach((id, j) => expect(distanceOf(q, id), `query ${q} rank ${j}: id ${id}`).toBe(distances[j]));
  });
}

/** Where two long arrays first differ (-1: nowhere; their length when one is a prefix of the other); toEqual is slow on them. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : Math.min(a.length, b.length);
}

/** Row distances of every query, by id. */
function distancesById(codes: Uint8Array, ids: ArrayLike<number>, queries: Uint8Array[]): (q: number, id: bigint) => number {
  const rowOf = new Map(Array.from(ids, (id, row) => [BigInt(id), row]));
  const all = queries.map((query) => reference.hamming_u1(query, codes));
  return (q, id) => {
    const row = rowOf.get(id);
    if (row === undefined) throw new Error(`id ${id} is not in the index`);
    return all[q][row];
  };
}

describe.skipIf(!hasFaiss)(`quantvec export → faiss ${faissVersion}`, () => {
  it.each([
    ["custom ids, some removed: IndexBinaryIDMap", 256, 256, true],
    ["ids 0..n−1: IndexBinaryFlat", 256, 256, false],
    ["300 dims truncated to 196 bits: d rounded up to 200", 300, 196, true],
  ] as const)("%s: faiss's search returns quantvec's distances and ids", async (_, dims, bits, customIds) => {
    const count = 2500;
    const vectors = vectorsOf(dims + bits, count, dims);
    const index = await Index.create({ dims, precision: "binary", rescore: "none", ...(bits !== dims && { truncateTo: bits }) });
    const random = rng(5);
    const ids = customIds ? Array.from({ length: count }, (_, i) => i * 1000 + Math.floor(random() * 1000)) : undefined;
    index.add(vectors, ids);
    const removed = customIds ? Array.from({ length: 50 }, (_, i) => ids![i * 37]) : [];
    index.remove(removed);
    const file = at(`export-${dims}-${bits}.qv`);
    await index.save(file);

    const run = await runCli("export", file, "--faiss", at("exported.faiss"));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const kind = customIds ? "IndexBinaryIDMap" : "IndexBinaryFlat";
    expect(run.stdout).toContain(`as a faiss ${kind}`);

    // What the index holds, computed without it: the live vectors' codes (truncated like the index) and ids.
    const live = Array.from({ length: count }, (_, row) => row).filter((row) => !removed.includes(ids?.[row] ?? row));
    // Truncation keeps the first dimensions; normalizing does not change a sign.
    const codes = quantize(live.map((row) => vectors[row].subarray(0, bits)), "ubinary").data;
    const liveIds = live.map((row) => ids?.[row] ?? row);
    // Every code and id in the file, read back; then random queries and, so that every id is
    // checked through faiss too, one query per 50 rows that is a stored vector itself.
    const read = await readFaissBinary(at("exported.faiss"));
    expect(firstDifference(read.codes, codes)).toBe(-1);
    expect(read.ids === undefined ? undefined : firstDifference(Array.from(read.ids, Number), liveIds)).toBe(customIds ? -1 : undefined);
    const queryVectors = [...vectorsOf(99, 20, dims), ...live.filter((_, i) => i % 50 === 7).map((row) => vectors[row])];
    const queryCodes = queryVectors.map((v) => quantize([v.subarray(0, bits)], "ubinary").data);

    const k = 10;
    const faiss = faissSearch(at("exported.faiss"), queryCodes, k);
    expect(faiss.described).toBe(`${kind} ${count - removed.length} ${8 * Math.ceil(bits / 8)}`);
    const ours = await quantvecSearch(index, queryVectors, k);
    expect(ours).toEqual(bruteForce(codes, liveIds, queryCodes, k));
    expectAgreement(faiss, ours, distancesById(codes, liveIds, queryCodes));
    live.filter((_, i) => i % 50 === 7).forEach((row, j) => {
      expect([faiss.distances[20 + j][0], faiss.ids[20 + j][0]], `a stored vector finds itself in faiss`).toEqual([0, BigInt(ids?.[row] ?? row)]);
    });
    index.dispose();
  });

  it("a binary → int8 index exports the same faiss file as the binary index of the same vectors", async () => {
    const vectors = vectorsOf(3, 400, 128);
    const files: Uint8Array[] = [];
    for (const rescore of ["int8", "none"] as const) {
      const index = await Index.create({ dims: 128, precision: "binary", rescore });
      index.add(vectors, vectors.map((_, i) => 3 * i));
      await index.save(at(`rescore-${rescore}.qv`));
      index.dispose();
      expect((await runCli("export", at(`rescore-${rescore}.qv`), "--faiss", at(`rescore-${rescore}.faiss`))).code).toBe(0);
      files.push(new Uint8Array(readFileSync(at(`rescore-${rescore}.faiss`))));
    }
    expect(files[0]).toEqual(files[1]);
  });
});

describe.skipIf(!hasFaiss)(`faiss ${faissVersion} → quantvec import`, () => {
  it.each(["idmap", "idmap2", "flat"] as const)("a %s file written by faiss imports; quantvec's search returns faiss's", async (kind) => {
    const dims = 192;
    const count = 3000;
    const codes = quantize(vectorsOf(11, count, dims), "ubinary").data;
    const random = rng(12);
    const taken = new Set<number>([2 ** 32 - 1]);
    while (taken.size < count) taken.add(Math.floor(random() * 2 ** 32));
    const ids = kind === "flat" ? Array.from({ length: count }, (_, i) => i) : [...taken];
    writeFileSync(at("codes.bin"), codes);
    writeFileSync(at("ids.bin"), new Uint8Array(BigInt64Array.from(ids, BigInt).buffer));
    const faissFile = at(`from-faiss-${kind}.faiss`);
    python(WRITE, at("codes.bin"), at("ids.bin"), String(dims), kind, faissFile);

    const out = at(`imported-${kind}.qv`);
    const run = await runCli("import", faissFile, "--out", out);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`imported 3,000 codes of 192 bits (${{ idmap: "IndexBinaryIDMap", idmap2: "IndexBinaryIDMap2", flat: "IndexBinaryFlat" }[kind]})`);

    const index = await Index.load(out);
    expect([index.size, index.dims, index.precision, index.rescore]).toEqual([count, dims, "binary", "none"]);
    // Every code under its id, in faiss's order; then random queries and one stored code per 100 rows.
    const held = index.binaryCodes();
    expect(firstDifference(held.ids, ids)).toBe(-1);
    expect(firstDifference(Buffer.concat([...held.codes]), codes)).toBe(-1);
    const queryCodes = quantize(vectorsOf(13, 20, dims), "ubinary").data;
    const selfRows = ids.map((_, row) => row).filter((row) => row % 100 === 7);
    const queries = [
      ...Array.from({ length: 20 }, (_, q) => queryCodes.subarray(q * 24, (q + 1) * 24)),
      ...selfRows.map((row) => codes.subarray(row * 24, (row + 1) * 24)),
    ];
    const k = 10;
    const ours = await quantvecSearch(index, queries.map((code) => signsOf(code, dims)), k);
    expect(ours).toEqual(bruteForce(codes, ids, queries, k));
    selfRows.forEach((row, j) => expect([ours.distances[20 + j][0], ours.ids[20 + j][0]]).toEqual([0, BigInt(ids[row])]));
    expectAgreement(faissSearch(faissFile, queries, k), ours, distancesById(codes, ids, queries));
    index.dispose();
  });
});

describe("index.binaryCodes (what export writes)", () => {
  it("gives the live rows' codes and ids in storage order, across batches, removals and compaction", async () => {
    const dims = 1024; // 128 bytes a code: 8,192 codes a 1 MiB batch
    const count = 20_000;
    const vectors = vectorsOf(21, count, dims);
    const index = await Index.create({ dims, precision: "binary", rescore: "none" });
    index.add(vectors.slice(0, 12_000));
    index.add(vectors.slice(12_000));
    const removed = new Set(Array.from({ length: count }, (_, i) => i).filter((i) => i % 7 === 3 || (i >= 8000 && i < 8300)));
    index.remove(removed);
    const expectRows = (got: { ids: Uint32Array; codes: Iterable<Uint8Array> }) => {
      const live = Array.from({ length: count }, (_, i) => i).filter((i) => !removed.has(i));
      expect(firstDifference(got.ids, live)).toBe(-1);
      const chunks = [...got.codes];
      expect(chunks.length).toBe(Math.ceil((live.length * 128) / (1 << 20)));
      expect(firstDifference(Buffer.concat(chunks), quantize(live.map((i) => vectors[i]), "ubinary").data)).toBe(-1);
    };
    expectRows(index.binaryCodes());
    await index.compact();
    expectRows(index.binaryCodes());
    index.dispose();
  });

  it("refuses to go on after the index changed, and an index without binary codes", async () => {
    const index = await Index.create({ dims: 64, precision: "binary", rescore: "none" });
    index.add(vectorsOf(1, 10, 64));
    const { codes } = index.binaryCodes();
    index.add(vectorsOf(2, 1, 64));
    expect(() => [...codes]).toThrow(/index\.binaryCodes: the index changed while its codes were read; call binaryCodes\(\) again/);
    const int8 = await Index.create({ dims: 64, precision: "int8", ranges: { min: new Array(64).fill(-1), max: new Array(64).fill(1) } });
    expect(() => int8.binaryCodes()).toThrow(/index\.binaryCodes: this index keeps no binary codes \(precision int8, rescore none\)/);
  });
});

describe("quantvec import / export refuse bad input and write nothing", () => {
  async function faissFileWithIds(name: string, ids: bigint[]): Promise<string> {
    const path = at(name);
    await writeFaissBinary(path, { dims: 64, count: ids.length, codes: quantize(vectorsOf(4, ids.length, 64), "ubinary").data, ids: BigInt64Array.from(ids) });
    return path;
  }

  it.each([
    ["a negative id", [5n, -3n, 7n], /quantvec import: ".*neg\.faiss": row 1 has id -3; quantvec ids are integers from 0 to 4294967295/, "neg.faiss"],
    ["an id past 2^32 − 1", [2n ** 32n, 1n], /quantvec import: ".*big\.faiss": row 0 has id 4294967296/, "big.faiss"],
    ["an id given twice", [4n, 9n, 4n], /quantvec import: ".*twice\.faiss": id 4 is on rows 0 and 2; quantvec ids are unique/, "twice.faiss"],
  ])("import of a faiss file with %s", async (_, ids, message, name) => {
    const out = at(`never-${name}.qv`);
    const run = await runCli("import", await faissFileWithIds(name, ids), "--out", out);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/quantvec import: quantvec import/);
    expect(existsSync(out)).toBe(false);
  });

  it("import of a file that is not faiss's, export of an index without binary codes, missing arguments", async () => {
    writeFileSync(at("text.faiss"), "hello, not faiss");
    const notFaiss = await runCli("import", at("text.faiss"), "--out", at("never.qv"));
    expect(notFaiss.code).toBe(1);
    expect(notFaiss.stderr).toMatch(/quantvec import: ".*text\.faiss": not a faiss binary index this reader supports: it starts with "hell"/);

    const int8 = await Index.create({ dims: 64, precision: "int8", ranges: { min: new Array(64).fill(-1), max: new Array(64).fill(1) } });
    int8.add(vectorsOf(5, 10, 64));
    await int8.save(at("int8.qv"));
    int8.dispose();
    writeFileSync(at("kept.faiss"), "old content");
    const noCodes = await runCli("export", at("int8.qv"), "--faiss", at("kept.faiss"));
    expect(noCodes.code).toBe(1);
    expect(noCodes.stderr).toMatch(/this index keeps no binary codes \(precision int8, rescore none\)/);
    expect(readFileSync(at("kept.faiss"), "utf8")).toBe("old content");

    expect((await runCli("import", at("text.faiss"))).stderr).toMatch(/import needs --out INDEX/);
    expect((await runCli("export", at("int8.qv"))).stderr).toMatch(/export needs --faiss OUT/);
    expect((await runCli("export")).code).toBe(2);
    expect(existsSync(at("never.qv"))).toBe(false);
  });
});
