// Loading the kernels, and the one owner of each WebAssembly.Memory: the Arena.
//
// Every Arena is one instance of the kernel module over its own memory. Long-lived data is
// bump-allocated and never moves (the memory only grows), so an address stays valid for the
// Arena's life and the memory can later be a shared one that workers scan while the owner
// appends. Typed-array views are rebuilt whenever growth has replaced the buffer: never keep
// one across a call that can allocate.

import { describe } from "./errors.js";
import { READY_OPTION_KEYS, readOptions } from "./options.js";
import { chooseInBackground, choosePath, type KernelPath, type PathChoice, RELAXED_POLICIES, type RelaxedPolicy, selfChecker } from "./relaxed.js";

/** The raw kernel ABI of assembly/index.ts. Pointers are byte offsets into the Arena's memory. */
export interface KernelExports {
  readonly HEAP_BASE: WebAssembly.Global;
  readonly HEAP_HEADER: WebAssembly.Global;
  readonly DESC_BYTES: WebAssembly.Global;
  /** The index's scan: a descriptor in memory says what to scan (assembly/scan.ts DESC_*; src/scan.ts writes it). */
  scan_topk(desc: number): void;
  hamming_u1(query: number, base: number, bytes: number, count: number, out: number): void;
  hamming_u1_topk(query: number, base: number, bytes: number, count: number, ids: number, rowBase: number, heap: number): void;
  dot_i8(query: number, base: number, dims: number, count: number, out: number): void;
  dot_i8_topk(query: number, base: number, dims: number, count: number, ids: number, rowBase: number, heap: number): void;
  dot_i16i8(query: number, base: number, dims: number, count: number, out: number): void;
  dot_i16i8_topk(query: number, base: number, dims: number, count: number, ids: number, rowBase: number, heap: number): void;
  dot_i16i8_rows(query: number, rowPtrs: number, dims: number, count: number, out: number): void;
  dot_f32(query: number, base: number, dims: number, count: number, out: number): void;
  dot_f32_topk(query: number, base: number, dims: number, count: number, ids: number, rowBase: number, heap: number): void;
  dot_f32_rows(query: number, rowPtrs: number, dims: number, count: number, out: number): void;
  hamming_u1_topk_batch(queries: number, queryBytes: number, queryCount: number, base: number, bytes: number, count: number, ids: number, rowBase: number, heaps: number): void;
  dot_i8_topk_batch(queries: number, queryBytes: number, queryCount: number, base: number, dims: number, count: number, ids: number, rowBase: number, heaps: number): void;
  dot_i16i8_topk_batch(queries: number, queryBytes: number, queryCount: number, base: number, dims: number, count: number, ids: number, rowBase: number, heaps: number): void;
  dot_f32_topk_batch(queries: number, queryBytes: number, queryCount: number, base: number, dims: number, count: number, ids: number, rowBase: number, heaps: number): void;
  read_sum(ptr: number, bytes: number): number;
  read_sum_rows(ptr: number, rowBytes: number, count: number): number;
  popcount_scan_1024(query: number, codes: number, count: number, out: number): void;
  readonly XXH64_STATE_BYTES: WebAssembly.Global;
  xxh64_reset(state: number, seed: bigint): void;
  xxh64_update(state: number, ptr: number, bytes: number): void;
  xxh64_digest(state: number): bigint;
  xxh64_blocks(state: number, data: number, bytes: number, blockBytes: number, seed: bigint, out: number): void;
  matmul_f32(a: number, b: number, rows: number, inner: number, cols: number, out: number, panels: number): void;
  matmul_f32_panel_bytes(inner: number, cols: number): number;
  pack_bits_f32(src: number, rows: number, dims: number, out: number, flip: number): void;
  quantize_u8_f32(src: number, rows: number, dims: number, mins: number, steps: number, out: number, flip: number): void;
  find_nonfinite_f32(src: number, count: number): number;
  matmul_f64(a: number, b: number, rows: number, inner: number, cols: number, out: number, panels: number): void;
  matmul_f64_panel_bytes(inner: number, cols: number): number;
  transpose_f32(a: number, rows: number, cols: number, out: number): void;
  tridiagonalize_f64(a: number, d: number, e: number, h: number, p: number, n: number): void;
  accumulate_reflections_f64(a: number, h: number, w: number, n: number): void;
  implicit_ql_f64(w: number, d: number, e: number, n: number): number;
  orthogonalize_row_f64(t: number, row: number, len: number): void;
}

