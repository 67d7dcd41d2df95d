// Dense float32 matrix product: out (rows × cols) = a (rows × inner) · b (inner × cols), every
// matrix row-major and packed (row stride = its column count). It applies a learned rotation to a
// block of vectors (a = vectors, b = the rotation's inputDims × outputDims matrix) and forms the
// second-moment matrix of a sample (a = sampleᵀ, b = sample) when a rotation is fitted.
//
// Units: `rows`, `inner`, `cols` count elements. Any sizes and any 4-byte alignment work: tiles of
// 4 rows × 8 columns (eight f32x4 accumulators), then 4-column and single-column strips for the
// last cols % 8 columns, then one row at a time for the last rows % 4 rows.
//
// Packing: for each k block, b's first cols − cols % 8 columns are copied into `panels` (caller
// scratch of matmulPanelBytes), panel j holding columns 8j … 8j + 7 of the block's rows back to
// back (32 bytes a row). A tile then reads its b values from one contiguous 8 KiB panel that stays
// in L1, instead of 32 bytes from each of 256 rows a row stride apart (at 1024 columns that stride
// is 4 KiB, so those rows also collide in the same L1 sets). Rows are taken ROW_BLOCK at a time, so
// their slice of a stays in L2 while every panel passes over it. Neither changes any sum.
//
// Summation order: every output element is its own sequential sum over k = 0 … inner − 1,
//   out[r][c] = ((0 + a[r][0]·b[0][c]) + a[r][1]·b[1][c]) + …
// each product rounded to f32 before its add (f32x4.mul then f32x4.add: no fusing, in the relaxed
// builds too). SIMD lanes hold different output columns, never parts of one sum, and the k loop
// runs in blocks of INNER_BLOCK whose partial sums go through `out` (exact: an f32 round-trips
// through memory unchanged), so every tile shape gives the same bits as the scalar reference
// `matmul_f32` in src/reference.ts. The blocking keeps the b rows of one k block in cache while
// every row tile passes over them.

/** k values per pass: the block's panels of b (1 MiB at 1024 columns) stay in L2 across row blocks. */
const INNER_BLOCK: i32 = 256;
/** Rows per pass over a k block's panels: their a values (128 KiB) stay in L2 meanwhile. */
const ROW_BLOCK: i32 = 128;

/** Bytes of the `panels` scratch that matmulF32 needs: one k block of b's whole 8-column panels. */
export function matmulPanelBytes(inner: i32, cols: i32): usize {
  return (<usize>min(inner, INNER_BLOCK) * <usize>(cols & ~7)) << 2;
}

/**
 * Four rows × eight columns of out, k from k0 to k1 (exclusive), continuing sums in out when k0 > 0.
 * `bk` is b's row k0 at column c; `bStep` the bytes from one b row to the next (32 in a panel).
 */
