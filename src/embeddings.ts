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

/** The largest finite float32; a number beyond it rounds to ±Infinity when stored as float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

type NumbersKind = "Float32Array" | "Float64Array" | "array";

// The intrinsic typed-array getters: they read a typed array's internal slots, so neither an own
// property shadowing `length` nor a Proxy posing as a Float32Array can run code or lie to them.
const typedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype) as object;
const intrinsic = (key: PropertyKey) => Object.getOwnPropertyDescriptor(typedArrayPrototype, key)!.get! as (this: unknown) => unknown;
const typedArrayName = intrinsic(Symbol.toStringTag) as (this: unknown) => string | undefined;
const typedArrayLength = intrinsic("length") as (this: unknown) => number;
const typedArrayBuffer = intrinsic("buffer") as (this: unknown) => ArrayBufferLike;
const typedArrayByteOffset = intrinsic("byteOffset") as (this: unknown) => number;

// ArrayBuffer's own byteLength getter throws for a SharedArrayBuffer (whatever its toStringTag says).
const arrayBufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength")!.get! as (this: unknown) => number;

/** True when `buffer` is an ArrayBuffer (its values change only when this thread's code changes them). */
function isUnshared(buffer: ArrayBufferLike): boolean {
  try {
    arrayBufferByteLength.call(buffer);
    return true;
  } catch {
    return false;
  }
}

/**
 * A genuine Float32Array of whole rows of `dims` as a matrix over the caller's own values, not a
 * copy; undefined for every other input (toMatrix copies and validates those, and names what is
 * wrong). Its values are neither copied nor checked: the caller validates them (findNonFinite)
 * before use and runs none of the user's code between the check and the last read. With
 * `unshared`, a Float32Array over a SharedArrayBuffer is undefined too, since another thread
 * could change it between two reads.
 */
export function viewRows(input: unknown, dims: number | undefined, unshared: boolean): Matrix | undefined {
  if (typedArrayName.call(input) !== "Float32Array" || dims === undefined || !Number.isInteger(dims) || dims <= 0) return undefined;
  const length = typedArrayLength.call(input);
  if (length === 0 || length % dims !== 0) return undefined;
  if (unshared && !isUnshared(typedArrayBuffer.call(input))) return undefined;
  return { data: input as Float32Array, rows: length / dims, cols: dims };
}

/**
 * Throws a RangeError when `view` (from viewRows) no longer holds its rows because the caller's
 * code, run since (`when`: "ids were read"), detached or resized its buffer.
 */
export function checkStillHeld(caller: string, view: Matrix, name: string, when: string): void {
  const length = typedArrayLength.call(view.data);
  if (length !== view.rows * view.cols) {
    throw new RangeError(
      `${caller}: ${name} changed from ${view.rows * view.cols} to ${length} values while ${when} (a detached or resized buffer); nothing was changed`,
    );
  }
}

