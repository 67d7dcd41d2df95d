// Vector file readers: every format read back exactly from bytes written by hand following its
// spec, and every malformed file rejected with a VectorFileError that names the file and the spot.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  parseFvecs,
  parseJsonl,
  parseNpy,
  parseRawF32,
  readVectors,
  VectorFileError,
} from "../src/cli/read-vectors.js";

const DIR = mkdtempSync(join(tmpdir(), "quantvec-read-vectors-"));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** Writes `contents` to a new file in the temp dir and returns its path. */
function file(name: string, contents: Uint8Array | string): string {
  const path = join(DIR, name);
  writeFileSync(path, contents);
  return path;
}

/** The error `action` throws (fails the test when it does not throw). */
function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to throw");
}

/** The error `promise` rejects with (fails the test when it resolves). */
async function rejected(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the promise to reject");
}

/** Asserts a VectorFileError for `source` whose message matches `pattern`. */
function expectFileError(error: Error, source: string, pattern: RegExp): void {
  expect(error).toBeInstanceOf(VectorFileError);
  expect((error as VectorFileError).file).toBe(source);
  expect(error.message.startsWith(`${source}: `)).toBe(true);
  expect(error.message).toMatch(pattern);
}

// ---- byte builders, written from the format specs -------------------------------------------

function bytesOf(size: number, count: number, write: (view: DataView, i: number) => void): Uint8Array {
  const out = new Uint8Array(size * count);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) write(view, i);
  return out;
}
const f32le = (values: number[]) => bytesOf(4, values.length, (v, i) => v.setFloat32(i * 4, values[i], true));
const f32be = (values: number[]) => bytesOf(4, values.length, (v, i) => v.setFloat32(i * 4, values[i], false));
const f64 = (values: number[], little: boolean) => bytesOf(8, values.length, (v, i) => v.setFloat64(i * 8, values[i], little));
const u16 = (bits: number[], little: boolean) => bytesOf(2, bits.length, (v, i) => v.setUint16(i * 2, bits[i], little));

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

interface NpyOptions {
  descr?: string;
  shape: number[];
  fortran?: boolean;
  version?: 1 | 2 | 3;
  /** The dict text as written, replacing the one built from descr/fortran/shape. */
  dict?: string;
  /** The data offset is padded to a multiple of this (the spec says 64; old files used 16). */
  align?: number;
  /** Extra bytes before the padding, to misalign the data on purpose. */
  skew?: number;
}