export const PAGE_BYTES = 65536;
/** memory32 can address 4 GiB: 65536 pages of 64 KiB. */
export const MAX_PAGES = 65536;
export const MAX_MEMORY_BYTES = MAX_PAGES * PAGE_BYTES;

/**
 * The builds of the same kernels: over an ordinary memory or a shared one (workers), each with
 * SIMD128 only or with relaxed SIMD (src/relaxed.ts says when that one is used).
 */
export type Build = "simd" | "shared" | "relaxed" | "shared-relaxed";
export const BUILDS: readonly Build[] = ["simd", "shared", "relaxed", "shared-relaxed"];
/** The constant holding each build's bytes (base64) in src/generated/wasm.ts. */
const SOURCE_NAMES = {
  simd: "WASM_SIMD", shared: "WASM_SHARED", relaxed: "WASM_RELAXED", "shared-relaxed": "WASM_SHARED_RELAXED",
} as const satisfies Record<Build, string>;
/** Each build as a file in dist/wasm/ (the "workerd" entry imports these; `quantvec/wasm/*` exports them). */
export const WASM_FILES: Record<Build, string> = {
  simd: "quantvec.wasm", shared: "quantvec-shared.wasm", relaxed: "quantvec-relaxed.wasm", "shared-relaxed": "quantvec-shared-relaxed.wasm",
};
const UNSUPPORTED: Record<Build, string> = {
  simd: "this runtime cannot run WebAssembly SIMD128 (needs Node >= 16.4, Chrome 91, Firefox 89 or Safari 16.4)",
  shared: "this runtime cannot run WebAssembly threads (shared memory) with SIMD128",
  relaxed: "this runtime does not support WebAssembly relaxed SIMD (Node >= 22, or Node 20 with --experimental-wasm-relaxed-simd)",
  "shared-relaxed": "this runtime does not support WebAssembly relaxed SIMD with threads",
};
const compiling = new Map<Build, Promise<WebAssembly.Module>>();
/** Builds whose self-check failed: final, unlike a failed compile, so never checked twice. */
const checkFailures = new Map<Build, Error>();
const modules = new Map<Build, WebAssembly.Module>();
/** Precompiled builds handed to `ready({ modules })` or by the "workerd" entry: used instead of compiling. */
const precompiled = new Map<Build, WebAssembly.Module>();

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The error for a runtime that refuses to compile WebAssembly from bytes (Cloudflare Workers,
 * pages whose Content-Security-Policy lacks 'wasm-unsafe-eval'), or undefined for other errors.
 */
function compileRefused(error: unknown, build: Build): Error | undefined {
  const message = String((error as Error)?.message ?? error);
  if (!/disallowed by embedder|not an allowed source|wasm-unsafe-eval|wasm-eval|code generation/i.test(message)) return undefined;
  return new Error(
    `quantvec: this runtime refuses to compile WebAssembly at run time (${(error as Error)?.name ?? "Error"}: ${message}), ` +
      `so the kernels cannot be built from the bytes embedded in the default entry. In Cloudflare Workers (workerd) import ` +
      `"quantvec" through its "workerd" export condition (wrangler resolves it; or import "quantvec/workerd"), which imports ` +
      `the kernels as precompiled .wasm modules. Elsewhere import "quantvec/wasm/${WASM_FILES[build]}" as a module and ` +
      `pass it: ready({ modules: { ${build === "shared-relaxed" ? '"shared-relaxed"' : build}: module } })`,
    { cause: error },
  );
}

/**
 * Compiles one build once (or takes the precompiled module given for it); a failed compile is
 * forgotten so that a later call can retry. A relaxed build must also pass its self-check
 * (src/relaxed.ts) to count as compiled.
 */
