// The shapes embeddings arrive in, turned into one validated row-major float32 matrix.

import { describe } from "./errors.js";

/** A row-major float32 matrix: `rows` × `cols` values in `data`. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** One embedding: a `Float32Array` or a plain array of numbers. */
export type Vector = Float32Array | Float64Array | readonly number[];

/**
 * Embeddings in any of the accepted shapes:
 * - an array of rows (`Float32Array` or `number[]`);
 * - a flat `Float32Array` of rows × dims values, with the row length given as `dims`;
 * - `{ data, rows, cols }` (what `quantize` and `truncate` return for float32);
 * - a transformers.js-style tensor `{ data, dims: [rows, cols] }`.
 */
export type EmbeddingsInput =
  | readonly Vector[]
  | Float32Array
  | Float64Array
  | { readonly data: Float32Array | Float64Array | readonly number[]; readonly rows: number; readonly cols: number }
  | { readonly data: Float32Array | Float64Array | readonly number[]; readonly dims: readonly number[] };

export interface MatrixOptions {
  /** The row length: required for flat arrays, checked against every other shape. */
  dims?: number;
  /** The argument's name in error messages. */
  name?: string;
}

const isNumericArray = (value: unknown): value is Float32Array | Float64Array | readonly number[] =>
  value instanceof Float32Array || value instanceof Float64Array || Array.isArray(value);

/** Throws a RangeError naming the first non-finite value of `data`. */
function checkFinite(caller: string, name: string, data: ArrayLike<number>, cols: number, rowOffset = 0): void {
  for (let i = 0; i < data.length; i++) {
    const value = data[i];
    if (typeof value !== "number") {
      throw new TypeError(
        `${caller}: ${name} row ${rowOffset + Math.floor(i / cols)}, column ${i % cols} is ${describe(value)}; values must be numbers`,
      );
    }
    if (!Number.isFinite(value)) {
      throw new RangeError(
        `${caller}: ${name} row ${rowOffset + Math.floor(i / cols)}, column ${i % cols} is ${describe(value)}; values must be finite`,
      );
    }
  }
}

function checkShape(caller: string, name: string, rows: number, cols: number, dims: number | undefined): void {
  if (rows === 0) throw new RangeError(`${caller}: ${name} is empty; at least one row is required`);
  if (cols === 0) throw new RangeError(`${caller}: ${name} has rows of 0 values; at least 1 is required`);
  if (dims !== undefined && cols !== dims) {
    throw new RangeError(`${caller}: ${name} has rows of ${cols} values, expected ${dims}`);
  }
}

/** A flat buffer of `rows × cols` values as a float32 matrix (a view when it already is float32). */
function fromFlat(caller: string, name: string, data: Float32Array | Float64Array | readonly number[], rows: number, cols: number): Matrix {
  if (data.length !== rows * cols) {
    throw new RangeError(`${caller}: ${name} declares ${rows} × ${cols} but holds ${data.length} values`);
  }
  checkFinite(caller, name, data, cols);
  return { data: data instanceof Float32Array ? data : Float32Array.from(data), rows, cols };
}

/**
 * Validates embeddings in any accepted shape and returns them as a float32 matrix.
 * Float32 input is returned as a view, not copied: callers must not write to `data`.
 */
export function toMatrix(caller: string, input: EmbeddingsInput, options: MatrixOptions = {}): Matrix {
  const name = options.name ?? "embeddings";
  const dims = options.dims;

  if (Array.isArray(input)) {
    const rows = input.length;
    if (rows === 0) throw new RangeError(`${caller}: ${name} is empty; at least one row is required`);
    const cols = dims ?? (isNumericArray(input[0]) ? input[0].length : 0);
    const data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const row: unknown = input[r];
      if (!isNumericArray(row)) {
        throw new TypeError(`${caller}: ${name} row ${r} is ${describe(row)}; rows must be Float32Array or number[]`);
      }
      if (row.length !== cols) {
        throw new RangeError(`${caller}: ${name} row ${r} has ${row.length} values, expected ${cols}`);
      }
      checkFinite(caller, name, row, cols, r);
      data.set(row, r * cols);
    }
    checkShape(caller, name, rows, cols, dims);
    return { data, rows, cols };
  }

  if (input instanceof Float32Array || input instanceof Float64Array) {
    if (dims === undefined) {
      throw new TypeError(
        `${caller}: ${name} is a flat ${input.constructor.name}; pass its row length as dims, or pass { data, rows, cols }`,
      );
    }
    if (input.length % dims !== 0) {
      throw new RangeError(`${caller}: ${name} has ${input.length} values, not a multiple of dims = ${dims}`);
    }
    checkShape(caller, name, input.length / dims, dims, dims);
    return fromFlat(caller, name, input, input.length / dims, dims);
  }

  if (typeof input === "object" && input !== null && "data" in input) {
    const data: unknown = input.data;
    if (!isNumericArray(data)) {
      throw new TypeError(`${caller}: ${name}.data is ${describe(data)}; expected a Float32Array or number[]`);
    }
    let rows: unknown;
    let cols: unknown;
    if ("dims" in input && Array.isArray(input.dims)) {
      if (input.dims.length !== 2) {
        throw new RangeError(`${caller}: ${name}.dims is [${input.dims.join(", ")}]; expected [rows, cols]`);
      }
      [rows, cols] = input.dims;
    } else if ("rows" in input && "cols" in input) {
      rows = input.rows;
      cols = input.cols;
    } else {
      throw new TypeError(`${caller}: ${name} has data but neither dims: [rows, cols] nor rows and cols`);
    }
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || (rows as number) < 0 || (cols as number) < 0) {
      throw new RangeError(
        `${caller}: ${name} shape must be non-negative integers, got rows ${describe(rows)}, cols ${describe(cols)}`,
      );
    }
    checkShape(caller, name, rows as number, cols as number, dims);
    return fromFlat(caller, name, data, rows as number, cols as number);
  }

  throw new TypeError(
    `${caller}: ${name} is ${describe(input)}; expected an array of rows, a flat Float32Array with dims, ` +
      `{ data, rows, cols } or a tensor { data, dims: [rows, cols] }`,
  );
}

/** Validates one vector of exactly `dims` values. */
export function toVector(caller: string, input: unknown, dims: number, name = "query"): Float32Array {
  if (!isNumericArray(input)) {
    throw new TypeError(`${caller}: ${name} is ${describe(input)}; expected a Float32Array or number[] of ${dims} values`);
  }
  if (input.length !== dims) {
    throw new RangeError(`${caller}: ${name} has ${input.length} values, expected ${dims}`);
  }
  for (let i = 0; i < dims; i++) {
    const value = input[i];
    if (typeof value !== "number") {
      throw new TypeError(`${caller}: ${name}[${i}] is ${describe(value)}; values must be numbers`);
    }
    if (!Number.isFinite(value)) {
      throw new RangeError(`${caller}: ${name}[${i}] is ${describe(value)}; values must be finite`);
    }
  }
  return input instanceof Float32Array ? input : Float32Array.from(input);
}