/** An .npy file: magic, version, header length, the dict padded with spaces and ended by \n, data. */
function npy(options: NpyOptions, data: Uint8Array): Uint8Array {
  const { descr = "<f4", shape, fortran = false, version = 1, align = 64, skew = 0 } = options;
  const shapeText = `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
  const dict = options.dict ?? `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  const dictBytes = new TextEncoder().encode(dict);
  const unpadded = prefix + dictBytes.length + 1;
  const padding = ((align - (unpadded % align)) % align) + skew;
  const header = concat(dictBytes, new TextEncoder().encode(`${" ".repeat(padding)}\n`));
  const preamble = new Uint8Array(prefix);
  preamble.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(preamble.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  if (skew === 0) expect((prefix + header.length) % align).toBe(0);
  return concat(preamble, header, data);
}

/** An .fvecs file: per row, an int32 little-endian dim, then the row's float32 values. */
function fvecs(rows: number[][]): Uint8Array {
  return concat(...rows.map((row) => concat(bytesOf(4, 1, (v) => v.setInt32(0, row.length, true)), f32le(row))));
}

/** `bytes` copied to an odd byte offset of a larger buffer, so no float can be viewed in place. */
function unaligned(bytes: Uint8Array): Uint8Array {
  const backing = new Uint8Array(bytes.length + 3);
  backing.set(bytes, 1);
  return backing.subarray(1, 1 + bytes.length);
}

const M23 = [0.5, -1.25, 3, 1024.75, -0.001953125, 7]; // 2 × 3, exact in float32
const M23_COLUMN_MAJOR = [0.5, 1024.75, -1.25, -0.001953125, 3, 7];

// ---- NPY ------------------------------------------------------------------------------------

describe("npy", () => {
  it("reads a version 1.0 <f4 (2, 3) array with its data at a multiple of 64 bytes", () => {
    const bytes = npy({ shape: [2, 3] }, f32le(M23));
    const m = parseNpy(bytes, "a.npy");
    expect([m.rows, m.cols]).toEqual([2, 3]);
    expect(Array.from(m.data)).toEqual(M23);
  });

  it("reads version 2.0 (uint32 header length) and 3.0 (UTF-8) headers", () => {
    for (const version of [2, 3] as const) {
      const m = parseNpy(npy({ shape: [3, 2], version }, f32le(M23)), `v${version}.npy`);
      expect([m.rows, m.cols]).toEqual([3, 2]);
      expect(Array.from(m.data)).toEqual(M23);
    }
  });

  it("reads a 1-D shape as one row, and Python 2 style 'L' integers", () => {
    const oneD = parseNpy(npy({ shape: [6] }, f32le(M23)), "1d.npy");
    expect([oneD.rows, oneD.cols]).toEqual([1, 6]);
    expect(Array.from(oneD.data)).toEqual(M23);
    const py2 = parseNpy(npy({ shape: [], dict: "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }" }, f32le(M23)), "py2.npy");
    expect([py2.rows, py2.cols]).toEqual([2, 3]);
  });

  it("reads big-endian >f4", () => {
    const m = parseNpy(npy({ descr: ">f4", shape: [2, 3] }, f32be(M23)), "be.npy");
    expect(Array.from(m.data)).toEqual(M23);
  });

  it("reads <f8 and >f8, rounding to float32", () => {
    const values = [0.1, -1 / 3, 1e-30, 123456789.123, 3.4e38, -2];
    for (const little of [true, false]) {
      const m = parseNpy(npy({ descr: little ? "<f8" : ">f8", shape: [2, 3] }, f64(values, little)), "f8.npy");
      expect(Array.from(m.data)).toEqual(values.map(Math.fround));
    }
  });

  it("reads <f2 and >f2 exactly: ±0, 1, 65504, subnormals, -2.5", () => {
    // bits → value, from the binary16 definition.
    const cases: [number, number][] = [
      [0x0000, 0],
      [0x8000, -0],
      [0x3c00, 1],
      [0x7bff, 65504],
      [0x03ff, 1023 * 2 ** -24], // largest subnormal, 6.0976e-5
      [0x0001, 2 ** -24], // smallest subnormal, 5.96e-8
      [0x0400, 2 ** -14], // smallest normal, 6.1035e-5
      [0xc100, -2.5],
      [0x3555, 0.333251953125],
    ];
    for (const little of [true, false]) {
      const m = parseNpy(
        npy({ descr: little ? "<f2" : ">f2", shape: [1, cases.length] }, u16(cases.map((c) => c[0]), little)),
        "f2.npy",
      );
      expect(Array.from(m.data)).toEqual(cases.map((c) => c[1]));
      expect(Object.is(m.data[1], -0)).toBe(true);
    }
  });

  it("reads every finite float16 bit pattern like a bit-level float32 construction", () => {
    const bits: number[] = [];
    for (let h = 0; h < 65536; h++) if (((h >> 10) & 0x1f) !== 0x1f) bits.push(h);
    const m = parseNpy(npy({ descr: "<f2", shape: [bits.length] }, u16(bits, true)), "all.npy");
    const word = new Uint32Array(1);
    const asFloat = new Float32Array(word.buffer);
    const expected = bits.map((h) => {
      const sign = h >> 15;
      const exponent = (h >> 10) & 0x1f;
      const fraction = h & 0x3ff;
      if (exponent === 0) return (sign ? -1 : 1) * (fraction / 1024) * 2 ** -14;
      word[0] = ((sign << 31) | ((exponent - 15 + 127) << 23) | (fraction << 13)) >>> 0;
      return asFloat[0];
    });
    expect(Array.from(m.data)).toEqual(expected);
  });

  it("transposes fortran_order True into row-major", () => {
    const m = parseNpy(npy({ shape: [2, 3], fortran: true }, f32le(M23_COLUMN_MAJOR)), "f.npy");
    expect([m.rows, m.cols]).toEqual([2, 3]);
    expect(Array.from(m.data)).toEqual(M23);
  });

  it("reads data at unaligned offsets (odd buffer offset, header not padded to 4)", () => {
    const viaOddBuffer = parseNpy(unaligned(npy({ shape: [2, 3] }, f32le(M23))), "odd.npy");
    expect(Array.from(viaOddBuffer.data)).toEqual(M23);
    const viaOddHeader = parseNpy(npy({ shape: [2, 3], skew: 3 }, f32le(M23)), "skew.npy");
    expect(Array.from(viaOddHeader.data)).toEqual(M23);
    const f8 = parseNpy(unaligned(npy({ descr: "<f8", shape: [2, 3] }, f64(M23, true))), "odd8.npy");
    expect(Array.from(f8.data)).toEqual(M23);
  });

  it("rejects what it cannot read, naming the problem", () => {
    const cases: [string, Uint8Array, RegExp][] = [
      ["magic", new TextEncoder().encode("PK\u0003\u0004 not numpy"), /not an NPY file/],
      ["version", (() => { const b = npy({ shape: [2, 3] }, f32le(M23)); b[6] = 4; return b; })(), /version 4\.0; supported: 1\.0, 2\.0, 3\.0/],
      ["dtype", npy({ descr: "<i4", shape: [2, 3] }, f32le(M23)), /dtype '<i4', which is not supported; supported: '<f4' \(float32\), '<f2'.*'>f8'/],
      ["structured", npy({ shape: [], dict: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }" }, f32le(M23)), /structured dtype/],
      ["3-D", npy({ shape: [1, 2, 3] }, f32le(M23)), /shape \(1, 2, 3\) with 3 dimensions; expected \(rows, cols\) or \(cols,\)/],
      ["scalar", npy({ shape: [] }, f32le([1])), /shape \(\) with 0 dimensions/],
      ["zero rows", npy({ shape: [0, 3] }, new Uint8Array(0)), /0 rows \(shape \(0, 3\)\)/],
      ["zero cols", npy({ shape: [2, 0] }, new Uint8Array(0)), /rows of 0 values/],
      ["truncated", npy({ shape: [3, 3] }, f32le(M23)), /truncated: shape \(3, 3\) of '<f4' needs 36 bytes after the header, the file has 24/],
      ["trailing", npy({ shape: [1, 3] }, f32le(M23)), /12 bytes after the data of shape \(1, 3\)/],
      ["no shape", npy({ shape: [], dict: "{'descr': '<f4', 'fortran_order': False, }" }, f32le(M23)), /no 'shape'/],
      ["fortran kind", npy({ shape: [], dict: "{'descr': '<f4', 'fortran_order': 0, 'shape': (6,), }" }, f32le(M23)), /fortran_order is 0; expected True or False/],
      ["malformed", npy({ shape: [], dict: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}" }, f32le(M23)), /malformed NPY header/],
      ["header past end", npy({ shape: [2, 3] }, new Uint8Array(0)).subarray(0, 40), /header declares \d+ bytes/],
    ];
    for (const [name, bytes, pattern] of cases) {
      expectFileError(thrown(() => parseNpy(bytes, `${name}.npy`)), `${name}.npy`, pattern);
    }
  });

  it("rejects NaN and Infinity naming row and column, in file or transposed order", () => {
    const nan = [...M23];
    nan[4] = NaN;
    expectFileError(thrown(() => parseNpy(npy({ shape: [2, 3] }, f32le(nan)), "nan.npy")), "nan.npy", /row 1, column 1 is NaN; values must be finite/);
    const inf16 = thrown(() => parseNpy(npy({ descr: "<f2", shape: [1, 3] }, u16([0x3c00, 0x3c00, 0xfc00], true)), "inf.npy"));
    expectFileError(inf16, "inf.npy", /row 0, column 2 is -Infinity/);
    // Row 1, column 0 of a Fortran-order (2, 3) array is the file's second value.
    const overflow = [1, 1e39, 1, 1, 1, 1];
    const error = thrown(() => parseNpy(npy({ descr: "<f8", shape: [2, 3], fortran: true }, f64(overflow, true)), "big.npy"));
    expectFileError(error, "big.npy", /row 1, column 0 is 1e\+39, which overflows float32/);
  });

  it("rejects non-bytes with a TypeError", () => {
    expect(thrown(() => parseNpy([1, 2] as unknown as Uint8Array, "x.npy"))).toBeInstanceOf(TypeError);
  });
});

// ---- fvecs ----------------------------------------------------------------------------------

describe("fvecs", () => {
  const ROWS = [[0.5, -1.25, 3], [1024.75, -0.001953125, 7], [0, -0, 1e-30]];

  it("reads records of the same dim, aligned or not", () => {
    for (const bytes of [fvecs(ROWS), unaligned(fvecs(ROWS))]) {
      const m = parseFvecs(bytes, "a.fvecs");
      expect([m.rows, m.cols]).toEqual([3, 3]);
      expect(Array.from(m.data)).toEqual(ROWS.flat().map(Math.fround));
    }
  });

  it("rejects ragged, truncated, empty and non-finite files, naming the record", () => {
    const ragged = fvecs([[1, 2, 3], [4, 5, 6], [7, 8]]);
    expectFileError(thrown(() => parseFvecs(ragged, "r.fvecs")), "r.fvecs", /record 2 has dim 2, expected 3 \(from record 0\)/);
    const full = fvecs(ROWS);
    expectFileError(
      thrown(() => parseFvecs(full.subarray(0, full.length - 4), "t.fvecs")),
      "t.fvecs",
      /record 2 is truncated: dim 3 needs 12 bytes of values, only 8 remain/,
    );
    expectFileError(
      thrown(() => parseFvecs(full.subarray(0, 2 * 16 + 2), "h.fvecs")),
      "h.fvecs",
      /record 2 is truncated: 2 bytes, too few for its 4-byte dim/,
    );
    expectFileError(thrown(() => parseFvecs(fvecs([[]]), "z.fvecs")), "z.fvecs", /record 0 declares dim 0/);
    expectFileError(thrown(() => parseFvecs(new Uint8Array(0), "e.fvecs")), "e.fvecs", /is empty/);
    expectFileError(
      thrown(() => parseFvecs(fvecs([[1, 2], [3, Infinity]]), "i.fvecs")),
      "i.fvecs",
      /row 1, column 1 is Infinity; values must be finite/,
    );
  });
});

// ---- raw float32 ----------------------------------------------------------------------------

describe("raw f32", () => {
  it("reads row-major float32 with dims, aligned or not", () => {
    for (const bytes of [f32le(M23), unaligned(f32le(M23))]) {
      const m = parseRawF32(bytes, 2, "a.f32");
      expect([m.rows, m.cols]).toEqual([3, 2]);
      expect(Array.from(m.data)).toEqual(M23);
    }
  });

  it("rejects a length that is not a multiple of a row, an empty file, NaN and bad dims", () => {
    expectFileError(
      thrown(() => parseRawF32(f32le(M23), 4, "m.f32")),
      "m.f32",
      /has 24 bytes, not a multiple of 4 × dims = 16/,
    );
    expectFileError(thrown(() => parseRawF32(new Uint8Array(0), 4, "e.f32")), "e.f32", /is empty/);
    expectFileError(thrown(() => parseRawF32(f32le([1, 2, NaN, 4]), 2, "n.f32")), "n.f32", /row 1, column 0 is NaN/);
    const badDims = thrown(() => parseRawF32(f32le(M23), 0, "d.f32"));
    expect(badDims).toBeInstanceOf(RangeError);
    expect(badDims.message).toMatch(/dims must be an integer from 1/);
  });
});

// ---- JSONL ----------------------------------------------------------------------------------

describe("jsonl", () => {
  it("reads one vector per line, skipping blank lines, with \\r\\n and a BOM", () => {
    const text = '\ufeff{"id": 1, "embedding": [0.5, -1.25, 3]}\r\n\n   \n{"embedding": [1024.75, -0.001953125, 7], "id": 2}\n';
    const m = parseJsonl(text, "a.jsonl");
    expect([m.rows, m.cols]).toEqual([2, 3]);
    expect(Array.from(m.data)).toEqual(M23);
  });

  it("reads a custom field and rounds to float32", () => {
    const m = parseJsonl('{"vector": [0.1, 0.2]}\n{"vector": [0.3, 0.4]}', "b.jsonl", "vector");
    expect(Array.from(m.data)).toEqual([0.1, 0.2, 0.3, 0.4].map(Math.fround));
  });

  it("grows past its initial capacity without losing rows", () => {
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ embedding: [i, -i, i / 4] }));
    const m = parseJsonl(lines.join("\n"), "g.jsonl");
    expect(m.rows).toBe(1000);
    expect(m.data.length).toBe(3000);
    expect(Array.from(m.data.subarray(2997))).toEqual([999, -999, 249.75]);
  });

  it("rejects bad lines naming the 1-based line (and 0-based row and column)", () => {
    const ok = '{"embedding": [1, 2, 3]}';
    const cases: [string, RegExp][] = [
      [`${ok}\n\n{"embedding": [1, 2, 3}`, /line 3: invalid JSON/],
      [`${ok}\n{"vector": [1, 2, 3], "id": 7}`, /line 2: no "embedding" field; the object has keys "vector", "id"/],
      [`${ok}\n{"embedding": "1 2 3"}`, /line 2: embedding is "1 2 3"; expected an array of numbers/],
      [`${ok}\n[1, 2, 3]`, /line 2: is an array of 3; expected a JSON object/],
      [`${ok}\n${ok}\n{"embedding": [1, 2]}`, /line 3: embedding has 2 values, expected 3 \(from line 1\)/],
      [`\n${ok}\n{"embedding": [1, "2", 3]}`, /line 3 \(row 1\), column 1 is "2"; values must be numbers/],
      [`${ok}\n{"embedding": [1, 2, null]}`, /line 2 \(row 1\), column 2 is null; values must be numbers/],
      [`${ok}\n{"embedding": [1, 1e999, 3]}`, /line 2 \(row 1\), column 1 is Infinity; values must be finite/],
      [`${ok}\n{"embedding": [1, 2, -1e39]}`, /line 2 \(row 1\), column 2 is -1e\+39, which overflows float32/],
      [`{"embedding": []}`, /line 1: embedding is empty/],
      [`\n  \n\n`, /has no vectors \(3 lines, all blank\)/],
      [``, /is empty/],
    ];
    for (const [text, pattern] of cases) expectFileError(thrown(() => parseJsonl(text, "bad.jsonl")), "bad.jsonl", pattern);
  });

  it("names the line of the 17th row in the documented wording", () => {
    const good = JSON.stringify({ embedding: Array.from({ length: 384 }, (_, i) => i / 384) });
    const text = [...Array(16).fill(good), JSON.stringify({ embedding: Array(383).fill(0) })].join("\n");
    expect(thrown(() => parseJsonl(text, "docs.jsonl")).message).toBe(
      "docs.jsonl: line 17: embedding has 383 values, expected 384 (from line 1)",
    );
  });
});

// ---- readVectors ----------------------------------------------------------------------------

describe("readVectors", () => {
  it("reads each format by extension and says which it read", async () => {
    const paths: [string, string][] = [
      [file("m.npy", npy({ shape: [2, 3] }, f32le(M23))), "npy"],
      [file("m.NPY", npy({ descr: ">f8", shape: [2, 3], fortran: true }, f64(M23_COLUMN_MAJOR, false))), "npy"],
      [file("m.fvecs", fvecs([M23.slice(0, 3), M23.slice(3)])), "fvecs"],
      [file("m.f32", f32le(M23)), "f32"],
      [file("m.bin", f32le(M23)), "f32"],
      [file("m.raw", f32le(M23)), "f32"],
      [file("m.jsonl", `{"embedding": [0.5, -1.25, 3]}\n\n{"embedding": [1024.75, -0.001953125, 7]}\n`), "jsonl"],
      [file("m.ndjson", `{"embedding": [0.5, -1.25, 3]}\r\n{"embedding": [1024.75, -0.001953125, 7]}`), "jsonl"],
    ];
    for (const [path, format] of paths) {
      const m = await readVectors(path, { dims: 3 });
      expect({ path, format: m.format, rows: m.rows, cols: m.cols, data: Array.from(m.data) }).toEqual({
        path,
        format,
        rows: 2,
        cols: 3,
        data: M23,
      });
    }
  });

  it("reads npy data that is not 4-byte aligned in the file", async () => {
    const m = await readVectors(file("skew.npy", npy({ shape: [2, 3], skew: 2 }, f32le(M23))));
    expect(Array.from(m.data)).toEqual(M23);
  });

  it("uses format over the extension, and a custom JSONL field", async () => {
    const path = file("vectors.txt", '{"v": [1, 2]}\n{"v": [3, 4]}\n');
    const m = await readVectors(path, { format: "jsonl", field: "v" });
    expect([m.format, m.rows, m.cols, Array.from(m.data)]).toEqual(["jsonl", 2, 2, [1, 2, 3, 4]]);
  });

  it("streams JSONL with the same result and errors as parseJsonl", async () => {
    const text = '{"embedding": [1, 2]}\n\n{"embedding": [3, 4]}\n{"embedding": [5]}\n';
    const path = file("bad-stream.jsonl", text);
    const streamed = await rejected(readVectors(path));
    expectFileError(streamed, path, /line 4: embedding has 1 values, expected 2 \(from line 1\)/);
    expect(streamed.message.slice(path.length)).toBe(thrown(() => parseJsonl(text, path)).message.slice(path.length));
  });

  it("rejects a missing file and a directory with the OS reason", async () => {
    const missing = join(DIR, "nope.npy");
    expectFileError(await rejected(readVectors(missing)), missing, /cannot open the file \(ENOENT: no such file or directory\)$/);
    const dir = join(DIR, "dir.npy");
    mkdirSync(dir);
    expectFileError(await rejected(readVectors(dir)), dir, /is a directory/);
  });

  it("rejects an unknown extension listing the supported ones", async () => {
    const path = file("vectors.csv", "1,2,3\n");
    expectFileError(
      await rejected(readVectors(path)),
      path,
      /unknown extension "\.csv"; supported: \.npy, \.fvecs, \.f32, \.bin, \.raw, \.jsonl, \.ndjson/,
    );
    const bare = file("vectors", "");
    expectFileError(await rejected(readVectors(bare)), bare, /has no extension; supported: \.npy/);
  });

  it("rejects files whose rows disagree with dims, naming both", async () => {
    const cases: [string, RegExp][] = [
      [file("d.npy", npy({ shape: [2, 3] }, f32le(M23))), /rows have 3 values, but dims is 4/],
      [file("d.fvecs", fvecs([M23.slice(0, 3), M23.slice(3)])), /rows have 3 values, but dims is 4/],
      [file("d.jsonl", '\n{"embedding": [1, 2, 3]}\n'), /line 2: embedding has 3 values, but dims is 4/],
    ];
    for (const [path, pattern] of cases) expectFileError(await rejected(readVectors(path, { dims: 4 })), path, pattern);
    const raw = file("d.f32", f32le(M23));
    expectFileError(await rejected(readVectors(raw, { dims: 4 })), raw, /24 bytes, not a multiple of 4 × dims = 16/);
  });

  it("rejects (does not throw) bad arguments with TypeError or RangeError", async () => {
    const raw = file("args.f32", f32le(M23));
    const cases: [Promise<unknown>, ErrorConstructor, RegExp][] = [
      [readVectors(raw), TypeError, /args\.f32 is raw float32, which does not record its row length; pass dims/],
      [readVectors(raw, { dims: 0 }), RangeError, /dims must be an integer from 1/],
      [readVectors(raw, { dims: 2.5 }), RangeError, /dims must be an integer from 1 .* got 2\.5/],
      [readVectors(raw, { dims: 2, format: "csv" as never }), TypeError, /format must be "npy" \| "fvecs" \| "f32" \| "jsonl", got "csv"/],
      [readVectors(raw, { dims: 2, field: "" }), TypeError, /field must be a non-empty string/],
      [readVectors("" as string), TypeError, /path must be a non-empty string/],
    ];
    for (const [promise, type, pattern] of cases) {
      const error = await rejected(promise);
      expect(error).toBeInstanceOf(type);
      expect(error).not.toBeInstanceOf(VectorFileError);
      expect(error.message).toMatch(pattern);
    }
  });

  it("reports progress for files over a few MB, ending at the file size, and not for small ones", async () => {
    const dims = 256;
    const values = Array.from({ length: 5 * 1024 * 1024 / 4 }, (_, i) => (i % 1000) * 0.5);
    const path = file("big.f32", f32le(values));
    const calls: [number, number][] = [];
    const m = await readVectors(path, { dims, onProgress: (done, total) => calls.push([done, total]) });
    expect([m.rows, m.cols]).toEqual([values.length / dims, dims]);
    expect(m.data[values.length - 1]).toBe(values[values.length - 1]);
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.at(-1)).toEqual([5 * 1024 * 1024, 5 * 1024 * 1024]);
    for (let i = 1; i < calls.length; i++) expect(calls[i][0]).toBeGreaterThanOrEqual(calls[i - 1][0]);

    const small: unknown[] = [];
    await readVectors(file("small.f32", f32le(M23)), { dims: 3, onProgress: (...args) => small.push(args) });
    expect(small).toEqual([]);
  });

  it("streams a JSONL file over a few MB like parseJsonl, reporting progress", async () => {
    const lines = Array.from({ length: 1000 }, (_, r) =>
      JSON.stringify({ id: r, embedding: Array.from({ length: 300 }, (_, c) => ((r * 31 + c) % 997) / 997) }),
    );
    const text = `${lines.join("\n")}\n`;
    const path = file("big.jsonl", text);
    const size = Buffer.byteLength(text);
    expect(size).toBeGreaterThan(5 * 1024 * 1024);
    const calls: [number, number][] = [];
    const streamed = await readVectors(path, { onProgress: (done, total) => calls.push([done, total]) });
    const parsed = parseJsonl(text, path);
    expect([streamed.rows, streamed.cols]).toEqual([1000, 300]);
    expect(streamed.data).toEqual(parsed.data);
    expect(streamed.data[999 * 300 + 299]).toBe(Math.fround(((999 * 31 + 299) % 997) / 997));
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.at(-1)).toEqual([size, size]);
  });
});
