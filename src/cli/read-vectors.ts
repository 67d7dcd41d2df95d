// Readers for the vector files `quantvec eval FILE` accepts, each turned into one validated
// row-major float32 matrix:
//   .npy              NPY 1.0/2.0/3.0, dtypes <f4 <f2 <f8 and big-endian >f4 >f2 >f8, shape (rows, cols)
//                     or (cols,), C or Fortran order (Fortran is transposed to row-major)
//   .fvecs            records of an int32 little-endian dim followed by dim float32 (the TEXMEX format)
//   .f32 .bin .raw    headerless little-endian float32, row-major; the row length comes from `dims`
//   .jsonl .ndjson    one JSON object per line with the vector under `field` ("embedding")
// Everything wrong with a file is a VectorFileError whose message starts with the path; wrong
// arguments are TypeError/RangeError as everywhere else. Rows and columns in messages are 0-based,
// JSONL lines 1-based.

import { open, type FileHandle } from "node:fs/promises";
import { extname } from "node:path";
import { createInterface } from "node:readline";
import type { Matrix } from "../embeddings.js";
import { checkChoice, checkInteger, describe } from "../errors.js";
import { READ_OPTION_KEYS, readOptions } from "../options.js";

/** The file formats `readVectors` reads; "f32" is headerless little-endian float32. */
export type VectorFormat = "npy" | "fvecs" | "f32" | "jsonl";

/** Every `VectorFormat`, for validation and messages. */
export const VECTOR_FORMATS: readonly VectorFormat[] = ["npy", "fvecs", "f32", "jsonl"];

/** File extensions (lower case) and the format each one means. */
export const VECTOR_EXTENSIONS: Readonly<Record<string, VectorFormat>> = {
  ".npy": "npy",
  ".fvecs": "fvecs",
  ".f32": "f32",
  ".bin": "f32",
  ".raw": "f32",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
};

/** Options of `readVectors`. */
export interface ReadOptions {
  /** The row length: required for raw `.f32`, checked against the file for every other format. */
  dims?: number;
  /** The file's format; default: from the extension (see `VECTOR_EXTENSIONS`). */
  format?: VectorFormat;
  /** The JSONL key holding each vector; default `"embedding"`. */
  field?: string;
  /** Called now and then while a file larger than 4 MiB is read, with bytes done and the file size. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

/** A vector file that cannot be read or is malformed; the message starts with the file path. */
export class VectorFileError extends Error {
  override readonly name = "VectorFileError";
  /** The path (or source name) of the offending file. */
  readonly file: string;

