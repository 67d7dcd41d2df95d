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
 * rescales each row to unit L2 norm so dot products are cosine similarities again.
 *
 * @param embeddings rows in any accepted shape (see `EmbeddingsInput`).
 * @param dims how many leading dimensions to keep: an integer from 1 to the input's row length.
 * @param options `normalize` (default true): L2-renormalize each row; `inputDims`: the row length of a flat Float32Array.
 * @returns `{ data: Float32Array, rows, cols: dims }`, a new array.
 * @throws TypeError for an unsupported shape or an unknown option; RangeError for a bad `dims`, empty, ragged or
 *   non-finite input, or a row whose prefix has zero norm.
 * @example
 * truncate([[3, 4, 12]], 2).data; // Float32Array [0.6, 0.8]
 */
export function truncate(embeddings: EmbeddingsInput, dims: number, options: TruncateOptions = {}): Matrix {
  options = readOptions("truncate", options, TRUNCATE_OPTION_KEYS, "an object like { normalize: true }");
  const normalize = options.normalize ?? true;
  if (typeof normalize !== "boolean") {
    throw new TypeError(`truncate: options.normalize must be true or false, got ${describe(normalize)}`);
  }
  const matrix = toMatrix("truncate", embeddings, { dims: options.inputDims });
  checkInteger("truncate", "dims", dims, 1, matrix.cols);
  return truncateMatrix("truncate", matrix, dims, normalize);
}
