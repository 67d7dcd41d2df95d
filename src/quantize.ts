// Calibration and quantization, bit-exact with sentence-transformers >= 5.7
// `quantize_embeddings` (see test/fixtures/make_quantization.py for the numpy replica).
//
// int8 / uint8: per-dimension ranges [min, max]; steps = (max − min) / 255 in float32, a zero
//   step becomes 1; q = clip(floor((x − min) / steps), 0, 255), every operation in float32;
//   uint8 = q, int8 = q − 128.
// binary / ubinary: one bit per dimension, 1 when x > 0, packed MSB-first, the last byte
//   zero-padded; ubinary is the packed byte, binary is the byte − 128 (as int8).
//
// Once `ready()` has compiled the kernels, rows are quantized in WebAssembly (packBits,
// quantizeRows: assembly/quantize.ts, bit-exact with the scalar loops packBitsRow and
// quantizeRow here); before that, and for the scalar reference, by those loops.

import {
  checkStillHeld, type EmbeddingsInput, FLOAT32_MAX, floatsView, type Matrix, toMatrix, toVector, type TypedArraySlots, typedArraySlots,
  viewRows,
} from "./embeddings.js";
import { checkChoice, describe } from "./errors.js";
import { CALIBRATE_OPTION_KEYS, QUANTIZE_OPTION_KEYS, readOptions } from "./options.js";
import { Arena, isCompiled } from "./wasm.js";

const f32 = Math.fround;

/** Per-dimension value ranges used by int8/uint8 quantization. */
export interface Ranges {
  min: Float32Array;
  max: Float32Array;
}

/** Ranges as accepted from callers: `{ min, max }`, or `[min, max]` like sentence-transformers' `ranges`. */
export type RangesInput =
  | { readonly min: ArrayLike<number>; readonly max: ArrayLike<number> }
  | readonly [ArrayLike<number>, ArrayLike<number>];

export type Precision = "float32" | "int8" | "uint8" | "binary" | "ubinary";
export const PRECISIONS: readonly Precision[] = ["float32", "int8", "uint8", "binary", "ubinary"];

/** The typed array each precision's values come in. */
const CODE_ARRAYS = { float32: Float32Array, int8: Int8Array, binary: Int8Array, uint8: Uint8Array, ubinary: Uint8Array } as const;

/** The typed array of `P`'s values: Float32Array, Int8Array ("int8", "binary") or Uint8Array ("uint8", "ubinary"). */
export type CodesOf<P extends Precision> = P extends "float32" ? Float32Array : P extends "int8" | "binary" ? Int8Array : Uint8Array;

/** What `quantize` returns: `rows` × `cols` values, `cols` = dims, or ceil(dims / 8) for bits. */
export interface Quantized<T extends Float32Array | Int8Array | Uint8Array = Float32Array | Int8Array | Uint8Array> {
  data: T;
  rows: number;
  cols: number;
}

export interface QuantizeOptions<Out extends Float32Array | Int8Array | Uint8Array = Float32Array | Int8Array | Uint8Array> {
  /** Per-dimension ranges; wins over `calibration`. */
  ranges?: RangesInput;
  /** Embeddings whose per-dimension min/max become the ranges (used when `ranges` is absent). */
  calibration?: EmbeddingsInput;
  /** The row length of a flat `Float32Array` input. */
  dims?: number;
  /**
   * An existing array that receives the values instead of a new one (reuse one buffer across
   * batches, fill a SharedArrayBuffer): an Int8Array for "int8" and "binary", a Uint8Array for
   * "uint8" and "ubinary", a Float32Array for "float32", of at least rows × cols elements. The
   * result's `data` is `out` itself when it has exactly rows × cols, else a view of its first
   * rows × cols (the rest is left as it was). A call that throws writes nothing into it; `out` may
   * share memory with the input (the input is then copied first).
   */
  out?: Out;
}

export interface CalibrateOptions {
  /** The row length of a flat `Float32Array` input. */
  dims?: number;
}

/**
 * Per-dimension min and max of a validated matrix, checked as `checkRanges` does (`caller` and
 * `name` say whose rows they are in its error).
 */
export function rangesOf(matrix: Matrix, caller = "calibrate", name = "embeddings"): Ranges {
  const { data, rows, cols } = matrix;
  const min = new Float32Array(cols);
  const max = new Float32Array(cols);
  for (let c = 0; c < cols; c++) min[c] = max[c] = data[c]; // (no data.slice: it could run a caller's species constructor)
  for (let r = 1; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const value = data[base + c];
      if (value < min[c]) min[c] = value;
      if (value > max[c]) max[c] = value;
    }
  }
  return checkRanges(caller, { min, max }, `the ranges of ${name}`);
}

