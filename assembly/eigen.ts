// Symmetric eigendecomposition in float64, the O(n³) parts of src/eigen.ts: Householder reduction
// to tridiagonal form, the accumulation of its reflections, and the implicit QL iteration that
// rotates the accumulated vectors (the EISPACK tred2/tql2 pair); and the Gram–Schmidt step that
// completes orthonormal bases in fitRotation. Every O(n³) inner loop runs over one contiguous row
// in f64x2 lanes; the O(n²) bookkeeping stays scalar.
//
// Units: n counts elements; matrices are n × n float64, row-major; vectors hold n float64.
// Results are deterministic (the same bits for the same input on every engine): no fused
// multiply-add, no relaxed instructions, the same operation order on every build.

@inline function addr(m: usize, row: i32, n: i32): usize {
  return m + ((<usize>row * <usize>n) << 3);
}

/** Σ x[k]·y[k] over k < len, in two f64x2 accumulators (even and odd pairs), then the tail. */
@inline function dot(x: usize, y: usize, len: i32): f64 {
  let even_f64x2 = f64x2.splat(0);
  let odd_f64x2 = f64x2.splat(0);
  let k: i32 = 0;
  for (; k + 4 <= len; k += 4) {
    const o = <usize>k << 3;
    even_f64x2 = f64x2.add(even_f64x2, f64x2.mul(v128.load(x + o), v128.load(y + o)));
    odd_f64x2 = f64x2.add(odd_f64x2, f64x2.mul(v128.load(x + o, 16), v128.load(y + o, 16)));
  }
  const sum_f64x2 = f64x2.add(even_f64x2, odd_f64x2);
  let s = f64x2.extract_lane(sum_f64x2, 0) + f64x2.extract_lane(sum_f64x2, 1);
  for (; k < len; k++) s += load<f64>(x + (<usize>k << 3)) * load<f64>(y + (<usize>k << 3));
  return s;
}

/** y[k] −= alpha · x[k] over k < len. */
@inline function subtractScaled(alpha: f64, x: usize, y: usize, len: i32): void {
  const alpha_f64x2 = f64x2.splat(alpha);
  let k: i32 = 0;
  for (; k + 2 <= len; k += 2) {
    const o = <usize>k << 3;
    v128.store(y + o, f64x2.sub(v128.load(y + o), f64x2.mul(alpha_f64x2, v128.load(x + o))));
  }
  for (; k < len; k++) {
    const o = <usize>k << 3;
    store<f64>(y + o, load<f64>(y + o) - alpha * load<f64>(x + o));
  }
}

/**
 * Reduces the symmetric matrix a (lower triangle read and overwritten) to tridiagonal form by
 * Householder reflections, one per row from the last: d gets the diagonal, e the sub-diagonal
 * (e[i] = T[i][i − 1], e[0] = 0), h each reflection's H (0: none), and the rows of a left of the
 * diagonal keep the reflection vectors u. p is n values of scratch.
 */