@inline function tile4x8(a: usize, bk: usize, bStep: usize, out: usize, r: i32, c: i32, inner: i32, cols: i32, k0: i32, k1: i32): void {
  const aRow = <usize>inner << 2;
  const oRow = <usize>cols << 2;
  const a0 = a + ((<usize>r * <usize>inner) << 2);
  const o0 = out + ((<usize>r * <usize>cols + <usize>c) << 2);
  let acc00_f32x4 = f32x4.splat(0);
  let acc01_f32x4 = f32x4.splat(0);
  let acc10_f32x4 = f32x4.splat(0);
  let acc11_f32x4 = f32x4.splat(0);
  let acc20_f32x4 = f32x4.splat(0);
  let acc21_f32x4 = f32x4.splat(0);
  let acc30_f32x4 = f32x4.splat(0);
  let acc31_f32x4 = f32x4.splat(0);
  if (k0 > 0) {
    acc00_f32x4 = v128.load(o0);
    acc01_f32x4 = v128.load(o0, 16);
    acc10_f32x4 = v128.load(o0 + oRow);
    acc11_f32x4 = v128.load(o0 + oRow, 16);
    acc20_f32x4 = v128.load(o0 + 2 * oRow);
    acc21_f32x4 = v128.load(o0 + 2 * oRow, 16);
    acc30_f32x4 = v128.load(o0 + 3 * oRow);
    acc31_f32x4 = v128.load(o0 + 3 * oRow, 16);
  }
  for (let k = k0; k < k1; k++) {
    const b0_f32x4 = v128.load(bk);
    const b1_f32x4 = v128.load(bk, 16);
    const ak = a0 + (<usize>k << 2);
    const x0_f32x4 = f32x4.splat(load<f32>(ak));
    const x1_f32x4 = f32x4.splat(load<f32>(ak + aRow));
    const x2_f32x4 = f32x4.splat(load<f32>(ak + 2 * aRow));
    const x3_f32x4 = f32x4.splat(load<f32>(ak + 3 * aRow));
    acc00_f32x4 = f32x4.add(acc00_f32x4, f32x4.mul(x0_f32x4, b0_f32x4));
    acc01_f32x4 = f32x4.add(acc01_f32x4, f32x4.mul(x0_f32x4, b1_f32x4));
    acc10_f32x4 = f32x4.add(acc10_f32x4, f32x4.mul(x1_f32x4, b0_f32x4));
    acc11_f32x4 = f32x4.add(acc11_f32x4, f32x4.mul(x1_f32x4, b1_f32x4));
    acc20_f32x4 = f32x4.add(acc20_f32x4, f32x4.mul(x2_f32x4, b0_f32x4));
    acc21_f32x4 = f32x4.add(acc21_f32x4, f32x4.mul(x2_f32x4, b1_f32x4));
    acc30_f32x4 = f32x4.add(acc30_f32x4, f32x4.mul(x3_f32x4, b0_f32x4));
    acc31_f32x4 = f32x4.add(acc31_f32x4, f32x4.mul(x3_f32x4, b1_f32x4));
    bk += bStep;
  }
  v128.store(o0, acc00_f32x4);
  v128.store(o0, acc01_f32x4, 16);
  v128.store(o0 + oRow, acc10_f32x4);
  v128.store(o0 + oRow, acc11_f32x4, 16);
  v128.store(o0 + 2 * oRow, acc20_f32x4);
  v128.store(o0 + 2 * oRow, acc21_f32x4, 16);
  v128.store(o0 + 3 * oRow, acc30_f32x4);
  v128.store(o0 + 3 * oRow, acc31_f32x4, 16);
}

/** One row × four columns of out, k from k0 to k1, continuing sums in out when k0 > 0; `bk`, `bStep` as tile4x8. */
@inline function strip1x4(a: usize, bk: usize, bStep: usize, out: usize, r: i32, c: i32, inner: i32, cols: i32, k0: i32, k1: i32): void {
  const ar = a + ((<usize>r * <usize>inner) << 2);
  const o = out + ((<usize>r * <usize>cols + <usize>c) << 2);
  let acc_f32x4 = k0 > 0 ? v128.load(o) : f32x4.splat(0);
  for (let k = k0; k < k1; k++) {
    acc_f32x4 = f32x4.add(acc_f32x4, f32x4.mul(f32x4.splat(load<f32>(ar + (<usize>k << 2))), v128.load(bk)));
    bk += bStep;
  }
  v128.store(o, acc_f32x4);
}

/** One element of out, k from k0 to k1, continuing its sum when k0 > 0. */
@inline function single(a: usize, b: usize, out: usize, r: i32, c: i32, inner: i32, cols: i32, k0: i32, k1: i32): void {
  const ar = a + ((<usize>r * <usize>inner) << 2);
  const o = out + ((<usize>r * <usize>cols + <usize>c) << 2);
  let acc: f32 = k0 > 0 ? load<f32>(o) : 0;
  let bk = b + ((<usize>k0 * <usize>cols + <usize>c) << 2);
  for (let k = k0; k < k1; k++) {
    acc += load<f32>(ar + (<usize>k << 2)) * load<f32>(bk);
    bk += <usize>cols << 2;
  }
  store<f32>(o, acc);
}

/** Columns `c` onward of row `r`, read from b itself (the last cols % 8): 4-wide strips, then single columns. */
@inline function rowTail(a: usize, b: usize, out: usize, r: i32, c: i32, inner: i32, cols: i32, k0: i32, k1: i32): void {
  const bRow = <usize>cols << 2;
  for (; c + 4 <= cols; c += 4) strip1x4(a, b + ((<usize>k0 * <usize>cols + <usize>c) << 2), bRow, out, r, c, inner, cols, k0, k1);
  for (; c < cols; c++) single(a, b, out, r, c, inner, cols, k0, k1);
}

