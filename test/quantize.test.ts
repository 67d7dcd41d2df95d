// quantize() is bit-exact with sentence-transformers >= 5.7 quantize_embeddings: every case of
// test/fixtures/quantization.json (written by the numpy replica make_quantization.py) and
// every precision, plus the library's own reference case spelled out. Both ways of quantizing
// are checked: the scalar loops (before ready() has compiled the kernels; these tests come
// first) and the WebAssembly kernels (after), the kernels also against the loops on random
// rows with odd lengths, bucket edges, −0, subnormals and values far out of range.

import { readFileSync } from "node:fs";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { calibrate, quantize, ready, truncate } from "../src/index.js";
import { packBits, packBitsRow, quantizeRow, quantizeRows, stepsOf } from "../src/quantize.js";
import { isCompiled } from "../src/wasm.js";
import { checkProperty } from "./property.js";

interface Case {
  name: string;
  dims: number;
  embeddings: number[][];
  calibration: number[][] | null;
  ranges: [number[], number[]] | null;
  expected: {
    ranges: [number[], number[]];
    steps: number[];
    int8: number[][];
    uint8: number[][];
    binary: number[][];
    ubinary: number[][];
  };
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/quantization.json", import.meta.url), "utf8")) as {
  reference: string;
  cases: Case[];
};
const f32rows = (rows: number[][]) => rows.map((row) => Float32Array.from(row));

/** One fixture case through calibrate, stepsOf and quantize at every precision. */
function checkFixtureCase(c: Case): void {
  const options = c.ranges
    ? { ranges: c.ranges.map((side) => Float32Array.from(side)) as [Float32Array, Float32Array] }
    : c.calibration
      ? { calibration: f32rows(c.calibration) }
      : {};
  const embeddings = f32rows(c.embeddings);
  const ranges = c.ranges
    ? { min: Float32Array.from(c.ranges[0]), max: Float32Array.from(c.ranges[1]) }
    : calibrate(c.calibration ? f32rows(c.calibration) : embeddings);
  expect(Array.from(ranges.min), "ranges min").toEqual(Array.from(Float32Array.from(c.expected.ranges[0])));
  expect(Array.from(ranges.max), "ranges max").toEqual(Array.from(Float32Array.from(c.expected.ranges[1])));
  expect(Array.from(stepsOf(ranges)), "steps").toEqual(Array.from(Float32Array.from(c.expected.steps)));

  for (const precision of ["int8", "uint8", "binary", "ubinary"] as const) {
    const got = quantize(embeddings, precision, options);
    const cols = precision.endsWith("binary") ? Math.ceil(c.dims / 8) : c.dims;
    expect(got.rows).toBe(c.embeddings.length);
    expect(got.cols).toBe(cols);
    expect(got.data).toBeInstanceOf(precision === "int8" || precision === "binary" ? Int8Array : Uint8Array);
    expect(Array.from(got.data), precision).toEqual(c.expected[precision].flat());
  }
}

describe(`quantize matches sentence-transformers (${fixture.reference}), scalar loops`, () => {
  it("has the fixture cases the generator promises", () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(15);
    expect(fixture.cases.map((c) => c.name)).toContain("st-reference-clip");
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    expect(isCompiled("simd"), "these run before ready()").toBe(false);
    checkFixtureCase(c);
  });
});

describe(`quantize matches sentence-transformers (${fixture.reference}), WebAssembly kernels`, () => {
  beforeAll(() => ready());

  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    expect(isCompiled("simd"), "these run after ready()").toBe(true);
    checkFixtureCase(c);
  });
});

