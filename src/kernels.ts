// Low-level access to the scan kernels over the caller's own typed arrays, for benchmarks and
// for users who manage their own storage. Plain typed arrays are copied into WebAssembly memory
// for each call; a `KernelBuffer` (from `kernels.alloc`) lives there already and is scanned in place.

import { describe } from "./errors.js";
import { drainHeap, heapBytes, keyToF32, resetHeap } from "./topk.js";
import { intQueryBytes, type KernelPath, writeIntQuery } from "./relaxed.js";
import { Arena, pathChoice } from "./wasm.js";

type Codes = Uint8Array | Int8Array | Float32Array;

interface KernelSpec<Q extends Int16Array | Codes, C extends Codes, V extends Int32Array | Float32Array> {
  query: new (length: number) => Q;
  codes: new (length: number) => C;
  values: new (length: number) => V;
  /** The kernel's value behind a heap key (keys are higher-is-better). */
  value: (key: number) => number;
}

const SPECS = {
  hamming_u1: { query: Uint8Array, codes: Uint8Array, values: Int32Array, value: (key: number) => -key },
  dot_i8: { query: Int8Array, codes: Int8Array, values: Int32Array, value: (key: number) => key },
  dot_i16i8: { query: Int16Array, codes: Int8Array, values: Int32Array, value: (key: number) => key },
  dot_f32: { query: Float32Array, codes: Float32Array, values: Float32Array, value: keyToF32 },
} satisfies Record<string, KernelSpec<Int16Array | Codes, Codes, Int32Array | Float32Array>>;

export type KernelName = keyof typeof SPECS;
interface KernelTypes {
  hamming_u1: { query: Uint8Array; codes: Uint8Array; values: Int32Array };
  dot_i8: { query: Int8Array; codes: Int8Array; values: Int32Array };
  dot_i16i8: { query: Int16Array; codes: Int8Array; values: Int32Array };
  dot_f32: { query: Float32Array; codes: Float32Array; values: Float32Array };
}
type QueryOf<K extends KernelName> = KernelTypes[K]["query"];
type CodesOf<K extends KernelName> = KernelTypes[K]["codes"];
type ValuesOf<K extends KernelName> = KernelTypes[K]["values"];

/** Best rows first: `rows` index the codes, `ids` are the caller's ids (the rows when none given). */
export interface TopK<V extends Int32Array | Float32Array> {
  rows: Uint32Array;
  ids: Uint32Array;
  /** hamming_u1: distances, ascending; dot kernels: dot products, descending. */
  values: V;
}

/** Codes stored in WebAssembly memory, scanned without copying. Its own memory; free with dispose(). */
export class KernelBuffer<T extends Codes> {
  /** @internal */
  arena: Arena | undefined;
  /** @internal */
  readonly ptr: number;

  /** @internal `path`: the kernels that scan it (the benchmark compares both). */
  constructor(
    private readonly type: new (buffer: ArrayBuffer, offset: number, length: number) => T,
    readonly length: number,
    path: KernelPath = pathChoice().path,
  ) {
    const bytes = length * (type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    this.arena = new Arena("kernels.alloc", undefined, false, path);
    this.ptr = this.arena.alloc("kernels.alloc", bytes);
  }

  /** A view of the codes; take a new one after any kernel call (memory may have grown). */
  get array(): T {
    if (this.arena === undefined) throw new TypeError("KernelBuffer.array: this buffer was disposed");
    return new this.type(this.arena.memory.buffer as ArrayBuffer, this.ptr, this.length);
  }

  dispose(): void {
    this.arena = undefined;
  }
}

const BUFFER_TYPES = { uint8: Uint8Array, int8: Int8Array, float32: Float32Array } as const;
interface BufferTypes {
  uint8: Uint8Array;
  int8: Int8Array;
  float32: Float32Array;
}

let scratchArena: Arena | undefined;

/** Copies `codes` (unless already in a KernelBuffer) and `query` into memory and returns the pointers. */
function stage<K extends KernelName>(
  caller: string, name: K, query: QueryOf<K>, codes: CodesOf<K> | KernelBuffer<CodesOf<K>>,
): { arena: Arena; q: number; base: number; dims: number; count: number } {
  const spec = SPECS[name];
  if (!(query instanceof spec.query)) {
    throw new TypeError(`${caller}: query is ${describe(query)}; expected a ${spec.query.name}`);
  }
  const isBuffer = codes instanceof KernelBuffer;
  const length = isBuffer ? codes.length : (codes as Codes).length;
  if (!isBuffer && !(codes instanceof spec.codes)) {
    throw new TypeError(`${caller}: codes is ${describe(codes)}; expected a ${spec.codes.name} or a KernelBuffer of one`);
  }
  const dims = query.length;
  if (dims === 0) throw new RangeError(`${caller}: query is empty; it must hold at least one element`);
  if (length % dims !== 0) {
    throw new RangeError(`${caller}: codes has ${length} elements, not a multiple of the query's ${dims}`);
  }
  let arena: Arena;
  let base: number;
  if (isBuffer) {
    if (codes.arena === undefined) throw new TypeError(`${caller}: codes is a disposed KernelBuffer`);
    arena = codes.arena;
    base = codes.ptr;
  } else {
    if (scratchArena?.path !== pathChoice().path) scratchArena = new Arena(caller);
    arena = scratchArena;
    base = arena.scratchFor(caller, "codes", (codes as Codes).byteLength);
    arena.u8.set(new Uint8Array((codes as Codes).buffer, (codes as Codes).byteOffset, (codes as Codes).byteLength), base);
  }
  const integer = query instanceof Int8Array || query instanceof Int16Array;
  const q = arena.scratchFor(caller, "query", integer ? intQueryBytes(arena.path, dims, query instanceof Int16Array) : query.byteLength);
  if (integer) writeIntQuery(arena.u8, q, query, arena.path);
  else arena.u8.set(new Uint8Array(query.buffer, query.byteOffset, query.byteLength), q);
  return { arena, q, base, dims, count: length / dims };
}

function scores<K extends KernelName>(name: K) {
  return (query: QueryOf<K>, codes: CodesOf<K> | KernelBuffer<CodesOf<K>>): ValuesOf<K> => {
    const caller = `kernels.${name}`;
    const { arena, q, base, dims, count } = stage(caller, name, query, codes);
    const out = arena.scratchFor(caller, "out", count * 4);
    arena.kernels[name](q, base, dims, count, out);
    const Values = SPECS[name].values;
    return new Values(arena.memory.buffer.slice(out, out + count * 4)) as ValuesOf<K>;
  };
}

function topk<K extends KernelName>(name: K) {
  return (
    query: QueryOf<K>, codes: CodesOf<K> | KernelBuffer<CodesOf<K>>, k: number, ids?: Uint32Array,
  ): TopK<ValuesOf<K>> => {
    const caller = `kernels.${name}_topk`;
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`${caller}: k must be a positive integer, got ${describe(k)}`);
    const { arena, q, base, dims, count } = stage(caller, name, query, codes);
    if (ids !== undefined && (!(ids instanceof Uint32Array) || ids.length !== count)) {
      throw new RangeError(`${caller}: ids is ${describe(ids)}; expected a Uint32Array of ${count} (one per row)`);
    }
    const capacity = Math.max(1, Math.min(k, count));
    const heap = arena.scratchFor(caller, "heap", heapBytes(arena, capacity));
    let idsPtr = 0;
    if (ids !== undefined) {
      idsPtr = arena.scratchFor(caller, "ids", ids.byteLength);
      arena.u32.set(ids, idsPtr >>> 2);
    }
    resetHeap(arena, heap, capacity);
    arena.kernels[`${name}_topk`](q, base, dims, count, idsPtr, 0, heap);
    const best = drainHeap(arena, heap);
    const Values = SPECS[name].values;
    const values = new Values(best.keys.length) as ValuesOf<K>;
    best.keys.forEach((key, i) => (values[i] = SPECS[name].value(key)));
    return { rows: best.rows, ids: best.ids, values };
  };
}