/** Copies rows k0 … k1 − 1 of b's first `panelCols` columns into 8-column panels (see Packing). */
@inline function packPanels(b: usize, cols: i32, panelCols: i32, k0: i32, k1: i32, panels: usize): void {
  const depth = <usize>(k1 - k0);
  for (let c: i32 = 0; c < panelCols; c += 8) {
    const panel = panels + ((<usize>c * depth) << 2);
    let from = b + ((<usize>k0 * <usize>cols + <usize>c) << 2);
    for (let k: usize = 0; k < depth; k++) {
      v128.store(panel + (k << 5), v128.load(from));
      v128.store(panel + (k << 5), v128.load(from, 16), 16);
      from += <usize>cols << 2;
    }
  }
}

export function matmulF32(a: usize, b: usize, rows: i32, inner: i32, cols: i32, out: usize, panels: usize): void {
  if (inner <= 0) {
    memory.fill(out, 0, (<usize>rows * <usize>cols) << 2);
    return;
  }
  const panelCols = cols & ~7;
  for (let k0: i32 = 0; k0 < inner; k0 += INNER_BLOCK) {
    const k1 = min(inner, k0 + INNER_BLOCK);
    packPanels(b, cols, panelCols, k0, k1, panels);
    for (let r0: i32 = 0; r0 < rows; r0 += ROW_BLOCK) {
      const r1 = min(rows, r0 + ROW_BLOCK);
      for (let c: i32 = 0; c < panelCols; c += 8) {
        const panel = panels + ((<usize>c * <usize>(k1 - k0)) << 2);
        let r = r0;
        for (; r + 4 <= r1; r += 4) tile4x8(a, panel, 32, out, r, c, inner, cols, k0, k1);
        for (; r < r1; r++) {
          strip1x4(a, panel, 32, out, r, c, inner, cols, k0, k1);
          strip1x4(a, panel + 16, 32, out, r, c + 4, inner, cols, k0, k1);
        }
      }
      for (let r = r0; r < r1; r++) rowTail(a, b, out, r, panelCols, inner, cols, k0, k1);
    }
  }
}

// The float64 product for fitting rotations: out (rows × cols) = a (rows × inner) · b (inner ×
// cols), row-major and packed, as matmulF32 but in f64x2 lanes: tiles of 4 rows × 4 columns, then a
// 2-column strip and single columns for the last cols % 4, then one row at a time for the last
// rows % 4. Its matrices are ITQ's d × d ones (8 MiB at d = 1024), packed as matmulF32 packs:
// k blocks of INNER_BLOCK_F64 rows of b copied into 4-column panels of 32 bytes a row, rows
// ROW_BLOCK at a time. Every output element is its own sequential sum over k (partial sums go
// through out, which a float64 round-trips exactly), each product rounded before its add, so it
// matches a scalar loop in float64 (src/reference.ts order) bit for bit.

/** k values per pass: the block's 4-column panels of b (1 MiB at 1024 columns) stay in L2. */
const INNER_BLOCK_F64: i32 = 128;

/** Bytes of the `panels` scratch that matmulF64 needs: one k block of b's whole 4-column panels. */
export function matmulF64PanelBytes(inner: i32, cols: i32): usize {
  return (<usize>min(inner, INNER_BLOCK_F64) * <usize>(cols & ~3)) << 3;
}

