// Learned rotations for truncation and binary codes: a model not trained with Matryoshka loss
// spreads meaning over all dimensions, so cutting its vectors loses much; rotating them first into
// the principal axes of a sample (PCA) puts the variance in the leading coordinates, and ITQ then
// turns those axes so that signs (binary codes) lose as little as possible.
//
// The rotation is orthogonal and applied to the raw vectors, never after subtracting a mean:
// shifting changes the cosine geometry (FINDINGS.md: MiniLM at 128 dims fell from 0.92 to 0.70).
// Second moments, rotations and ITQ's n × d products are float32 matrix products in WebAssembly
// (matmul_f32); the eigendecomposition (src/eigen.ts) and ITQ's d × d Procrustes algebra run in
// float64, their O(d³) loops in WebAssembly too (matmul_f64, assembly/eigen.ts).

import { type EmbeddingsInput, floatsView, type Matrix, toMatrix } from "./embeddings.js";
import { symmetricEigen } from "./eigen.js";
import { checkChoice, checkInteger, describe } from "./errors.js";
import { truncateMatrix } from "./matryoshka.js";
import { FIT_ROTATION_OPTION_KEYS, readOptions } from "./options.js";
import { Arena } from "./wasm.js";

/** How a rotation is learned: principal axes, or principal axes turned to minimise sign error. */
export type RotationMethod = "pca" | "itq";

/** Options of `fitRotation`. */
export interface FitRotationOptions {
  /** "pca": principal axes of the sample; "itq": PCA, then iterative quantization for binary codes. */
  method: RotationMethod;
  /** How many rotated dimensions to keep (the leading principal axes); default: all. */
  dims?: number;
  /** ITQ iterations (each: two n × d × d products and a d × d eigendecomposition; it stops early once the signs repeat); default 50. Ignored by "pca". */
  iterations?: number;
  /** Seed of ITQ's random initial rotation; default 1. The same seed gives the same rotation. */
  seed?: number;
}

/** The serialized form of a `Rotation` (`toJSON`), read back by `Rotation.fromJSON`. */
export interface RotationJSON {
  format: "quantvec-rotation";
  version: 1;
  method: RotationMethod;
  inputDims: number;
  outputDims: number;
  /** The matrix as little-endian float32 bytes, base64-encoded (exact, and a third of decimal text). */
  matrix: string;
}

const MAX_DIMS = 65536;
const DEFAULT_ITERATIONS = 50;
/** Largest |MᵀM − I| entry accepted: float32 rounding of a 65536-row product stays far below it. */
const ORTHOGONALITY_TOLERANCE = 1e-3;
/** Rows rotated per kernel call: bounds the scratch memory at a few MB. */
const ROW_BLOCK = 1024;

/** out = a · b (row-major float32) by the matmul_f32 kernel, in `arena`. */
function matmul(caller: string, arena: Arena, a: Float32Array, b: Float32Array, rows: number, inner: number, cols: number): Float32Array {
  const aPtr = arena.scratchFor(caller, "a", a.byteLength);
  const bPtr = arena.scratchFor(caller, "b", b.byteLength);
  const outPtr = arena.scratchFor(caller, "out", rows * cols * 4);
  arena.f32.set(a, aPtr >> 2);
  arena.f32.set(b, bPtr >> 2);
  arena.matmulF32(caller, aPtr, bPtr, rows, inner, cols, outPtr);
  return arena.f32.slice(outPtr >> 2, (outPtr >> 2) + rows * cols);
}