/**
 * Rejects ranges that int8 codes cannot stand for: a dimension whose width max − min overflows
 * float32 would get an infinite bucket width, and every score through it would be NaN.
 *
 * @returns `ranges`, unchanged.
 * @throws RangeError naming the dimension, its min and max.
 */
function checkRanges(caller: string, ranges: Ranges, name: string): Ranges {
  const { min, max } = ranges;
  for (let c = 0; c < min.length; c++) {
    if (!Number.isFinite(f32(max[c] - min[c]))) {
      throw new RangeError(
        `${caller}: ${name} dimension ${c} spans [${min[c]}, ${max[c]}], a width beyond float32's range ` +
          `(±${FLOAT32_MAX}); int8 buckets need max − min to be finite in float32`,
      );
    }
  }
  return ranges;
}

/**
 * Per-dimension minimum and maximum of `embeddings`: the ranges that int8/uint8 quantization
 * maps onto 256 buckets.
 *
 * @param embeddings calibration rows, in any accepted shape (see `EmbeddingsInput`).
 * @param options `dims`: the row length of a flat `Float32Array`.
 * @returns `{ min, max }`, one float32 per dimension.
 * @throws TypeError for an unsupported shape or an unknown option; RangeError for empty input, ragged
 *   rows, values that are not finite in float32, or a dimension whose width max − min overflows float32.
 * @example
 * const ranges = calibrate([[1, 20, -3], [4, 5, -60]]); // min [1, 5, -60], max [4, 20, -3]
 */
export function calibrate(embeddings: EmbeddingsInput, options: CalibrateOptions = {}): Ranges {
  const { dims } = readOptions("calibrate", options, CALIBRATE_OPTION_KEYS, "an object like { dims: 384 }");
  return rangesOf(checkedInPlace("calibrate", embeddings, dims, "embeddings") ?? toMatrix("calibrate", embeddings, { dims }));
}

/**
 * Validates caller-provided ranges for `dims` dimensions (finite in float32, min ≤ max, a width
 * max − min finite in float32) and returns float32 copies.
 */
export function toRanges(caller: string, input: unknown, dims: number, name = "ranges"): Ranges {
  let minInput: unknown;
  let maxInput: unknown;
  if (Array.isArray(input) && input.length === 2) {
    [minInput, maxInput] = input;
  } else if (typeof input === "object" && input !== null && "min" in input && "max" in input) {
    minInput = (input as { min: unknown }).min;
    maxInput = (input as { max: unknown }).max;
  } else {
    throw new TypeError(`${caller}: ${name} is ${describe(input)}; expected { min, max } or [min, max]`);
  }
  const min = toVector(caller, minInput, dims, `${name}.min`);
  const max = toVector(caller, maxInput, dims, `${name}.max`);
  const inverted = min.findIndex((lo, i) => lo > max[i]);
  if (inverted >= 0) {
    throw new RangeError(
      `${caller}: ${name} dimension ${inverted} has min ${min[inverted]} > max ${max[inverted]}; min must not exceed max`,
    );
  }
  return checkRanges(caller, { min, max }, name);
}

/** sentence-transformers' bucket widths: (max − min) / 255 in float32, zero widths replaced by 1. */
export function stepsOf(ranges: Ranges): Float32Array {
  const steps = new Float32Array(ranges.min.length);
  for (let c = 0; c < steps.length; c++) {
    const step = f32(f32(ranges.max[c] - ranges.min[c]) / 255);
    steps[c] = step === 0 ? 1 : step;
  }
  return steps;
}

/**
 * Writes the uint8 bucket of each of `cols` values, plus `offset` (0 for uint8, −128 for int8),
 * into `out` (an Int8Array or Uint8Array: the typed array does the final wrap).
 */
export function quantizeRow(
  src: Float32Array, srcStart: number, cols: number, min: Float32Array, steps: Float32Array,
  out: Int8Array | Uint8Array, outStart: number, offset: 0 | -128,
): void {
  for (let c = 0; c < cols; c++) {
    const bucket = Math.floor(f32(f32(src[srcStart + c] - min[c]) / steps[c]));
    out[outStart + c] = (bucket < 0 ? 0 : bucket > 255 ? 255 : bucket) + offset;
  }
}