export function tridiagonalizeF64(a: usize, d: usize, e: usize, h: usize, p: usize, n: i32): void {
  for (let i = n - 1; i >= 2; i--) {
    const row = addr(a, i, n);
    let scale: f64 = 0;
    for (let k: i32 = 0; k < i; k++) scale += Math.abs(load<f64>(row + (<usize>k << 3)));
    store<f64>(h + (<usize>i << 3), 0);
    if (scale == 0) {
      store<f64>(e + (<usize>i << 3), 0);
      continue;
    }
    // u = row i left of the diagonal, scaled against under/overflow, minus alpha at i − 1.
    let sigma: f64 = 0;
    for (let k: i32 = 0; k < i; k++) {
      const v = load<f64>(row + (<usize>k << 3)) / scale;
      store<f64>(row + (<usize>k << 3), v);
      sigma += v * v;
    }
    const f = load<f64>(row + (<usize>(i - 1) << 3));
    const alpha = f > 0 ? -Math.sqrt(sigma) : Math.sqrt(sigma);
    store<f64>(e + (<usize>i << 3), scale * alpha);
    const hi = sigma - f * alpha;
    store<f64>(row + (<usize>(i - 1) << 3), f - alpha);
    store<f64>(h + (<usize>i << 3), hi);
    // p = A u over the leading i × i block, from its lower triangle: row j gives p[j] its dot
    // with u and adds u[j] times itself to the p[k] it mirrors.
    memory.fill(p, 0, <usize>i << 3);
    for (let j: i32 = 0; j < i; j++) {
      const rj = addr(a, j, n);
      const uj = load<f64>(row + (<usize>j << 3));
      const sum = dot(rj, row, j);
      subtractScaled(-uj, rj, p, j);
      const pj = p + (<usize>j << 3);
      store<f64>(pj, load<f64>(pj) + (sum + load<f64>(rj + (<usize>j << 3)) * uj));
    }
    let up: f64 = 0;
    for (let k: i32 = 0; k < i; k++) {
      const pk = load<f64>(p + (<usize>k << 3)) / hi;
      store<f64>(p + (<usize>k << 3), pk);
      up += load<f64>(row + (<usize>k << 3)) * pk;
    }
    // A ← A − u qᵀ − q uᵀ with q = p/H − (uᵀp / 2H) u: the two-sided reflection of the block.
    subtractScaled(up / (hi + hi), row, p, i);
    for (let j: i32 = 0; j < i; j++) {
      const rj = addr(a, j, n);
      subtractScaled(load<f64>(row + (<usize>j << 3)), p, rj, j + 1);
      subtractScaled(load<f64>(p + (<usize>j << 3)), row, rj, j + 1);
    }
  }
  if (n > 1) store<f64>(e + 8, load<f64>(a + (<usize>n << 3)));
  for (let i: i32 = 0; i < n; i++) store<f64>(d + (<usize>i << 3), load<f64>(addr(a, i, n) + (<usize>i << 3)));
  store<f64>(e, 0);
}

/**
 * w = Qᵀ (row-major) from the reflections tridiagonalizeF64 left in a and h, where the input was
 * Q T Qᵀ: w starts as the identity and takes W ← W P_i for i = 2 … n − 1, each touching only the
 * rows and columns below i.
 */
export function accumulateReflectionsF64(a: usize, h: usize, w: usize, n: i32): void {
  memory.fill(w, 0, (<usize>n * <usize>n) << 3);
  for (let i: i32 = 0; i < n; i++) store<f64>(addr(w, i, n) + (<usize>i << 3), 1);
  for (let i: i32 = 2; i < n; i++) {
    const hi = load<f64>(h + (<usize>i << 3));
    if (hi == 0) continue;
    const row = addr(a, i, n);
    for (let j: i32 = 0; j < i; j++) {
      const wj = addr(w, j, n);
      subtractScaled(dot(wj, row, i) / hi, row, wj, i);
    }
  }
}

/** Rows a and b of length n turned by the plane rotation (c, s): a ← c·a − s·b, b ← s·a + c·b. */
@inline function rotateRows(a: usize, b: usize, n: i32, c: f64, s: f64): void {
  const c_f64x2 = f64x2.splat(c);
  const s_f64x2 = f64x2.splat(s);
  let k: i32 = 0;
  for (; k + 2 <= n; k += 2) {
    const o = <usize>k << 3;
    const x_f64x2 = v128.load(a + o);
    const y_f64x2 = v128.load(b + o);
    v128.store(b + o, f64x2.add(f64x2.mul(s_f64x2, x_f64x2), f64x2.mul(c_f64x2, y_f64x2)));
    v128.store(a + o, f64x2.sub(f64x2.mul(c_f64x2, x_f64x2), f64x2.mul(s_f64x2, y_f64x2)));
  }
  for (; k < n; k++) {
    const o = <usize>k << 3;
    const x = load<f64>(a + o);
    const y = load<f64>(b + o);
    store<f64>(b + o, s * x + c * y);
    store<f64>(a + o, c * x - s * y);
  }
}