/** True when `buffer` was transferred (detached): no view of it can be made any more. */
function isDetached(buffer: ArrayBufferLike): boolean {
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** A typed array as its internal slots hold it (see typedArraySlots). */
export interface TypedArraySlots {
  /** Its constructor's intrinsic name ("Int8Array", …), a subclass's included. */
  type: string;
  buffer: ArrayBufferLike;
  byteOffset: number;
  /** 0 once its buffer is detached, or shrunk past it. */
  length: number;
  detached: boolean;
}

/**
 * The internal slots of a genuine typed array, read by the intrinsic getters (no code of the
 * caller runs, an own `length` or `buffer` property is not consulted); undefined for anything
 * else, a Proxy of a typed array included.
 */
export function typedArraySlots(value: unknown): TypedArraySlots | undefined {
  const type = typedArrayName.call(value);
  if (type === undefined) return undefined;
  const buffer = typedArrayBuffer.call(value);
  return { type, buffer, byteOffset: typedArrayByteOffset.call(value), length: typedArrayLength.call(value), detached: isDetached(buffer) };
}

/**
 * Values `start … end − 1` of a genuine Float32Array, as a view made from its internal slots:
 * unlike `subarray`, no `constructor` or species of the caller's array is consulted (which could
 * run the caller's code between a check and a read).
 */
export function floatsView(array: Float32Array, start: number, end: number): Float32Array {
  return new Float32Array(typedArrayBuffer.call(array), typedArrayByteOffset.call(array) + start * 4, end - start);
}

/** What kind of numbers `value` is: a genuine Float32Array or Float64Array, an array, or none of these. */
function numbersKind(value: unknown): NumbersKind | undefined {
  const name = typedArrayName.call(value);
  if (name === "Float32Array" || name === "Float64Array") return name;
  return name === undefined && Array.isArray(value) ? "array" : undefined;
}

/** "is <what value is>" for an error message; an imitation of a typed array (a Proxy of one) is called out. */
function isWhat(value: unknown): string {
  const imitated = [Float32Array, Float64Array].find((type) => value instanceof type);
  return imitated === undefined ? `is ${describe(value)}` : `is not a genuine ${imitated.name} (a Proxy?)`;
}

/**
 * The length of numbers of `kind`, read once. A typed array whose buffer was transferred
 * (detached) is a TypeError naming it, not an empty array.
 */
function lengthOf(caller: string, label: string, value: ArrayLike<unknown>, kind: NumbersKind): number {
  if (kind === "array") {
    const length: unknown = value.length;
    if (!Number.isInteger(length) || (length as number) < 0 || (length as number) > 2 ** 32 - 1) {
      throw new TypeError(`${caller}: ${label} reports a length of ${describe(length)}; expected an array`);
    }
    return length as number;
  }
  const length = typedArrayLength.call(value);
  if (length === 0 && isDetached(typedArrayBuffer.call(value))) {
    throw new TypeError(`${caller}: ${label} is a ${kind} whose buffer was detached (transferred); pass one whose buffer is still usable`);
  }
  return length;
}

/**
 * Copies `length` numbers of `source` into `out` at `at`, reading each once, and validates the copy:
 * a non-number is a TypeError, NaN, ±Infinity or a value beyond float32's range a RangeError, each
 * naming the element (`where(i)`) and the value seen.
 */
function readNumbers(
  caller: string, source: Float32Array | Float64Array | readonly number[], kind: NumbersKind, length: number,
  out: Float32Array, at: number, where: (i: number) => string,
): void {
  if (kind !== "array") {
    out.set(source as Float32Array | Float64Array, at); // intrinsic copy (and float64 → float32 rounding): no user code runs
    for (let i = 0; i < length; i++) {
      if (!Number.isFinite(out[at + i])) throw nonFinite(caller, where(i), (source as Float32Array | Float64Array)[i]);
    }
    return;
  }
  for (let i = 0; i < length; i++) {
    const value: unknown = source[i];
    if (typeof value !== "number") throw new TypeError(`${caller}: ${where(i)} is ${describe(value)}; values must be numbers`);
    const stored = Math.fround(value);
    if (!Number.isFinite(stored)) throw nonFinite(caller, where(i), value);
    out[at + i] = stored;
  }
}

/** The RangeError for a value that is not finite, or is finite but overflows float32. */
function nonFinite(caller: string, where: string, value: number): RangeError {
  return new RangeError(
    Number.isFinite(value)
      ? `${caller}: ${where} is ${describe(value)}, beyond float32's range (±${FLOAT32_MAX}); values must be finite in float32`
      : `${caller}: ${where} is ${describe(value)}; values must be finite`,
  );
}

function checkShape(caller: string, name: string, rows: number, cols: number, dims: number | undefined): void {
  if (rows === 0) throw new RangeError(`${caller}: ${name} is empty; at least one row is required`);
  if (cols === 0) throw new RangeError(`${caller}: ${name} has rows of 0 values; at least 1 is required`);
  if (dims !== undefined && cols !== dims) {
    throw new RangeError(`${caller}: ${name} has rows of ${cols} values, expected ${dims}`);
  }
}

/** A flat buffer of `rows × cols` values as a fresh float32 matrix. */
function fromFlat(
  caller: string, name: string, data: Float32Array | Float64Array | readonly number[], kind: NumbersKind, rows: number, cols: number, label = name,
): Matrix {
  const length = lengthOf(caller, label, data, kind);
  if (length !== rows * cols) {
    throw new RangeError(`${caller}: ${name} declares ${rows} × ${cols} but holds ${length} values`);
  }
  const out = new Float32Array(length);
  readNumbers(caller, data, kind, length, out, 0, (i) => `${name} row ${Math.floor(i / cols)}, column ${i % cols}`);
  return { data: out, rows, cols };
}

/**
 * Validates embeddings in any accepted shape and returns them as a fresh float32 matrix: every
 * value is read exactly once into a private copy, and the copy is what is validated and used.
 * So a caller who changes, refills or transfers its arrays after the call changes nothing here,
 * and an array whose contents change while being read cannot pass a check it fails.
 */
export function toMatrix(caller: string, input: EmbeddingsInput, options: MatrixOptions = {}): Matrix {
  const name = options.name ?? "embeddings";
  const dims = options.dims;
  const inputKind = numbersKind(input);

  if (inputKind === "array") {
    const rows = lengthOf(caller, name, input as readonly Vector[], "array");
    if (rows === 0) throw new RangeError(`${caller}: ${name} is empty; at least one row is required`);
    let cols = dims;
    let data: Float32Array | undefined;
    for (let r = 0; r < rows; r++) {
      const row: unknown = (input as readonly Vector[])[r];
      const kind = numbersKind(row);
      if (kind === undefined) {
        throw new TypeError(`${caller}: ${name} row ${r} ${isWhat(row)}; rows must be Float32Array or number[]`);
      }
      const length = lengthOf(caller, `${name} row ${r}`, row as Vector, kind);
      cols ??= length;
      if (length !== cols) {
        throw new RangeError(`${caller}: ${name} row ${r} has ${length} values, expected ${cols}`);
      }
      data ??= new Float32Array(rows * cols);
      readNumbers(caller, row as Vector, kind, cols, data, r * cols, (c) => `${name} row ${r}, column ${c}`);
    }
    checkShape(caller, name, rows, cols!, dims);
    return { data: data!, rows, cols: cols! };
  }

  if (inputKind !== undefined) {
    if (dims === undefined) {
      throw new TypeError(
        `${caller}: ${name} is a flat ${inputKind}; pass its row length as dims, or pass { data, rows, cols }`,
      );
    }
    const length = lengthOf(caller, name, input as Float32Array | Float64Array, inputKind);
    if (length % dims !== 0) {
      throw new RangeError(`${caller}: ${name} has ${length} values, not a multiple of dims = ${dims}`);
    }
    checkShape(caller, name, length / dims, dims, dims);
    return fromFlat(caller, name, input as Float32Array | Float64Array, inputKind, length / dims, dims);
  }

  if (typeof input === "object" && input !== null && "data" in input) {
    const data: unknown = input.data;
    const kind = numbersKind(data);
    if (kind === undefined) {
      throw new TypeError(`${caller}: ${name}.data ${isWhat(data)}; expected a Float32Array or number[]`);
    }
    let rows: unknown;
    let cols: unknown;
    const shape: unknown = "dims" in input ? input.dims : undefined;
    if (Array.isArray(shape)) {
      const shapeLength = lengthOf(caller, `${name}.dims`, shape, "array");
      if (shapeLength !== 2) {
        throw new RangeError(`${caller}: ${name}.dims is [${Array.prototype.slice.call(shape, 0, 8).join(", ")}]; expected [rows, cols]`);
      }
      rows = shape[0];
      cols = shape[1];
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
    return fromFlat(caller, name, data as Vector, kind, rows as number, cols as number, `${name}.data`);
  }

  throw new TypeError(
    `${caller}: ${name} ${isWhat(input)}; expected an array of rows, a flat Float32Array with dims, ` +
      `{ data, rows, cols } or a tensor { data, dims: [rows, cols] }`,
  );
}

/**
 * One query: a vector, a transformers.js-style tensor of shape `[d]` or `[1, d]` (what a
 * feature-extraction pipeline returns for one text), or a one-row `{ data, rows: 1, cols }`.
 */
export type QueryInput =
  | Vector
  | { readonly data: Float32Array | Float64Array | readonly number[]; readonly dims: readonly number[] }
  | { readonly data: Float32Array | Float64Array | readonly number[]; readonly rows: number; readonly cols: number };

/** The values of a one-row tensor or matrix (each property read once); anything else as it is. */
function unwrapOneRow(caller: string, input: unknown, name: string): unknown {
  if (typeof input !== "object" || input === null || numbersKind(input) !== undefined || !("data" in input)) return input;
  const shape = input as { dims?: unknown; rows?: unknown };
  const dims = shape.dims;
  const list = Array.isArray(dims) ? Array.from(dims as unknown[]) : undefined;
  const rows = list ? (list.length === 2 ? list[0] : list.length === 1 ? 1 : undefined) : shape.rows;
  if (rows !== 1) {
    const seen = list ? `a tensor of dims [${list.join(", ")}]` : `a matrix of ${describe(rows)} rows`;
    throw new RangeError(`${caller}: ${name} is ${seen}; expected one row ([d] or [1, d]); use searchBatch for several queries`);
  }
  return (input as { data: unknown }).data;
}

/**
 * Validates one vector of exactly `dims` values and returns a fresh float32 copy of it, each value
 * read once: what the caller does to its array afterwards (refill, transfer) changes nothing.
 * A one-row tensor or matrix is unwrapped first.
 */
export function toVector(caller: string, query: unknown, dims: number, name = "query"): Float32Array {
  const input = unwrapOneRow(caller, query, name);
  const kind = numbersKind(input);
  if (kind === undefined) {
    throw new TypeError(`${caller}: ${name} ${isWhat(input)}; expected a Float32Array or number[] of ${dims} values`);
  }
  const length = lengthOf(caller, name, input as Vector, kind);
  if (length !== dims) {
    throw new RangeError(`${caller}: ${name} has ${length} values, expected ${dims}`);
  }
  const out = new Float32Array(dims);
  readNumbers(caller, input as Vector, kind, dims, out, 0, (i) => `${name}[${i}]`);
  return out;
}
