// A codec per precision: how rows become codes in a column, how a query is encoded for the
// kernels, and what a kernel's integer key means as a score. The index and its shards ask the
// codec instead of branching on the precision.

import { floatsView, type Matrix } from "./embeddings.js";
import { type Ranges, packBits, quantizeRows, stepsOf } from "./quantize.js";
import { intQueryBytes, type KernelPath, writeIntQuery } from "./relaxed.js";
import { binaryScore, encodeInt8Query, type Int8Decoder, int8Decoder, type Int8Query, int8Score } from "./scoring.js";
import { keyToF32 } from "./topk.js";
import type { Arena } from "./wasm.js";

export type Precision = "binary" | "int8" | "float32";

/** The scan metric numbers of assembly/scan.ts (the descriptor's first field). */
export const METRIC = { binary: 0, int8: 2, float32: 3 } as const satisfies Record<Precision, number>;

/** What a query becomes before a scan: bytes in WASM memory plus what turns keys into scores. */
export interface EncodedQuery {
  /** int8 only: the scale and offset of the asymmetric score. */
  int8?: Int8Query;
}

export interface Codec {
  readonly precision: Precision;
  /** Bytes per stored row. */
  readonly rowBytes: number;
  /** The kernels' dims argument: code bytes for Hamming, elements otherwise. */
  readonly kernelDims: number;
  /** Bytes an encoded query takes on `path` (16-byte multiple). */
  queryBytes(path: KernelPath): number;
  /** Writes rows `first … first + count − 1` of `matrix` as codes at `ptr`, back to back. */
  encodeRows(arena: Arena, ptr: number, matrix: Matrix, first: number, count: number): void;
  /** Encodes a prepared query (truncated, normalized). */
  encodeQuery(query: Float32Array): EncodedQuery;
  /** Writes an encoded query at `ptr` in `arena`'s layout. */
  writeQuery(arena: Arena, ptr: number, query: Float32Array, encoded: EncodedQuery): void;
  /** The float32 score behind a kernel key or raw kernel value. */
  score(key: number, encoded: EncodedQuery): number;
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** Bytes of one row of `dims` values stored at `precision` (0 for none): what each codec's rowBytes is. */
export function rowBytesOf(precision: "binary" | "int8" | "float32" | "none", dims: number): number {
  return precision === "binary" ? Math.ceil(dims / 8) : precision === "int8" ? dims : precision === "float32" ? 4 * dims : 0;
}

/** Bit codes: `x > 0`, MSB first, compared by Hamming distance; score 1 − 2·distance/bits. */
export function binaryCodec(dims: number): Codec {
  const bytes = rowBytesOf("binary", dims);
  return {
    precision: "binary",
    rowBytes: bytes,
    kernelDims: bytes,
    queryBytes: () => align16(bytes),
    encodeRows(arena, ptr, matrix, first, count) {
      packBits(matrix.data, first, count, dims, arena.u8, ptr, 0);
    },
    encodeQuery: () => ({}),
    writeQuery(arena, ptr, query) {
      packBits(query, 0, 1, dims, arena.u8, ptr, 0);
    },
    score: (key) => binaryScore(-key, dims),
  };
}

/** int8 codes under per-dimension ranges, scored asymmetrically (see scoring.ts). */
export class Int8Codec implements Codec {
  readonly precision = "int8";
  readonly rowBytes: number;
  readonly kernelDims: number;
  readonly steps: Float32Array;
  private readonly decoder: Int8Decoder;

  constructor(
    private readonly dims: number,
    readonly ranges: Ranges,
  ) {
    this.rowBytes = rowBytesOf("int8", dims);
    this.kernelDims = dims;
    this.steps = stepsOf(ranges);
    this.decoder = int8Decoder(ranges);
  }

  queryBytes(path: KernelPath): number {
    return align16(intQueryBytes(path, this.dims, true));
  }

  encodeRows(arena: Arena, ptr: number, matrix: Matrix, first: number, count: number): void {
    quantizeRows(matrix.data, first, count, this.dims, this.ranges.min, this.steps, arena.i8, ptr, -128);
  }

  encodeQuery(query: Float32Array): EncodedQuery {
    return { int8: encodeInt8Query(query, this.decoder) };
  }

  writeQuery(arena: Arena, ptr: number, _query: Float32Array, encoded: EncodedQuery): void {
    writeIntQuery(arena.u8, ptr, encoded.int8!.codes, arena.path);
  }

  score(key: number, encoded: EncodedQuery): number {
    return int8Score(key, encoded.int8!);
  }
}

/** float32 rows as they are; the score is the dot product. */
export function float32Codec(dims: number): Codec {
  return {
    precision: "float32",
    rowBytes: rowBytesOf("float32", dims),
    kernelDims: dims,
    queryBytes: () => align16(dims * 4),
    encodeRows(arena, ptr, matrix, first, count) {
      arena.f32.set(floatsView(matrix.data, first * dims, (first + count) * dims), ptr >>> 2);
    },
    encodeQuery: () => ({}),
    writeQuery(arena, ptr, query) {
      arena.f32.set(query, ptr >>> 2);
    },
    score: (key) => keyToF32(key),
  };
}
