// quantize(…, { out }): the values land in the caller's array, byte for byte what a new result
// holds, at every precision and for every way of choosing ranges, by the scalar loops (before
// ready(); these tests come first) and by the kernels (after); a longer `out` is used from its
// start and keeps the rest; `out` may share memory with the input; and a call that throws
// (a wrong `out`, a NaN in any row, bad ranges) leaves `out` exactly as it was.

import { beforeAll, describe, expect, it } from "vitest";
import { type CodesOf, type Precision, quantize, type QuantizeOptions, ready } from "../src/index.js";
import { isCompiled } from "../src/wasm.js";
import { randomNormal, rng } from "./helpers.js";

// 600 rows of 300: 2.7 staging chunks of 256 KiB (218 rows each), so row 500 is in the third.
const ROWS = 600;
const DIMS = 300;
const flat = randomNormal(rng(7), ROWS * DIMS);
const rowsOf = (data: Float32Array, dims = DIMS) => Array.from({ length: data.length / dims }, (_, r) => data.subarray(r * dims, (r + 1) * dims));
const RANGES = { min: new Float32Array(DIMS).fill(-2.5), max: new Float32Array(DIMS).fill(2.5) };
const CALIBRATION = rowsOf(randomNormal(rng(8), 50 * DIMS));
const PRECISIONS: readonly Precision[] = ["float32", "int8", "uint8", "binary", "ubinary"];
const OUT_TYPES = { float32: Float32Array, int8: Int8Array, binary: Int8Array, uint8: Uint8Array, ubinary: Uint8Array } as const;

/** RANGES whose `min` runs `action` when its length is read, as quantize reads its options. */
const rangesRunning = (action: () => void) => ({
  min: new Proxy(Array.from(RANGES.min), {
    get(target, key) {
      if (key === "length") action();
      return target[key as never];
    },
  }),
  max: RANGES.max,
});
/** The values of `rows` rows of `dims` at `precision`, as their count. */
const lengthOf = (precision: Precision, rows: number, dims = DIMS) => rows * (precision.endsWith("binary") ? Math.ceil(dims / 8) : dims);
/** An `out` for `precision` of `length` elements, every byte 0x5a (a pattern no test input produces everywhere). */
const outFor = <P extends Precision>(precision: P, length: number) => {
  const out = new OUT_TYPES[precision](length) as CodesOf<P>;
  new Uint8Array(out.buffer).fill(0x5a);
  return out;
};
/** A copy of the bytes of a typed array. */
const bytes = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength).slice();
/** Where the bytes of `got` first differ from `expected` ("none" when they are the same, lengths included). */
const firstDifference = (got: ArrayBufferView, expected: ArrayBufferView) => {
  const [x, y] = [bytes(got), bytes(expected)];
  const at = x.findIndex((b, i) => b !== y[i]);
  return at >= 0 ? `byte ${at}: ${x[at]}, expected ${y[at]}` : x.length === y.length ? "none" : `length ${x.length}, expected ${y.length}`;
};

/** Every precision, with each way of choosing int8/uint8 ranges, on a flat array and on rows: out holds what a new result holds. */
function checkSameAsNewResult(): void {
  const ways: Array<[string, QuantizeOptions]> = [["ranges", { ranges: RANGES }], ["calibration", { calibration: CALIBRATION }], ["own ranges", {}]];
  for (const precision of PRECISIONS) {
    for (const [way, options] of precision === "int8" || precision === "uint8" ? ways : ways.slice(2)) {
      for (const [shape, input, dims] of [["flat", flat, DIMS], ["rows", rowsOf(flat), undefined]] as const) {
        const label = `${precision}, ${way}, ${shape}`;
        const fresh = quantize(input, precision, { ...options, dims });
        const out = outFor(precision, lengthOf(precision, ROWS));
        const got = quantize(input, precision, { ...options, dims, out });
        expect(got.data, label).toBe(out);
        expect([got.rows, got.cols], label).toEqual([fresh.rows, fresh.cols]);
        expect(firstDifference(out, fresh.data), label).toBe("none");
      }
    }
  }
}

