// Property suite over the raw `kernels` API: random row lengths, row counts, byte offsets into the
// caller's buffers, KernelBuffers, k and ids, every result against the scalar references of
// src/reference.ts (which share no code with the kernels). Seeds and run counts: test/property.ts.

import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { kernels, ready } from "../src/index.js";
import * as reference from "../src/reference.js";
import { checkProperty, propertyTimeout } from "./property.js";

const CI_RUNS = 150;

beforeAll(() => ready());

type Name = "hamming_u1" | "dot_i8" | "dot_i16i8" | "dot_f32";
type Numeric = Uint8Array | Int8Array | Int16Array | Float32Array;

interface KernelCase {
  name: Name;
  query: fc.Arbitrary<number>;
  codes: fc.Arbitrary<number>;
  Query: new (buffer: ArrayBuffer, byteOffset: number, length: number) => Numeric;
  Codes: new (buffer: ArrayBuffer, byteOffset: number, length: number) => Numeric;
  buffer?: "uint8" | "int8" | "float32";
  /** Heap keys are higher-is-better: the reference value's key. */
  key: (value: number) => number;
}

const int8 = fc.integer({ min: -128, max: 127 });
// Floats small enough that no sum overflows, with −0, subnormals and exact repeats among them.
const float = fc.oneof(fc.float({ min: -1000, max: 1000, noNaN: true }), fc.constantFrom(0, -0, 1, -1, 1e-41));

const CASES: KernelCase[] = [
  { name: "hamming_u1", query: fc.integer({ min: 0, max: 255 }), codes: fc.integer({ min: 0, max: 255 }), Query: Uint8Array, Codes: Uint8Array, buffer: "uint8", key: (d) => -d },
  { name: "dot_i8", query: int8, codes: int8, Query: Int8Array, Codes: Int8Array, buffer: "int8", key: (v) => v },
  { name: "dot_i16i8", query: fc.integer({ min: -32768, max: 32767 }), codes: int8, Query: Int16Array, Codes: Int8Array, buffer: "int8", key: (v) => v },
  { name: "dot_f32", query: float, codes: float, Query: Float32Array, Codes: Float32Array, buffer: "float32", key: (v) => v },
];

/** `values` in a typed array that starts `offset` elements into a larger buffer (so its byteOffset is unaligned). */
function placed(Type: KernelCase["Query"], values: number[], offset: number): Numeric {
  const bytes = (Type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const array = new Type(new ArrayBuffer((offset + values.length + 3) * bytes), offset * bytes, values.length);
  array.set(values);
  return array;
}

/** A random input for one kernel: dims, rows, offsets, k, ids, and whether the codes live in a KernelBuffer. */
const input = (kernel: KernelCase) =>
  fc
    .record({ dims: fc.integer({ min: 1, max: 70 }), count: fc.integer({ min: 0, max: 40 }) })
    .chain(({ dims, count }) =>
      fc.record({
        query: fc.array(kernel.query, { minLength: dims, maxLength: dims }),
        codes: fc.array(kernel.codes, { minLength: dims * count, maxLength: dims * count }),
        queryOffset: fc.integer({ min: 0, max: 9 }),
        codesOffset: fc.integer({ min: 0, max: 9 }),
        inBuffer: fc.boolean(),
        k: fc.integer({ min: 1, max: count + 5 }),
        // Distinct ids (as an index's are): rows with equal keys and equal ids have no defined order.
        ids: fc.option(fc.uniqueArray(fc.nat({ max: 3 * count }), { minLength: count, maxLength: count }), { nil: undefined }),
      }),
    );

/** Staged inputs: the query and codes as the caller would pass them (a KernelBuffer to dispose, if any). */
function stage(kernel: KernelCase, sample: { query: number[]; codes: number[]; queryOffset: number; codesOffset: number; inBuffer: boolean }) {
  const query = placed(kernel.Query, sample.query, sample.queryOffset);
  const reference = placed(kernel.Codes, sample.codes, 0);
  if (!sample.inBuffer) return { query, codes: placed(kernel.Codes, sample.codes, sample.codesOffset) as Numeric | ReturnType<typeof kernels.alloc>, reference, dispose: () => {} };
  const buffer = kernels.alloc(kernel.buffer!, sample.codes.length);
  buffer.array.set(sample.codes);
  return { query, codes: buffer, reference, dispose: () => buffer.dispose() };
}

const referenceScores = (name: Name, query: Numeric, codes: Numeric): ArrayLike<number> =>
  (reference[name] as (q: Numeric, c: Numeric) => ArrayLike<number>)(query, codes);

/** −0 as +0: heap keys make no difference between them. */
const signless = (values: ArrayLike<number>) => Array.from(values, (v) => (v === 0 ? 0 : v));

describe.each(CASES)("kernels.$name against src/reference.ts", (kernel) => {
  it(`scores: every row, any dims, count and byte offset, plain arrays or a KernelBuffer`, async () => {
    await checkProperty(
      fc.property(input(kernel), (sample) => {
        const { query, codes, reference: codesCopy, dispose } = stage(kernel, sample);
        try {
          const got = (kernels[kernel.name] as (q: Numeric, c: unknown) => ArrayLike<number>)(query, codes);
          expect(Array.from(got)).toEqual(Array.from(referenceScores(kernel.name, query, codesCopy)));
        } finally {
          dispose();
        }
      }),
      CI_RUNS,
    );
  }, propertyTimeout(CI_RUNS));

  it(`top-k: the reference's best k rows, ties by smaller id, with and without ids`, async () => {
    await checkProperty(
      fc.property(input(kernel), (sample) => {
        const { query, codes, reference: codesCopy, dispose } = stage(kernel, sample);
        try {
          const ids = sample.ids === undefined ? undefined : Uint32Array.from(sample.ids);
          const topk = kernels[`${kernel.name}_topk`] as (q: Numeric, c: unknown, k: number, ids?: Uint32Array) => { rows: Uint32Array; ids: Uint32Array; values: ArrayLike<number> };
          const got = topk(query, codes, sample.k, ids);
          const values = Array.from(referenceScores(kernel.name, query, codesCopy));
          const rowIds = sample.ids ?? values.map((_, i) => i);
          const best = reference.topk(values.map(kernel.key), rowIds, sample.k);
          expect(Array.from(got.rows)).toEqual(best);
          expect(Array.from(got.ids)).toEqual(best.map((i) => rowIds[i]));
          expect(signless(got.values)).toEqual(signless(best.map((i) => values[i])));
        } finally {
          dispose();
        }
      }),
      CI_RUNS,
    );
  }, propertyTimeout(CI_RUNS));

  it("rejects a k that is not a positive integer, and codes that are not whole rows", async () => {
    await checkProperty(
      fc.property(input(kernel), fc.oneof(fc.constantFrom(0, -1, 0.5, NaN, Infinity), fc.integer({ max: 0 })), (sample, badK) => {
        const { query, codes, dispose } = stage(kernel, sample);
        try {
          const topk = kernels[`${kernel.name}_topk`] as (q: Numeric, c: unknown, k: number) => unknown;
          expect(() => topk(query, codes, badK)).toThrow(RangeError);
          expect(() => topk(query, codes, badK)).toThrow(/k must be a positive integer/);
          if (query.length > 1) {
            const ragged = placed(kernel.Codes, [...sample.codes, 0], sample.codesOffset);
            expect(() => (kernels[kernel.name] as (q: Numeric, c: unknown) => unknown)(query, ragged)).toThrow(/not a multiple of the query's/);
          }
        } finally {
          dispose();
        }
      }),
      Math.ceil(CI_RUNS / 3),
    );
  });
});