/** The transpose of a small rows × cols float32 matrix (samples are transposed by the transpose_f32 kernel). */
function transposeF32(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** out = a · b (row-major float64) by the matmul_f64 kernel, in `arena`. */
function matmul64(caller: string, arena: Arena, a: Float64Array, b: Float64Array, rows: number, inner: number, cols: number): Float64Array {
  const aPtr = arena.scratchFor(caller, "a64", a.byteLength);
  const bPtr = arena.scratchFor(caller, "b64", b.byteLength);
  const outPtr = arena.scratchFor(caller, "out64", rows * cols * 8);
  new Float64Array(arena.memory.buffer, aPtr, a.length).set(a);
  new Float64Array(arena.memory.buffer, bPtr, b.length).set(b);
  arena.matmulF64(caller, aPtr, bPtr, rows, inner, cols, outPtr);
  return new Float64Array(arena.memory.buffer, outPtr, rows * cols).slice();
}

function transpose64(data: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** mulberry32 as uniform values in [−1, 1): no transcendental functions, so the bits never vary by engine. */
function uniformSigned(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  };
}

/**
 * Makes columns `from` … cols − 1 of the rows × cols matrix m orthonormal to each other and to the
 * columns before them (which must be orthonormal already), in place: modified Gram–Schmidt (two
 * passes, for float64 accuracy; orthogonalize_row_f64) on the rows of its transpose, so the inner
 * loops are contiguous. A column that vanishes against the earlier ones is replaced by a unit
 * vector that does not. With from = 0 this is the Q of m's QR decomposition.
 */
function completeOrthonormalColumns(caller: string, arena: Arena, m: Float64Array, rows: number, cols: number, from: number): void {
  if (from >= cols) return;
  const ptr = arena.scratchFor(caller, "gram-schmidt", rows * cols * 8);
  const t = new Float64Array(arena.memory.buffer, ptr, rows * cols);
  t.set(transpose64(m, rows, cols));
  for (let c = from; c < cols; c++) {
    const row = t.subarray(c * rows, (c + 1) * rows);
    for (let attempt = 0; ; attempt++) {
      const before = Math.hypot(...row);
      arena.kernels.orthogonalize_row_f64(ptr, c, rows);
      const norm = Math.hypot(...row);
      if (norm > 1e-8 * before && norm > 0) {
        for (let r = 0; r < rows; r++) row[r] /= norm;
        break;
      }
      row.fill(0);
      row[attempt % rows] = 1;
    }
  }
  m.set(transpose64(t, cols, rows));
}

/**
 * The orthogonal polar factor of the n × n matrix m: the orthogonal matrix nearest to m. With
 * m = U Σ Wᵀ, it is U Wᵀ. W and Σ² come from the eigendecomposition of mᵀm (float64: mᵀm squares
 * m's condition number), U's columns are m w_i / σ_i. Where σ_i ≈ 0 (a sample whose rank is
 * below n: duplicate or dependent rows) u_i is undetermined; Gram–Schmidt completes U with
 * orthonormal columns there (the trailing ones: σ descends), so the factor stays orthogonal.
 */
function polarFactor(caller: string, arena: Arena, m: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matmul64(caller, arena, transpose64(m, n, n), m, n, n, n), n, arena);
  const floor = Math.max(values[0], 0) * 1e-12;
  const u = matmul64(caller, arena, m, transpose64(vectors, n, n), n, n, n);
  let determined = 0;
  while (determined < n && values[determined] > floor) determined++;
  for (let i = 0; i < n; i++) {
    const weight = i < determined ? 1 / Math.sqrt(values[i]) : 0;
    for (let r = 0; r < n; r++) u[r * n + i] *= weight;
  }
  completeOrthonormalColumns(caller, arena, u, n, n, determined);
  return matmul64(caller, arena, u, vectors, n, n, n);
}

/** Columns per block of the second moment: only blocks on or below the diagonal are multiplied. */
const MOMENT_BLOCK = 128;

/**
 * Lower triangle of the second-moment matrix XᵀX / n of the sample (all that symmetricEigen
 * reads; the rest is 0). For each block of MOMENT_BLOCK columns j0 … j1 of X, the rows j0 … of Xᵀ
 * times that block, so the blocks above the diagonal are never computed: float32 products in
 * WebAssembly (each element the same sum as in the full product), scaled in float64.
 */