describe("the quantization kernels against the scalar loops", () => {
  beforeAll(() => ready());

  // Values that probe each rounding: bucket edges of the ranges below (x = min + k · step in
  // float32, and one ulp either side), −0, subnormals, and values far outside any range (x − min
  // overflows float32 to ±Infinity, which clips).
  const value = fc.oneof(
    fc.float({ min: -4, max: 4, noNaN: true }),
    fc.constantFrom(0, -0, 1e-45, -1e-45, 1.1754942e-38, 3.4e38, -3.4e38),
    fc.record({ k: fc.integer({ min: -2, max: 258 }), ulp: fc.constantFrom(-1, 0, 1) }),
  );
  const range = fc.oneof(
    fc.tuple(fc.float({ min: -3, max: 0, noNaN: true }), fc.float({ min: 0, max: 3, noNaN: true })),
    fc.constantFrom([0, 0], [1, 1], [-1e-40, 1e-40], [-1.7e38, 1.7e38], [-2, -1]),
  );
  const cases = fc
    .record({ dims: fc.integer({ min: 1, max: 70 }), rows: fc.integer({ min: 0, max: 9 }) })
    .chain(({ dims, rows }) =>
      fc.record({
        dims: fc.constant(dims),
        rows: fc.constant(rows),
        ranges: fc.array(range, { minLength: dims, maxLength: dims }),
        values: fc.array(value, { minLength: dims * rows, maxLength: dims * rows }),
        first: fc.integer({ min: 0, max: 2 }),
        outStart: fc.integer({ min: 0, max: 5 }),
      }),
    );
  /** The float32 next to `x` in direction `dir` (−1, 0, +1). */
  const ulpStep = (x: number, dir: number) => {
    if (dir === 0) return x;
    if (x === 0) return dir * 1e-45;
    const bits = new Float32Array([x]);
    new Int32Array(bits.buffer)[0] += x > 0 === dir > 0 ? 1 : -1;
    return bits[0];
  };

  it("pack bits and int8/uint8 buckets byte for byte", async () => {
    expect(isCompiled("simd")).toBe(true);
    await checkProperty(
      fc.property(cases, ({ dims, rows, ranges, values, first, outStart }) => {
        const min = Float32Array.from(ranges, (r) => r[0]);
        const max = Float32Array.from(ranges, (r) => r[1]);
        const steps = stepsOf({ min, max });
        // `first` rows of padding before the rows that are quantized.
        const src = new Float32Array((first + rows) * dims);
        values.forEach((v, i) => {
          const c = i % dims;
          const edge = typeof v === "number" ? v : ulpStep(Math.fround(min[c] + Math.fround(v.k * steps[c])), v.ulp);
          // Inputs are finite (quantize and Index.add reject the rest): an edge past float32's range stays at min.
          src[first * dims + i] = Number.isFinite(edge) ? edge : min[c];
        });
        for (const flip of [0, 0x80] as const) {
          const bytes = Math.ceil(dims / 8);
          const bits = new Uint8Array(outStart + rows * bytes);
          const bitsRef = new Uint8Array(outStart + rows * bytes);
          packBits(src, first, rows, dims, bits, outStart, flip);
          for (let r = 0; r < rows; r++) packBitsRow(src, (first + r) * dims, dims, bitsRef, outStart + r * bytes, flip);
          expect(Array.from(bits), `bits, flip ${flip}`).toEqual(Array.from(bitsRef));

          const offset = flip === 0 ? 0 : -128;
          const Out = flip === 0 ? Uint8Array : Int8Array;
          const codes = new Out(outStart + rows * dims);
          const codesRef = new Out(outStart + rows * dims);
          quantizeRows(src, first, rows, dims, min, steps, codes, outStart, offset);
          for (let r = 0; r < rows; r++) quantizeRow(src, (first + r) * dims, dims, min, steps, codesRef, outStart + r * dims, offset);
          expect(Array.from(codes), `buckets, offset ${offset}`).toEqual(Array.from(codesRef));
        }
      }),
      200,
    );
  });

  it("never sees NaN or ±Infinity: quantize still rejects them before any kernel runs", () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const precision of ["int8", "binary"] as const) {
        expect(() => quantize([[0.5, bad, 1]], precision, { ranges: [[0, 0, 0], [1, 1, 1]] }), `${bad} ${precision}`).toThrow(RangeError);
      }
    }
  });

  it("reads a flat Float32Array chunk by chunk, and names a NaN or ±Infinity in any chunk as before", () => {
    const dims = 1000;
    const flat = Float32Array.from({ length: 1100 * dims }, (_, i) => Math.cos(i) * 3);
    const ranges = { min: new Float32Array(dims).fill(-3), max: new Float32Array(dims).fill(3) };
    const rowsOf = (data: Float32Array) => Array.from({ length: 1100 }, (_, r) => data.subarray(r * dims, (r + 1) * dims));
    // The same rows as an array of rows take the copying path (toMatrix): identical codes.
    for (const precision of ["int8", "uint8", "binary", "ubinary"] as const) {
      expect(Array.from(quantize(flat, precision, { dims, ranges }).data), precision).toEqual(Array.from(quantize(rowsOf(flat), precision, { ranges }).data));
    }
    // 65 rows of 1000 fill a 256 KiB staging chunk: row 64's last value ends the first chunk.
    for (const [at, bad] of [[5, NaN], [65 * dims - 1, NaN], [1099 * dims + 998, Infinity], [1050 * dims, -Infinity]] as const) {
      const poisoned = flat.slice();
      poisoned[at] = bad;
      const where = `row ${Math.floor(at / dims)}, column ${at % dims} is ${bad}; values must be finite`;
      for (const precision of ["int8", "binary"] as const) {
        expect(() => quantize(poisoned, precision, { dims, ranges }), `${bad} ${precision}`).toThrow(where);
      }
    }
  });

  it("reads a flat Float32Array over a SharedArrayBuffer the same way: each staged chunk checked, then coded", () => {
    const dims = 1000;
    const plain = Float32Array.from({ length: 200 * dims }, (_, i) => Math.sin(i) * 3);
    const shared = new Float32Array(new SharedArrayBuffer(plain.byteLength));
    shared.set(plain);
    const ranges = { min: new Float32Array(dims).fill(-3), max: new Float32Array(dims).fill(3) };
    for (const precision of ["int8", "ubinary"] as const) {
      expect(Array.from(quantize(shared, precision, { dims, ranges }).data), precision).toEqual(Array.from(quantize(plain, precision, { dims, ranges }).data));
    }
    shared[130 * dims - 1] = NaN; // the last value of the second chunk
    expect(() => quantize(shared, "int8", { dims, ranges })).toThrow("quantize: embeddings row 129, column 999 is NaN; values must be finite");
  });

  it("takes the ranges of a flat Float32Array in place (int8 without ranges, calibrate): checked whole first", () => {
    const dims = 1000;
    const flat = Float32Array.from({ length: 150 * dims }, (_, i) => Math.cos(i * 0.7) * (1 + (i % 7)));
    const rows = Array.from({ length: 150 }, (_, r) => Array.from(flat.subarray(r * dims, (r + 1) * dims)));
    const shared = new Float32Array(new SharedArrayBuffer(flat.byteLength));
    shared.set(flat);
    const copied = quantize(rows, "int8").data; // the copying path (toMatrix)
    expect(Array.from(quantize(flat, "int8", { dims }).data)).toEqual(Array.from(copied));
    expect(Array.from(quantize(shared, "int8", { dims }).data)).toEqual(Array.from(copied)); // copied first: read twice otherwise
    expect(calibrate(flat, { dims })).toEqual(calibrate(rows));
    const poisoned = flat.slice();
    poisoned[149 * dims + 999] = -Infinity;
    expect(() => quantize(poisoned, "uint8", { dims })).toThrow("quantize: embeddings row 149, column 999 is -Infinity; values must be finite");
    expect(() => calibrate(poisoned, { dims })).toThrow("calibrate: embeddings row 149, column 999 is -Infinity; values must be finite");
  });

  it("options.ranges whose reading transfers the embeddings' buffer: a RangeError, not a stale read", () => {
    const dims = 8;
    const flat = new Float32Array(4 * dims).fill(0.5);
    const min = new Proxy(new Array(dims).fill(0), {
      get(target, key) {
        if (key === "length") structuredClone(flat.buffer, { transfer: [flat.buffer] });
        return target[key as never];
      },
    });
    expect(() => quantize(flat, "int8", { dims, ranges: { min, max: new Array(dims).fill(1) } }))
      .toThrow(`quantize: embeddings changed from ${4 * dims} to 0 values while options were read`);
  });

  it("crosses the kernels' 256 KiB staging chunks, and rows longer than one", () => {
    for (const [rows, dims] of [[1100, 1000], [2, (1 << 16) + 13]]) {
      const src = Float32Array.from({ length: rows * dims }, (_, i) => Math.sin(i * 0.37) * 2);
      const min = new Float32Array(dims).fill(-1.5);
      const steps = stepsOf({ min, max: new Float32Array(dims).fill(1.5) });
      const bytes = Math.ceil(dims / 8);
      const bits = new Uint8Array(rows * bytes);
      const bitsRef = new Uint8Array(rows * bytes);
      packBits(src, 0, rows, dims, bits, 0, 0);
      for (let r = 0; r < rows; r++) packBitsRow(src, r * dims, dims, bitsRef, r * bytes, 0);
      expect(bits.every((b, i) => b === bitsRef[i]), `bits ${rows} × ${dims}`).toBe(true);
      const codes = new Int8Array(rows * dims);
      const codesRef = new Int8Array(rows * dims);
      quantizeRows(src, 0, rows, dims, min, steps, codes, 0, -128);
      for (let r = 0; r < rows; r++) quantizeRow(src, r * dims, dims, min, steps, codesRef, r * dims, -128);
      expect(codes.every((b, i) => b === codesRef[i]), `int8 ${rows} × ${dims}`).toBe(true);
    }
  });
});

