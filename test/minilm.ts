// The real vectors the quality tests measure on, read by the bench's own loader.

import { loadMiniLM } from "../src/cli/bench.js";

/** The 778 all-MiniLM-L6-v2 vectors that @sap-ux/fiori-docs-embeddings ships, one row each. */
export function miniLMRows(): Float32Array[] {
  const matrix = loadMiniLM();
  if (matrix === null) throw new Error("@sap-ux/fiori-docs-embeddings is not installed (a dev dependency): run npm ci");
  return Array.from({ length: matrix.rows }, (_, i) => matrix.data.slice(i * matrix.cols, (i + 1) * matrix.cols));
}