/**
 * Packs the signs of `cols` values (bit = x > 0), MSB-first, into ceil(cols / 8) bytes of `out`;
 * `flip` 0x80 turns each byte into sentence-transformers' "binary" (byte − 128 as int8).
 */
export function packBitsRow(
  src: Float32Array, srcStart: number, cols: number, out: Uint8Array | Int8Array, outStart: number, flip: 0 | 0x80,
): void {
  const bytes = Math.ceil(cols / 8);
  for (let b = 0; b < bytes; b++) {
    let byte = 0;
    const end = Math.min(8, cols - b * 8);
    for (let bit = 0; bit < end; bit++) {
      if (src[srcStart + b * 8 + bit] > 0) byte |= 0x80 >> bit;
    }
    out[outStart + b] = byte ^ flip;
  }
}

/**
 * Float input staged into WebAssembly memory per kernel call: 256 KiB (it and its codes stay in
 * a core's L2 cache between the copy and the kernel), or one row if longer.
 */
const CHUNK_FLOATS = 1 << 16;
/**
 * Codes of a result up to this size can be held in the kernels' memory until every staged chunk
 * has passed its check, then copied into the caller's `out` at once (see quantize); the region
 * stays reserved for the next call, as WebAssembly memory cannot shrink.
 */
const HELD_CODES_BYTES = 8 << 20;
/** The kernels' own memory for quantizing (a simd128 instance; quantizing needs no other path). */
let codecArena: Arena | undefined;

/**
 * Copies `rows` rows of `cols` floats from row `first` of `src` into WebAssembly memory a chunk
 * at a time and calls `visit` with each staged chunk (its address, first row and row count),
 * until `visit` returns true.
 * Each value of `src` is read once, by the copy; views of `src` are made from its internal
 * slots (floatsView), so no code of the caller runs meanwhile.
 */
function forEachStagedChunk(
  caller: string, src: Float32Array, first: number, rows: number, cols: number,
  visit: (arena: Arena, ptr: number, done: number, n: number) => boolean | void,
): void {
  codecArena ??= new Arena(caller, undefined, false, "simd128");
  const arena = codecArena;
  const chunkRows = Math.max(1, Math.floor(CHUNK_FLOATS / cols));
  const srcPtr = arena.scratchFor(caller, "quantize-src", Math.min(rows, chunkRows) * cols * 4);
  for (let done = 0; done < rows; done += chunkRows) {
    const n = Math.min(chunkRows, rows - done);
    arena.f32.set(floatsView(src, (first + done) * cols, (first + done + n) * cols), srcPtr >>> 2);
    if (visit(arena, srcPtr, done, n) === true) return;
  }
}

/**
 * Runs `kernel` over `rows` rows of `cols` floats from row `first` of `src`, a staged chunk at a
 * time (forEachStagedChunk), coded at `rowBytes` a row and copied to `out` from `outStart` on.
 * With `onNonFinite`, each staged chunk is checked first, and a NaN or ±Infinity in it calls
 * `onNonFinite` (which throws) before that chunk is coded. With `holdCodes`, every chunk's codes
 * stay in the kernels' memory until the last chunk is coded, and only then are copied to `out`:
 * a chunk that throws leaves `out` as it was.
 */
function codeInChunks(
  caller: string, src: Float32Array, first: number, rows: number, cols: number, rowBytes: number,
  out: Uint8Array | Int8Array, outStart: number, kernel: (arena: Arena, src: number, rows: number, out: number) => void,
  onNonFinite?: () => never, holdCodes = false,
): void {
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.length);
  let outPtr = -1;
  forEachStagedChunk(caller, src, first, rows, cols, (arena, srcPtr, done, n) => {
    if (outPtr < 0) outPtr = arena.scratchFor(caller, "quantize-out", (holdCodes ? rows : n) * rowBytes); // the first chunk is the largest
    if (onNonFinite !== undefined && arena.kernels.find_nonfinite_f32(srcPtr, n * cols) >= 0) onNonFinite();
    const codesPtr = holdCodes ? outPtr + done * rowBytes : outPtr;
    kernel(arena, srcPtr, n, codesPtr);
    if (!holdCodes) bytes.set(arena.u8.subarray(codesPtr, codesPtr + n * rowBytes), outStart + done * rowBytes);
    else if (done + n === rows) bytes.set(arena.u8.subarray(outPtr, outPtr + rows * rowBytes), outStart);
  });
}

