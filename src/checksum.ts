// The file format's checksum: xxh64 computed by the WebAssembly kernel (assembly/checksum.ts).
//
// The kernel keeps its state in a 96-byte record in memory. A Checksum keeps that record in JS
// and copies it into its arena around each kernel call, so any number of Checksums can share one
// arena (and its one scratch region) without the bump allocator ever growing per hash. Chunks
// from JS are copied into the arena in 256 KiB pieces (cache-sized; never one big copy); bytes
// already in the arena are hashed where they are (updateAt).

import { describe } from "./errors.js";
import { Arena, PAGE_BYTES } from "./wasm.js";

const STATE_BYTES = 96;
/** Bytes copied into the arena per kernel call: small enough to stay in L2 between copy and hash. */
const PIECE_BYTES = 256 * 1024;
const MAX_SEED = (1n << 64n) - 1n;

let ownArena: Arena | undefined;
/** A small arena of the checksum's own (about 0.4 MiB), created on first use. */
function checksumArena(): Arena {
  ownArena ??= new Arena("Checksum", 8 * PAGE_BYTES);
  return ownArena;
}

export interface ChecksumOptions {
  /** The xxh64 seed, an unsigned 64-bit integer; 0n by default (the file format uses 0n). */
  seed?: bigint;
  /**
   * The arena whose kernel instance computes the hash; by default a small one of the
   * checksum's own. Pass an arena to hash bytes that already live in its memory (updateAt).
   */
  arena?: Arena;
}

/**
 * An incremental xxh64 (the 64-bit xxHash) computed in WebAssembly: feed a stream chunk by chunk
 * and read the digest at any point; the result equals the one-shot hash of the concatenation.
 *
 * @example
 * import { ready } from "quantvec";
 * import { Checksum } from "quantvec/dist/checksum.js";
 * await ready();
 * const hash = new Checksum();
 * hash.update(new TextEncoder().encode("ab")).update(new TextEncoder().encode("c"));
 * hash.digest(); // 0x44bc2cf5ad770999n, xxh64("abc")
 */
export class Checksum {
  /** The arena whose kernels run this checksum. */
  readonly arena: Arena;
  private readonly state = new Uint8Array(STATE_BYTES);
  private readonly seed: bigint;
  private hashed = 0;

  /**
   * @param options seed and arena (both optional).
   * @throws TypeError when options is not an object or the seed is not a bigint; RangeError when
   *   the seed is outside 0…2^64−1; Error when `ready()` has not resolved yet.
   */
  constructor(options: ChecksumOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new TypeError(`Checksum: options must be an object such as { seed: 0n }, got ${describe(options)}`);
    }
    const seed = options.seed ?? 0n;
    if (typeof seed !== "bigint") throw new TypeError(`Checksum: seed must be a bigint from 0n to 2n ** 64n - 1n, got ${describe(seed)}`);
    if (seed < 0n || seed > MAX_SEED) throw new RangeError(`Checksum: seed must be from 0n to 2n ** 64n - 1n, got ${seed}n`);
    if (options.arena !== undefined && !(options.arena instanceof Arena)) {
      throw new TypeError(`Checksum: arena must be an Arena, got ${describe(options.arena)}`);
    }
    this.arena = options.arena ?? checksumArena();
    this.seed = seed;
    this.reset();
  }

  /** Bytes hashed since construction or the last reset. */
  get byteLength(): number {
    return this.hashed;
  }

  /**
   * Starts over with the same seed.
   *
   * @returns this checksum.
   * @example
   * hash.reset().update(bytes).digest();
   */
  reset(): this {
    const ptr = this.scratch(0);
    this.arena.kernels.xxh64_reset(ptr, this.seed);
    this.state.set(this.arena.u8.subarray(ptr, ptr + STATE_BYTES));
    this.hashed = 0;
    return this;
  }

  /**
   * Hashes the next chunk of the stream (any length, 0 included).
   *
   * @param chunk the bytes that follow everything hashed so far.
   * @returns this checksum, so calls can be chained.
   * @throws TypeError when chunk is not a Uint8Array.
   * @example
   * for await (const chunk of stream) hash.update(chunk);
   */
  update(chunk: Uint8Array): this {
    if (!(chunk instanceof Uint8Array)) throw new TypeError(`Checksum.update: chunk must be a Uint8Array, got ${describe(chunk)}`);
    const length = chunk.length;
    if (length === 0) return this;
    const ptr = this.scratch(Math.min(length, PIECE_BYTES));
    const memory = this.arena.u8;
    memory.set(this.state, ptr);
    const data = ptr + STATE_BYTES;
    for (let at = 0; at < length; at += PIECE_BYTES) {
      const piece = chunk.subarray(at, Math.min(at + PIECE_BYTES, length));
      memory.set(piece, data);
      this.arena.kernels.xxh64_update(ptr, data, piece.length);
    }
    this.state.set(memory.subarray(ptr, ptr + STATE_BYTES));
    this.hashed += length;
    return this;
  }

  /**
   * Hashes bytes that already live in this checksum's arena, without copying them.
   *
   * @param ptr their address in `this.arena`'s memory.
   * @param bytes how many.
   * @returns this checksum.
   * @throws RangeError when [ptr, ptr + bytes) is not inside the arena's memory.
   * @example
   * const hash = new Checksum({ arena });
   * hash.updateAt(codesPtr, codesBytes).digest();
   */
  updateAt(ptr: number, bytes: number): this {
    const size = this.arena.byteLength;
    if (!Number.isSafeInteger(ptr) || !Number.isSafeInteger(bytes) || ptr < 0 || bytes < 0 || ptr + bytes > size) {
      throw new RangeError(`Checksum.updateAt: bytes ${describe(ptr)}…+${describe(bytes)} must lie inside the arena's ${size} bytes`);
    }
    if (bytes === 0) return this;
    const state = this.scratch(0);
    this.arena.u8.set(this.state, state);
    // The kernel takes an i32 length; hash in pieces below 2^31.
    for (let at = 0; at < bytes; at += 1 << 30) this.arena.kernels.xxh64_update(state, ptr + at, Math.min(1 << 30, bytes - at));
    this.state.set(this.arena.u8.subarray(state, state + STATE_BYTES));
    this.hashed += bytes;
    return this;
  }

  /**
   * The xxh64 of everything hashed so far; the checksum can keep going afterwards.
   *
   * @returns the 64-bit hash as an unsigned bigint.
   * @example
   * new Checksum().digest(); // 0xef46db3751d8e999n, xxh64 of nothing
   */
  digest(): bigint {
    const ptr = this.scratch(0);
    this.arena.u8.set(this.state, ptr);
    return BigInt.asUintN(64, this.arena.kernels.xxh64_digest(ptr));
  }

  /** The arena's checksum scratch region: the state, then room for `dataBytes`. */
  private scratch(dataBytes: number): number {
    return this.arena.scratchFor("Checksum", "xxh64", STATE_BYTES + Math.max(dataBytes, PIECE_BYTES));
  }
}

/**
 * The xxh64 of `bytes`, one shot.
 *
 * @param bytes what to hash.
 * @param seed an unsigned 64-bit seed (0n by default).
 * @returns the hash as an unsigned bigint.
 * @throws TypeError when bytes is not a Uint8Array; Error when `ready()` has not resolved yet.
 * @example
 * await ready();
 * xxh64(new TextEncoder().encode("abc")); // 0x44bc2cf5ad770999n
 */
export function xxh64(bytes: Uint8Array, seed = 0n): bigint {
  return new Checksum({ seed }).update(bytes).digest();
}
