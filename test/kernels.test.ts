// Every WebAssembly kernel against its scalar reference in src/reference.ts: all byte lengths
// 0..65 and the lengths around each accumulation window, dims 1..1536, unaligned addresses,
// seeded random and adversarial inputs. Integers are compared exactly, floats bit for bit.
// Everything runs on the SIMD128 kernels and, where this runtime runs them correctly, again on
// the relaxed-SIMD ones (their integer queries are digit planes: placeQuery writes them).

import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import * as reference from "../src/reference.js";
import { allocateHeaps, type RowRange, writeDescriptors } from "../src/scan.js";
import { drainHeap, heapBytes, keyToF32, resetHeap } from "../src/topk.js";
import { intQueryBytes, type KernelPath, writeIntQuery } from "../src/relaxed.js";
import { Arena, pathChoice, ready } from "../src/wasm.js";
import { randomInts, randomNormal, rng } from "./helpers.js";

await ready();
const PATHS: KernelPath[] = pathChoice().relaxedSimd ? ["simd128", "relaxed-simd"] : ["simd128"];
let kernelPath: KernelPath = "simd128";
/** An arena running the kernels under test. */
const newArena = () => new Arena("test", undefined, false, kernelPath);

type Typed = Uint8Array | Int8Array | Int16Array | Float32Array;

/** Copies `data` into the arena at an address ≡ `misalign` (mod 64) and returns that address. */
function place(arena: Arena, data: Typed, misalign: number): number {
  const ptr = arena.alloc("test", data.byteLength + misalign, 64) + misalign;
  arena.u8.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), ptr);
  return ptr;
}

/** place() for a query: integer queries in the layout of the arena's kernels. */
function placeQuery(arena: Arena, query: Typed, misalign: number): number {
  if (!(query instanceof Int8Array || query instanceof Int16Array)) return place(arena, query, misalign);
  const ptr = arena.alloc("test", intQueryBytes(arena.path, query.length, query instanceof Int16Array) + misalign, 64) + misalign;
  writeIntQuery(arena.u8, ptr, query, arena.path);
  return ptr;
}

/** Queries back to back, each in a 16-byte multiple (integer ones in the kernels' layout), as the scans read them. */
function placeQueries(arena: Arena, queries: readonly Typed[], dims: number): { queriesPtr: number; queryBytes: number } {
  const first = queries[0];
  const integer = first instanceof Int8Array || first instanceof Int16Array;
  const queryBytes = Math.ceil((integer ? intQueryBytes(arena.path, dims, first instanceof Int16Array) : first.byteLength) / 16) * 16;
  const queriesPtr = arena.alloc("test", queryBytes * queries.length);
  queries.forEach((q, i) => {
    if (q instanceof Int8Array || q instanceof Int16Array) writeIntQuery(arena.u8, queriesPtr + i * queryBytes, q, arena.path);
    else arena.u8.set(new Uint8Array(q.buffer), queriesPtr + i * queryBytes);
  });
  return { queriesPtr, queryBytes };
}

type ScoreKernel = "hamming_u1" | "dot_i8" | "dot_i16i8" | "dot_f32";

/** Runs a score kernel with the query and codes at the given misalignments; returns a copy of out. */
function run(kernel: ScoreKernel, query: Typed, codes: Typed, queryMisalign = 0, codesMisalign = 0): Int32Array | Float32Array {
  const arena = newArena();
  const count = query.length === 0 ? 0 : codes.length / query.length;
  const q = placeQuery(arena, query, queryMisalign);
  const base = place(arena, codes, codesMisalign);
  const out = arena.alloc("test", count * 4 + 4);
  arena.kernels[kernel](q, base, query.length, count, out);
  return kernel === "dot_f32" ? arena.f32.slice(out >> 2, (out >> 2) + count) : arena.i32.slice(out >> 2, (out >> 2) + count);
}

