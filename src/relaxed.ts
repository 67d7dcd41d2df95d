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
//      after the warm-up and timing below, by when the engine has usually optimized the code
//      (Node 20's baseline compiler, Liftoff, computes the relaxed dot wrongly; its optimizing
//      compiler is right). The shared build is checked once, when a threaded index needs it;
//      it is the same source, compiled with threads;
//   3. policy "auto" only: scanning the same in-cache codes is at least MIN_SPEEDUP faster
//      than with the SIMD128 build, decided in the background after ready() has resolved on
//      SIMD128 (chooseInBackground: short interleaved timing pairs between the application's
//      own tasks, judged two windows at a time by judgePairs until they agree). Indexes created
//      after the decision use it. The digit planes cost three or four relaxed dots per 16
//      codes, so the relaxed path wins only where the engine turns each into one instruction
//      (x86 VNNI, Arm dot product), and even then not always (0.3–0.85× measured on an x86
//      with VNNI, Node 22 to 26; 0.33–0.46× on an AMD EPYC; README "Relaxed SIMD"). The race times
//      single-query scans; batches with relaxed SIMD go one query at a time (the SIMD128
//      builds score four queries per row load), so "auto" may trade some batch speed.

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
  /** Whether the runtime runs the relaxed kernels correctly (validated and self-checked); false when not tried. */
  relaxedSimd: boolean;
  /** Relaxed over SIMD128 scan speed, when it was measured ("auto": best rates of the last window of timing pairs; "always": median of its short rounds). */
  speedup?: number;
  /** One line: why this path. */
  reason: string;
}

/** Relaxed must be this much faster to be chosen by "auto": a tie keeps the plain path. */
const MIN_SPEEDUP = 1.05;
/** "always": a short synchronous warm-up and race, only to report the speed and re-check once optimized. */
const WARMUP_MS = 15;
const ROUNDS = 4;
const ROUND_MS = 2;
/**
 * "auto", in the background: each task runs both contenders for PAIR_MS each (order
 * alternating), so a burst of noise hits both; WARMUP_TASKS tasks of warm-up first, then pairs
 * are judged in windows of WINDOW, at most MAX_WINDOWS (judgePairs).
 */
const PAIR_MS = 2;
const WARMUP_TASKS = 10;
const WINDOW = 16;
const MAX_WINDOWS = 6;
/** Two windows agree when their speedups are within this factor of each other. */
const AGREE = 1.1;

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

