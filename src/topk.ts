// The host side of the kernels' top-k heap (assembly/topk.ts): sizing, resetting, draining.

import type { Arena } from "./wasm.js";

/** Entries taken out of a heap, best first: higher key, then smaller id. */
export interface Candidates {
  keys: Int32Array;
  ids: Uint32Array;
  rows: Uint32Array;
}

/** Bytes a heap of `capacity` entries needs: header, then keys, ids and rows (4 bytes each). */
export function heapBytes(arena: Arena, capacity: number): number {
  return arena.heapHeader + 12 * capacity;
}

/** Empties the heap at `ptr` and sets its capacity (k). */
export function resetHeap(arena: Arena, ptr: number, capacity: number): void {
  const i32 = arena.i32;
  i32[ptr >>> 2] = 0;
  i32[(ptr >>> 2) + 1] = capacity;
}

/** Copies the heap's entries out of WASM memory, sorted best first. */
export function drainHeap(arena: Arena, ptr: number): Candidates {
  const i32 = arena.i32;
  const u32 = arena.u32;
  const size = i32[ptr >>> 2];
  const capacity = i32[(ptr >>> 2) + 1];
  const keysAt = (ptr + arena.heapHeader) >>> 2;
  const idsAt = keysAt + capacity;
  const rowsAt = idsAt + capacity;
  const order = Array.from({ length: size }, (_, i) => i);
  order.sort((a, b) => i32[keysAt + b] - i32[keysAt + a] || u32[idsAt + a] - u32[idsAt + b]);
  const out: Candidates = { keys: new Int32Array(size), ids: new Uint32Array(size), rows: new Uint32Array(size) };
  order.forEach((entry, i) => {
    out.keys[i] = i32[keysAt + entry];
    out.ids[i] = u32[idsAt + entry];
    out.rows[i] = u32[rowsAt + entry];
  });
  return out;
}

const keyBits = new Int32Array(1);
const keyFloat = new Float32Array(keyBits.buffer);

/** Inverse of assembly's orderedKeyF32: the f32 score behind a heap key. */
export function keyToF32(key: number): number {
  keyBits[0] = key < 0 ? key ^ 0x7fffffff : key;
  return keyFloat[0];
}