/**
 * `input` as a matrix over the caller's own values when it is a flat Float32Array over an
 * ArrayBuffer (viewRows), checked whole for NaN and ±Infinity in WebAssembly; undefined for every
 * other input, which the caller copies with toMatrix. Reading in place saves a copy of every float
 * (and the first touch of its pages); it is safe while no code of the caller runs between this
 * check and the last read (only this thread can change an ArrayBuffer).
 *
 * @throws RangeError naming the row and column of a value that is not finite (toMatrix's error).
 */
export function checkedInPlace(caller: string, input: unknown, dims: number | undefined, name: string): Matrix | undefined {
  const view = viewRows(input, dims, true);
  if (view === undefined || findNonFinite(view) < 0) return view;
  toMatrix(caller, input as EmbeddingsInput, { dims, name }); // throws the error naming the value
  throw new RangeError(`${caller}: ${name} holds a value that is not finite (it changed while being read); nothing was changed`);
}

/**
 * Where the first NaN or ±Infinity of `matrix` is (an index into its data), or −1 when every value is
 * finite: checked in WebAssembly a staged chunk at a time once `ready()` has run.
 */
export function findNonFinite(matrix: Matrix): number {
  const { data, rows, cols } = matrix;
  if (!isCompiled("simd")) {
    for (let i = 0; i < rows * cols; i++) if (!Number.isFinite(data[i])) return i;
    return -1;
  }
  let found = -1;
  forEachStagedChunk("findNonFinite", data, 0, rows, cols, (arena, ptr, done, n) => {
    const at = arena.kernels.find_nonfinite_f32(ptr, n * cols);
    if (at >= 0) found = done * cols + at;
    return found >= 0;
  });
  return found;
}

/**
 * packBitsRow for `rows` rows of `cols` values from row `first` of `src`, written back to back
 * (ceil(cols / 8) bytes each) from `outStart` of `out`: in WebAssembly once `ready()` has run.
 * `onNonFinite` and `holdCodes` (kernels only): see codeInChunks.
 */
export function packBits(
  src: Float32Array, first: number, rows: number, cols: number, out: Uint8Array | Int8Array, outStart: number, flip: 0 | 0x80,
  onNonFinite?: () => never, holdCodes = false,
): void {
  const bytes = Math.ceil(cols / 8);
  if (!isCompiled("simd")) {
    for (let r = 0; r < rows; r++) packBitsRow(src, (first + r) * cols, cols, out, outStart + r * bytes, flip);
    return;
  }
  codeInChunks("quantize", src, first, rows, cols, bytes, out, outStart, (arena, at, n, to) => arena.kernels.pack_bits_f32(at, n, cols, to, flip), onNonFinite, holdCodes);
}

/**
 * quantizeRow for `rows` rows of `cols` values from row `first` of `src`, written back to back
 * from `outStart` of `out`: in WebAssembly once `ready()` has run. `onNonFinite`, `holdCodes`: see codeInChunks.
 */
export function quantizeRows(
  src: Float32Array, first: number, rows: number, cols: number, min: Float32Array, steps: Float32Array,
  out: Int8Array | Uint8Array, outStart: number, offset: 0 | -128, onNonFinite?: () => never, holdCodes = false,
): void {
  if (!isCompiled("simd")) {
    for (let r = 0; r < rows; r++) quantizeRow(src, (first + r) * cols, cols, min, steps, out, outStart + r * cols, offset);
    return;
  }
  let mins = -1; // the ranges are copied into the kernels' memory once, at the first chunk
  let stepsPtr = -1;
  codeInChunks("quantize", src, first, rows, cols, cols, out, outStart, (arena, at, n, to) => {
    if (mins < 0) {
      mins = arena.scratchFor("quantize", "quantize-min", cols * 4);
      stepsPtr = arena.scratchFor("quantize", "quantize-steps", cols * 4);
      arena.f32.set(min, mins >>> 2);
      arena.f32.set(steps, stepsPtr >>> 2);
    }
    arena.kernels.quantize_u8_f32(at, n, cols, mins, stepsPtr, to, offset === 0 ? 0 : 0x80);
  }, onNonFinite, holdCodes);
}

/**
 * Resolves the ranges of `quantize`: `ranges`, else `calibration`, else the input itself (a
 * matrix over the caller's own array is checked whole first, see quantize).
 */