/**
 * The raw scans: one query against every row of `codes` (rows of `query.length` elements).
 * Call `await ready()` first.
 *
 * @example
 * await ready();
 * const distances = kernels.hamming_u1(queryBits, codeBits);     // Int32Array, one per row
 * const best = kernels.dot_f32_topk(query, vectors, 10);         // { rows, ids, values }
 * const buf = kernels.alloc("uint8", codeBits.length);           // scan in place, no copies
 * buf.array.set(codeBits);
 * kernels.hamming_u1_topk(queryBits, buf, 10);
 * buf.dispose();
 */
export const kernels = {
  /** Hamming distances between bit-packed codes (bytes = query.length). */
  hamming_u1: scores("hamming_u1"),
  /** int8 · int8 dot products. */
  dot_i8: scores("dot_i8"),
  /** int16 query · int8 codes (asymmetric scoring). */
  dot_i16i8: scores("dot_i16i8"),
  /** float32 dot products. */
  dot_f32: scores("dot_f32"),
  /** The k nearest codes by Hamming distance, ties by smaller id. */
  hamming_u1_topk: topk("hamming_u1"),
  /** The k largest int8 dot products, ties by smaller id. */
  dot_i8_topk: topk("dot_i8"),
  /** The k largest int16 × int8 dot products, ties by smaller id. */
  dot_i16i8_topk: topk("dot_i16i8"),
  /** The k largest float32 dot products, ties by smaller id. */
  dot_f32_topk: topk("dot_f32"),
  /** Allocates `length` elements in WebAssembly memory, scanned in place by the functions above. */
  alloc<T extends keyof typeof BUFFER_TYPES>(type: T, length: number): KernelBuffer<BufferTypes[T]> {
    const Type = BUFFER_TYPES[type];
    if (Type === undefined) throw new TypeError(`kernels.alloc: type must be "uint8" | "int8" | "float32", got ${describe(type)}`);
    if (!Number.isInteger(length) || length < 0) {
      throw new RangeError(`kernels.alloc: length must be a non-negative integer, got ${describe(length)}`);
    }
    return new KernelBuffer(Type as never, length);
  },
  /** What this runtime can run and which kernels new indexes and buffers use (as decided by `ready()`, and under "auto" by its background decision). */
  features: {
    simd128: true as const,
    /** Whether the relaxed-SIMD kernels validate here and pass their self-check (false when not tried: policy "never", or "auto" before its background decision). */
    get relaxedSimd(): boolean {
      return pathChoice().relaxedSimd;
    },
    /** The kernels in use: "relaxed-simd" only where they are exact and, under "auto", measured faster. */
    get path(): KernelPath {
      return pathChoice().path;
    },
    /** Relaxed over SIMD128 speed on an in-cache int8 scan, where it was measured ("auto": best rates of the last window of timing pairs; "always": median of its short rounds). */
    get relaxedSpeedup(): number | undefined {
      return pathChoice().speedup;
    },
    /** One line on why this path. */
    get pathReason(): string {
      return pathChoice().reason;
    },
    /** Whether `Index.create({ threads })` can share memory with workers here. */
    sharedMemory: typeof SharedArrayBuffer !== "undefined",
  },
};