/**
 * Diagonalizes the tridiagonal (d, e) by implicit QL steps with Wilkinson-style shifts, rotating
 * the rows of w along: on return d holds the eigenvalues (unsorted) and row i of w the eigenvector
 * of d[i]. Returns −1, or the index of the eigenvalue that did not converge in 60 steps.
 */
export function implicitQLF64(w: usize, d: usize, e: usize, n: i32): i32 {
  for (let i: i32 = 1; i < n; i++) store<f64>(e + (<usize>(i - 1) << 3), load<f64>(e + (<usize>i << 3)));
  if (n > 0) store<f64>(e + (<usize>(n - 1) << 3), 0);
  let shift: f64 = 0;
  let norm: f64 = 0;
  const eps: f64 = 2.220446049250313e-16;
  for (let l: i32 = 0; l < n; l++) {
    norm = Math.max(norm, Math.abs(load<f64>(d + (<usize>l << 3))) + Math.abs(load<f64>(e + (<usize>l << 3))));
    let m = l;
    while (m < n - 1 && Math.abs(load<f64>(e + (<usize>m << 3))) > eps * norm) m++;
    let iterations = 0;
    while (m > l && Math.abs(load<f64>(e + (<usize>l << 3))) > eps * norm) {
      if (++iterations > 60) return l;
      // Shift by the eigenvalue of the leading 2 × 2 block closer to d[l].
      const el = load<f64>(e + (<usize>l << 3));
      const g0 = load<f64>(d + (<usize>l << 3));
      let p = (load<f64>(d + (<usize>(l + 1) << 3)) - g0) / (2 * el);
      let r = Math.hypot(p, 1);
      if (p < 0) r = -r;
      store<f64>(d + (<usize>l << 3), el / (p + r));
      const dl1 = el * (p + r);
      store<f64>(d + (<usize>(l + 1) << 3), dl1);
      let hh = g0 - load<f64>(d + (<usize>l << 3));
      for (let i = l + 2; i < n; i++) store<f64>(d + (<usize>i << 3), load<f64>(d + (<usize>i << 3)) - hh);
      shift += hh;
      // Chase the bulge up from m to l with plane rotations.
      p = load<f64>(d + (<usize>m << 3));
      let c: f64 = 1;
      let c2: f64 = 1;
      let c3: f64 = 1;
      const el1 = load<f64>(e + (<usize>(l + 1) << 3));
      let s: f64 = 0;
      let s2: f64 = 0;
      for (let i = m - 1; i >= l; i--) {
        c3 = c2;
        c2 = c;
        s2 = s;
        const ei = load<f64>(e + (<usize>i << 3));
        const di = load<f64>(d + (<usize>i << 3));
        const g = c * ei;
        hh = c * p;
        r = Math.hypot(p, ei);
        store<f64>(e + (<usize>(i + 1) << 3), s * r);
        s = ei / r;
        c = p / r;
        p = c * di - s * g;
        store<f64>(d + (<usize>(i + 1) << 3), hh + s * (c * g + s * di));
        rotateRows(addr(w, i, n), addr(w, i + 1, n), n, c, s);
      }
      p = (-s * s2 * c3 * el1 * load<f64>(e + (<usize>l << 3))) / dl1;
      store<f64>(e + (<usize>l << 3), s * p);
      store<f64>(d + (<usize>l << 3), c * p);
    }
    store<f64>(d + (<usize>l << 3), load<f64>(d + (<usize>l << 3)) + shift);
    store<f64>(e + (<usize>l << 3), 0);
  }
  return -1;
}

/**
 * Row `row` of t (row-major, rows of `len` values) made orthogonal to rows 0 … row − 1, which are
 * orthonormal: modified Gram–Schmidt, two passes (the second removes what rounding left of the
 * first), in place. Normalizing, and replacing a row that vanishes, is the caller's (src/rotation.ts).
 */
export function orthogonalizeRowF64(t: usize, row: i32, len: i32): void {
  const target = addr(t, row, len);
  for (let pass = 0; pass < 2; pass++) {
    for (let j: i32 = 0; j < row; j++) {
      const other = addr(t, j, len);
      subtractScaled(dot(other, target, len), other, target, len);
    }
  }
}