/** Four rows × four columns of out, k from k0 to k1, continuing sums in out when k0 > 0; `bk`, `bStep` as tile4x8. */
@inline function tile4x4F64(a: usize, bk: usize, bStep: usize, out: usize, r: i32, c: i32, inner: i32, cols: i32, k0: i32, k1: i32): void {
  const aRow = <usize>inner << 3;
  const oRow = <usize>cols << 3;
  const a0 = a + ((<usize>r * <usize>inner) << 3);
  const o0 = out + ((<usize>r * <usize>cols + <usize>c) << 3);
  let acc00_f64x2 = f64x2.splat(0);
  let acc01_f64x2 = f64x2.splat(0);
  let acc10_f64x2 = f64x2.splat(0);
  let acc11_f64x2 = f64x2.splat(0);
  let acc20_f64x2 = f64x2.splat(0);
  let acc21_f64x2 = f64x2.splat(0);
  let acc30_f64x2 = f64x2.splat(0);
  let acc31_f64x2 = f64x2.splat(0);
  if (k0 > 0) {
    acc00_f64x2 = v128.load(o0);
    acc01_f64x2 = v128.load(o0, 16);
    acc10_f64x2 = v128.load(o0 + oRow);
    acc11_f64x2 = v128.load(o0 + oRow, 16);
    acc20_f64x2 = v128.load(o0 + 2 * oRow);
    acc21_f64x2 = v128.load(o0 + 2 * oRow, 16);
    acc30_f64x2 = v128.load(o0 + 3 * oRow);
    acc31_f64x2 = v128.load(o0 + 3 * oRow, 16);
  }
  for (let k = k0; k < k1; k++) {
    const b0_f64x2 = v128.load(bk);
    const b1_f64x2 = v128.load(bk, 16);
    const ak = a0 + (<usize>k << 3);
    const x0_f64x2 = f64x2.splat(load<f64>(ak));
    const x1_f64x2 = f64x2.splat(load<f64>(ak + aRow));
    const x2_f64x2 = f64x2.splat(load<f64>(ak + 2 * aRow));
    const x3_f64x2 = f64x2.splat(load<f64>(ak + 3 * aRow));
    acc00_f64x2 = f64x2.add(acc00_f64x2, f64x2.mul(x0_f64x2, b0_f64x2));
    acc01_f64x2 = f64x2.add(acc01_f64x2, f64x2.mul(x0_f64x2, b1_f64x2));
    acc10_f64x2 = f64x2.add(acc10_f64x2, f64x2.mul(x1_f64x2, b0_f64x2));
    acc11_f64x2 = f64x2.add(acc11_f64x2, f64x2.mul(x1_f64x2, b1_f64x2));
    acc20_f64x2 = f64x2.add(acc20_f64x2, f64x2.mul(x2_f64x2, b0_f64x2));
    acc21_f64x2 = f64x2.add(acc21_f64x2, f64x2.mul(x2_f64x2, b1_f64x2));
    acc30_f64x2 = f64x2.add(acc30_f64x2, f64x2.mul(x3_f64x2, b0_f64x2));
    acc31_f64x2 = f64x2.add(acc31_f64x2, f64x2.mul(x3_f64x2, b1_f64x2));
    bk += bStep;
  }
  v128.store(o0, acc00_f64x2);
  v128.store(o0, acc01_f64x2, 16);
  v128.store(o0 + oRow, acc10_f64x2);
  v128.store(o0 + oRow, acc11_f64x2, 16);
  v128.store(o0 + 2 * oRow, acc20_f64x2);
  v128.store(o0 + 2 * oRow, acc21_f64x2, 16);
  v128.store(o0 + 3 * oRow, acc30_f64x2);
  v128.store(o0 + 3 * oRow, acc31_f64x2, 16);
}

/** One row × two columns of out, k from k0 to k1, continuing sums in out when k0 > 0; `bk`, `bStep` as tile4x8. */
@inline function strip1x2F64(a: usize, bk: usize, bStep: usize, out: usize, r: i32, c: i32, inner: i32, cols: i32, k0: i32, k1: i32): void {
  const ar = a + ((<usize>r * <usize>inner) << 3);
  const o = out + ((<usize>r * <usize>cols + <usize>c) << 3);
  let acc_f64x2 = k0 > 0 ? v128.load(o) : f64x2.splat(0);
  for (let k = k0; k < k1; k++) {
    acc_f64x2 = f64x2.add(acc_f64x2, f64x2.mul(f64x2.splat(load<f64>(ar + (<usize>k << 3))), v128.load(bk)));
    bk += bStep;
  }
  v128.store(o, acc_f64x2);
}