const BYTE_LENGTHS = [
  ...Array.from({ length: 66 }, (_, i) => i),
  127, 128, 129, 31 * 16 - 1, 31 * 16, 31 * 16 + 1, 31 * 16 + 8, 62 * 16, 62 * 16 + 15, 1024,
];

describe.each(PATHS)("%s kernels", (path) => {
  beforeAll(() => {
    kernelPath = path;
  });

  describe("hamming_u1", () => {
    it.each(BYTE_LENGTHS)("matches reference (bytes=%i, seeded random, offsets 0/0, 3/1, 13/7)", (bytes) => {
      const random = rng(1000 + bytes);
      const query = Uint8Array.from(randomInts(random, bytes, 0, 255));
      const codes = Uint8Array.from(randomInts(random, bytes * 7, 0, 255));
      const expected = reference.hamming_u1(query, codes);
      for (const [qm, cm] of [[0, 0], [3, 1], [13, 7]]) {
        expect(Array.from(run("hamming_u1", query, codes, qm, cm)), `offsets ${qm}/${cm}`).toEqual(Array.from(expected));
      }
    });

    it.each(BYTE_LENGTHS)("matches reference on adversarial codes (bytes=%i: all ones, all zeros, alternating)", (bytes) => {
      const query = new Uint8Array(bytes).fill(0xff);
      const codes = new Uint8Array(bytes * 4);
      codes.fill(0x00, 0, bytes); // every bit differs: distance 8 · bytes, the window's worst case
      codes.fill(0xff, bytes, 2 * bytes);
      codes.fill(0xaa, 2 * bytes, 3 * bytes);
      codes.fill(0x55, 3 * bytes, 4 * bytes);
      const got = run("hamming_u1", query, codes, 5, 11);
      expect(Array.from(got)).toEqual(Array.from(reference.hamming_u1(query, codes)));
      if (bytes > 0) expect(got[0]).toBe(8 * bytes);
    });
  });

  describe("integer dot products", () => {
    it("dot_i8 matches reference for every dims 1..1536 (13 rows: four-row and single-row paths, unaligned)", () => {
      const random = rng(7);
      for (let dims = 1; dims <= 1536; dims++) {
        const query = Int8Array.from(randomInts(random, dims, -128, 127));
        const codes = Int8Array.from(randomInts(random, dims * 13, -128, 127));
        const misalign = dims % 16;
        expect(Array.from(run("dot_i8", query, codes, misalign, (dims * 7) % 16)), `dims=${dims}`).toEqual(
          Array.from(reference.dot_i8(query, codes)),
        );
      }
    });

    it("dot_i16i8 matches reference for every dims 1..1536 (full int16 range, wrapping included)", () => {
      const random = rng(8);
      for (let dims = 1; dims <= 1536; dims++) {
        const query = Int16Array.from(randomInts(random, dims, -32768, 32767));
        const codes = Int8Array.from(randomInts(random, dims * 13, -128, 127));
        expect(Array.from(run("dot_i16i8", query, codes, (dims * 2) % 16, dims % 16)), `dims=${dims}`).toEqual(
          Array.from(reference.dot_i16i8(query, codes)),
        );
      }
    });

    const EXTREMES: Array<[string, number, number]> = [
      ["-128 · -128", -128, -128], ["127 · -128", 127, -128], ["127 · 127", 127, 127], ["-128 · 127", -128, 127],
    ];
    it.each(EXTREMES)("dot_i8 matches reference on constant rows %s (dims 1..1536 in steps)", (_, a, b) => {
      for (const dims of [1, 7, 8, 15, 16, 17, 31, 32, 33, 255, 256, 257, 1023, 1024, 1536]) {
        const query = new Int8Array(dims).fill(a);
        const codes = new Int8Array(dims * 9).fill(b);
        const got = run("dot_i8", query, codes, 1, 2);
        expect(Array.from(got), `dims=${dims}`).toEqual(Array.from(reference.dot_i8(query, codes)));
        expect(got[0]).toBe(a * b * dims);
      }
    });

    it("dot_i16i8 matches reference at the int16 and int8 extremes, including i32 wraparound", () => {
      for (const [qv, cv] of [[-32768, -128], [32767, -128], [-32768, 127], [32767, 127]]) {
        for (const dims of [1, 8, 9, 16, 17, 511, 512, 513, 1536]) {
          const query = new Int16Array(dims).fill(qv);
          const codes = new Int8Array(dims * 9).fill(cv);
          expect(Array.from(run("dot_i16i8", query, codes, 3, 5)), `q=${qv} c=${cv} dims=${dims}`).toEqual(
            Array.from(reference.dot_i16i8(query, codes)),
          );
        }
      }
    });
  });

  describe("dot_f32", () => {
    it("matches reference bit for bit for every dims 1..1536 (seeded normal values, unaligned)", () => {
      const random = rng(9);
      for (let dims = 1; dims <= 1536; dims++) {
        const query = randomNormal(random, dims);
        const vectors = randomNormal(random, dims * 13);
        const got = run("dot_f32", query, vectors, (dims * 4) % 16 === 0 ? 4 : 0, dims % 4);
        expect(Array.from(got), `dims=${dims}`).toEqual(Array.from(reference.dot_f32(query, vectors)));
      }
    });

    it("matches reference on values of very different magnitudes (rounding order matters)", () => {
      const random = rng(10);
      for (const dims of [5, 16, 17, 33, 100, 1024, 1536]) {
        const query = Float32Array.from({ length: dims }, (_, i) => (i % 3 === 0 ? 1e20 : 1e-20) * (random() - 0.5));
        const vectors = Float32Array.from({ length: dims * 11 }, (_, i) => (i % 5 === 0 ? 1e10 : 1) * (random() - 0.5));
        expect(Array.from(run("dot_f32", query, vectors)), `dims=${dims}`).toEqual(Array.from(reference.dot_f32(query, vectors)));
      }
    });
  });

  describe("fused scan + top-k", () => {
    type TopKKernel = "hamming_u1_topk" | "dot_i8_topk" | "dot_i16i8_topk" | "dot_f32_topk";
    const CASES: Array<{ kernel: TopKKernel; make: (random: () => number, n: number) => Typed; keyOf: (v: number) => number }> = [
      // Few distinct values, so ties are everywhere and the id order decides.
      { kernel: "hamming_u1_topk", make: (r, n) => Uint8Array.from(randomInts(r, n, 0, 3)), keyOf: (d) => -d },
      { kernel: "dot_i8_topk", make: (r, n) => Int8Array.from(randomInts(r, n, -2, 2)), keyOf: (v) => v },
      { kernel: "dot_i16i8_topk", make: (r, n) => Int8Array.from(randomInts(r, n, -2, 2)), keyOf: (v) => v },
      { kernel: "dot_f32_topk", make: (r, n) => Float32Array.from(randomInts(r, n, -2, 2)), keyOf: (v) => v },
    ];

    for (const { kernel, make, keyOf } of CASES) {
      it(`${kernel} equals reference top-k with ties by smaller id, across segments (seeded)`, () => {
        const random = rng(kernel.length);
        for (const [dims, count, k] of [[3, 50, 1], [17, 200, 10], [33, 500, 37], [64, 300, 300], [8, 40, 100]]) {
          const scoreKernel = kernel.replace("_topk", "") as ScoreKernel;
          const query = kernel === "dot_i16i8_topk" ? Int16Array.from(randomInts(random, dims, -3, 3)) : make(random, dims);
          const codes = make(random, dims * count);
          // ids: a shuffled permutation, so tie order is not the row order
          const ids = Uint32Array.from({ length: count }, (_, i) => i * 3 + 1);
          for (let i = count - 1; i > 0; i--) {
            const j = Math.floor(random() * (i + 1));
            [ids[i], ids[j]] = [ids[j], ids[i]];
          }
          const values = (reference as unknown as Record<ScoreKernel, (q: Typed, c: Typed) => ArrayLike<number>>)[scoreKernel](query, codes);
          const keys = Array.from(values, keyOf);
          const expected = reference.topk(keys, ids, k);

          // Scan in two segments into one heap, as the index does.
          const arena = newArena();
          const q = placeQuery(arena, query, 0);
          const base = place(arena, codes, 0);
          const idsPtr = place(arena, new Uint8Array(ids.buffer), 0);
          const capacity = Math.min(k, count);
          const heap = arena.alloc("test", heapBytes(arena, capacity));
          resetHeap(arena, heap, capacity);
          const split = Math.floor(count / 3);
          const rowBytes = codes.BYTES_PER_ELEMENT * dims;
          arena.kernels[kernel](q, base, dims, split, idsPtr, 0, heap);
          arena.kernels[kernel](q, base + split * rowBytes, dims, count - split, idsPtr + split * 4, split, heap);
          const got = drainHeap(arena, heap);

          expect(Array.from(got.rows), `${kernel} dims=${dims} count=${count} k=${k}`).toEqual(expected);
          expect(Array.from(got.ids)).toEqual(expected.map((row) => ids[row]));
          const gotValues = Array.from(got.keys, kernel === "dot_f32_topk" ? keyToF32 : (key) => keyOf(key));
          expect(gotValues).toEqual(expected.map((row) => values[row]));
        }
      });
    }

    it("hamming_u1_topk equals reference for every code length, both the register path (16·n ≤ 128 bytes) and the generic one", () => {
      const random = rng(77);
      for (let bytes = 1; bytes <= 160; bytes++) {
        const count = 97;
        const query = Uint8Array.from(randomInts(random, bytes, 0, 255));
        const codes = Uint8Array.from(randomInts(random, bytes * count, 0, 255));
        codes.set(codes.subarray(0, bytes), bytes * 50); // an exact tie: rows 0 and 50
        const distances = reference.hamming_u1(query, codes);
        const rowIds = Array.from({ length: count }, (_, i) => count - i); // ties go to the later row
        const expected = reference.topk(Array.from(distances, (d) => -d), rowIds, 12);
        const arena = newArena();
        const q = placeQuery(arena, query, 5);
        const base = place(arena, codes, 3);
        const idsPtr = place(arena, new Uint8Array(Uint32Array.from(rowIds).buffer), 0);
        const heap = arena.alloc("test", heapBytes(arena, 12));
        resetHeap(arena, heap, 12);
        arena.kernels.hamming_u1_topk(q, base, bytes, count, idsPtr, 0, heap);
        expect(Array.from(drainHeap(arena, heap).rows), `bytes=${bytes}`).toEqual(expected);
      }
    });

    it.each([
      ["hamming_u1", 128, "ties"], ["hamming_u1", 40, "ties"], ["dot_i8", 100, "ties"], ["dot_i16i8", 1024, "ties"],
      ["dot_i16i8", 1037, "ties"], ["dot_i16i8", 3, "ties"], ["dot_i16i8", 1037, "full range, rows as ids"],
      ["dot_i8", 100, "full range, rows as ids"], ["dot_f32", 384, "ties"], ["dot_f32", 7, "ties"],
    ] as const)("%s_topk_batch equals one reference top-k per query across cache blocks (dims=%i, %s)", (name, dims, data) => {
      // "ties": few distinct values and shuffled ids, so the id order decides; "full range":
      // extreme codes and int16 queries (i32 wraparound included) and ids == 0 (row numbers).
      const full = data !== "ties";
      const random = rng(dims + name.length);
      const count = 1501; // several 128 KB blocks for the wider rows; an odd number of rows
      const queryCount = 9; // int16 queries go four at a time: two groups and one left over
      const k = 9;
      const make = (n: number): Typed =>
        name === "hamming_u1" ? Uint8Array.from(randomInts(random, n, 0, 255))
          : name === "dot_f32" ? Float32Array.from(randomInts(random, n, -3, 3))
          : Int8Array.from(full ? randomInts(random, n, -128, 127) : randomInts(random, n, -3, 3));
      const codes = make(dims * count);
      const queries = Array.from({ length: queryCount }, () =>
        name !== "dot_i16i8" ? make(dims) : Int16Array.from(full ? randomInts(random, dims, -32768, 32767) : randomInts(random, dims, -300, 300)));
      const ids = full ? Uint32Array.from({ length: count }, (_, i) => i) : Uint32Array.from({ length: count }, (_, i) => (i * 7919) % 100003);
      const arena = newArena();
      const base = place(arena, codes, 0);
      const idsPtr = place(arena, new Uint8Array(ids.buffer), 0);
      const { queriesPtr, queryBytes } = placeQueries(arena, queries, dims);
      const heaps = queries.map(() => arena.alloc("test", heapBytes(arena, k)));
      heaps.forEach((heap) => resetHeap(arena, heap, k));
      const list = place(arena, new Uint8Array(Uint32Array.from(heaps).buffer), 0);
      arena.kernels[`${name}_topk_batch`](queriesPtr, queryBytes, queryCount, base, dims, count, full ? 0 : idsPtr, 0, list);
      queries.forEach((query, i) => {
        const values = (reference as unknown as Record<string, (q: Typed, c: Typed) => ArrayLike<number>>)[name](query, codes);
        const keys = Array.from(values, (v) => (name === "hamming_u1" ? -v : v));
        expect(Array.from(drainHeap(arena, heaps[i]).rows), `${name} query ${i}`).toEqual(reference.topk(keys, ids, k));
      });
    });

    it.each([
      ["hamming_u1", 0, 128], ["hamming_u1", 0, 40], ["dot_i8", 1, 100], ["dot_i16i8", 2, 385], ["dot_f32", 3, 33],
    ] as const)("scan_topk of a descriptor equals the reference over the rows its bitmap admits (from an unaligned bit) or its list names (%s, metric %i, dims %i)", (name, metric, dims) => {
      // Few distinct values and shuffled ids, so ties are common and the id order decides them.
      const random = rng(500 + dims + metric);
      const count = 777;
      const k = 9;
      const maskBit = 13;
      const make = (n: number): Typed =>
        name === "hamming_u1" ? Uint8Array.from(randomInts(random, n, 0, 255))
          : name === "dot_f32" ? Float32Array.from(randomInts(random, n, -3, 3))
          : Int8Array.from(randomInts(random, n, -3, 3));
      const codes = make(dims * count);
      const queries = Array.from({ length: 5 }, () => (name === "dot_i16i8" ? Int16Array.from(randomInts(random, dims, -300, 300)) : make(dims)));
      const ids = Uint32Array.from({ length: count }, (_, i) => (i * 7919) % 100003);
      const admitted = Array.from({ length: count }, (_, i) => i).filter(() => random() < 0.3);
      const listed = Array.from({ length: count }, (_, i) => i).filter(() => random() < 0.05);
      // Bit maskBit + i is row i; the bits below maskBit are set and must not shift the rows.
      const bitmap = new Uint8Array(Math.ceil((maskBit + count) / 8));
      for (let bit = 0; bit < maskBit; bit++) bitmap[bit >> 3] |= 1 << (bit & 7);
      for (const row of admitted) bitmap[(maskBit + row) >> 3] |= 1 << ((maskBit + row) & 7);

      const arena = newArena();
      const base = place(arena, codes, 0);
      const idsPtr = place(arena, new Uint8Array(ids.buffer), 0);
      const maskPtr = place(arena, bitmap, 0);
      const listPtr = place(arena, new Uint8Array(Uint32Array.from(listed).buffer), 0);
      const { queriesPtr, queryBytes } = placeQueries(arena, queries, dims);
      const keys = queries.map((query) => {
        const values = (reference as unknown as Record<string, (q: Typed, c: Typed) => ArrayLike<number>>)[name](query, codes);
        return Array.from(values, (v) => (name === "hamming_u1" ? -v : v));
      });

      for (const queryCount of [1, queries.length]) {
        for (const [filter, rows] of [["bitmap", admitted], ["list", listed]] as const) {
          const heaps = allocateHeaps(arena, "test", "heaps", queryCount, k);
          const range: RowRange = filter === "bitmap"
            ? { base, ids: idsPtr, rowBase: 0, count, mask: maskPtr, maskBit, list: 0 }
            : { base, ids: idsPtr, rowBase: 0, count: listed.length, mask: 0, maskBit: 0, list: listPtr };
          const [desc] = writeDescriptors(arena, "test", "descs", { metric, dims, queries: queriesPtr, queryBytes, queryCount }, [range], heaps.list);
          arena.kernels.scan_topk(desc);
          for (let q = 0; q < queryCount; q++) {
            const expected = reference.topk(rows.map((r) => keys[q][r]), rows.map((r) => ids[r]), k).map((i) => rows[i]);
            expect(Array.from(drainHeap(arena, heaps.heaps[q]).rows), `${filter}, ${queryCount} queries, query ${q}`).toEqual(expected);
          }
        }
      }
    });

    it("dot_f32_topk orders negative, zero and positive scores like the reference (-0 ties with +0)", () => {
      const query = new Float32Array([1]);
      const vectors = new Float32Array([-0, 0, -1e-30, 1e-30, -3, 2.5, 0, -0]);
      const arena = newArena();
      const q = place(arena, query, 0);
      const base = place(arena, vectors, 0);
      const heap = arena.alloc("test", heapBytes(arena, 8));
      resetHeap(arena, heap, 8);
      arena.kernels.dot_f32_topk(q, base, 1, 8, 0, 0, heap);
      const got = drainHeap(arena, heap);
      const values = reference.dot_f32(query, vectors);
      expect(Array.from(got.rows)).toEqual(reference.topk(values, [0, 1, 2, 3, 4, 5, 6, 7], 8));
      expect(Array.from(got.rows)).toEqual([5, 3, 0, 1, 6, 7, 2, 4]);
    });
  });

  describe("gathered rows (rescoring)", () => {
    it("dot_i16i8_rows and dot_f32_rows equal the reference on the listed rows", () => {
      const random = rng(11);
      for (const dims of [1, 9, 16, 100, 384, 1025]) {
        const count = 40;
        const q16 = Int16Array.from(randomInts(random, dims, -32768, 32767));
        const codes = Int8Array.from(randomInts(random, dims * count, -128, 127));
        const qf = randomNormal(random, dims);
        const floats = randomNormal(random, dims * count);
        const picks = randomInts(random, 17, 0, count - 1);

        const arena = newArena();
        const q16Ptr = placeQuery(arena, q16, 2);
        const codesPtr = place(arena, codes, 1);
        const qfPtr = place(arena, qf, 4);
        const floatsPtr = place(arena, floats, 8);
        const ptrs = arena.alloc("test", picks.length * 4);
        const out = arena.alloc("test", picks.length * 4);

        arena.u32.set(picks.map((row) => codesPtr + row * dims), ptrs >> 2);
        arena.kernels.dot_i16i8_rows(q16Ptr, ptrs, dims, picks.length, out);
        const allI = reference.dot_i16i8(q16, codes);
        expect(Array.from(arena.i32.slice(out >> 2, (out >> 2) + picks.length)), `dims=${dims}`).toEqual(picks.map((r) => allI[r]));

        arena.u32.set(picks.map((row) => floatsPtr + row * dims * 4), ptrs >> 2);
        arena.kernels.dot_f32_rows(qfPtr, ptrs, dims, picks.length, out);
        const allF = reference.dot_f32(qf, floats);
        expect(Array.from(arena.f32.slice(out >> 2, (out >> 2) + picks.length)), `dims=${dims}`).toEqual(picks.map((r) => allF[r]));
      }
    });
  });

  describe("scans whose four streams would start a power of two apart (32 MiB: the chunks are lengthened)", () => {
    // scan.ts streamRows: chunks of 8 MiB or more that would start a multiple of 1 MiB apart
    // grow by a few rows; the last chunk is then shorter and the other chunks' last rows are
    // scored one at a time. Every row must still be scored exactly once. The counts make each
    // chunk exactly 8 MiB (or a row off it, so the last chunk is ragged too).
    const SIZES = [
      ["hamming_u1", 128, 65536 * 4], ["hamming_u1", 128, 65536 * 4 - 3], ["dot_i8", 1024, 8192 * 4],
      ["dot_i16i8", 1024, 8192 * 4 - 1], ["dot_f32", 1024, 2048 * 4], ["dot_f32", 1024, 2048 * 4 + 1],
    ] as const;

    /** Seeded codes of any size without a JS number per element. */
    function bulk(name: ScoreKernel, n: number, seed: number): Typed {
      const random = rng(seed);
      if (name === "dot_f32") return Float32Array.from({ length: n }, () => Math.round(random() * 6 - 3));
      const words = Uint32Array.from({ length: Math.ceil(n / 4) }, () => (random() * 2 ** 32) >>> 0);
      const bytes = new Uint8Array(words.buffer, 0, n);
      return name === "hamming_u1" ? bytes : new Int8Array(bytes.buffer, 0, n);
    }

    it.each(SIZES)("%s writes every row's score once (dims %i, %i rows)", (name, dims, count) => {
      const codes = bulk(name, dims * count, count);
      const query = name === "dot_i16i8" ? Int16Array.from(randomInts(rng(1), dims, -300, 300)) : bulk(name, dims, 2);
      const arena = newArena();
      const q = placeQuery(arena, query, 0);
      const base = place(arena, codes, 0);
      const out = arena.alloc("test", count * 4 + 4);
      arena.i32.fill(-7, out >> 2, (out >> 2) + count + 1);
      arena.kernels[name](q, base, dims, count, out);
      const view = name === "dot_f32" ? arena.f32 : arena.i32;
      const got = view.slice(out >> 2, (out >> 2) + count);
      const expected = (reference as unknown as Record<ScoreKernel, (q: Typed, c: Typed) => ArrayLike<number>>)[name](query, codes);
      const wrong = got.findIndex((v, i) => !Object.is(v, expected[i]));
      expect(wrong, `first wrong row (got ${got[wrong]}, expected ${expected[wrong]})`).toBe(-1);
      expect(arena.i32[(out >> 2) + count], "the word past the last row").toBe(-7);
    });

    it.each(SIZES)("%s_topk offers every row once (dims %i, %i rows; the best rows planted at the chunks' ends)", (name, dims, count) => {
      const codes = bulk(name, dims * count, count + 1);
      const query = name === "dot_i16i8" ? Int16Array.from(randomInts(rng(3), dims, -300, 300)) : bulk(name, dims, 4);
      // The best possible row for this query, copied over rows around each quarter of the codes
      // (where the lengthened chunks and the single rows meet) and at the end.
      const best = name === "hamming_u1" ? query
        : name === "dot_f32" ? Float32Array.from(query as Float32Array, (v) => (v > 0 ? 3 : v < 0 ? -3 : 0))
        : Int8Array.from(query as Int8Array | Int16Array, (v) => (v > 0 ? 127 : v < 0 ? -128 : 0));
      const planted = [...new Set([1, 2, 3].flatMap((quarter) => {
        const at = Math.floor((quarter * count) / 4);
        return [-1500, -300, -40, -2, -1, 0, 1, 2, 40].map((d) => at + d);
      }).concat([count - 1, count - 2]))];
      for (const row of planted) (codes as Uint8Array).set(best as Uint8Array, row * dims);
      const ids = Uint32Array.from({ length: count }, (_, i) => (i * 7919) % 1000003);
      const k = planted.length + 3;

      const arena = newArena();
      const q = placeQuery(arena, query, 0);
      const base = place(arena, codes, 0);
      const idsPtr = place(arena, new Uint8Array(ids.buffer), 0);
      const heap = arena.alloc("test", heapBytes(arena, k));
      resetHeap(arena, heap, k);
      arena.kernels[`${name}_topk`](q, base, dims, count, idsPtr, 0, heap);
      const values = (reference as unknown as Record<ScoreKernel, (q: Typed, c: Typed) => ArrayLike<number>>)[name](query, codes);
      const keys = Array.from(values, (v) => (name === "hamming_u1" ? -v : v));
      const got = Array.from(drainHeap(arena, heap).rows);
      expect(got).toEqual(reference.topk(keys, ids, k));
      expect(got.filter((row) => planted.includes(row)).length, "planted rows found").toBe(planted.length);
    });

    it("read_sum_rows reads every row once", () => {
      for (const [rowBytes, count] of [[128, 65536 * 4], [1024, 8192 * 4 - 1]]) {
        const data = bulk("hamming_u1", rowBytes * count, rowBytes) as Uint8Array;
        const arena = newArena();
        expect(arena.kernels.read_sum_rows(place(arena, data, 0), rowBytes, count), `rowBytes=${rowBytes}`).toBe(reference.read_sum(data, 16));
      }
    });
  });

  describe("streaming-read baselines", () => {
    it("read_sum checksums every whole 64-byte block, like the reference", () => {
      const random = rng(12);
      for (const bytes of [0, 63, 64, 65, 640, 64 * 8 + 10, 64 * 1001]) {
        const data = Uint8Array.from(randomInts(random, bytes, 0, 255));
        const arena = newArena();
        expect(arena.kernels.read_sum(place(arena, data, 0), bytes), `bytes=${bytes}`).toBe(reference.read_sum(data));
      }
    });

    it("read_sum_rows checksums every row in the scans' order, like the reference", () => {
      const random = rng(13);
      for (const [rowBytes, count] of [[16, 0], [16, 1], [16, 7], [48, 9], [128, 33], [1024, 40], [4096, 17]]) {
        const data = Uint8Array.from(randomInts(random, rowBytes * count, 0, 255));
        const arena = newArena();
        const got = arena.kernels.read_sum_rows(place(arena, data, 0), rowBytes, count);
        expect(got, `rowBytes=${rowBytes} count=${count}`).toBe(reference.read_sum(data, 16));
      }
    });

    it("popcount_scan_1024 (the Hamming suite's hardware reference scan) writes every row's distance, like the reference", () => {
      const random = rng(14);
      for (const [count, misalign] of [[0, 0], [1, 3], [5, 0], [97, 7]]) {
        const codes = Uint8Array.from(randomInts(random, 128 * count, 0, 255));
        const query = Uint8Array.from(randomInts(random, 128, 0, 255));
        const arena = newArena();
        const out = arena.alloc("test", count * 4 + 4);
        arena.i32.fill(-1, out >> 2, (out >> 2) + count + 1);
        arena.kernels.popcount_scan_1024(place(arena, query, misalign), place(arena, codes, misalign), count, out);
        const got = Array.from(arena.i32.slice(out >> 2, (out >> 2) + count + 1));
        expect(got, `count=${count}`).toEqual([...reference.hamming_u1(query, codes), -1]);
      }
    });
  });
});

describe("release build", () => {
  it("uses SIMD instructions: i8x16.popcnt, i32x4.dot_i16x8_s, f32x4.mul, and in quantization f32x4.div, i8x16.bitmask", () => {
    const text = readFileSync(new URL("../build/quantvec.wat", import.meta.url), "utf8");
    for (const instruction of ["i8x16.popcnt", "i32x4.dot_i16x8_s", "f32x4.mul", "v128.xor", "f32x4.div", "i8x16.bitmask", "i8x16.narrow_i16x8_u"]) {
      expect(text, instruction).toContain(instruction);
    }
  });

  it("imports nothing but its memory (no abort, no runtime)", async () => {
    const module = new WebAssembly.Module(readFileSync(new URL("../build/quantvec.wasm", import.meta.url)));
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: "env", name: "memory", kind: "memory" }]);
  });
});
