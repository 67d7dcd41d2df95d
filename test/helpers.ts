// Test utilities: a seeded generator and row helpers. Scalar references live in src/reference.ts.

import { HEADER_BYTES } from "../src/file/container.js";
import type { Index, IndexOptions } from "../src/index.js";

/** Every scan precision with every rescoring it allows. */
export const SEARCH_CONFIGS: Array<Required<Pick<IndexOptions, "precision" | "rescore">>> = [
  { precision: "float32", rescore: "none" },
  { precision: "int8", rescore: "none" },
  { precision: "int8", rescore: "float32" },
  { precision: "binary", rescore: "none" },
  { precision: "binary", rescore: "int8" },
  { precision: "binary", rescore: "float32" },
];

/** mulberry32: a small seeded PRNG, so every failing case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integers in [lo, hi]. */
export function randomInts(random: () => number, length: number, lo: number, hi: number): number[] {
  return Array.from({ length }, () => lo + Math.floor(random() * (hi - lo + 1)));
}

/** Standard normal values (Box–Muller), as float32. */
export function randomNormal(random: () => number, length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const u = 1 - random();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return out;
}

/** Rows of a flat matrix as arrays. */
export function rowsOf(data: ArrayLike<number>, cols: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < data.length; i += cols) rows.push(Array.from({ length: cols }, (_, c) => data[i + c]));
  return rows;
}

/** Every byte `index.save` writes to a WritableStream, joined. */
export async function saveToBytes(index: Index): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await index.save(new WritableStream({ write: (chunk) => void chunks.push(chunk) }));
  return new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer());
}

/** The part of a container that byte `position` belongs to, as FileFormatError names it (padding belongs to what follows it). */
export function partAt(position: number, file: { sections: ReadonlyArray<{ tag: string; offset: number; byteLength: number }> }): RegExp {
  if (position < HEADER_BYTES + 64 * file.sections.length) return /^(header|section table)/;
  let previousEnd = HEADER_BYTES + 64 * file.sections.length;
  for (const s of file.sections) {
    if (position >= previousEnd && position < s.offset + s.byteLength) return new RegExp(`^section "${s.tag}"`);
    previousEnd = s.offset + s.byteLength;
  }
  return /^checksum table/;
}