/** A fresh instance of `module` over its own memory (shared for a shared build), with a bump allocator. */
function sandbox(module: WebAssembly.Module, pages: number, shared: boolean) {
  const descriptor = shared ? { initial: pages, maximum: pages, shared } : { initial: pages };
  const memory = new WebAssembly.Memory(descriptor as WebAssembly.MemoryDescriptor);
  const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  let top = Math.ceil((kernels.HEAP_BASE.value as number) / 64) * 64;
  const header = kernels.HEAP_HEADER.value as number;
  const alloc = (bytes: number) => {
    const at = top;
    top = Math.ceil((top + bytes) / 64) * 64;
    if (top > memory.buffer.byteLength) throw new RangeError("relaxed self-check: sandbox memory too small");
    return at;
  };
  const u8 = () => new Uint8Array(memory.buffer);
  const i32 = () => new Int32Array(memory.buffer);
  return { kernels, alloc, header, u8, i32 };
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
const BATCH = 5; // one group of four queries and one left over

/** The self-check's inputs and their reference results, computed once. */
interface CheckCase {
  name: "dot_i8" | "dot_i16i8";
  query: Int8Array | Int16Array;
  expected: Int32Array;
  /** The reference's K best rows, best first. */
  best: string;
}
let checkData: { codes: Int8Array; cases: CheckCase[] } | undefined;

function checkCases() {
  if (checkData === undefined) {
    const codes = sample(Int8Array, DIMS * ROWS, 1);
    const queries = [sample(Int8Array, DIMS, 2), sample(Int16Array, DIMS, 3), sample(Int16Array, DIMS, 4)];
    const cases = queries.map((query): CheckCase => {
      const expected = query instanceof Int16Array ? reference.dot_i16i8(query, codes) : reference.dot_i8(query, codes);
      const best = reference.topk(expected, Array.from(expected, (_, r) => r), K).join();
      return { name: query instanceof Int16Array ? "dot_i16i8" : "dot_i8", query, expected, best };
    });
    checkData = { codes, cases };
  }
  return checkData;
}

/**
 * A self-check of `module` (a shared build when `shared`): returns a function that runs every
 * int8 kernel (scores, gathered rows, top-k, batched top-k; int8 and int16 queries) on data
 * chosen to reach every digit, the bias and the tails, compares each result with the scalar
 * reference, and returns undefined when all agree, else what differed. Call it repeatedly to
 * re-check after the engine has optimized the kernels.
 */
export function selfChecker(module: WebAssembly.Module, path: KernelPath, shared = false): () => string | undefined {
  const { codes, cases } = checkCases();
  const box = sandbox(module, 4, shared);
  const base = box.alloc(codes.length);
  box.u8().set(new Uint8Array(codes.buffer), base);
  const out = box.alloc(ROWS * 4);
  const rowPtrs = box.alloc(ROWS * 4);
  const heapBytes = box.header + K * 12;
  const heaps = Array.from({ length: BATCH }, () => box.alloc(heapBytes));
  const heapList = box.alloc(BATCH * 4);
  const layouts = cases.map(({ query, name }) => {
    const bytes = intQueryBytes(path, DIMS, name === "dot_i16i8");
    const batch = box.alloc(bytes * BATCH);
    for (let q = 0; q < BATCH; q++) writeIntQuery(box.u8(), batch + q * bytes, query, path);
    return { at: batch, bytes };
  });
  // Every other row, backwards, through the gather kernel.
  const picked = Array.from({ length: ROWS >> 1 }, (_, i) => ROWS - 1 - 2 * i);
  /** The heap's rows ordered like the reference (its contents are what count, not its order). */
  const heapRows = (heap: number, expected: Int32Array) => {
    const view = box.i32();
    return Array.from({ length: view[heap >> 2] }, (_, i) => view[((heap + box.header) >> 2) + 2 * K + i])
      .sort((a, b) => expected[b] - expected[a] || a - b).join();
  };
  const resetHeaps = () => {
    const view = box.i32();
    heaps.forEach((heap, q) => {
      view.set([0, K], heap >> 2);
      view[(heapList >> 2) + q] = heap;
    });
  };

  return () => {
    for (const [c, { name, expected, best }] of cases.entries()) {
      const { at, bytes } = layouts[c];
      box.kernels[name](at, base, DIMS, ROWS, out);
      const got = box.i32().slice(out >> 2, (out >> 2) + ROWS);
      const row = got.findIndex((value, r) => value !== expected[r]);
      if (row >= 0) return `${name} row ${row}: ${got[row]}, reference ${expected[row]}`;

      if (name === "dot_i16i8") {
        box.i32().set(picked.map((r) => base + r * DIMS), rowPtrs >> 2);
        box.kernels.dot_i16i8_rows(at, rowPtrs, DIMS, picked.length, out);
        const rows = box.i32().slice(out >> 2, (out >> 2) + picked.length);
        const bad = picked.findIndex((r, i) => rows[i] !== expected[r]);
        if (bad >= 0) return `dot_i16i8_rows row ${picked[bad]}: ${rows[bad]}, reference ${expected[picked[bad]]}`;
      }

      resetHeaps();
      box.kernels[`${name}_topk`](at, base, DIMS, ROWS, 0, 0, heaps[0]);
      const single = heapRows(heaps[0], expected);
      if (single !== best) return `${name}_topk (case ${c}): rows ${single}, reference ${best}`;

      resetHeaps();
      box.kernels[`${name}_topk_batch`](at, bytes, BATCH, base, DIMS, ROWS, 0, 0, heapList);
      for (const heap of heaps) {
        const rows = heapRows(heap, expected);
        if (rows !== best) return `${name}_topk_batch (case ${c}): rows ${rows}, reference ${best}`;
      }
    }
    return undefined;
  };
}

/**
 * Runs `run` until at least `ms` have passed, or `maxCalls` calls if the clock does not move
 * (some sandboxes freeze it while code runs); returns calls per millisecond, Infinity then.
 */
function rate(run: () => void, ms: number, maxCalls: number): number {
  const start = performance.now();
  let calls = 0;
  let elapsed = 0;
  do {
    run();
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < ms && calls < maxCalls);
  return calls / elapsed;
}

/**
 * The two contenders of a race: the int16 × int8 top-k scan (the int8 index's hot loop) over
 * 128 KiB of codes that stay in cache, so the arithmetic is measured rather than memory; each
 * call is one scan, SIMD128 first, relaxed second.
 */
function contenders(plain: WebAssembly.Module, relaxed: WebAssembly.Module): [() => void, () => void] {
  const dims = 1024;
  const rows = 128;
  const codes = sample(Int8Array, dims * rows, 5);
  const query = sample(Int16Array, dims, 6).map((q) => q >> 2); // the encoder's typical range
  const [a, b] = ([["simd128", plain], ["relaxed-simd", relaxed]] as const).map(([path, module]) => {
    const box = sandbox(module, 4, false);
    const base = box.alloc(codes.length);
    box.u8().set(new Uint8Array(codes.buffer), base);
    const at = box.alloc(intQueryBytes(path, dims, true));
    writeIntQuery(box.u8(), at, query, path);
    const heap = box.alloc(box.header + 10 * 12);
    return () => {
      box.i32().set([0, 10], heap >> 2);
      box.kernels.dot_i16i8_topk(at, base, dims, rows, 0, 0, heap);
    };
  });
  return [a, b];
}

/**
 * Relaxed over SIMD128 speed, synchronously (policy "always" reports it): both contenders and
 * `warm` (the self-check, which calls every kernel) first run for WARMUP_MS so that the engine
 * optimizes them, then ROUNDS rounds time each for at least ROUND_MS. Returns each round's
 * ratio, NaN where the clock does not move. No timers: ready() must not hang under fake timers.
 */
export function raceRelaxed(plain: WebAssembly.Module, relaxed: WebAssembly.Module, warm: () => void = () => {}): number[] {
  const [simd128, relaxedSimd] = contenders(plain, relaxed);
  rate(() => {
    simd128();
    relaxedSimd();
    warm();
  }, WARMUP_MS, 200);
  return Array.from({ length: ROUNDS }, () => {
    const [a, b] = [rate(simd128, ROUND_MS, 2000), rate(relaxedSimd, ROUND_MS, 2000)];
    return Number.isFinite(a) && Number.isFinite(b) ? b / a : NaN;
  });
}

/** What the pairs measured so far say: "relaxed" or "simd128" once sure, else "unsure". */
export interface RatioVerdict {
  verdict: "relaxed" | "simd128" | "unsure";
  /** Relaxed over SIMD128 speed in the last window: best relaxed rate over best SIMD128 rate. */
  speedup: number;
}

/**
 * Judges interleaved timing pairs `[simd128 calls/ms, relaxed calls/ms]`, WINDOW at a time.
 * Noise (preemption, other processes, GC) only ever slows a run down, so each window is summed
 * up by each contender's best rate, and their ratio is its speedup. Sure of "relaxed" when the
 * last two windows both measure at least MIN_SPEEDUP and agree within AGREE; sure of "simd128"
 * when both measure below 1, or both below MIN_SPEEDUP and agree. Two windows must agree, so a
 * warm-up that favoured one side in the first does not decide; anything else is "unsure".
 */
export function judgePairs(pairs: ReadonlyArray<readonly [number, number]>): RatioVerdict {
  const windows = Math.floor(pairs.length / WINDOW);
  const speedups = [windows - 2, windows - 1].filter((w) => w >= 0).map((w) => {
    const window = pairs.slice(w * WINDOW, (w + 1) * WINDOW);
    return Math.max(...window.map((p) => p[1])) / Math.max(...window.map((p) => p[0]));
  });
  const speedup = speedups[speedups.length - 1] ?? NaN;
  if (speedups.length < 2) return { verdict: "unsure", speedup };
  const [earlier, last] = speedups;
  const agree = Math.max(earlier, last) / Math.min(earlier, last) <= AGREE;
  const verdict = agree && earlier >= MIN_SPEEDUP && last >= MIN_SPEEDUP ? "relaxed"
    : (earlier < 1 && last < 1) || (agree && earlier < MIN_SPEEDUP && last < MIN_SPEEDUP) ? "simd128" : "unsure";
  return { verdict, speedup };
}

/** Waits for the next macrotask (the event loop runs in between); never keeps a process alive unless `hold`. */
export type NextTask = () => Promise<void>;

/**
 * Decides "auto" without holding up ready(): self-check, then interleaved timing pairs, one
 * short task at a time (about 2 × PAIR_MS each, so the application keeps running), until
 * judgePairs is sure or MAX_WINDOWS windows have passed, then the self-check again. `relaxed`
 * is the compiled relaxed build, or the reason it is unavailable.
 */
export async function chooseInBackground(plain: WebAssembly.Module, relaxed: WebAssembly.Module | string, nextTask: NextTask): Promise<PathChoice> {
  if (typeof relaxed === "string") return { path: "simd128", relaxedSimd: false, reason: relaxed };
  const check = selfChecker(relaxed, "relaxed-simd");
  const failed = check();
  if (failed !== undefined) return { path: "simd128", relaxedSimd: false, reason: `relaxed SIMD failed its self-check (${failed}); using SIMD128` };
  const [simd128, relaxedSimd] = contenders(plain, relaxed);
  for (let task = 0; task < WARMUP_TASKS; task++) {
    await nextTask();
    rate(() => {
      simd128();
      relaxedSimd();
      check();
    }, 2 * PAIR_MS, 50);
  }
  const pairs: Array<[number, number]> = [];
  let judged: RatioVerdict = { verdict: "unsure", speedup: NaN };
  let timed = true;
  while (pairs.length < WINDOW * MAX_WINDOWS) {
    await nextTask();
    const order = pairs.length % 2 === 0 ? [simd128, relaxedSimd] : [relaxedSimd, simd128];
    const [first, second] = order.map((run) => rate(run, PAIR_MS, 500));
    if (!Number.isFinite(first) || !Number.isFinite(second)) {
      timed = false;
      break;
    }
    pairs.push(order[0] === simd128 ? [first, second] : [second, first]);
    if (pairs.length % WINDOW === 0 && (judged = judgePairs(pairs)).verdict !== "unsure") break;
  }
  const failedLater = check();
  if (failedLater !== undefined) {
    return { path: "simd128", relaxedSimd: false, reason: `relaxed SIMD failed its self-check once optimized (${failedLater}); using SIMD128` };
  }
  if (!timed) {
    return { path: "simd128", relaxedSimd: true, reason: "relaxed SIMD is exact here but ran at an untimed speed (the clock did not advance while it ran); using SIMD128" };
  }
  const speedup = judged.speedup;
  const measured = `${speedup.toFixed(2)}× the speed of SIMD128 on an in-cache int8 scan (best of the last ${WINDOW} of ${pairs.length} interleaved timing pairs)`;
  if (judged.verdict === "relaxed") return { path: "relaxed-simd", relaxedSimd: true, speedup, reason: `relaxed SIMD is exact here and ran at ${measured}` };
  if (judged.verdict === "simd128") return { path: "simd128", relaxedSimd: true, speedup, reason: `relaxed SIMD is exact here but ran at ${measured}; using SIMD128` };
  return { path: "simd128", relaxedSimd: true, speedup, reason: `relaxed SIMD is exact here; the windows of timing pairs did not agree (last: ${measured}); using SIMD128` };
}

/**
 * Decides the kernel path under "never" or "always" (ready() waits for it; "auto" is decided
 * by chooseInBackground). `relaxed` is the compiled relaxed build, or the reason it is unavailable.
 */
export function choosePath(policy: "never" | "always", plain: WebAssembly.Module, relaxed: WebAssembly.Module | string): PathChoice {
  if (policy === "never") return { path: "simd128", relaxedSimd: false, reason: "relaxed SIMD not tried: turned off (relaxedSimd: \"never\")" };
  if (typeof relaxed === "string") return { path: "simd128", relaxedSimd: false, reason: relaxed };
  const check = selfChecker(relaxed, "relaxed-simd");
  const failed = check();
  if (failed !== undefined) {
    return { path: "simd128", relaxedSimd: false, reason: `relaxed SIMD failed its self-check (${failed}); using SIMD128` };
  }
  const rounds = raceRelaxed(plain, relaxed, check).sort((a, b) => a - b);
  const timed = !rounds.some(Number.isNaN);
  const failedLater = check();
  if (failedLater !== undefined) {
    return { path: "simd128", relaxedSimd: false, reason: `relaxed SIMD failed its self-check once optimized (${failedLater}); using SIMD128` };
  }
  const speedup = rounds[rounds.length >> 1];
  const ratio = timed ? `${speedup.toFixed(2)}× the speed of SIMD128 on an in-cache int8 scan (median of ${ROUNDS} short rounds)` : "an untimed speed (the clock did not advance while it ran)";
  return { path: "relaxed-simd", relaxedSimd: true, ...(timed ? { speedup } : {}), reason: `relaxed SIMD forced (relaxedSimd: "always"); it ran at ${ratio}` };
}
