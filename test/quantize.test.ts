// quantize() is bit-exact with sentence-transformers >= 5.7 quantize_embeddings: every case of
// test/fixtures/quantization.json (written by the numpy replica make_quantization.py) and
// every precision, plus the library's own reference case spelled out.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { calibrate, quantize, truncate } from "../src/index.js";
import { stepsOf } from "../src/quantize.js";

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

describe(`quantize matches sentence-transformers (${fixture.reference})`, () => {
  it("has the fixture cases the generator promises", () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(15);
    expect(fixture.cases.map((c) => c.name)).toContain("st-reference-clip");
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
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