function secondMoment(caller: string, arena: Arena, x: Matrix): Float64Array {
  const { rows, cols } = x;
  const samplePtr = arena.scratchFor(caller, "moment X", rows * cols * 4);
  const transposedPtr = arena.scratchFor(caller, "moment Xt", rows * cols * 4);
  const blockPtr = arena.scratchFor(caller, "moment block", rows * MOMENT_BLOCK * 4);
  const productPtr = arena.scratchFor(caller, "moment product", cols * MOMENT_BLOCK * 4);
  arena.f32.set(x.data, samplePtr >>> 2);
  arena.kernels.transpose_f32(samplePtr, rows, cols, transposedPtr);
  const out = new Float64Array(cols * cols);
  for (let j0 = 0; j0 < cols; j0 += MOMENT_BLOCK) {
    const width = Math.min(MOMENT_BLOCK, cols - j0);
    const block = arena.f32;
    for (let r = 0, to = blockPtr >>> 2; r < rows; r++) for (let j = 0, from = r * cols + j0; j < width; j++) block[to++] = x.data[from + j];
    arena.matmulF32(caller, transposedPtr + j0 * rows * 4, blockPtr, cols - j0, rows, width, productPtr);
    const f32 = arena.f32; // after the product, which may grow the memory
    for (let i = j0; i < cols; i++) {
      const from = (productPtr >>> 2) + (i - j0) * width;
      for (let j = 0; j < width && j0 + j <= i; j++) out[i * cols + j0 + j] = f32[from + j] / rows;
    }
  }
  return out;
}

/** ITQ updates VᵀB by its flipped signs when fewer than this share of them flipped, else multiplies anew. */
const ITQ_FLIP_SHARE = 1 / 16;

/**
 * ITQ (Gong & Lazebnik): with V the sample projected onto the principal axes, alternately take the
 * signs B = sign(V·R) and the rotation R that best maps V onto them (the orthogonal Procrustes
 * solution: the polar factor of VᵀB). Each step cannot raise the sign loss ‖B − V·R‖²; once the
 * signs repeat, every later iteration would repeat too (R depends only on B), so it stops there
 * with the same result as running them all. V, Vᵀ, R and B stay in `arena` across iterations.
 * After the first iterations few signs flip, so VᵀB (kept in float64, by columns) is updated by
 * ±2 · V's row for each flipped sign instead of multiplied anew.
 *
 * @internal exported for the tests.
 * @param onIteration called with each iteration's sign loss ‖sign(V·R) − V·R‖², before its R is refitted.
 * @returns the final R (c × c, float64).
 */
export function iterativeQuantization(
  caller: string, arena: Arena, projected: Float32Array, rows: number, c: number, iterations: number, seed: number,
  onIteration?: (loss: number) => void,
): Float64Array {
  const random = uniformSigned(seed);
  let rotation: Float64Array = Float64Array.from({ length: c * c }, () => random());
  completeOrthonormalColumns(caller, arena, rotation, c, c, 0);
  const vPtr = arena.scratchFor(caller, "itq V", rows * c * 4);
  const vtPtr = arena.scratchFor(caller, "itq Vt", rows * c * 4);
  const rPtr = arena.scratchFor(caller, "itq R", c * c * 4);
  const uPtr = arena.scratchFor(caller, "itq VR", rows * c * 4);
  const bPtr = arena.scratchFor(caller, "itq B", rows * c * 4);
  const cPtr = arena.scratchFor(caller, "itq VtB", c * c * 4);
  arena.f32.set(projected, vPtr >>> 2);
  arena.kernels.transpose_f32(vPtr, rows, c, vtPtr);
  arena.f32.fill(0, bPtr >>> 2, (bPtr >>> 2) + rows * c);
  const flipped = new Int32Array(Math.floor(rows * c * ITQ_FLIP_SHARE));
  const columns = new Float64Array(c * c); // (VᵀB)ᵀ: row j is column j of VᵀB
  for (let t = 0; t < iterations; t++) {
    arena.f32.set(rotation, rPtr >>> 2);
    arena.matmulF32(caller, vPtr, rPtr, rows, c, c, uPtr);
    const f32 = arena.f32;
    let flips = 0;
    let loss = 0;
    for (let i = 0, u = uPtr >>> 2, b = bPtr >>> 2; i < rows * c; i++) {
      const sign = f32[u + i] > 0 ? 1 : -1;
      loss += (sign - f32[u + i]) ** 2;
      if (f32[b + i] !== sign) {
        if (flips < flipped.length) flipped[flips] = i;
        flips++;
        f32[b + i] = sign;
      }
    }
    onIteration?.(loss);
    if (flips === 0) break;
    if (t === 0 || flips > flipped.length) {
      arena.matmulF32(caller, vtPtr, bPtr, c, rows, c, cPtr);
      columns.set(transposeF32(arena.f32.subarray(cPtr >>> 2, (cPtr >>> 2) + c * c), c, c));
    } else {
      for (let f = 0; f < flips; f++) {
        const r = Math.floor(flipped[f] / c);
        const j = flipped[f] - r * c;
        const step = 2 * f32[(bPtr >>> 2) + flipped[f]];
        for (let k = 0, col = j * c, row = r * c; k < c; k++) columns[col + k] += step * projected[row + k];
      }
    }
    // Maximise trace(Bᵀ V R): R is the polar factor of Vᵀ B.
    rotation = polarFactor(caller, arena, transpose64(columns, c, c), c);
  }
  return rotation;
}