describe("quantize into options.out, scalar loops", () => {
  it("writes what a new result holds, at every precision", () => {
    expect(isCompiled("simd"), "these run before ready()").toBe(false);
    checkSameAsNewResult();
  });
});

describe("quantize into options.out, WebAssembly kernels", () => {
  beforeAll(() => ready());

  it("writes what a new result holds, at every precision", () => {
    expect(isCompiled("simd"), "these run after ready()").toBe(true);
    checkSameAsNewResult();
  });

  it("reuses one out across batches; a longer out gets the first rows × cols values and keeps the rest", () => {
    for (const precision of PRECISIONS) {
      const out = outFor(precision, lengthOf(precision, 250));
      for (const [first, count] of [[0, 250], [250, 250], [500, 100]]) {
        const batch = flat.subarray(first * DIMS, (first + count) * DIMS);
        const before = bytes(out);
        const got = quantize(batch, precision, { dims: DIMS, ranges: RANGES, out } as QuantizeOptions);
        const n = lengthOf(precision, count);
        expect(firstDifference(got.data, quantize(batch, precision, { dims: DIMS, ranges: RANGES }).data), `${precision} rows ${first}…`).toBe("none");
        if (count === 250) {
          expect(got.data).toBe(out);
        } else {
          expect(got.data).not.toBe(out);
          expect(got.data).toBeInstanceOf(OUT_TYPES[precision]);
          expect([got.data.buffer, got.data.byteOffset, got.data.length]).toEqual([out.buffer, out.byteOffset, n]);
          expect(firstDifference(bytes(out).subarray(got.data.byteLength), before.subarray(got.data.byteLength)), `${precision}: the rest of out`).toBe("none");
        }
      }
    }
  });

  it("writes into an out that is a view into a larger buffer, or over a SharedArrayBuffer", () => {
    const n = lengthOf("int8", ROWS);
    const buffer = new ArrayBuffer(n + 24).slice(0); // an ArrayBuffer with room before and after
    new Uint8Array(buffer).fill(0x5a);
    const inner = new Int8Array(buffer, 8, n);
    expect(firstDifference(quantize(flat, "int8", { dims: DIMS, ranges: RANGES, out: inner }).data, quantize(flat, "int8", { dims: DIMS, ranges: RANGES }).data)).toBe("none");
    expect([...new Uint8Array(buffer, 0, 8), ...new Uint8Array(buffer, 8 + n)], "the bytes around out").toEqual(new Array(24).fill(0x5a));
    const shared = new Uint8Array(new SharedArrayBuffer(lengthOf("ubinary", ROWS)));
    expect(firstDifference(quantize(flat, "ubinary", { dims: DIMS, out: shared }).data, quantize(flat, "ubinary", { dims: DIMS }).data)).toBe("none");
  });

  it("an out sharing memory with the input gets the values of the input as it was", () => {
    for (const precision of PRECISIONS) {
      const n = lengthOf(precision, ROWS);
      const elementBytes = OUT_TYPES[precision].BYTES_PER_ELEMENT;
      // From the input's start (each chunk's codes land on floats already read), from row 300
      // (they would land on floats not yet read), and straddling the input's end.
      for (const at of [0, 300 * DIMS * 4, ROWS * DIMS * 4 - 64]) {
        const buffer = new ArrayBuffer(ROWS * DIMS * 4 + n * elementBytes);
        const input = new Float32Array(buffer, 0, ROWS * DIMS);
        input.set(flat);
        const expected = quantize(flat, precision, { dims: DIMS, ranges: RANGES } as QuantizeOptions).data;
        const out = new OUT_TYPES[precision](buffer, at, n);
        quantize(input, precision, { dims: DIMS, ranges: RANGES, out } as QuantizeOptions);
        expect(firstDifference(out, expected), `${precision}, out at byte ${at}`).toBe("none");
      }
    }
  });
});