export function compile(build: Build): Promise<WebAssembly.Module> {
  const failure = checkFailures.get(build);
  if (failure !== undefined) return Promise.reject(failure);
  let pending = compiling.get(build);
  if (pending === undefined) {
    pending = (async () => {
      let module = precompiled.get(build);
      if (module === undefined) {
        if (typeof WebAssembly !== "object") throw new Error(`quantvec: ${UNSUPPORTED[build]}`);
        // Loaded on demand: runtimes given precompiled modules never parse the embedded bytes.
        const bytes = decodeBase64((await import("./generated/wasm.js"))[SOURCE_NAMES[build]]);
        if (!WebAssembly.validate(bytes)) throw new Error(`quantvec: ${UNSUPPORTED[build]}`);
        try {
          module = await WebAssembly.compile(bytes);
        } catch (error) {
          throw compileRefused(error, build) ?? error;
        }
      }
      if (build === "shared-relaxed") {
        const failed = selfChecker(module, "relaxed-simd", true)();
        if (failed !== undefined) {
          checkFailures.set(build, new Error(`quantvec: the shared relaxed-SIMD build failed its self-check (${failed})`));
          throw checkFailures.get(build);
        }
      }
      modules.set(build, module);
      return module;
    })();
    compiling.set(build, pending);
    pending.catch(() => compiling.delete(build));
  }
  return pending;
}

/** Kernels every build exports: a module without them is not a quantvec build. */
const KERNEL_NAMES = ["hamming_u1_topk", "dot_i16i8_topk", "dot_f32_topk", "HEAP_BASE"];

/**
 * Checks precompiled builds and, only when all are valid, registers them for builds not
 * compiled yet (a build already compiled is the same code and stays).
 */
export function providePrecompiled(caller: string, given: unknown): void {
  if (given === null || typeof given !== "object") {
    throw new TypeError(`${caller}: modules must be an object such as { simd: WebAssembly.Module }, got ${describe(given)}`);
  }
  const entries = Object.entries(given as Record<string, unknown>).filter(([, module]) => module !== undefined);
  for (const [build, module] of entries) {
    if (!BUILDS.includes(build as Build)) {
      throw new TypeError(`${caller}: modules.${build} is not a build; expected some of ${BUILDS.map((b) => `"${b}"`).join(", ")}`);
    }
    if (!(module instanceof WebAssembly.Module)) {
      throw new TypeError(`${caller}: modules["${build}"] must be a WebAssembly.Module (import dist/wasm/${WASM_FILES[build as Build]} as a module), got ${describe(module)}`);
    }
    const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    const missing = KERNEL_NAMES.filter((name) => !exported.has(name));
    if (missing.length > 0) {
      throw new TypeError(`${caller}: modules["${build}"] is not a quantvec kernel build (it does not export ${missing.join(", ")}); expected dist/wasm/${WASM_FILES[build as Build]}`);
    }
  }
  for (const [build, module] of entries) precompiled.set(build as Build, module as WebAssembly.Module);
}

let policy: RelaxedPolicy = "auto";
const choices = new Map<RelaxedPolicy, Promise<PathChoice>>();
let choice: PathChoice = { path: "simd128", relaxedSimd: false, reason: "not decided yet: call `await ready()`" };

/** What `ready()` decided: the kernel path new arenas use, whether relaxed SIMD works here, and why. */
export function pathChoice(): PathChoice {
  return choice;
}

export interface ReadyOptions {
  /**
   * When to use the relaxed-SIMD kernels (identical results, different speed): "auto" (the
   * default) where they pass their self-check and measure faster than SIMD128, decided in the
   * background after ready() resolves on SIMD128 (no startup cost); "always" where they pass
   * their self-check (ready() waits for it); "never" (not even tried). Sticky: later
   * calls without it keep the last policy. Indexes and buffers created before a change keep
   * the kernels they started with.
   */
  relaxedSimd?: RelaxedPolicy;
  /**
   * Precompiled builds, for runtimes that refuse to compile WebAssembly from bytes (Cloudflare
   * Workers): `simd` is `dist/wasm/quantvec.wasm` (export `quantvec/wasm/quantvec.wasm`), `relaxed`
   * `quantvec-relaxed.wasm`, `shared` and `"shared-relaxed"` the threaded ones. Builds not given
   * are compiled from the embedded bytes when first needed. The "workerd" entry passes all four.
   */
  modules?: Partial<Record<Build, WebAssembly.Module>>;
}