/** One element of out, k from k0 to k1, continuing its sum when k0 > 0. */
@inline function singleF64(a: usize, b: usize, out: usize, r: i32, c: i32, inner: i32, cols: i32, k0: i32, k1: i32): void {
  const ar = a + ((<usize>r * <usize>inner) << 3);
  const o = out + ((<usize>r * <usize>cols + <usize>c) << 3);
  let acc: f64 = k0 > 0 ? load<f64>(o) : 0;
  let bk = b + ((<usize>k0 * <usize>cols + <usize>c) << 3);
  for (let k = k0; k < k1; k++) {
    acc += load<f64>(ar + (<usize>k << 3)) * load<f64>(bk);
    bk += <usize>cols << 3;
  }
  store<f64>(o, acc);
}

/** Columns `c` onward of row `r`, read from b itself (the last cols % 4): a 2-wide strip, then a single column. */
@inline function rowTailF64(a: usize, b: usize, out: usize, r: i32, c: i32, inner: i32, cols: i32, k0: i32, k1: i32): void {
  for (; c + 2 <= cols; c += 2) strip1x2F64(a, b + ((<usize>k0 * <usize>cols + <usize>c) << 3), <usize>cols << 3, out, r, c, inner, cols, k0, k1);
  if (c < cols) singleF64(a, b, out, r, c, inner, cols, k0, k1);
}

/** Copies rows k0 … k1 − 1 of b's first `panelCols` columns into 4-column panels of 32 bytes a row. */
@inline function packPanelsF64(b: usize, cols: i32, panelCols: i32, k0: i32, k1: i32, panels: usize): void {
  const depth = <usize>(k1 - k0);
  for (let c: i32 = 0; c < panelCols; c += 4) {
    const panel = panels + ((<usize>c * depth) << 3);
    let from = b + ((<usize>k0 * <usize>cols + <usize>c) << 3);
    for (let k: usize = 0; k < depth; k++) {
      v128.store(panel + (k << 5), v128.load(from));
      v128.store(panel + (k << 5), v128.load(from, 16), 16);
      from += <usize>cols << 3;
    }
  }
}

export function matmulF64(a: usize, b: usize, rows: i32, inner: i32, cols: i32, out: usize, panels: usize): void {
  if (inner <= 0) {
    memory.fill(out, 0, (<usize>rows * <usize>cols) << 3);
    return;
  }
  const panelCols = cols & ~3;
  for (let k0: i32 = 0; k0 < inner; k0 += INNER_BLOCK_F64) {
    const k1 = min(inner, k0 + INNER_BLOCK_F64);
    packPanelsF64(b, cols, panelCols, k0, k1, panels);
    for (let r0: i32 = 0; r0 < rows; r0 += ROW_BLOCK) {
      const r1 = min(rows, r0 + ROW_BLOCK);
      for (let c: i32 = 0; c < panelCols; c += 4) {
        const panel = panels + ((<usize>c * <usize>(k1 - k0)) << 3);
        let r = r0;
        for (; r + 4 <= r1; r += 4) tile4x4F64(a, panel, 32, out, r, c, inner, cols, k0, k1);
        for (; r < r1; r++) {
          strip1x2F64(a, panel, 32, out, r, c, inner, cols, k0, k1);
          strip1x2F64(a, panel + 16, 32, out, r, c + 2, inner, cols, k0, k1);
        }
      }
      for (let r = r0; r < r1; r++) rowTailF64(a, b, out, r, panelCols, inner, cols, k0, k1);
    }
  }
}

/** Rows × columns per tile of transposeF32: a tile's source and destination lines stay in cache. */
const TRANSPOSE_TILE: i32 = 32;

/** out (cols × rows) = the transpose of a (rows × cols), float32, row-major, tile by tile. */
export function transposeF32(a: usize, rows: i32, cols: i32, out: usize): void {
  for (let r0: i32 = 0; r0 < rows; r0 += TRANSPOSE_TILE) {
    const r1 = min(rows, r0 + TRANSPOSE_TILE);
    for (let c0: i32 = 0; c0 < cols; c0 += TRANSPOSE_TILE) {
      const c1 = min(cols, c0 + TRANSPOSE_TILE);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) {
          store<f32>(out + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(a + ((<usize>r * <usize>cols + <usize>c) << 2)));
        }
      }
    }
  }
}