describe("quantize rejects a bad options.out, and a call that throws leaves out as it was", () => {
  beforeAll(() => ready());

  /** Asserts that `call` throws `type` with `message`, and that `out` holds the same bytes as before. */
  const rejectsUnchanged = (out: ArrayBufferView, call: () => unknown, type: ErrorConstructor, message: string | RegExp) => {
    const before = bytes(out);
    expect(call).toThrow(type);
    expect(call).toThrow(message);
    expect(firstDifference(out, before), "out after the failed call").toBe("none");
  };

  it("an out of the wrong type: a TypeError naming what it is and what the precision takes", () => {
    const cases: Array<[Precision, unknown, string]> = [
      ["int8", new Uint8Array(ROWS * DIMS), "options.out is a Uint8Array of 180000; \"int8\" values go into an Int8Array"],
      ["binary", new Uint8Array(ROWS * DIMS), "options.out is a Uint8Array of 180000; \"binary\" values go into an Int8Array"],
      ["ubinary", new Int8Array(ROWS * DIMS), "options.out is an Int8Array of 180000; \"ubinary\" values go into a Uint8Array"],
      ["uint8", new Uint8ClampedArray(ROWS * DIMS), "options.out is a Uint8ClampedArray of 180000; \"uint8\" values go into a Uint8Array"],
      ["float32", new Float64Array(ROWS * DIMS), "options.out is a Float64Array of 180000; \"float32\" values go into a Float32Array"],
      ["int8", new Array(ROWS * DIMS).fill(0), "options.out is an array of 180000; \"int8\" values go into an Int8Array"],
      ["int8", new Proxy(new Int8Array(ROWS * DIMS), {}), "options.out is not a genuine Int8Array (a Proxy?)"],
      ["int8", null, "options.out is null"],
    ];
    for (const [precision, out, message] of cases) {
      const call = () => quantize(flat, precision, { dims: DIMS, ranges: RANGES, out } as never);
      expect(call, message).toThrow(TypeError);
      expect(call).toThrow(`quantize: ${message}`);
      if (ArrayBuffer.isView(out)) expect(bytes(out).every((b) => b === 0), "nothing written").toBe(true);
    }
  });

  it("an out too short: a RangeError naming its length and the length needed", () => {
    for (const precision of PRECISIONS) {
      const need = lengthOf(precision, ROWS);
      const out = outFor(precision, need - 1);
      const cols = need / ROWS;
      rejectsUnchanged(out, () => quantize(flat, precision, { dims: DIMS, out } as QuantizeOptions), RangeError,
        `quantize: options.out has ${need - 1} elements; ${ROWS} rows of ${cols} "${precision}" values need at least ${need}`);
    }
  });

  it("an out whose buffer was detached, before the call or while its options were read", () => {
    const out = new Int8Array(ROWS * DIMS);
    structuredClone(out.buffer, { transfer: [out.buffer] });
    expect(() => quantize(flat, "int8", { dims: DIMS, ranges: RANGES, out })).toThrow(
      "quantize: options.out is an Int8Array whose buffer was detached (transferred); pass one whose buffer is still usable",
    );
    const later = new Uint8Array(ROWS * DIMS);
    const ranges = rangesRunning(() => structuredClone(later.buffer, { transfer: [later.buffer] }));
    expect(() => quantize(flat, "uint8", { dims: DIMS, ranges, out: later })).toThrow(
      "quantize: options.out is a Uint8Array whose buffer was detached (transferred)",
    );
  });

  it("an out shrunk while the options were read: a RangeError, nothing written", () => {
    const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(length: number): void }; // (ES2024)
    const buffer = new Resizable(ROWS * DIMS, { maxByteLength: ROWS * DIMS });
    const out = new Int8Array(buffer).fill(0x5a); // tracks the buffer's length
    const ranges = rangesRunning(() => buffer.resize(ROWS * DIMS - 10));
    expect(() => quantize(flat, "int8", { dims: DIMS, ranges, out })).toThrow(
      `quantize: options.out has ${ROWS * DIMS - 10} elements; ${ROWS} rows of ${DIMS} "int8" values need at least ${ROWS * DIMS}`,
    );
    expect(out.every((b) => b === 0x5a), "nothing written").toBe(true);
  });

  it("a NaN or ±Infinity in row 500 (the third staging chunk): a RangeError naming it, nothing written", () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const poisoned = flat.slice();
      poisoned[500 * DIMS + 7] = bad;
      const message = `quantize: embeddings row 500, column 7 is ${bad}; values must be finite`;
      for (const precision of PRECISIONS) {
        for (const [way, options] of [["ranges", { ranges: RANGES }], ["own ranges", {}]] as const) {
          if (way === "own ranges" && !(precision === "int8" || precision === "uint8")) continue;
          const label = `${bad}, ${precision}, ${way}`;
          const out = outFor(precision, lengthOf(precision, ROWS));
          rejectsUnchanged(out, () => quantize(poisoned, precision, { ...options, dims: DIMS, out } as QuantizeOptions), RangeError, message);
          rejectsUnchanged(out, () => quantize(rowsOf(poisoned), precision, { ...options, out } as QuantizeOptions), RangeError, message);
          const shared = new Float32Array(new SharedArrayBuffer(poisoned.byteLength));
          shared.set(poisoned);
          rejectsUnchanged(out, () => quantize(shared, precision, { ...options, dims: DIMS, out } as QuantizeOptions), RangeError, message);
          expect(bytes(out).every((b) => b === 0x5a), label).toBe(true);
        }
      }
    }
  });

  it("a NaN in the last row of a result too large to hold in the kernels' memory (over 8 MiB): checked whole first, nothing written", () => {
    const dims = 1024;
    const rows = 8193; // 8 MiB + 1 KiB of int8 codes
    const big = new Float32Array(rows * dims);
    for (let i = 0; i < big.length; i += 37) big[i] = (i % 11) - 5;
    const ranges = { min: new Float32Array(dims).fill(-5), max: new Float32Array(dims).fill(5) };
    const out = outFor("int8", rows * dims);
    expect(firstDifference(quantize(big, "int8", { dims, ranges, out }).data, quantize(big, "int8", { dims, ranges }).data)).toBe("none");
    big[(rows - 1) * dims + 3] = NaN;
    out.fill(0x5a); // (the codes a failed call could write over it would be the same as the last call's)
    rejectsUnchanged(out, () => quantize(big, "int8", { dims, ranges, out }), RangeError,
      `quantize: embeddings row ${rows - 1}, column 3 is NaN; values must be finite`);
  });

  it("a NaN written into the input while the ranges are read: caught before a value is written", () => {
    const input = flat.slice();
    const ranges = rangesRunning(() => {
      input[500 * DIMS + 7] = NaN;
    });
    const out = outFor("int8", ROWS * DIMS);
    rejectsUnchanged(out, () => quantize(input, "int8", { dims: DIMS, ranges, out }), RangeError,
      "quantize: embeddings row 500, column 7 is NaN; values must be finite");
  });

  it("bad ranges or calibration: the error as without out, nothing written", () => {
    const out = outFor("int8", ROWS * DIMS);
    const inverted = { min: RANGES.max, max: RANGES.min };
    rejectsUnchanged(out, () => quantize(flat, "int8", { dims: DIMS, ranges: inverted, out }), RangeError, "options.ranges dimension 0 has min 2.5 > max -2.5");
    rejectsUnchanged(out, () => quantize(flat, "int8", { dims: DIMS, calibration: [[1, 2]], out }), RangeError, "options.calibration row 0 has 2 values, expected 300");
  });
});