/**
 * Learns an orthogonal rotation from sample vectors: "pca" turns them into their principal axes
 * (most variance first, so a prefix cut keeps the most), "itq" additionally turns those axes so
 * that taking signs loses the least (better binary codes).
 *
 * The axes are eigenvectors of the sample's second-moment matrix XᵀX/n; the mean is not removed
 * (rotate, never shift: a shift would change cosine similarities).
 *
 * @param sample vectors like the ones you will index (any accepted shape), at least `dims` rows.
 * @param options `method`, and optionally `dims` (rotated dimensions kept, default all),
 *   `iterations` (ITQ, default 50) and `seed` (ITQ's initial rotation, default 1).
 * @returns a `Rotation` from the sample's dimensions to `dims`.
 * @throws TypeError for a bad method, an unknown option or a bad sample shape; RangeError for non-finite values, a bad
 *   `dims`/`iterations`/`seed`, or fewer sample rows than `dims` (the axes are then not determined);
 *   Error before `await ready()`.
 * @example
 * await ready();
 * const rotation = fitRotation(sampleVectors, { method: "pca" });
 * const index = await Index.create({ dims: 384, precision: "float32", rotation, truncateTo: 128 });
 */
export function fitRotation(sample: EmbeddingsInput, options: FitRotationOptions): Rotation {
  const caller = "fitRotation";
  options = readOptions(caller, options, FIT_ROTATION_OPTION_KEYS, 'an object like { method: "pca" }') as FitRotationOptions;
  const method = checkChoice(caller, "options.method", options.method, ["pca", "itq"] as const);
  const x = toMatrix(caller, sample, { name: "sample" });
  const dims = checkInteger(caller, "options.dims", options.dims ?? x.cols, 1, x.cols);
  const iterations = checkInteger(caller, "options.iterations", options.iterations ?? DEFAULT_ITERATIONS, 0, 10000);
  const seed = checkInteger(caller, "options.seed", options.seed ?? 1, 0, 2 ** 32 - 1);
  if (x.rows < dims) {
    throw new RangeError(
      `${caller}: sample has ${x.rows} rows but ${dims} rotated dimensions were asked for; with fewer rows than ` +
        `dimensions the principal axes are not determined (PCA is ill-posed). Pass at least ${dims} rows ` +
        `(several times more is better), or fewer dims`,
    );
  }
  const arena = new Arena(caller);
  const { vectors } = symmetricEigen(secondMoment(caller, arena, x), x.cols, arena);
  // Columns = the leading `dims` axes: rotated = vector · basis.
  let basis: Float64Array = new Float64Array(x.cols * dims);
  for (let j = 0; j < dims; j++) for (let i = 0; i < x.cols; i++) basis[i * dims + j] = vectors[j * x.cols + i];
  if (method === "itq") {
    const projected = matmul(caller, arena, x.data, Float32Array.from(basis), x.rows, x.cols, dims);
    basis = matmul64(caller, arena, basis, iterativeQuantization(caller, arena, projected, x.rows, dims, iterations, seed), x.cols, dims, dims);
  }
  // Eigenvectors, and their product with ITQ's orthogonal R, are orthonormal to float64 rounding.
  return new Rotation(method, x.cols, dims, Float32Array.from(basis));
}

