// The relaxed-SIMD kernel path: how its integer queries are laid out, how it is checked, and
// how it is chosen.
//
// The relaxed builds (asconfig targets "relaxed", "shared-relaxed") compute the int8 dot
// products with i32x4.relaxed_dot_i8x16_i7x16_add_s over base-128 digit planes of the query
// (assembly/relaxed.ts). Their results are identical to the SIMD128 kernels'; they can only be
// faster or slower. A runtime gets them when
//   1. WebAssembly.validate accepts the build (Node >= 22, Chrome >= 114; Node 20 only with
//      --experimental-wasm-relaxed-simd);
//   2. a self-check of every int8 kernel against the scalar reference passes, before and again
//      after the timing below has made the engine tier the code up (Node 20's baseline
//      compiler, Liftoff, computes the relaxed dot wrongly; its optimizing compiler is right);
//   3. policy "auto" only: scanning the same in-cache codes is at least MIN_SPEEDUP faster
//      than with the SIMD128 build. The digit planes cost three or four relaxed dots per 16
//      codes, so the relaxed path wins only where the engine turns each into one instruction
//      (x86 VNNI, Arm dot product); elsewhere it is several times slower.

import * as reference from "./reference.js";
import type { KernelExports } from "./wasm.js";

/** Which kernels the arenas use: the SIMD128 builds or the relaxed-SIMD builds. */
export type KernelPath = "simd128" | "relaxed-simd";
/** "auto": relaxed SIMD where it is correct and measured faster; "always": wherever it is correct; "never". */
export type RelaxedPolicy = "auto" | "always" | "never";
export const RELAXED_POLICIES: readonly RelaxedPolicy[] = ["auto", "always", "never"];

/** What ready() decided, and why. */
export interface PathChoice {
  path: KernelPath;
  /** Whether the runtime runs the relaxed kernels correctly (validated and self-checked). */
  relaxedSimd: boolean;
  /** Relaxed over SIMD128 scan speed, when it was measured. */
  speedup?: number;
  /** One line: why this path. */
  reason: string;
}

/** Relaxed must be this much faster to be chosen by "auto": a tie keeps the plain path. */
const MIN_SPEEDUP = 1.05;
const WARMUP_MS = 5;

/** Digit planes (before the ones plane) of an int8 (`wide` false) or int16 query. */
const digitsOf = (wide: boolean) => (wide ? 3 : 2);
const planeStride = (dims: number) => Math.ceil(dims / 16) * 16;

/** Bytes an int8 (`wide` false) or int16 query of `dims` elements takes in `path`'s layout. */
export function intQueryBytes(path: KernelPath, dims: number, wide: boolean): number {
  return path === "simd128" ? dims * (wide ? 2 : 1) : (digitsOf(wide) + 1) * planeStride(dims);
}

/**
 * Writes an integer query at `ptr` of `u8` as `path`'s kernels read it: its own bytes for
 * SIMD128; for relaxed SIMD, the base-128 digits of q + bias, one plane per digit, then a
 * plane of ones (assembly/relaxed.ts explains the arithmetic).
 */
export function writeIntQuery(u8: Uint8Array, ptr: number, query: Int8Array | Int16Array, path: KernelPath): void {
  if (path === "simd128") {
    u8.set(new Uint8Array(query.buffer, query.byteOffset, query.byteLength), ptr);
    return;
  }
  const wide = query instanceof Int16Array;
  const digits = digitsOf(wide);
  const bias = wide ? 32768 : 128;
  const stride = planeStride(query.length);
  u8.fill(0, ptr, ptr + (digits + 1) * stride);
  for (let i = 0; i < query.length; i++) {
    let biased = query[i] + bias;
    for (let k = 0; k < digits; k++, biased >>= 7) u8[ptr + k * stride + i] = biased & 127;
    u8[ptr + digits * stride + i] = 1;
  }
}

/** A fresh instance of `module` over its own memory, with a bump allocator over it. */
function sandbox(module: WebAssembly.Module, pages: number) {
  const memory = new WebAssembly.Memory({ initial: pages });
  const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  let top = Math.ceil((kernels.HEAP_BASE.value as number) / 64) * 64;
  const header = kernels.HEAP_HEADER.value as number;
  const alloc = (bytes: number) => {
    const at = top;
    top = Math.ceil((top + bytes) / 64) * 64;
    if (top > memory.buffer.byteLength) throw new RangeError("relaxed self-check: sandbox memory too small");
    return at;
  };
  return { memory, kernels, alloc, header };
}

