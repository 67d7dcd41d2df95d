// Matryoshka (MRL) truncation: keep the first `dims` values of each row, then L2-renormalize.
// Models trained with MRL put most of the meaning in the leading dimensions, so the prefix
// of a renormalized vector is a smaller embedding of the same text.

import { type EmbeddingsInput, type Matrix, toMatrix } from "./embeddings.js";
import { checkInteger, describe } from "./errors.js";
import { readOptions, TRUNCATE_OPTION_KEYS } from "./options.js";

export interface TruncateOptions {
  /** L2-renormalize each row after truncation; default true. */
  normalize?: boolean;
  /** The row length of a flat `Float32Array` input. */
  inputDims?: number;
  /**
   * Layer-normalize each full row before slicing (mean 0, variance 1, no affine, eps 1e-5 as
   * torch's F.layer_norm and transformers.js's layer_norm): nomic-embed-text-v1.5's documented
   * recipe for its Matryoshka sizes. Default false.
   */
  layerNorm?: boolean;
}

/** torch.nn.functional.layer_norm's and transformers.js layer_norm's default epsilon. */
const LAYER_NORM_EPS = 1e-5;

/** (x − mean) / √(biased variance + eps) of every row, computed in float64, stored as float32. */
function layerNormRows(matrix: Matrix): Matrix {
  const { data, rows, cols } = matrix;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += data[start + c];
    const mean = sum / cols;
    let squares = 0;
    for (let c = 0; c < cols; c++) squares += (data[start + c] - mean) ** 2;
    const scale = 1 / Math.sqrt(squares / cols + LAYER_NORM_EPS);
    for (let c = 0; c < cols; c++) out[start + c] = (data[start + c] - mean) * scale;
  }
  return { data: out, rows, cols };
}

/**
 * The first `dims` columns of every row, each row scaled to unit L2 norm when `normalize`.
 * A row whose kept prefix is all zeros cannot be normalized: RangeError naming the row.
 */
export function truncateMatrix(caller: string, matrix: Matrix, dims: number, normalize: boolean, name = "embeddings"): Matrix {
  const { data, rows, cols } = matrix;
  const out = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    let squares = 0;
    for (let c = 0; c < dims; c++) squares += data[start + c] * data[start + c];
    const scale = normalize ? 1 / Math.sqrt(squares) : 1;
    if (!Number.isFinite(scale) || scale === 0) {
      throw new RangeError(
        `${caller}: ${name} row ${r} has ${squares === 0 ? "zero" : "non-finite"} norm over its first ${dims} values; ` +
          "it cannot be L2-normalized (pass normalize: false to keep it as is)",
      );
    }
    for (let c = 0; c < dims; c++) out[r * dims + c] = data[start + c] * scale;
  }
  return { data: out, rows, cols: dims };
}

/**
 * Matryoshka truncation: keeps the first `dims` dimensions of each embedding and, by default,
 * rescales each row to unit L2 norm so dot products are cosine similarities again. With
 * `layerNorm: true` it follows nomic-embed-text-v1.5's recipe: layer norm over the full vector,
 * then slice, then L2-normalize. (For models not trained with MRL, fit a PCA rotation first:
 * `fitRotation` and `Index.create({ rotation, truncateTo })`.)
 *
 * @param embeddings rows in any accepted shape (see `EmbeddingsInput`).
 * @param dims how many leading dimensions to keep: an integer from 1 to the input's row length.
 * @param options `normalize` (default true), `layerNorm` (default false), `inputDims` (the row length of a flat Float32Array).
 * @returns `{ data: Float32Array, rows, cols: dims }`, a new array.
 * @throws TypeError for an unsupported shape, an unknown option or a non-boolean flag; RangeError for a bad `dims`, empty, ragged or
 *   non-finite input, or a row whose prefix has zero norm.
 * @example
 * truncate([[3, 4, 12]], 2).data; // Float32Array [0.6, 0.8]
 * truncate(nomicVectors, 256, { layerNorm: true }); // nomic-embed-text-v1.5 at 256 dims
 */
export function truncate(embeddings: EmbeddingsInput, dims: number, options: TruncateOptions = {}): Matrix {
  options = readOptions("truncate", options, TRUNCATE_OPTION_KEYS, "an object like { normalize: true }");
  const normalize = options.normalize ?? true;
  if (typeof normalize !== "boolean") {
    throw new TypeError(`truncate: options.normalize must be true or false, got ${describe(normalize)}`);
  }
  const layerNorm = options.layerNorm ?? false;
  if (typeof layerNorm !== "boolean") {
    throw new TypeError(`truncate: options.layerNorm must be true or false, got ${describe(layerNorm)}`);
  }
  const matrix = toMatrix("truncate", embeddings, { dims: options.inputDims });
  checkInteger("truncate", "dims", dims, 1, matrix.cols);
  return truncateMatrix("truncate", layerNorm ? layerNormRows(matrix) : matrix, dims, normalize);
}