/** "auto"'s decision, made in the background after the first ready() under it. */
let background: Promise<PathChoice> | undefined;
let backgroundChoice: PathChoice | undefined;
/** The next macrotask, on a timer that does not keep a process alive (kernelPathDecided() does, while awaited). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 0) as unknown;
    if (typeof timer === "object" && timer !== null && typeof (timer as { unref?: unknown }).unref === "function") (timer as { unref(): void }).unref();
    else (globalThis as { Deno?: { unrefTimer?(id: unknown): void } }).Deno?.unrefTimer?.(timer);
  });
}

function startBackground(plain: WebAssembly.Module): Promise<PathChoice> {
  background ??= (async () => {
    const relaxed = await compile("relaxed").catch((error: Error) => error.message.replace(/^quantvec: /, ""));
    const decided = await chooseInBackground(plain, relaxed, nextTask).catch(
      (error: Error): PathChoice => ({ path: "simd128", relaxedSimd: false, reason: `relaxed SIMD could not be judged (${error.message}); using SIMD128` }),
    );
    backgroundChoice = decided;
    if (policy === "auto") choice = decided;
    return decided;
  })();
  return background;
}

/**
 * Compiles the WebAssembly kernels and settles which build new indexes use: under the default
 * policy "auto" it resolves on SIMD128 at once and decides about relaxed SIMD in the
 * background (self-check, then interleaved timing in short tasks; `kernelPathDecided()` waits
 * for it); "always" waits for relaxed SIMD's self-check (about 25 ms more where it validates);
 * "never" does not try it. Once per policy; later calls return at once. Everything else in
 * quantvec that touches WebAssembly works only after it has resolved.
 *
 * @param options `relaxedSimd` (the policy, sticky) and `modules` (precompiled builds, for
 *   runtimes that refuse to compile WebAssembly from bytes).
 * @returns a promise that resolves when the kernels are ready to instantiate.
 * @throws (rejects) Error when the runtime lacks WebAssembly SIMD128, or refuses to compile
 *   WebAssembly at run time and no precompiled `simd` module was given (the message names the
 *   entry to use); TypeError when options is not an object, has an unknown key, its policy is
 *   unknown, or `modules` holds something that is not a quantvec build (then none of them is taken).
 * @example
 * import { ready, kernels } from "quantvec";
 * await ready();
 * kernels.features.path; // "simd128" until the background decision switches new indexes over
 */
export async function ready(options: ReadyOptions = {}): Promise<void> {
  options = readOptions("ready", options, READY_OPTION_KEYS, 'an object such as { relaxedSimd: "auto" }');
  if (options.relaxedSimd !== undefined) {
    if (!RELAXED_POLICIES.includes(options.relaxedSimd)) {
      throw new TypeError(`ready: relaxedSimd must be "auto", "always" or "never", got ${describe(options.relaxedSimd)}`);
    }
  }
  if (options.modules !== undefined) providePrecompiled("ready", options.modules);
  if (options.relaxedSimd !== undefined) policy = options.relaxedSimd;
  // A call whose policy another call replaced meanwhile waits for the newer decision.
  for (;;) {
    const wanted = policy;
    let pending = choices.get(wanted);
    if (pending === undefined) {
      pending = (async (): Promise<PathChoice> => {
        const plain = await compile("simd");
        if (wanted === "auto") {
          void startBackground(plain);
          return { path: "simd128", relaxedSimd: false, reason: "SIMD128 while relaxed SIMD is checked and timed in the background (kernelPathDecided() waits for it)" };
        }
        const relaxed = wanted === "never" ? "" : await compile("relaxed").catch((error: Error) => error.message.replace(/^quantvec: /, ""));
        return choosePath(wanted, plain, relaxed);
      })();
      choices.set(wanted, pending);
      pending.catch(() => choices.delete(wanted));
    }
    const decided = await pending;
    if (policy === wanted) {
      choice = wanted === "auto" ? (backgroundChoice ?? decided) : decided;
      return;
    }
  }
}