describe("quantize", () => {
  it("reproduces sentence-transformers' own reference case", () => {
    const calibration = [[1, 20, -3], [4, 5, -60]];
    expect(Array.from(quantize([[-1, 15, 1]], "int8", { calibration }).data)).toEqual([-128, 42, 127]);
    expect(Array.from(quantize([[-1, 15, 1]], "uint8", { calibration }).data)).toEqual([0, 170, 255]);
  });

  it("accepts every input shape with the same result", () => {
    const rows = [[0.5, -1, 2, 0, 3, -2, 1, 1, -0.5], [1, 2, -3, 4, -5, 6, -7, 8, 9]];
    const flat = Float32Array.from(rows.flat());
    const expected = Array.from(quantize(rows, "int8").data);
    expect(Array.from(quantize(rows.map((r) => Float32Array.from(r)), "int8").data)).toEqual(expected);
    expect(Array.from(quantize(flat, "int8", { dims: 9 }).data)).toEqual(expected);
    expect(Array.from(quantize({ data: flat, rows: 2, cols: 9 }, "int8").data)).toEqual(expected);
    expect(Array.from(quantize({ data: flat, dims: [2, 9] }, "int8").data)).toEqual(expected);
  });

  it("float32 returns a copy, and ranges may be given as [min, max] or { min, max }", () => {
    const input = Float32Array.from([1, 2, 3, 4]);
    const copy = quantize(input, "float32", { dims: 2 });
    expect(copy.data).not.toBe(input);
    expect(Array.from(copy.data)).toEqual([1, 2, 3, 4]);
    const a = quantize([[0.3, 0.7]], "uint8", { ranges: [[0, 0], [1, 1]] });
    const b = quantize([[0.3, 0.7]], "uint8", { ranges: { min: [0, 0], max: [1, 1] } });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe("truncate", () => {
  it("keeps the first dims and renormalizes each row", () => {
    const { data, rows, cols } = truncate([[3, 4, 12], [0, -2, 5]], 2);
    expect([rows, cols]).toEqual([2, 2]);
    expect(Array.from(data)).toEqual(Array.from(Float32Array.from([0.6, 0.8, 0, -1])));
  });

  it("keeps values as they are with normalize: false", () => {
    expect(Array.from(truncate([[3, 4, 12]], 2, { normalize: false }).data)).toEqual([3, 4]);
  });
});