/** Deterministic test data: extremes first (they exercise every digit and the bias), then noise. */
function sample<T extends Int8Array | Int16Array>(Type: new (length: number) => T, length: number, seed: number): T {
  const out = new Type(length);
  const [min, max] = out instanceof Int8Array ? [-128, 127] : [-32768, 32767];
  const edges = [min, max, 0, -1, 1, min + 1, max - 1, 127, -128, 128, -129, 16383, 16384, -16384].filter((e) => e >= min && e <= max);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = i % 23 < edges.length ? edges[i % 23] : min + (state % (max - min + 1));
  }
  return out;
}

const DIMS = 1037; // 64 whole steps of 16 and a tail of 13
const ROWS = 41; // ten groups of four rows and one left over
const K = 7;

/**
 * Runs every int8 kernel of `module` (scores, rows, top-k, batched top-k; int8 and int16
 * queries) on data chosen to reach every digit, the bias and the tail, and compares each
 * result with the scalar reference. Returns undefined when all agree, else what differed.
 */
export function selfCheck(module: WebAssembly.Module, path: KernelPath): string | undefined {
  const box = sandbox(module, 4);
  const { kernels, alloc } = box;
  const codes = sample(Int8Array, DIMS * ROWS, 1);
  const queries = [sample(Int8Array, DIMS, 2), sample(Int16Array, DIMS, 3), sample(Int16Array, DIMS, 4)];
  const base = alloc(codes.length);
  new Int8Array(box.memory.buffer).set(codes, base);
  const out = alloc(ROWS * 4);
  const rowPtrs = alloc(ROWS * 4);
  const heapBytes = box.header + K * 12;
  for (const [q, query] of queries.entries()) {
    const wide = query instanceof Int16Array;
    const name = wide ? "dot_i16i8" : "dot_i8";
    const expected = wide ? reference.dot_i16i8(query as Int16Array, codes) : reference.dot_i8(query as Int8Array, codes);
    const bytes = intQueryBytes(path, DIMS, wide);
    const at = alloc(bytes);
    writeIntQuery(new Uint8Array(box.memory.buffer), at, query, path);
    const i32 = () => new Int32Array(box.memory.buffer);

    kernels[name](at, base, DIMS, ROWS, out);
    const got = i32().slice(out >> 2, (out >> 2) + ROWS);
    const row = got.findIndex((value, r) => value !== expected[r]);
    if (row >= 0) return `${name} row ${row}: ${got[row]}, reference ${expected[row]}`;

    if (wide) {
      // Every other row, backwards, through the gather kernel.
      const picked = Array.from({ length: ROWS >> 1 }, (_, i) => ROWS - 1 - 2 * i);
      picked.forEach((r, i) => (new Uint32Array(box.memory.buffer)[(rowPtrs >> 2) + i] = base + r * DIMS));
      kernels.dot_i16i8_rows(at, rowPtrs, DIMS, picked.length, out);
      const rows = i32().slice(out >> 2, (out >> 2) + picked.length);
      const bad = picked.findIndex((r, i) => rows[i] !== expected[r]);
      if (bad >= 0) return `dot_i16i8_rows row ${picked[bad]}: ${rows[bad]}, reference ${expected[picked[bad]]}`;
    }

    const best = reference.topk(expected, Array.from(expected, (_, r) => r), K).join();
    const heapRows = (heap: number) => {
      const view = i32();
      const size = view[heap >> 2];
      // Order does not matter here: the heap's contents are the k best rows.
      return Array.from({ length: size }, (_, i) => view[((heap + box.header) >> 2) + 2 * K + i]);
    };
    const heap = alloc(heapBytes);
    i32().set([0, K], heap >> 2);
    kernels[`${name}_topk`](at, base, DIMS, ROWS, 0, 0, heap);
    const single = heapRows(heap).sort((a, b) => expected[b] - expected[a] || a - b).join();
    if (single !== best) return `${name}_topk (query ${q}): rows ${single}, reference ${best}`;

    const batch = 2;
    const queriesAt = alloc(bytes * batch);
    const heaps = [alloc(heapBytes), alloc(heapBytes)];
    const list = alloc(8);
    new Uint8Array(box.memory.buffer).copyWithin(queriesAt, at, at + bytes);
    new Uint8Array(box.memory.buffer).copyWithin(queriesAt + bytes, at, at + bytes);
    heaps.forEach((h, i) => {
      i32().set([0, K], h >> 2);
      new Uint32Array(box.memory.buffer)[(list >> 2) + i] = h;
    });
    kernels[`${name}_topk_batch`](queriesAt, bytes, batch, base, DIMS, ROWS, 0, 0, list);
    for (const h of heaps) {
      const rows = heapRows(h).sort((a, b) => expected[b] - expected[a] || a - b).join();
      if (rows !== best) return `${name}_topk_batch (query ${q}): rows ${rows}, reference ${best}`;
    }
  }
  return undefined;
}