/**
 * Waits until the kernel path is settled under the current policy: for "auto", until the
 * background decision about relaxed SIMD is made (up to about half a second of short tasks
 * after the first `ready()`; at once where relaxed SIMD does not validate).
 *
 * @returns what was decided: the path new indexes and buffers use, whether relaxed SIMD works
 *   here, its measured speed and why (the same as `kernels.features`).
 * @throws (rejects) what `ready()` rejects with.
 * @example
 * import { kernelPathDecided } from "quantvec";
 * const { path, reason } = await kernelPathDecided();
 */
export async function kernelPathDecided(): Promise<PathChoice> {
  await ready();
  if (policy === "auto" && background !== undefined) {
    // The background runs on unreferenced timers so that it never holds a process open by
    // itself. A caller awaiting it must: one referenced timer for as long as it waits. (Making
    // only later timers referenced raced: the one already pending stayed unreferenced, and Node
    // could exit with this await unsettled.)
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      await background;
    } finally {
      clearInterval(keepAlive);
    }
  }
  return { ...choice };
}

/** Whether `build` is compiled: code that also runs before `ready()` (quantize) asks first. */
export function isCompiled(build: Build): boolean {
  return modules.has(build);
}

/** A compiled build; throws a clear error if it has not been compiled yet. */
export function kernelModule(caller: string, build: Build = "simd"): WebAssembly.Module {
  const module = modules.get(build);
  if (module === undefined) {
    throw new Error(`${caller}: call \`await ready()\` first (the WebAssembly kernels are not compiled yet)`);
  }
  return module;
}

/** The build an arena on `path` uses, over a shared memory or not. */
export function buildFor(path: KernelPath, shared: boolean): Build {
  return path === "simd128" ? (shared ? "shared" : "simd") : shared ? "shared-relaxed" : "relaxed";
}

const alignUp = (value: number, align: number) => Math.ceil(value / align) * align;

/** A ceiling shared by several arenas (an index's shards): `used()` is the sum of their `budgetBytes`. */
export interface MemoryBudget {
  readonly limit: number;
  used(): number;
}

/** An arena's allocation state, to go back to (`Arena.rewind`). */
export interface ArenaMark {
  readonly top: number;
  readonly longLivedTop: number;
}

/** Past this, memory grows by what an allocation needs plus at most this much spare. */
const MAX_SPARE_BYTES = 32 * 1024 * 1024;

/** One kernel instance over its own growable memory, with a bump allocator. */
export class Arena {
  readonly memory: WebAssembly.Memory;
  readonly kernels: KernelExports;
  readonly maxBytes: number;
  readonly heapHeader: number;
  /** Bytes of one scan descriptor. */
  readonly descriptorBytes: number;
  /** Which kernels this arena runs; integer queries must be written in its layout (writeIntQuery). */
  readonly path: KernelPath;
  /** The build behind `kernels` (workers scanning this memory must instantiate the same one). */
  readonly build: Build;
  private top: number;
  /** End of the long-lived allocations (`alloc`): scratch regions above it come out of the headroom. */
  private longLivedTop: number;
  private buffer: ArrayBuffer | SharedArrayBuffer | undefined;
  private views!: {
    u8: Uint8Array; i8: Int8Array; i16: Int16Array; i32: Int32Array; u32: Uint32Array; f32: Float32Array;
  };
  private readonly scratch = new Map<string, { ptr: number; bytes: number }>();
  /** Bytes kept free for scratch regions when `room()` says how much long-lived data still fits. */
  headroom = 0;
  /** A ceiling over this and other arenas, checked before growing. */
  budget: MemoryBudget | undefined;