  constructor(file: string, problem: string, options?: ErrorOptions) {
    super(`${file}: ${problem}`, options);
    this.file = file;
  }
}

// Files above this size get progress callbacks; binary files are read in chunks of this size.
const PROGRESS_BYTES = 4 * 1024 * 1024;
const DEFAULT_FIELD = "embedding";
const FLOAT32_MAX = 3.4028234663852886e38;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reads a file of embeddings (.npy, .fvecs, raw .f32/.bin/.raw, .jsonl/.ndjson) as a float32 matrix.
 * Binary files are read into one buffer; JSONL is streamed line by line into a growing Float32Array.
 *
 * @param path the file to read; its extension picks the format unless `options.format` is given.
 * @param options `dims` (required for raw float32, checked otherwise), `format`, the JSONL `field`,
 *   and an `onProgress(doneBytes, totalBytes)` callback for files larger than 4 MiB.
 * @returns the rows × cols float32 matrix and the format it was read as.
 * @throws (rejects with) VectorFileError for a missing or unreadable file (with the OS reason), an
 *   unknown extension, a malformed file, NaN/Infinity, zero rows or rows that disagree with `dims`;
 *   TypeError/RangeError for invalid options, or raw float32 without `dims`.
 * @example
 * const { data, rows, cols, format } = await readVectors("corpus.npy");
 * const raw = await readVectors("corpus.f32", { dims: 384 });
 * const docs = await readVectors("docs.jsonl", { field: "vector", onProgress: (done, total) => {} });
 */
export async function readVectors(
  path: string,
  options: ReadOptions = {},
): Promise<Matrix & { format: VectorFormat }> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(`readVectors: path must be a non-empty string, got ${describe(path)}`);
  }
  options = readOptions("readVectors", options, READ_OPTION_KEYS, "an object like { dims: 384 }");
  const dims = options.dims === undefined ? undefined : checkInteger("readVectors", "dims", options.dims, 1, 2 ** 31 - 1);
  const field = options.field ?? DEFAULT_FIELD;
  if (typeof field !== "string" || field === "") {
    throw new TypeError(`readVectors: field must be a non-empty string, got ${describe(field)}`);
  }
  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new TypeError(`readVectors: onProgress must be a function, got ${describe(onProgress)}`);
  }
  const format = options.format === undefined ? formatOf(path) : checkChoice("readVectors", "format", options.format, VECTOR_FORMATS);
  if (format === "f32" && dims === undefined) {
    throw new TypeError(`readVectors: ${path} is raw float32, which does not record its row length; pass dims`);
  }

  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw new VectorFileError(path, `cannot open the file (${osReason(error)})`, { cause: error });
  }
  try {
    let size: number | undefined;
    try {
      const stat = await handle.stat();
      if (stat.isDirectory()) throw new VectorFileError(path, "is a directory, not a vector file");
      // Pipes and devices have no size: read them whole without progress.
      if (stat.isFile()) size = stat.size;
    } catch (error) {
      if (error instanceof VectorFileError) throw error;
      throw new VectorFileError(path, `cannot read the file (${osReason(error)})`, { cause: error });
    }
    const report = onProgress !== undefined && size !== undefined && size > PROGRESS_BYTES ? onProgress : undefined;

    let matrix: Matrix;
    if (format === "jsonl") {
      matrix = await readJsonlStream(path, handle, field, dims, size ?? 0, report);
    } else {
      const bytes = await readAll(path, handle, size, report);
      matrix =
        format === "npy" ? decodeNpy(bytes, path, true)
        : format === "fvecs" ? parseFvecs(bytes, path)
        : decodeRawF32(bytes, dims as number, path, true);
    }
    if (dims !== undefined && matrix.cols !== dims) {
      throw new VectorFileError(path, `rows have ${matrix.cols} values, but dims is ${dims}`);
    }
    return { ...matrix, format };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The format an extension stands for, or a VectorFileError listing the supported extensions. */
function formatOf(path: string): VectorFormat {
  const extension = extname(path).toLowerCase();
  const format = Object.hasOwn(VECTOR_EXTENSIONS, extension) ? VECTOR_EXTENSIONS[extension] : undefined;
  if (format === undefined) {
    const seen = extension === "" ? "has no extension" : `has the unknown extension "${extension}"`;
    throw new VectorFileError(
      path,
      `${seen}; supported: ${Object.keys(VECTOR_EXTENSIONS).join(", ")} (or pass format: ${VECTOR_FORMATS.map((f) => `"${f}"`).join(" | ")})`,
    );
  }
  return format;
}

/** "ENOENT: no such file or directory" from a Node fs error, without the repeated path. */
function osReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/, \w+ '.*'$/s, "");
}