function toBase64(values: Float32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(caller: string, text: string, expected: number): Float32Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new TypeError(`${caller}: json.matrix is not valid base64`);
  }
  if (binary.length !== expected * 4) {
    throw new RangeError(`${caller}: json.matrix holds ${binary.length} bytes, expected inputDims × outputDims × 4 = ${expected * 4}`);
  }
  const view = new DataView(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i));
  return Float32Array.from({ length: expected }, (_, i) => view.getFloat32(i * 4, true));
}

/**
 * An orthogonal map from `inputDims` to `outputDims` dimensions, learned by `fitRotation` or read
 * with `Rotation.fromJSON`: rotated = vector · matrix. Pass it to `Index.create({ rotation })`.
 *
 * @example
 * const rotation = fitRotation(sample, { method: "itq" });
 * writeFileSync("rotation.json", JSON.stringify(rotation));
 * const again = Rotation.fromJSON(JSON.parse(readFileSync("rotation.json", "utf8")));
 */
export class Rotation {
  /** How it was learned. */
  readonly method: RotationMethod;
  /** Length of the vectors it takes. */
  readonly inputDims: number;
  /** Length of the vectors it returns (the leading principal axes). */
  readonly outputDims: number;
  /** inputDims × outputDims, row-major, orthonormal columns. Treat as read-only. */
  readonly matrix: Float32Array;
  private arena: Arena | undefined;
  private matrixPtr = 0;

  /**
   * Checks and wraps a rotation matrix (use `fitRotation` or `Rotation.fromJSON` rather than this).
   *
   * @param method how the matrix was learned.
   * @param inputDims rows of `matrix`.
   * @param outputDims columns of `matrix`, at most `inputDims`.
   * @param matrix inputDims × outputDims finite values, row-major, with orthonormal columns (copied).
   * @throws TypeError for a bad method or matrix type; RangeError for bad sizes, non-finite
   *   values, or columns that are not orthonormal within 1e-3; Error before `await ready()`.
   * @example
   * new Rotation("pca", 2, 2, Float32Array.of(0, 1, 1, 0)).outputDims; // 2
   */
  constructor(method: RotationMethod, inputDims: number, outputDims: number, matrix: Float32Array) {
    const caller = "Rotation";
    this.method = checkChoice(caller, "method", method, ["pca", "itq"] as const);
    this.inputDims = checkInteger(caller, "inputDims", inputDims, 1, MAX_DIMS);
    this.outputDims = checkInteger(caller, `outputDims (with inputDims ${inputDims})`, outputDims, 1, inputDims);
    if (!(matrix instanceof Float32Array)) throw new TypeError(`${caller}: matrix is ${describe(matrix)}; expected a Float32Array`);
    if (matrix.length !== inputDims * outputDims) {
      throw new RangeError(`${caller}: matrix has ${matrix.length} values, expected inputDims × outputDims = ${inputDims * outputDims}`);
    }
    const bad = matrix.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new RangeError(`${caller}: matrix[${bad}] is ${describe(matrix[bad])}; values must be finite`);
    this.matrix = Float32Array.from(matrix);
    const arena = new Arena(caller);
    const gram = matmul(caller, arena, transposeF32(this.matrix, inputDims, outputDims), this.matrix, outputDims, inputDims, outputDims);
    let worst = 0;
    let where = 0;
    for (let i = 0; i < outputDims; i++) {
      for (let j = 0; j < outputDims; j++) {
        const error = Math.abs(gram[i * outputDims + j] - (i === j ? 1 : 0));
        if (error > worst) [worst, where] = [error, i * outputDims + j];
      }
    }
    if (!(worst <= ORTHOGONALITY_TOLERANCE)) {
      const [i, j] = [Math.floor(where / outputDims), where % outputDims];
      throw new RangeError(
        `${caller}: matrix columns are not orthonormal: column ${i} · column ${j} = ${gram[where].toPrecision(6)}, ` +
          `expected ${i === j ? 1 : 0} within ${ORTHOGONALITY_TOLERANCE}`,
      );
    }
  }