  /**
   * @param maxBytes the most this memory may grow to; a multiple of 64 KiB, at most 4 GiB.
   * @param shared a shared memory (SharedArrayBuffer) that workers can scan too; needs the
   *   shared build of `path` compiled.
   * @param path the kernels to run; by default the ones `ready()` chose.
   */
  constructor(caller: string, maxBytes: number = MAX_MEMORY_BYTES, shared = false, path: KernelPath = choice.path) {
    const maximum = Math.floor(maxBytes / PAGE_BYTES);
    this.path = path;
    this.build = buildFor(path, shared);
    const module = kernelModule(caller, this.build);
    this.memory = new WebAssembly.Memory({ initial: 1, maximum, shared } as WebAssembly.MemoryDescriptor);
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.kernels = instance.exports as unknown as KernelExports;
    this.maxBytes = maximum * PAGE_BYTES;
    this.heapHeader = this.kernels.HEAP_HEADER.value as number;
    this.descriptorBytes = this.kernels.DESC_BYTES.value as number;
    this.top = this.kernels.HEAP_BASE.value as number;
    this.longLivedTop = this.top;
  }

  /** Bytes the memory holds now (what the process pays for this arena). */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Bytes a budget counts for this arena: its memory or, when more, the end of its long-lived
   * data plus the headroom its scratch regions may still grow into (within its limit). Counting
   * the headroom before it is grown into keeps the other arenas of the budget from taking it, so
   * a shard filled early can still be searched once later shards have filled maxMemoryBytes.
   */
  get budgetBytes(): number {
    return Math.max(this.byteLength, this.reservedUpTo(this.longLivedTop));
  }

  /** Where the headroom above long-lived data ending at `longLivedTop` ends. */
  private reservedUpTo(longLivedTop: number): number {
    return Math.min(this.maxBytes, alignUp(longLivedTop, 64) + this.headroom);
  }

  /** Bytes the budget counts for the arenas other than this one. */
  private othersBytes(budget: MemoryBudget): number {
    return budget.used() - this.budgetBytes;
  }

  private refresh(): void {
    const buffer = this.memory.buffer;
    this.buffer = buffer;
    this.views = {
      u8: new Uint8Array(buffer), i8: new Int8Array(buffer), i16: new Int16Array(buffer),
      i32: new Int32Array(buffer), u32: new Uint32Array(buffer), f32: new Float32Array(buffer),
    };
  }

  get u8(): Uint8Array { if (this.buffer !== this.memory.buffer) this.refresh(); return this.views.u8; }
  get i8(): Int8Array { if (this.buffer !== this.memory.buffer) this.refresh(); return this.views.i8; }
  get i16(): Int16Array { if (this.buffer !== this.memory.buffer) this.refresh(); return this.views.i16; }
  get i32(): Int32Array { if (this.buffer !== this.memory.buffer) this.refresh(); return this.views.i32; }
  get u32(): Uint32Array { if (this.buffer !== this.memory.buffer) this.refresh(); return this.views.u32; }
  get f32(): Float32Array { if (this.buffer !== this.memory.buffer) this.refresh(); return this.views.f32; }

  /**
   * Bytes that long-lived allocations may still take: up to the limit (and, with `budget` true,
   * the budget), less the headroom.
   */
  room(budget = true): number {
    let room = this.maxBytes - alignUp(this.top, 64) - this.headroom;
    if (budget && this.budget !== undefined) {
      room = Math.min(room, this.budget.limit - this.othersBytes(this.budget) - alignUp(this.top, 64) - this.headroom);
    }
    return Math.max(0, room);
  }

  /**
   * Reserves `bytes` at an `align`-aligned address and returns it. Grows the memory if needed;
   * when it cannot, throws a RangeError and leaves the arena exactly as it was.
   */
  alloc(caller: string, bytes: number, align = 64): number {
    return this.allocate(caller, bytes, align, true);
  }

  /** alloc, for long-lived data or (`longLived` false) a scratch region that lives in the headroom. */
  private allocate(caller: string, bytes: number, align: number, longLived: boolean): number {
    const start = alignUp(this.top, align);
    const end = start + bytes;
    this.ensure(caller, end, longLived);
    this.top = end;
    if (longLived) this.longLivedTop = end;
    return start;
  }