/** The whole file in one buffer, read in chunks so that big files can report progress. */
async function readAll(
  path: string,
  handle: FileHandle,
  size: number | undefined,
  report: ((done: number, total: number) => void) | undefined,
): Promise<Uint8Array> {
  try {
    if (size === undefined) return await handle.readFile();
    // allocUnsafeSlow: an unpooled buffer at byteOffset 0, so float32 data can often be viewed in place.
    const bytes = Buffer.allocUnsafeSlow(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(bytes, done, Math.min(PROGRESS_BYTES, size - done), done);
      if (bytesRead === 0) break;
      done += bytesRead;
      report?.(done, size);
    }
    if (done < size) throw new VectorFileError(path, `shrank while being read: ${size} bytes expected, ${done} read`);
    return bytes;
  } catch (error) {
    if (error instanceof VectorFileError) throw error;
    throw new VectorFileError(path, `cannot read the file (${osReason(error)})`, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function checkBytes(caller: string, bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${caller}: bytes is ${describe(bytes)}; expected a Uint8Array`);
  }
}

/** Copies `count` little-endian float32 from `src` at any byte offset into `dst` at `dstIndex`. */
function copyF32LE(src: Uint8Array, srcOffset: number, count: number, dst: Float32Array, dstIndex: number): void {
  if (LITTLE_ENDIAN_HOST) {
    // A byte copy into the destination's own (aligned) bytes: no alignment needed on the source.
    new Uint8Array(dst.buffer, dst.byteOffset + dstIndex * 4, count * 4).set(src.subarray(srcOffset, srcOffset + count * 4));
    return;
  }
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let i = 0; i < count; i++) dst[dstIndex + i] = view.getFloat32(srcOffset + i * 4, true);
}

/**
 * `count` little-endian float32 at `offset`: a view into `src` when `alias` is allowed and the
 * data is aligned (saves a copy of a multi-GB file), a copy otherwise.
 */
function float32LE(src: Uint8Array, offset: number, count: number, alias: boolean): Float32Array {
  if (alias && LITTLE_ENDIAN_HOST && (src.byteOffset + offset) % 4 === 0) {
    return new Float32Array(src.buffer, src.byteOffset + offset, count);
  }
  const out = new Float32Array(count);
  copyF32LE(src, offset, count, out, 0);
  return out;
}

/**
 * Throws a VectorFileError naming the row and column of the first NaN/Infinity in `data`.
 * `original(i)` may describe the value as the file stores it (a float64 that overflowed float32).
 */
function checkFinite(source: string, data: Float32Array, cols: number, original?: (index: number) => string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const seen = original ? original(i) : describe(data[i]);
      throw new VectorFileError(
        source,
        `row ${Math.floor(i / cols)}, column ${i % cols} is ${seen}; values must be finite`,
      );
    }
  }
}

/** A float64 as the message shows it: the value, and why it is not finite in float32. */
function describeFloat64(value: number): string {
  return Number.isFinite(value) && Math.abs(value) > FLOAT32_MAX ? `${value}, which overflows float32` : describe(value);
}

// ---------------------------------------------------------------------------------------------
// NPY

interface NpyDtype {
  size: 2 | 4 | 8;
  littleEndian: boolean;
}

const NPY_DTYPES: Readonly<Record<string, NpyDtype>> = {
  "<f4": { size: 4, littleEndian: true },
  "<f2": { size: 2, littleEndian: true },
  "<f8": { size: 8, littleEndian: true },
  ">f4": { size: 4, littleEndian: false },
  ">f2": { size: 2, littleEndian: false },
  ">f8": { size: 8, littleEndian: false },
};
const NPY_SUPPORTED = "'<f4' (float32), '<f2' (float16), '<f8' (float64) and big-endian '>f4', '>f2', '>f8'";
const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface NpyHeader {
  descr: string;
  dtype: NpyDtype;
  fortranOrder: boolean;
  shape: number[];
  dataOffset: number;
}

/**
 * Parses an .npy file (NPY format 1.0, 2.0 or 3.0) holding float32, float16 or float64 values,
 * little- or big-endian, shape (rows, cols) or (cols,) (one row), C or Fortran order.
 * Fortran-order arrays are transposed into row-major.
 *
 * @param bytes the whole file; the data need not be aligned.
 * @param source the file name used in error messages.
 * @returns a rows × cols float32 matrix (a copy; `bytes` is not retained).
 * @throws VectorFileError for a bad magic or header, an unsupported version, dtype or shape,
 *   truncated or trailing data, zero rows or columns, or NaN/Infinity (also float64 beyond float32's range);
 *   TypeError when `bytes` is not a Uint8Array.
 * @example
 * const { rows, cols, data } = parseNpy(readFileSync("corpus.npy"), "corpus.npy");
 */
export function parseNpy(bytes: Uint8Array, source: string): Matrix {
  checkBytes("parseNpy", bytes);
  return decodeNpy(bytes, source, false);
}

function decodeNpy(bytes: Uint8Array, source: string, alias: boolean): Matrix {
  const header = readNpyHeader(bytes, source);
  const { dtype, fortranOrder, shape, dataOffset } = header;
  const rows = shape.length === 1 ? 1 : shape[0];
  const cols = shape.length === 1 ? shape[0] : shape[1];
  const shapeText = `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
  if (rows === 0) throw new VectorFileError(source, `has 0 rows (shape ${shapeText}); at least one is required`);
  if (cols === 0) throw new VectorFileError(source, `has rows of 0 values (shape ${shapeText}); at least 1 is required`);

  const count = rows * cols;
  const expected = count * dtype.size;
  const available = bytes.length - dataOffset;
  if (available < expected) {
    throw new VectorFileError(
      source,
      `data is truncated: shape ${shapeText} of '${header.descr}' needs ${expected} bytes after the header, the file has ${available}`,
    );
  }
  if (available > expected) {
    throw new VectorFileError(
      source,
      `has ${available - expected} bytes after the data of shape ${shapeText} of '${header.descr}' ` +
        `(more than one array saved into the file?)`,
    );
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { littleEndian } = dtype;
  let values: Float32Array;
  if (dtype.size === 4 && littleEndian) {
    values = float32LE(bytes, dataOffset, count, alias && !fortranOrder);
  } else {
    values = new Float32Array(count);
    if (dtype.size === 4) {
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(dataOffset + i * 4, false);
    } else if (dtype.size === 8) {
      for (let i = 0; i < count; i++) values[i] = view.getFloat64(dataOffset + i * 8, littleEndian);
    } else {
      const table = halfTable();
      const hi = littleEndian ? 1 : 0;
      const lo = 1 - hi;
      for (let i = 0, o = dataOffset; i < count; i++, o += 2) values[i] = table[(bytes[o + hi] << 8) | bytes[o + lo]];
    }
  }

  // Fortran order only differs from C order when both dimensions exceed 1.
  const transposed = fortranOrder && rows > 1 && cols > 1;
  const data = transposed ? transpose(values, rows, cols) : values;
  // Index in the file of the row-major element i (for messages that show the stored value).
  const fileIndex = (i: number) => (transposed ? (i % cols) * rows + Math.floor(i / cols) : i);
  checkFinite(
    source,
    data,
    cols,
    dtype.size === 8 ? (i) => describeFloat64(view.getFloat64(dataOffset + fileIndex(i) * 8, littleEndian)) : undefined,
  );
  return { data, rows, cols };
}

/** Column-major rows × cols values as a new row-major array. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    const base = c * rows;
    for (let r = 0; r < rows; r++) out[r * cols + c] = values[base + r];
  }
  return out;
}

function readNpyHeader(bytes: Uint8Array, source: string): NpyHeader {
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new VectorFileError(source, `is not an NPY file: it does not start with the magic "\\x93NUMPY"`);
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3) {
    throw new VectorFileError(source, `has NPY format version ${major}.${minor}; supported: 1.0, 2.0, 3.0`);
  }
  // 1.0 stores the header length as uint16, 2.0 and 3.0 as uint32 (both little-endian).
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) throw new VectorFileError(source, `is truncated inside the NPY preamble (${bytes.length} bytes)`);
  const headerLength =
    major === 1 ? bytes[8] | (bytes[9] << 8) : (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
  const dataOffset = prefix + headerLength;
  if (dataOffset > bytes.length) {
    throw new VectorFileError(
      source,
      `NPY header declares ${headerLength} bytes, but the file ends ${bytes.length - prefix} bytes after the preamble`,
    );
  }
  const headerBytes = bytes.subarray(prefix, dataOffset);
  // 1.0 and 2.0 headers are latin-1, 3.0 headers UTF-8.
  let text = "";
  if (major === 3) text = new TextDecoder("utf-8").decode(headerBytes);
  else for (const byte of headerBytes) text += String.fromCharCode(byte);

  const dict = parsePythonLiteral(text, source);
  if (typeof dict !== "object" || dict === null || Array.isArray(dict)) {
    throw new VectorFileError(source, `NPY header is not a dict: ${JSON.stringify(text.trim())}`);
  }
  const header = dict as Record<string, unknown>;
  for (const key of ["descr", "fortran_order", "shape"]) {
    if (!Object.hasOwn(header, key)) {
      throw new VectorFileError(source, `NPY header has no '${key}': ${JSON.stringify(text.trim())}`);
    }
  }
  const { descr, fortran_order: fortranOrder, shape } = header;
  if (typeof descr !== "string") {
    throw new VectorFileError(source, `has a structured dtype ${JSON.stringify(descr)}; supported: ${NPY_SUPPORTED}`);
  }
  const dtype = Object.hasOwn(NPY_DTYPES, descr) ? NPY_DTYPES[descr] : undefined;
  if (dtype === undefined) {
    throw new VectorFileError(source, `has dtype '${descr}', which is not supported; supported: ${NPY_SUPPORTED}`);
  }
  if (typeof fortranOrder !== "boolean") {
    throw new VectorFileError(source, `NPY header's fortran_order is ${describe(fortranOrder)}; expected True or False`);
  }
  if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new VectorFileError(source, `NPY header's shape is ${JSON.stringify(shape)}; expected a tuple of non-negative integers`);
  }
  if (shape.length !== 1 && shape.length !== 2) {
    throw new VectorFileError(
      source,
      `has shape (${shape.join(", ")}) with ${shape.length} dimensions; expected (rows, cols) or (cols,)`,
    );
  }
  return { descr, dtype, fortranOrder, shape: shape as number[], dataOffset };
}

/**
 * Parses the Python literal subset NPY headers are written in: dicts, tuples, lists, quoted
 * strings, integers (with Python 2's `L` suffix), True, False and None. Tuples become arrays.
 */
function parsePythonLiteral(text: string, source: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new VectorFileError(source, `malformed NPY header (${what} at character ${i}): ${JSON.stringify(text.trim())}`);
  };
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const sequence = (close: string): unknown[] => {
    const items: unknown[] = [];
    for (;;) {
      skipSpace();
      if (text[i] === close) break;
      items.push(value());
      skipSpace();
      if (text[i] === ",") i++;
      else if (text[i] !== close) fail(`expected "," or "${close}"`);
    }
    i++;
    return items;
  };
  const value = (): unknown => {
    skipSpace();
    const ch = text[i];
    if (ch === "{") {
      i++;
      const dict: Record<string, unknown> = Object.create(null);
      for (;;) {
        skipSpace();
        if (text[i] === "}") break;
        const key = value();
        if (typeof key !== "string") fail("expected a string key");
        skipSpace();
        if (text[i] !== ":") fail('expected ":"');
        i++;
        dict[key as string] = value();
        skipSpace();
        if (text[i] === ",") i++;
        else if (text[i] !== "}") fail('expected "," or "}"');
      }
      i++;
      return dict;
    }
    if (ch === "(") {
      i++;
      return sequence(")");
    }
    if (ch === "[") {
      i++;
      return sequence("]");
    }
    if (ch === "'" || ch === '"') {
      let out = "";
      for (i++; i < text.length && text[i] !== ch; i++) out += text[i] === "\\" ? text[++i] : text[i];
      if (i >= text.length) fail("unterminated string");
      i++;
      return out;
    }
    const token = /^(-?\d+)L?|^(True|False|None)\b/.exec(text.slice(i, i + 40));
    if (token === null) return fail(ch === undefined ? "unexpected end" : `unexpected ${JSON.stringify(ch)}`);
    i += token[0].length;
    if (token[1] !== undefined) return Number(token[1]);
    return token[2] === "True" ? true : token[2] === "False" ? false : null;
  };
  const result = value();
  skipSpace();
  if (i < text.length) fail("unexpected text after the dict");
  return result;
}

let HALF_TO_FLOAT: Float32Array | undefined;

/** All 65536 float16 bit patterns as float32 (exact: every half is representable in float32). */
function halfTable(): Float32Array {
  if (HALF_TO_FLOAT === undefined) {
    HALF_TO_FLOAT = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TO_FLOAT[h] = halfToFloat(h);
  }
  return HALF_TO_FLOAT;
}

/** IEEE 754 binary16 bits → number: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
function halfToFloat(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  let magnitude: number;
  if (exponent === 0) magnitude = fraction * 2 ** -24; // zero and subnormals: 0.fraction × 2^-14
  else if (exponent === 0x1f) magnitude = fraction === 0 ? Infinity : NaN;
  else magnitude = (1024 + fraction) * 2 ** (exponent - 25); // 1.fraction × 2^(exponent - 15)
  return bits & 0x8000 ? -magnitude : magnitude; // keeps -0
}

// ---------------------------------------------------------------------------------------------
// fvecs

/**
 * Parses an .fvecs file: records of an int32 little-endian dim followed by dim little-endian float32.
 *
 * @param bytes the whole file; the data need not be aligned.
 * @param source the file name used in error messages.
 * @returns one row per record, rows × dim float32.
 * @throws VectorFileError for an empty file, a dim below 1, records of different dims, a truncated
 *   record (named by its 0-based number, which is also its row) or NaN/Infinity;
 *   TypeError when `bytes` is not a Uint8Array.
 * @example
 * const { rows, cols } = parseFvecs(readFileSync("sift_base.fvecs"), "sift_base.fvecs"); // 1000000, 128
 */
export function parseFvecs(bytes: Uint8Array, source: string): Matrix {
  checkBytes("parseFvecs", bytes);
  const length = bytes.length;
  if (length === 0) throw new VectorFileError(source, "is empty; at least one record is required");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // First pass over the record headers only, so a malformed file allocates nothing.
  let dims = 0;
  let rows = 0;
  for (let offset = 0; offset < length; rows++) {
    if (length - offset < 4) {
      throw new VectorFileError(source, `record ${rows} is truncated: ${length - offset} bytes, too few for its 4-byte dim`);
    }
    const dim = view.getInt32(offset, true);
    if (rows === 0) {
      if (dim < 1) throw new VectorFileError(source, `record 0 declares dim ${dim}; dims must be at least 1 (is this an fvecs file?)`);
      dims = dim;
    } else if (dim !== dims) {
      throw new VectorFileError(source, `record ${rows} has dim ${dim}, expected ${dims} (from record 0)`);
    }
    const remaining = length - offset - 4;
    if (remaining < dims * 4) {
      throw new VectorFileError(
        source,
        `record ${rows} is truncated: dim ${dims} needs ${dims * 4} bytes of values, only ${remaining} remain`,
      );
    }
    offset += 4 + dims * 4;
  }

  const data = new Float32Array(rows * dims);
  const recordBytes = 4 + dims * 4;
  for (let r = 0; r < rows; r++) copyF32LE(bytes, r * recordBytes + 4, dims, data, r * dims);
  checkFinite(source, data, dims);
  return { data, rows, cols: dims };
}

// ---------------------------------------------------------------------------------------------
// raw float32

/**
 * Parses headerless little-endian float32 values, row-major, `dims` per row.
 *
 * @param bytes the whole file; the data need not be aligned.
 * @param dims the row length (the file does not record it).
 * @param source the file name used in error messages.
 * @returns a (byte length / 4 / dims) × dims float32 matrix (a copy).
 * @throws VectorFileError for an empty file, a length that is not a multiple of 4 × dims, or NaN/Infinity;
 *   TypeError/RangeError when `bytes` is not a Uint8Array or `dims` not an integer ≥ 1.
 * @example
 * const { rows } = parseRawF32(readFileSync("corpus.f32"), 384, "corpus.f32");
 */
export function parseRawF32(bytes: Uint8Array, dims: number, source: string): Matrix {
  checkBytes("parseRawF32", bytes);
  checkInteger("parseRawF32", "dims", dims, 1, 2 ** 31 - 1);
  return decodeRawF32(bytes, dims, source, false);
}

function decodeRawF32(bytes: Uint8Array, dims: number, source: string, alias: boolean): Matrix {
  const rowBytes = 4 * dims;
  if (bytes.length === 0) throw new VectorFileError(source, "is empty; at least one row is required");
  if (bytes.length % rowBytes !== 0) {
    throw new VectorFileError(
      source,
      `has ${bytes.length} bytes, not a multiple of 4 × dims = ${rowBytes} (rows of ${dims} float32 values)`,
    );
  }
  const rows = bytes.length / rowBytes;
  const data = float32LE(bytes, 0, rows * dims, alias);
  checkFinite(source, data, dims);
  return { data, rows, cols: dims };
}

// ---------------------------------------------------------------------------------------------
// JSONL

/** JSONL rows appended one line at a time into a Float32Array that doubles as it fills. */
class JsonlRows {
  private data = new Float32Array(0);
  private rows = 0;
  private cols = -1;
  private firstLine = 0;
  private lines = 0;

  constructor(
    private readonly source: string,
    private readonly field: string,
    private readonly dims?: number,
  ) {}

  /** Adds one line (without its line break); `lineNumber` is 1-based. Blank lines are skipped. */
  add(text: string, lineNumber: number): void {
    this.lines = lineNumber;
    const line = lineNumber === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a UTF-8 BOM
    if (isBlank(line)) return;
    const { source, field } = this;
    // `problem` continues "line N", e.g. ": invalid JSON" or " (row 6), column 3 is …".
    const fail = (problem: string): never => {
      throw new VectorFileError(source, `line ${lineNumber}${problem}`);
    };

    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      fail(`: invalid JSON (${(error as Error).message})`);
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      fail(`: is ${describe(record)}; expected a JSON object with the vector under "${field}"`);
    }
    const object = record as Record<string, unknown>;
    if (!Object.hasOwn(object, field)) {
      const keys = Object.keys(object);
      const shown = keys.slice(0, 8).map((k) => JSON.stringify(k)).join(", ") + (keys.length > 8 ? ", …" : "");
      fail(`: no "${field}" field; the object has ${keys.length === 0 ? "no keys" : `keys ${shown}`}`);
    }
    const vector = object[field];
    if (!Array.isArray(vector)) fail(`: ${field} is ${describe(vector)}; expected an array of numbers`);
    const values = vector as unknown[];

    if (this.cols < 0) {
      if (values.length === 0) fail(`: ${field} is empty; at least 1 value is required`);
      if (this.dims !== undefined && values.length !== this.dims) {
        fail(`: ${field} has ${values.length} values, but dims is ${this.dims}`);
      }
      this.cols = values.length;
      this.firstLine = lineNumber;
    } else if (values.length !== this.cols) {
      fail(`: ${field} has ${values.length} values, expected ${this.cols} (from line ${this.firstLine})`);
    }

    const cols = this.cols;
    const base = this.rows * cols;
    if (base + cols > this.data.length) {
      const grown = new Float32Array(Math.max(base + cols, this.data.length * 2, 256 * cols));
      grown.set(this.data);
      this.data = grown;
    }
    const data = this.data;
    for (let c = 0; c < cols; c++) {
      const value = values[c];
      if (typeof value !== "number") fail(` (row ${this.rows}), column ${c} is ${describe(value)}; values must be numbers`);
      data[base + c] = value as number;
      // JSON has no NaN, but 1e999 parses to Infinity and 1e39 overflows float32.
      if (!Number.isFinite(data[base + c])) {
        fail(` (row ${this.rows}), column ${c} is ${describeFloat64(value as number)}; values must be finite`);
      }
    }
    this.rows++;
  }

  /** The matrix of every row added; a VectorFileError when there are none. */
  finish(): Matrix {
    if (this.rows === 0) {
      throw new VectorFileError(
        this.source,
        this.lines === 0 ? "is empty; at least one row is required" : `has no vectors (${this.lines} lines, all blank)`,
      );
    }
    const used = this.rows * this.cols;
    // Trim the doubling slack so a big corpus does not keep up to twice its size alive.
    const data = this.data.length === used ? this.data : this.data.slice(0, used);
    return { data, rows: this.rows, cols: this.cols };
  }
}

/** True for lines of nothing but JSON whitespace (space, tab, CR, LF). */
function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

/**
 * Parses JSONL text: one JSON object per line with the vector as an array of numbers under
 * `field`. Blank lines are skipped; lines break at \n, \r\n or \r, like node:readline.
 *
 * @param text the whole file as a string.
 * @param source the file name used in error messages.
 * @param field the key holding each vector; default `"embedding"`.
 * @returns one row per non-blank line.
 * @throws VectorFileError naming the 1-based line for invalid JSON, a non-object, a missing field,
 *   a non-array, a length that differs from the first vector's, a non-number or a non-finite value
 *   (also the 0-based row and column); for no vectors at all. TypeError for a non-string `text`/`field`.
 * @example
 * parseJsonl('{"embedding": [1, 2]}\n\n{"embedding": [3, 4]}\n', "docs.jsonl"); // rows 2, cols 2
 */
export function parseJsonl(text: string, source: string, field: string = DEFAULT_FIELD): Matrix {
  if (typeof text !== "string") throw new TypeError(`parseJsonl: text is ${describe(text)}; expected a string`);
  if (typeof field !== "string" || field === "") {
    throw new TypeError(`parseJsonl: field must be a non-empty string, got ${describe(field)}`);
  }
  const rows = new JsonlRows(source, field);
  let lineNumber = 0;
  let start = 0;
  while (start < text.length) {
    let end = start;
    while (end < text.length && text.charCodeAt(end) !== 0x0a && text.charCodeAt(end) !== 0x0d) end++;
    rows.add(text.slice(start, end), ++lineNumber);
    start = end + (text.charCodeAt(end) === 0x0d && text.charCodeAt(end + 1) === 0x0a ? 2 : 1);
  }
  return rows.finish();
}

/** JSONL streamed line by line from an open file, so only the float32 rows are ever held. */
async function readJsonlStream(
  path: string,
  handle: FileHandle,
  field: string,
  dims: number | undefined,
  size: number,
  report: ((done: number, total: number) => void) | undefined,
): Promise<Matrix> {
  const rows = new JsonlRows(path, field, dims);
  const stream = handle.createReadStream({ autoClose: false, start: 0 });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNumber = 0;
  // Progress counts characters of processed lines: exact for ASCII, which JSON vectors are.
  let done = 0;
  let next = PROGRESS_BYTES;
  try {
    for await (const line of lines) {
      rows.add(line, ++lineNumber);
      if (report) {
        done += line.length + 1;
        if (done >= next) {
          report(Math.min(done, size), size);
          next = done + PROGRESS_BYTES;
        }
      }
    }
  } catch (error) {
    if (error instanceof VectorFileError) throw error;
    throw new VectorFileError(path, `cannot read the file (${osReason(error)})`, { cause: error });
  } finally {
    lines.close();
    stream.destroy();
  }
  report?.(size, size);
  return rows.finish();
}