function resolveRanges(matrix: Matrix, options: QuantizeOptions, onNonFinite: (() => never) | undefined): Ranges {
  if (options.ranges !== undefined) return toRanges("quantize", options.ranges, matrix.cols, "options.ranges");
  if (options.calibration !== undefined) {
    return rangesOf(toMatrix("quantize", options.calibration, { dims: matrix.cols, name: "options.calibration" }), "quantize", "options.calibration");
  }
  if (onNonFinite !== undefined && findNonFinite(matrix) >= 0) onNonFinite();
  return rangesOf(matrix, "quantize");
}

/** "an Int8Array", "a Uint8Array": the article for a typed array's name in an error message. */
const a = (type: string) => `${/^[AEIO]/.test(type) ? "an" : "a"} ${type}`; // "a Uint8Array": a "you"

/**
 * `options.out` checked for `precision`: a genuine typed array of the precision's type whose buffer
 * is still attached. Its length is checked once the result's size is known (outputFor).
 *
 * @throws TypeError naming what `out` is and the type `precision` needs, or its detached buffer.
 */
function checkOut(out: unknown, precision: Precision): TypedArraySlots {
  const type = CODE_ARRAYS[precision].name;
  const slots = typedArraySlots(out);
  if (slots?.type !== type) {
    const seen = slots !== undefined ? `${a(slots.type)} of ${slots.length}`
      : out instanceof CODE_ARRAYS[precision] ? `not a genuine ${type} (a Proxy?)` : describe(out);
    throw new TypeError(
      `quantize: options.out is ${seen}; "${precision}" values go into ${a(type)} ` +
        `("int8", "binary": Int8Array; "uint8", "ubinary": Uint8Array; "float32": Float32Array)`,
    );
  }
  if (slots.detached) {
    throw new TypeError(`quantize: options.out is ${a(type)} whose buffer was detached (transferred); pass one whose buffer is still usable`);
  }
  return slots;
}

/**
 * Where `quantize` writes `rows` × `cols` values of `precision` (`target`, a view made from
 * internal slots, so no property of the caller's array is consulted) and what it returns (`data`):
 * a new array, or `out` (itself when its length is exactly rows × cols, else a view of its first
 * rows × cols). Call it after the last of the caller's code has run: `out` is checked again, as a
 * getter met while reading the options may have detached or shrunk it.
 *
 * @throws TypeError as checkOut; RangeError when `out` is shorter than rows × cols.
 */
function outputFor(precision: Precision, rows: number, cols: number, out: unknown): { target: Quantized["data"]; data: Quantized["data"] } {
  const Codes = CODE_ARRAYS[precision];
  if (out === undefined) {
    const fresh = new Codes(rows * cols);
    return { target: fresh, data: fresh };
  }
  const slots = checkOut(out, precision);
  if (slots.length < rows * cols) {
    throw new RangeError(
      `quantize: options.out has ${slots.length} elements; ${rows} rows of ${cols} "${precision}" values need at least ${rows * cols}`,
    );
  }
  const target = new Codes(slots.buffer as ArrayBuffer, slots.byteOffset, rows * cols);
  return { target, data: slots.length === rows * cols ? (out as Quantized["data"]) : target };
}

/** True when writing `bytes` bytes from the start of `out` would overwrite values of `input`. */
function overlaps(input: Float32Array, out: TypedArraySlots, bytes: number): boolean {
  const source = typedArraySlots(input)!;
  const start = source.byteOffset;
  return source.buffer === out.buffer && out.byteOffset < start + source.length * 4 && start < out.byteOffset + bytes;
}

/** The number of values a row of `dims` floats becomes at `precision`. */
const colsOf = (precision: Precision, dims: number) => (precision === "binary" || precision === "ubinary" ? Math.ceil(dims / 8) : dims);

/**
 * Quantizes embeddings exactly as sentence-transformers >= 5.7 `quantize_embeddings` does.
 *
 * @param embeddings rows to quantize, in any accepted shape (see `EmbeddingsInput`).
 * @param precision "float32" (a copy), "int8" / "uint8" (per-dimension buckets) or
 *   "binary" / "ubinary" (one bit per dimension, packed MSB-first).
 * @param options `ranges` or `calibration` for int8/uint8 (else the input's own min/max), `dims` for
 *   flat input, `out`: an existing array to write the values into (see `QuantizeOptions.out`).
 * @returns `{ data, rows, cols }`: Float32Array, Int8Array ("int8", "binary") or Uint8Array
 *   ("uint8", "ubinary"), new or `out`; cols is ceil(dims / 8) for the bit precisions.
 * @throws TypeError for an unknown precision, shape or option, or an `out` of the wrong type or with
 *   a detached buffer; RangeError for empty or ragged input, values that are not finite in float32,
 *   bad ranges (wrong length, min > max, a width max − min that overflows float32), and an `out`
 *   shorter than the result. Nothing is written into `out` when it throws.
 * @example
 * const ranges = { min: [1, 5, -60], max: [4, 20, -3] };
 * quantize([[-1, 15, 1]], "int8", { ranges }).data; // Int8Array [-128, 42, 127]
 * const out = new Int8Array(1000 * 384); // reused for every batch of up to 1000 rows
 * quantize(batch, "int8", { ranges, out }).data; // out, or a view of its first rows × 384
 */
