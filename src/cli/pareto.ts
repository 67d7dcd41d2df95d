// The recall-vs-memory trade-off of the quality study: which configurations are worth storing
// (the Pareto front) and which one to pick for a recall target. Reference rows replicate another
// tool's defaults; they are shown for comparison and never compete.

import type { QualityRow } from "./results.js";

/** A row that can take part in the comparison: not a reference or split-study row, with finite recall and bytes. */
function competes(row: QualityRow): boolean {
  return row.reference !== true && row.split !== true && Number.isFinite(row.recall) && Number.isFinite(row.bytesPerVector);
}

/**
 * Marks the rows on the recall-vs-bytes Pareto front: a row is on it when no other competing row
 * stores as few or fewer bytes per vector with as high or higher recall, one of the two strictly.
 * Rows with identical bytes and recall do not dominate each other, so both stay on the front.
 * Reference rows (and rows with non-finite numbers) neither join the front nor push rows off it.
 *
 * @param rows the quality study's rows, in any order.
 * @returns new row objects, in the same order, with `pareto` set to true or false.
 * @example
 * markPareto([
 *   { label: "int8 @384", bytesPerVector: 384, recall: 0.99, ... },
 *   { label: "float32 @96", bytesPerVector: 384, recall: 0.80, ... },
 * ]).map((r) => r.pareto); // [true, false]
 */
export function markPareto(rows: QualityRow[]): QualityRow[] {
  const rivals = rows.filter(competes);
  return rows.map((row) => {
    const onFront =
      competes(row) &&
      !rivals.some(
        (other) =>
          other.bytesPerVector <= row.bytesPerVector &&
          other.recall >= row.recall &&
          (other.bytesPerVector < row.bytesPerVector || other.recall > row.recall),
      );
    return { ...row, pareto: onFront };
  });
}

/**
 * The cheapest configuration that reaches a recall target: fewest bytes per vector, then the lower
 * p50 latency, then the label in code-unit order (so the answer never depends on row order).
 * Reference rows are never recommended.
 *
 * @param rows the quality study's rows.
 * @param targetRecall the recall@k to reach, from 0 to 1.
 * @returns the chosen row (the object passed in), or null when no row reaches the target.
 * @throws RangeError when `targetRecall` is not a number from 0 to 1.
 * @example
 * recommend(study.rows, 0.95)?.label; // "int8 @384"
 */
export function recommend(rows: QualityRow[], targetRecall: number): QualityRow | null {
  if (typeof targetRecall !== "number" || !(targetRecall >= 0 && targetRecall <= 1)) {
    throw new RangeError(`recommend: targetRecall must be a number from 0 to 1, got ${String(targetRecall)}`);
  }
  let best: QualityRow | null = null;
  for (const row of rows) {
    if (!competes(row) || row.recall < targetRecall) continue;
    if (best === null || cheaper(row, best)) best = row;
  }
  return best;
}

function cheaper(a: QualityRow, b: QualityRow): boolean {
  if (a.bytesPerVector !== b.bytesPerVector) return a.bytesPerVector < b.bytesPerVector;
  const pa = Number.isFinite(a.p50Ms) ? a.p50Ms : Infinity;
  const pb = Number.isFinite(b.p50Ms) ? b.p50Ms : Infinity;
  if (pa !== pb) return pa < pb;
  return a.label < b.label;
}
