// Symmetric eigendecomposition in float64, the linear algebra behind fitRotation: Householder
// reduction to tridiagonal form, then the implicit QL algorithm with Wilkinson-style shifts
// (the EISPACK tred2/tql2 pair, written here from the textbook description). O(n³); a 1024 × 1024
// matrix takes a few seconds in V8. No dependency.
//
// Storage: row-major throughout. The reduction reads and updates the lower triangle row by row and
// yields Qᵀ; QL then rotates pairs of its rows, so every inner loop runs over contiguous memory.

/** Eigenvalues (descending) and unit eigenvectors (row i of `vectors` belongs to `values[i]`). */
export interface SymmetricEigen {
  values: Float64Array;
  /** n × n, row-major; row i is the eigenvector of values[i], its largest-magnitude entry positive. */
  vectors: Float64Array;
}

/**
 * Eigenvalues and eigenvectors of a symmetric n × n matrix (row-major; only the lower triangle is
 * read). Deterministic: the same input gives the same bits in the same engine.
 *
 * @param matrix n × n values, row-major.
 * @param n the order of the matrix.
 * @returns eigenvalues in descending order and their unit eigenvectors as rows.
 * @throws RangeError when `matrix` does not hold n × n values, or QL does not converge.
 * @example
 * symmetricEigen(Float64Array.of(2, 1, 1, 2), 2).values; // Float64Array [3, 1]
 */
export function symmetricEigen(matrix: Float64Array, n: number): SymmetricEigen {
  if (matrix.length !== n * n) {
    throw new RangeError(`symmetricEigen: matrix has ${matrix.length} values, expected ${n} × ${n} = ${n * n}`);
  }
  const v = Float64Array.from(matrix);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: v };
  const w = householderTridiagonal(v, d, e, n);
  implicitQL(w, d, e, n);
  return sortDescending(w, d, n);
}

/**
 * Reduces the symmetric matrix a (lower triangle read, overwritten) to tridiagonal form by
 * Householder reflections P_i = I − u uᵀ / H, one per row from the last: on return d holds the
 * diagonal, e the sub-diagonal (e[i] = T[i][i − 1], e[0] = 0), and the result is Qᵀ (row-major),
 * where a = Q T Qᵀ. Every inner loop walks a row: the lower-triangle matrix-vector product adds
 * each row's contribution to both p[j] and the p[k] it mirrors.
 */
function householderTridiagonal(a: Float64Array, d: Float64Array, e: Float64Array, n: number): Float64Array {
  const h = new Float64Array(n);
  const p = new Float64Array(n);
  for (let i = n - 1; i >= 2; i--) {
    const row = i * n;
    let scale = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(a[row + k]);
    if (scale === 0) continue;
    // u = row i left of the diagonal, scaled against under/overflow, minus alpha at i − 1.
    let sigma = 0;
    for (let k = 0; k < i; k++) {
      a[row + k] /= scale;
      sigma += a[row + k] * a[row + k];
    }
    const f = a[row + i - 1];
    const alpha = f > 0 ? -Math.sqrt(sigma) : Math.sqrt(sigma);
    e[i] = scale * alpha;
    const hi = sigma - f * alpha;
    a[row + i - 1] = f - alpha;
    h[i] = hi;
    // p = A u / H over the leading i × i block, from its lower triangle.
    p.fill(0, 0, i);
    for (let j = 0; j < i; j++) {
      const rj = j * n;
      const uj = a[row + j];
      let sum = 0;
      for (let k = 0; k < j; k++) {
        sum += a[rj + k] * a[row + k];
        p[k] += a[rj + k] * uj;
      }
      p[j] += sum + a[rj + j] * uj;
    }
    let up = 0;
    for (let k = 0; k < i; k++) {
      p[k] /= hi;
      up += a[row + k] * p[k];
    }
    // A ← A − u qᵀ − q uᵀ with q = p − (uᵀp / 2H) u: the two-sided reflection of the block.
    const half = up / (hi + hi);
    for (let k = 0; k < i; k++) p[k] -= half * a[row + k];
    for (let j = 0; j < i; j++) {
      const rj = j * n;
      const uj = a[row + j];
      const qj = p[j];
      for (let k = 0; k <= j; k++) a[rj + k] -= uj * p[k] + qj * a[row + k];
    }
  }
  if (n > 1) e[1] = a[n];
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  e[0] = 0;
  // Qᵀ = P_2 P_3 … P_{n−1}, built from the left factor out: W ← W P_i touches only rows and
  // columns below i, where W is still the identity beyond.
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) w[i * n + i] = 1;
  for (let i = 2; i < n; i++) {
    if (h[i] === 0) continue;
    const row = i * n;
    for (let j = 0; j < i; j++) {
      const rj = j * n;
      let s = 0;
      for (let k = 0; k < i; k++) s += w[rj + k] * a[row + k];
      s /= h[i];
      for (let k = 0; k < i; k++) w[rj + k] -= s * a[row + k];
    }
  }
  return w;
}

/**
 * Diagonalizes the tridiagonal (d, e) by implicit QL steps, rotating the rows of w (the transposed
 * Householder accumulator) along; on return d holds the eigenvalues and row i of w its eigenvector.
 */
function implicitQL(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let shift = 0;
  let norm = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    norm = Math.max(norm, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * norm) m++;
    let iterations = 0;
    while (m > l && Math.abs(e[l]) > eps * norm) {
      if (++iterations > 60) throw new RangeError(`symmetricEigen: QL did not converge at eigenvalue ${l}`);
      // Shift by the eigenvalue of the leading 2 × 2 block closer to d[l].
      const g0 = d[l];
      let p = (d[l + 1] - g0) / (2 * e[l]);
      let r = Math.hypot(p, 1);
      if (p < 0) r = -r;
      d[l] = e[l] / (p + r);
      d[l + 1] = e[l] * (p + r);
      const dl1 = d[l + 1];
      let h = g0 - d[l];
      for (let i = l + 2; i < n; i++) d[i] -= h;
      shift += h;
      // Chase the bulge up from m to l with plane rotations.
      p = d[m];
      let c = 1;
      let c2 = c;
      let c3 = c;
      const el1 = e[l + 1];
      let s = 0;
      let s2 = 0;
      for (let i = m - 1; i >= l; i--) {
        c3 = c2;
        c2 = c;
        s2 = s;
        const g = c * e[i];
        h = c * p;
        r = Math.hypot(p, e[i]);
        e[i + 1] = s * r;
        s = e[i] / r;
        c = p / r;
        p = c * d[i] - s * g;
        d[i + 1] = h + s * (c * g + s * d[i]);
        const a = i * n;
        const b = (i + 1) * n;
        for (let k = 0; k < n; k++) {
          const wb = w[b + k];
          w[b + k] = s * w[a + k] + c * wb;
          w[a + k] = c * w[a + k] - s * wb;
        }
      }
      p = (-s * s2 * c3 * el1 * e[l]) / dl1;
      e[l] = s * p;
      d[l] = c * p;
    }
    d[l] += shift;
    e[l] = 0;
  }
}

/** Orders the pairs by descending eigenvalue (ties by original index) and fixes each vector's sign. */
function sortDescending(w: Float64Array, d: Float64Array, n: number): SymmetricEigen {
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[b] - d[a] || a - b);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => {
    values[to] = d[from];
    let largest = 0;
    for (let k = 0; k < n; k++) if (Math.abs(w[from * n + k]) > Math.abs(w[from * n + largest])) largest = k;
    const sign = w[from * n + largest] < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) vectors[to * n + k] = sign * w[from * n + k];
  });
  return { values, vectors };
}