/**
 * Relaxed over SIMD128 speed of the int16 × int8 top-k scan (the int8 index's hot loop) over
 * 128 KiB of codes that stay in cache, so the arithmetic is measured rather than memory.
 * Each contender first runs for WARMUP_MS, long enough for the engine to finish optimizing
 * it (timing baseline-compiled code would mislead); then the two alternate and the fastest
 * round of each counts. About 15 ms.
 */
export function raceRelaxed(plain: WebAssembly.Module, relaxed: WebAssembly.Module): number {
  const dims = 1024;
  const rows = 128;
  const codes = sample(Int8Array, dims * rows, 5);
  const query = sample(Int16Array, dims, 6).map((q) => q >> 2); // the encoder's typical range
  const contenders = ([["simd128", plain], ["relaxed-simd", relaxed]] as const).map(([path, module]) => {
    const box = sandbox(module, 4);
    const base = box.alloc(codes.length);
    new Int8Array(box.memory.buffer).set(codes, base);
    const at = box.alloc(intQueryBytes(path, dims, true));
    writeIntQuery(new Uint8Array(box.memory.buffer), at, query, path);
    const heap = box.alloc(box.header + 10 * 12);
    const heapView = new Int32Array(box.memory.buffer);
    return () => {
      heapView[heap >> 2] = 0;
      heapView[(heap >> 2) + 1] = 10;
      box.kernels.dot_i16i8_topk(at, base, dims, rows, 0, 0, heap);
    };
  });
  for (const run of contenders) {
    for (const start = performance.now(); performance.now() - start < WARMUP_MS;) run();
  }
  const best = [Infinity, Infinity];
  for (let round = 0; round < 8; round++) {
    contenders.forEach((run, i) => {
      const start = performance.now();
      for (let call = 0; call < 4; call++) run();
      best[i] = Math.min(best[i], performance.now() - start);
    });
  }
  return best[0] / best[1];
}

/**
 * Decides the kernel path under `policy`. `relaxed` is the compiled relaxed build, or the
 * reason it is unavailable.
 */
export function choosePath(policy: RelaxedPolicy, plain: WebAssembly.Module, relaxed: WebAssembly.Module | string): PathChoice {
  if (typeof relaxed === "string") return { path: "simd128", relaxedSimd: false, reason: relaxed };
  const failed = selfCheck(relaxed, "relaxed-simd");
  if (failed !== undefined) {
    return { path: "simd128", relaxedSimd: false, reason: `relaxed SIMD failed its self-check (${failed}); using SIMD128` };
  }
  if (policy === "never") return { path: "simd128", relaxedSimd: true, reason: "relaxed SIMD works here but is turned off (relaxedSimd: \"never\")" };
  // Timing also makes the engine tier the kernels up: check the optimized code as well.
  const speedup = raceRelaxed(plain, relaxed);
  const failedLater = selfCheck(relaxed, "relaxed-simd");
  if (failedLater !== undefined) {
    return { path: "simd128", relaxedSimd: false, speedup, reason: `relaxed SIMD failed its self-check once optimized (${failedLater}); using SIMD128` };
  }
  const ratio = `${speedup.toFixed(2)}× the speed of SIMD128 on an in-cache int8 scan`;
  if (policy === "always") return { path: "relaxed-simd", relaxedSimd: true, speedup, reason: `relaxed SIMD forced (relaxedSimd: "always"); measured ${ratio}` };
  return speedup >= MIN_SPEEDUP
    ? { path: "relaxed-simd", relaxedSimd: true, speedup, reason: `relaxed SIMD is exact here and ran at ${ratio}` }
    : { path: "simd128", relaxedSimd: true, speedup, reason: `relaxed SIMD is exact here but ran at only ${ratio}; using SIMD128` };
}
