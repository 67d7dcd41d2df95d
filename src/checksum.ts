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
/** Most block digests per kernel call of xxh64Blocks. */
const MAX_BLOCKS_PER_CALL = 4096;

/**
 * The arena's checksum scratch region, shared by every Checksum and xxh64Blocks on it: the
 * kernel state, room for MAX_BLOCKS_PER_CALL digests, then the data (at least PIECE_BYTES).
 */
function scratch(arena: Arena, dataBytes: number): { state: number; digests: number; data: number } {
  const state = arena.scratchFor("Checksum", "xxh64", STATE_BYTES + 8 * MAX_BLOCKS_PER_CALL + Math.max(dataBytes, PIECE_BYTES));
  return { state, digests: state + STATE_BYTES, data: state + STATE_BYTES + 8 * MAX_BLOCKS_PER_CALL };
}
const MAX_SEED = (1n << 64n) - 1n;

let ownArena: Arena | undefined;
/** An arena of the checksum's own, created on first use: about 0.4 MiB, up to 64 MiB for 16 MiB blocks. */
function checksumArena(): Arena {
  ownArena ??= new Arena("Checksum", 1024 * PAGE_BYTES);
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
    const ptr = scratch(this.arena, 0).state;
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
    const { state: ptr, data } = scratch(this.arena, 0);
    const memory = this.arena.u8;
    memory.set(this.state, ptr);
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
    const state = scratch(this.arena, 0).state;
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
    const ptr = scratch(this.arena, 0).state;
    this.arena.u8.set(this.state, ptr);
    return BigInt.asUintN(64, this.arena.kernels.xxh64_digest(ptr));
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

/**
 * The xxh64 of each `blockBytes`-byte block of `bytes` (the last block may be shorter), one kernel
 * call per 256 KiB piece: how the file format checksums blocked sections.
 *
 * @param bytes the blocks, back to back.
 * @param blockBytes the block size, an integer > 0.
 * @param options seed (0n by default) and the arena that computes it (a small one of its own by default).
 * @returns one digest per block.
 * @throws TypeError when bytes is not a Uint8Array; RangeError when blockBytes is not an integer > 0.
 * @example
 * await ready();
 * xxh64Blocks(new Uint8Array(10_000), 4096).length; // 3
 */
export function xxh64Blocks(bytes: Uint8Array, blockBytes: number, options: ChecksumOptions = {}): BigUint64Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`xxh64Blocks: bytes must be a Uint8Array, got ${describe(bytes)}`);
  if (!Number.isInteger(blockBytes) || blockBytes <= 0 || blockBytes > 2 ** 30) {
    throw new RangeError(`xxh64Blocks: blockBytes must be an integer from 1 to 2^30, got ${describe(blockBytes)}`);
  }
  const seed = options.seed ?? 0n;
  if (typeof seed !== "bigint" || seed < 0n || seed > MAX_SEED) throw new RangeError(`xxh64Blocks: seed must be a bigint from 0n to 2n ** 64n - 1n, got ${describe(seed)}`);
  const arena = options.arena ?? checksumArena();
  const out = new BigUint64Array(Math.ceil(bytes.length / blockBytes));
  const perPiece = Math.min(MAX_BLOCKS_PER_CALL, Math.max(1, Math.floor(PIECE_BYTES / blockBytes)));
  const pieceBytes = perPiece * blockBytes;
  const { state, digests, data } = scratch(arena, pieceBytes);
  for (let at = 0, block = 0; at < bytes.length; at += pieceBytes, block += perPiece) {
    const piece = bytes.subarray(at, Math.min(at + pieceBytes, bytes.length));
    arena.u8.set(piece, data);
    arena.kernels.xxh64_blocks(state, data, piece.length, blockBytes, seed, digests);
    const count = Math.ceil(piece.length / blockBytes);
    out.set(new BigUint64Array(arena.memory.buffer, digests, count), block);
  }
  return out;
}