  /** Where the next allocation starts; `rewind` to it gives back everything allocated after. */
  mark(): ArenaMark {
    return { top: this.top, longLivedTop: this.longLivedTop };
  }

  /**
   * Gives back the allocations made since `mark()` returned `mark` (a step that failed after
   * reserving). The memory keeps its size, since WebAssembly memory cannot shrink, but the space
   * is free again for the next allocation.
   */
  rewind(mark: ArenaMark): void {
    if (mark.top < this.top) {
      this.top = mark.top;
      this.longLivedTop = mark.longLivedTop;
    }
  }

  /**
   * out = a · b (row-major float32, addresses in this memory) by the matmul_f32 kernel, with the
   * scratch its packed panels of b need. That scratch may grow the memory: take typed-array views
   * of it after this call.
   */
  matmulF32(caller: string, a: number, b: number, rows: number, inner: number, cols: number, out: number): void {
    const panels = this.scratchFor(caller, "matmul panels", this.kernels.matmul_f32_panel_bytes(inner, cols));
    this.kernels.matmul_f32(a, b, rows, inner, cols, out, panels);
  }

  /** The same as matmulF32 in float64 (matmul_f64). */
  matmulF64(caller: string, a: number, b: number, rows: number, inner: number, cols: number, out: number): void {
    const panels = this.scratchFor(caller, "matmul panels", this.kernels.matmul_f64_panel_bytes(inner, cols));
    this.kernels.matmul_f64(a, b, rows, inner, cols, out, panels);
  }

  /**
   * A scratch region for temporary data, reused between calls; only valid until the next
   * `scratchFor` of the same name with a larger size.
   */
  scratchFor(caller: string, name: string, bytes: number): number {
    const region = this.scratch.get(name);
    if (region !== undefined && region.bytes >= bytes) return region.ptr;
    const size = Math.max(bytes, (region?.bytes ?? 0) * 2, 256);
    const ptr = this.allocate(caller, size, 64, false);
    this.scratch.set(name, { ptr, bytes: size });
    return ptr;
  }

  private ensure(caller: string, end: number, longLived: boolean): void {
    if (end > this.maxBytes) {
      throw new RangeError(
        `${caller}: needs ${end} bytes of WebAssembly memory, more than its limit of ${this.maxBytes} bytes ` +
          `(${this.maxBytes === MAX_MEMORY_BYTES ? "the 4 GiB memory32 ceiling" : "shardBytes"}); nothing was changed`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const needPages = Math.ceil((end - have) / PAGE_BYTES);
    const havePages = have / PAGE_BYTES;
    const maxPages = this.maxBytes / PAGE_BYTES;
    let spareLimit = maxPages - havePages;
    if (this.budget !== undefined) {
      // This arena counts as its memory after growing, or its long-lived data plus headroom if more.
      const others = this.othersBytes(this.budget);
      const after = Math.max(have + needPages * PAGE_BYTES, this.reservedUpTo(longLived ? end : this.longLivedTop));
      if (others + after > this.budget.limit) {
        throw new RangeError(
          `${caller}: needs ${others + after} bytes of WebAssembly memory, more than its limit of ` +
            `${this.budget.limit} bytes (maxMemoryBytes); nothing was changed`,
        );
      }
      spareLimit = Math.min(spareLimit, Math.floor((this.budget.limit - others) / PAGE_BYTES) - havePages);
    }
    // Grow by half again (at most MAX_SPARE_BYTES more than needed) so that many small adds do
    // not grow one page at a time, within the limit and the budget.
    const preferred = Math.min(Math.max(needPages, Math.min(Math.ceil(havePages / 2), needPages + MAX_SPARE_BYTES / PAGE_BYTES)), spareLimit);
    for (const pages of preferred > needPages ? [preferred, needPages] : [needPages]) {
      try {
        this.memory.grow(pages);
        return;
      } catch {
        // fall through: try the exact amount, then report
      }
    }
    throw new RangeError(
      `${caller}: the runtime refused to grow WebAssembly memory from ${have} to ${end} bytes ` +
        `(out of memory); nothing was changed`,
    );
  }
}