  /**
   * Reads a rotation written by `JSON.stringify(rotation)`, checking every field.
   *
   * @param json the parsed object (`JSON.parse` of the text).
   * @returns the rotation.
   * @throws TypeError for a missing or wrong-kind field; RangeError for sizes that do not match the
   *   matrix, non-finite values, or a matrix that is not orthogonal (tampered or truncated files);
   *   Error before `await ready()` (the check runs on the kernels).
   * @example
   * const rotation = Rotation.fromJSON(JSON.parse(readFileSync("rotation.json", "utf8")));
   */
  static fromJSON(json: unknown): Rotation {
    const caller = "Rotation.fromJSON";
    if (typeof json !== "object" || json === null) throw new TypeError(`${caller}: json must be an object, got ${describe(json)}`);
    const o = json as Partial<Record<keyof RotationJSON, unknown>>;
    if (o.format !== "quantvec-rotation") {
      throw new TypeError(`${caller}: json.format must be "quantvec-rotation", got ${describe(o.format)}`);
    }
    if (o.version !== 1) throw new RangeError(`${caller}: json.version must be 1, got ${describe(o.version)}`);
    const method = checkChoice(caller, "json.method", o.method, ["pca", "itq"] as const);
    const inputDims = checkInteger(caller, "json.inputDims", o.inputDims, 1, MAX_DIMS);
    const outputDims = checkInteger(caller, "json.outputDims", o.outputDims, 1, inputDims);
    if (typeof o.matrix !== "string") throw new TypeError(`${caller}: json.matrix must be a base64 string, got ${describe(o.matrix)}`);
    return new Rotation(method, inputDims, outputDims, fromBase64(caller, o.matrix, inputDims * outputDims));
  }

  /**
   * The JSON form (what `JSON.stringify` writes), exact to the bit.
   *
   * @returns format tag, version, method, sizes and the base64 matrix.
   * @example
   * JSON.stringify(rotation).length; // ≈ 5.3 bytes per matrix value
   */
  toJSON(): RotationJSON {
    return {
      format: "quantvec-rotation", version: 1, method: this.method, inputDims: this.inputDims, outputDims: this.outputDims,
      matrix: toBase64(this.matrix),
    };
  }

  /**
   * Rotates vectors: every row times `matrix` (WebAssembly SIMD), nothing else.
   *
   * @param embeddings rows of `inputDims` values, in any accepted shape.
   * @returns `{ data, rows, cols: outputDims }`, new.
   * @throws TypeError/RangeError for a bad shape, a wrong row length or non-finite values.
   * @example
   * rotation.apply([vector]).data; // the vector in the rotated basis
   */
  apply(embeddings: EmbeddingsInput): Matrix {
    return this.rotateMatrix("rotation.apply", toMatrix("rotation.apply", embeddings, { dims: this.inputDims }));
  }