export function quantize<P extends Precision>(embeddings: EmbeddingsInput, precision: P, options?: QuantizeOptions<CodesOf<P>>): Quantized<CodesOf<P>>;
export function quantize(embeddings: EmbeddingsInput, precision: Precision, options: QuantizeOptions = {}): Quantized {
  checkChoice("quantize", "precision", precision, PRECISIONS);
  options = readOptions("quantize", options, QUANTIZE_OPTION_KEYS, "an object like { ranges } or { calibration }");
  const outSlots = options.out === undefined ? undefined : checkOut(options.out, precision);
  if (precision === "float32") {
    if (outSlots === undefined) return toMatrix("quantize", embeddings, { dims: options.dims }); // the copy is already the caller's own
    const { data, rows, cols } = checkedInPlace("quantize", embeddings, options.dims, "embeddings") ?? toMatrix("quantize", embeddings, { dims: options.dims });
    const written = outputFor(precision, rows, cols, options.out);
    written.target.set(floatsView(data, 0, rows * cols)); // a copy within one buffer reads its source first
    return { data: written.data, rows, cols };
  }
  // A genuine flat Float32Array is read in place, straight into the kernels' staging chunks,
  // each checked as it is staged: no whole copy first. When it may be read twice (its own min/max
  // become the ranges; into `out`, a check of the whole may come first, see below), only one over
  // an ArrayBuffer is read in place, as no code of the caller runs between that check and the
  // last read. One that `out` would overwrite is copied.
  const ownRanges = (precision === "int8" || precision === "uint8") && options.ranges === undefined && options.calibration === undefined;
  let view = isCompiled("simd") ? viewRows(embeddings, options.dims, ownRanges || outSlots !== undefined) : undefined;
  if (view !== undefined && outSlots !== undefined && overlaps(view.data, outSlots, view.rows * colsOf(precision, view.cols))) view = undefined;
  const matrix = view ?? toMatrix("quantize", embeddings, { dims: options.dims });
  const { data, rows, cols } = matrix;
  const onNonFinite = view === undefined ? undefined : (): never => {
    toMatrix("quantize", embeddings, { dims: options.dims }); // throws the error naming the value
    throw new RangeError("quantize: embeddings holds a value that is not finite (it changed while being read)");
  };
  const ranges = precision === "int8" || precision === "uint8" ? resolveRanges(matrix, options, onNonFinite) : undefined; // may run the caller's code
  if (view !== undefined) checkStillHeld("quantize", view, "embeddings", "options were read");
  const { target, data: codes } = outputFor(precision, rows, colsOf(precision, cols), options.out);
  // A view is checked for NaN and ±Infinity chunk by chunk as it is staged (resolveRanges checked it
  // whole already when its own ranges were taken). Into `out`, a call that throws must write
  // nothing: the codes are held in the kernels' memory until the last chunk has passed, or, when
  // they are too many to hold, the view is checked whole first.
  let checkChunks = view === undefined || ownRanges ? undefined : onNonFinite;
  const holdCodes = checkChunks !== undefined && outSlots !== undefined && target.byteLength <= HELD_CODES_BYTES;
  if (checkChunks !== undefined && outSlots !== undefined && !holdCodes) {
    if (findNonFinite(view!) >= 0) onNonFinite!();
    checkChunks = undefined;
  }

  if (precision === "binary" || precision === "ubinary") {
    packBits(data, 0, rows, cols, target as Int8Array | Uint8Array, 0, precision === "binary" ? 0x80 : 0, checkChunks, holdCodes);
    return { data: codes, rows, cols: colsOf(precision, cols) };
  }
  const steps = stepsOf(ranges!);
  quantizeRows(data, 0, rows, cols, ranges!.min, steps, target as Int8Array | Uint8Array, 0, precision === "int8" ? -128 : 0, checkChunks, holdCodes);
  return { data: codes, rows, cols };
}