  /** @internal Rotates an already validated matrix of inputDims columns. */
  rotateMatrix(caller: string, x: Matrix): Matrix {
    if (this.arena === undefined) {
      const arena = new Arena(caller);
      this.matrixPtr = arena.alloc(caller, this.matrix.byteLength);
      arena.f32.set(this.matrix, this.matrixPtr >> 2);
      this.arena = arena;
    }
    const arena = this.arena;
    const out = new Float32Array(x.rows * this.outputDims);
    const block = Math.min(ROW_BLOCK, x.rows);
    const inPtr = arena.scratchFor(caller, "rows", block * this.inputDims * 4);
    const outPtr = arena.scratchFor(caller, "rotated", block * this.outputDims * 4);
    for (let start = 0; start < x.rows; start += block) {
      const rows = Math.min(block, x.rows - start);
      arena.f32.set(floatsView(x.data, start * this.inputDims, (start + rows) * this.inputDims), inPtr >> 2);
      arena.matmulF32(caller, inPtr, this.matrixPtr, rows, this.inputDims, this.outputDims, outPtr);
      out.set(arena.f32.subarray(outPtr >> 2, (outPtr >> 2) + rows * this.outputDims), start * this.outputDims);
    }
    return { data: out, rows: x.rows, cols: this.outputDims };
  }
}

/** What happens to every vector and query of an index before it is quantized. */
export interface VectorPipeline {
  rotation: Rotation | undefined;
  /** Dimensions kept after rotating (the index's storedDims). */
  storedDims: number;
  normalize: boolean;
}

/**
 * Reads and checks the rotation, truncateTo and normalize options of an index of `dims`
 * dimensions. normalize defaults to true with a rotation or truncateTo.
 *
 * @param caller the entry point named in errors.
 * @param options the index options.
 * @param dims the length of the vectors the index takes.
 * @returns the pipeline.
 * @throws TypeError when rotation is not a Rotation or normalize not a boolean; RangeError when the
 *   rotation's inputDims differ from dims or truncateTo exceeds the dimensions available.
 * @example
 * vectorPipeline("Index.create", { rotation, truncateTo: 128 }, 384).storedDims; // 128
 */
export function vectorPipeline(
  caller: string, options: { rotation?: Rotation; truncateTo?: number; normalize?: boolean }, dims: number,
): VectorPipeline {
  const rotation = options.rotation;
  if (rotation !== undefined && !(rotation instanceof Rotation)) {
    throw new TypeError(`${caller}: rotation must be a Rotation (from fitRotation or Rotation.fromJSON), got ${describe(rotation)}`);
  }
  if (rotation !== undefined && rotation.inputDims !== dims) {
    throw new RangeError(`${caller}: rotation.inputDims is ${rotation.inputDims} but dims is ${dims}; fit the rotation on vectors of ${dims} values`);
  }
  const available = rotation?.outputDims ?? dims;
  const storedDims = options.truncateTo === undefined ? available
    : checkInteger(caller, rotation ? `truncateTo (rotation.outputDims is ${available})` : "truncateTo", options.truncateTo, 1, available);
  const normalize = options.normalize ?? (options.truncateTo !== undefined || rotation !== undefined);
  if (typeof normalize !== "boolean") throw new TypeError(`${caller}: normalize must be true or false, got ${describe(normalize)}`);
  return { rotation, storedDims, normalize };
}

/**
 * Rotates, then truncates to `storedDims`, then L2-normalizes (each when configured) a validated
 * matrix: the first steps of an index's pipeline, for vectors, queries and calibration samples alike.
 *
 * @param caller the entry point named in errors.
 * @param matrix rows of the index's dims.
 * @param pipeline from `vectorPipeline`.
 * @param name the argument named in errors.
 * @returns the prepared rows (the input itself when there is nothing to do).
 * @throws RangeError for a row whose kept part has zero norm when normalizing.
 * @example
 * prepareVectors("index.add", matrix, pipeline, "vectors").cols; // pipeline.storedDims
 */
export function prepareVectors(caller: string, matrix: Matrix, pipeline: VectorPipeline, name: string): Matrix {
  const rotated = pipeline.rotation ? pipeline.rotation.rotateMatrix(caller, matrix) : matrix;
  if (pipeline.storedDims === rotated.cols && !pipeline.normalize) return rotated;
  return truncateMatrix(caller, rotated, pipeline.storedDims, pipeline.normalize, name);
}
