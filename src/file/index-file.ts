// What an Index is on disk: the index layer's sections inside a container (src/file/container.ts;
// docs/FORMAT.md, "Index sections", is the specification).
//
//   META        JSON: the options, the id counter and each shard's row counts
//   ROTN        the rotation matrix, when the index has one
//   Innn Lnnn Snnn    per shard nnn: ids, live bitmap, first-stage (scan) codes
//   Rnnn        per shard: rescoring codes, last in the file, in 4 KiB checksum blocks
//
// Columns stream out of the shards' WebAssembly memory as views (no copy of the index is made)
// and are read back straight into them. This file knows the layout and its checks; the Index
// (src/vector-index.ts) decides what goes where in memory.

import { rowBytesOf } from "../codec.js";
import { checkChoice, describe } from "../errors.js";
import { type ContainerReader, FileFormatError, type SectionInfo, type SectionInput } from "./container.js";

/** `META.format`: what kind of quantvec file this is. */
export const INDEX_FORMAT = "quantvec-index";
/**
 * `META.version`: the index layout's version inside container format 1. A reader refuses a larger
 * one (a newer quantvec wrote it); additions an older reader may skip go in non-critical sections.
 */
export const INDEX_VERSION = 1;
/**
 * Checksum block of the rescoring sections. Rescoring reads a few hundred scattered rows per query;
 * with rows read from disk each read must be verified, and a block is read and hashed whole.
 * 4 KiB is the page (and SSD sector group) size and at most one int8 row of 4096 dims: a row of
 * 1 KiB costs 4–8 KiB of reading and hashing, where 64 KiB blocks would cost 64–128 KiB (16× the
 * I/O and hashing per candidate; bench/disk-rows.mjs measures it). The price is the checksum
 * table: 8 bytes per 4 KiB (0.2% of the column), held in memory while the file is open.
 */
export const RESCORE_BLOCK_BYTES = 4096;
/** The largest META section a reader accepts (ranges of 65,536 dimensions take about 3 MB). */
const MAX_META_BYTES = 64 * 1024 * 1024;
/** Shard sections are numbered with three digits; the container allows 1,024 sections (2 + 4 per shard). */
export const MAX_SAVED_SHARDS = 255;

export const META_TAG = "META";
export const ROTATION_TAG = "ROTN";

/** A shard's sections: its ids, live bitmap, first-stage codes and rescoring codes. */
export type ShardSection = "ids" | "live" | "scan" | "rescore";
const LETTER: Record<ShardSection, string> = { ids: "I", live: "L", scan: "S", rescore: "R" };

/**
 * The tag of shard `shard`'s section: its letter and the shard's number in three digits.
 *
 * @example
 * shardTag("rescore", 7); // "R007"
 */
export function shardTag(section: ShardSection, shard: number): string {
  return `${LETTER[section]}${String(shard).padStart(3, "0")}`;
}

type Scan = "binary" | "int8" | "float32";
type Rescore = "int8" | "float32" | "none";

/** The META section: everything about the index that is not a column. */
export interface IndexMeta {
  format: typeof INDEX_FORMAT;
  version: number;
  dims: number;
  /** Dimensions kept after rotation and truncation (the `truncateTo` the index was created with, or all). */
  storedDims: number;
  precision: Scan;
  rescore: Rescore;
  normalize: boolean;
  /** The rotation's method and sizes; its matrix is the ROTN section. */
  rotation?: { method: "pca" | "itq"; inputDims: number; outputDims: number };
  /** int8 ranges over the stored dimensions (float32 values, exact in JSON). */
  ranges?: { min: number[]; max: number[] };
  /** Absent: no ceiling. */
  maxMemoryBytes?: number;
  shardBytes: number;
  /** Where default ids continue: one past the largest id ever stored. */
  nextId: number;
  /** Per shard, in order: rows stored (live or removed) and how many of them are live. */
  shards: Array<{ rows: number; live: number }>;
}

/** Bytes per row of each column the index keeps (0 for a column it does not keep). */
export interface RowWidths {
  scan: number;
  rescore: number;
}

/**
 * The bytes of one row in the first-stage and rescoring columns.
 *
 * @example
 * rowWidths({ precision: "binary", rescore: "int8", storedDims: 1024 }); // { scan: 128, rescore: 1024 }
 */
export function rowWidths(meta: Pick<IndexMeta, "precision" | "rescore" | "storedDims">): RowWidths {
  return { scan: rowBytesOf(meta.precision, meta.storedDims), rescore: rowBytesOf(meta.rescore, meta.storedDims) };
}

/** One shard as it is saved: its rows' columns as byte ranges of its memory, read when written. */
export interface SavedShard {
  rows: number;
  /** The live bitmap, copied when the save was called. */
  live: Uint8Array;
  /** The column's bytes, in order: views of the shard's memory taken when asked for, or rows read from disk. */
  column(section: "ids" | "scan" | "rescore"): Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

/**
 * The sections of an index file, in file order: META, ROTN, each shard's ids, live bitmap and
 * scan codes, then every shard's rescoring codes (so that a reader that leaves those on disk
 * reads one contiguous prefix of the file).
 *
 * @example
 * await writeContainer(path, indexSections(meta, rotation?.matrix, shards));
 */
export function indexSections(meta: IndexMeta, rotation: Float32Array | undefined, shards: readonly SavedShard[]): SectionInput[] {
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const sections: SectionInput[] = [{ tag: META_TAG, byteLength: json.length, chunks: [json], critical: true }];
  if (rotation !== undefined) {
    sections.push({ tag: ROTATION_TAG, byteLength: rotation.byteLength, chunks: [float32Bytes(rotation)], critical: true });
  }
  const widths = rowWidths(meta);
  shards.forEach((shard, s) => {
    sections.push(
      { tag: shardTag("ids", s), byteLength: 4 * shard.rows, chunks: shard.column("ids"), critical: true },
      { tag: shardTag("live", s), byteLength: shard.live.length, chunks: [shard.live], critical: true },
      { tag: shardTag("scan", s), byteLength: widths.scan * shard.rows, chunks: shard.column("scan"), critical: true },
    );
  });
  if (widths.rescore > 0) {
    shards.forEach((shard, s) => {
      sections.push({
        tag: shardTag("rescore", s), byteLength: widths.rescore * shard.rows, chunks: shard.column("rescore"),
        critical: true, blockBytes: RESCORE_BLOCK_BYTES,
      });
    });
  }
  return sections;
}

/** What a reader learns from META and ROTN before it allocates anything for the columns. */
export interface IndexPlan {
  meta: IndexMeta;
  rotation: Float32Array | undefined;
  /** Each shard's sections, present and of the exact length META implies. */
  shards: Array<Partial<Record<ShardSection, SectionInfo>>>;
}

/**
 * Reads META (and ROTN), checks every field, then checks that the file has exactly the sections
 * they imply, each of the exact length, and no unknown critical one: after this, every size to
 * allocate is known to match the file.
 *
 * @param file an opened container.
 * @param caller the entry point errors name.
 * @returns the parsed META, the rotation matrix and the sections of each shard.
 * @throws (rejects) FileFormatError naming the file and the section.
 * @example
 * const plan = await readIndexPlan(await openContainer(path), "Index.load");
 * plan.shards[0].rescore?.tag; // "R000"
 */
export async function readIndexPlan(file: ContainerReader, caller: string): Promise<IndexPlan> {
  const fail = (part: string, problem: string): never => {
    throw new FileFormatError(caller, file.name, part, problem);
  };
  const metaInfo = file.section(META_TAG) ?? fail(`section "${META_TAG}"`, "missing: not a quantvec index file (a container without index metadata)");
  if (metaInfo.byteLength > MAX_META_BYTES) fail(`section "${META_TAG}"`, `${metaInfo.byteLength} bytes, more than the ${MAX_META_BYTES} an index's metadata can take`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(await file.read(META_TAG)));
  } catch (error) {
    if (error instanceof FileFormatError) throw error;
    fail(`section "${META_TAG}"`, `not valid UTF-8 JSON (${(error as Error).message})`);
  }
  const meta = checkMeta(parsed, (problem) => fail(`section "${META_TAG}"`, problem));
  let rotation: Float32Array | undefined;
  const expected: string[] = [META_TAG];
  if (meta.rotation !== undefined) {
    const { inputDims, outputDims } = meta.rotation;
    rotation = float32Of(await readExact(file, ROTATION_TAG, 4 * inputDims * outputDims, fail));
    expected.push(ROTATION_TAG);
  }
  const widths = rowWidths(meta);
  const shards = meta.shards.map(({ rows }, s) => {
    const lengths: Record<ShardSection, number> = { ids: 4 * rows, live: Math.ceil(rows / 8), scan: widths.scan * rows, rescore: widths.rescore * rows };
    const found: Partial<Record<ShardSection, SectionInfo>> = {};
    for (const section of ["ids", "live", "scan", "rescore"] as const) {
      if (section === "rescore" && widths.rescore === 0) continue;
      const tag = shardTag(section, s);
      found[section] = sectionOf(file, tag, lengths[section], fail);
      expected.push(tag);
    }
    return found;
  });
  file.checkCritical(expected);
  return { meta, rotation, shards };
}

/** The section `tag`, which must exist with exactly `length` bytes. */
function sectionOf(file: ContainerReader, tag: string, length: number, fail: (part: string, problem: string) => never): SectionInfo {
  const info = file.section(tag) ?? fail(`section ${JSON.stringify(tag)}`, `missing (the index metadata needs it)`);
  if (info.byteLength !== length) fail(`section ${JSON.stringify(tag)}`, `${info.byteLength} bytes, but the index metadata implies ${length}`);
  return info;
}

async function readExact(file: ContainerReader, tag: string, length: number, fail: (part: string, problem: string) => never): Promise<Uint8Array> {
  sectionOf(file, tag, length, fail);
  return file.read(tag);
}

/**
 * Reads the live bitmap of a shard and checks it: trailing bits past the last row are zero and
 * exactly `live` bits are set.
 *
 * @returns the bitmap (bit r, LSB first, set while row r is live).
 * @throws (rejects) FileFormatError when it is corrupt or disagrees with META.
 * @example
 * const live = await readLiveBitmap(file, "Index.load", "L000", meta.shards[0].rows, meta.shards[0].live);
 */
export async function readLiveBitmap(file: ContainerReader, caller: string, tag: string, rows: number, live: number): Promise<Uint8Array> {
  const bitmap = await file.read(tag);
  let count = 0;
  for (const byte of bitmap) for (let b = byte; b !== 0; b &= b - 1) count++;
  const tail = rows % 8 === 0 ? 0 : bitmap[bitmap.length - 1] >> (rows % 8);
  if (tail !== 0 || count !== live) {
    throw new FileFormatError(caller, file.name, `section ${JSON.stringify(tag)}`, `the live bitmap marks ${count} live rows${tail !== 0 ? " (some past the last row)" : ""}; the index metadata says ${live} of ${rows}`);
  }
  return bitmap;
}

/** Validates parsed META field by field; `fail` throws with the problem. */
function checkMeta(value: unknown, fail: (problem: string) => never): IndexMeta {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`expected a JSON object, got ${describe(value)}`);
  const o = value as Record<string, unknown>;
  if (o.format !== INDEX_FORMAT) fail(`format is ${describe(o.format)}, expected ${JSON.stringify(INDEX_FORMAT)}: not a quantvec index file`);
  const integer = (name: string, v: unknown, min: number, max: number): number => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(`${name} must be an integer from ${min} to ${max}, got ${describe(v)}`);
    return v as number;
  };
  const version = integer("version", o.version, 1, Number.MAX_SAFE_INTEGER);
  if (version > INDEX_VERSION) fail(`index layout version ${version} is newer than this reader's ${INDEX_VERSION}: upgrade quantvec to read it`);
  const choice = <T extends string>(name: string, v: unknown, allowed: readonly T[]): T => {
    try {
      return checkChoice("", name, v, allowed);
    } catch (error) {
      return fail((error as Error).message.replace(/^: /, ""));
    }
  };
  const dims = integer("dims", o.dims, 1, 65536);
  const precision = choice("precision", o.precision, ["binary", "int8", "float32"] as const);
  const rescore = choice("rescore", o.rescore, ({ binary: ["int8", "float32", "none"], int8: ["float32", "none"], float32: ["none"] } as const)[precision]);
  if (typeof o.normalize !== "boolean") fail(`normalize must be true or false, got ${describe(o.normalize)}`);
  let rotation: IndexMeta["rotation"];
  if (o.rotation !== undefined) {
    const r = o.rotation as Record<string, unknown>;
    if (typeof r !== "object" || r === null) fail(`rotation must be an object, got ${describe(r)}`);
    const inputDims = integer("rotation.inputDims", r.inputDims, dims, dims);
    rotation = { method: choice("rotation.method", r.method, ["pca", "itq"] as const), inputDims, outputDims: integer("rotation.outputDims", r.outputDims, 1, inputDims) };
  }
  const storedDims = integer("storedDims", o.storedDims, 1, rotation?.outputDims ?? dims);
  let ranges: IndexMeta["ranges"];
  if (o.ranges !== undefined) {
    const r = o.ranges as Record<string, unknown>;
    const list = (name: string, v: unknown) => {
      if (!Array.isArray(v) || v.length !== storedDims || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
        fail(`ranges.${name} must be ${storedDims} finite numbers, got ${describe(v)}`);
      }
      return v as number[];
    };
    if (typeof r !== "object" || r === null) fail(`ranges must be an object, got ${describe(r)}`);
    ranges = { min: list("min", r.min), max: list("max", r.max) };
  }
  const maxMemoryBytes = o.maxMemoryBytes === undefined ? undefined : integer("maxMemoryBytes", o.maxMemoryBytes, 1, Number.MAX_SAFE_INTEGER);
  const shardBytes = integer("shardBytes", o.shardBytes, 1, 2 ** 32);
  const nextId = integer("nextId", o.nextId, 0, 2 ** 32);
  if (!Array.isArray(o.shards) || o.shards.length < 1 || o.shards.length > MAX_SAVED_SHARDS) {
    fail(`shards must be an array of 1 to ${MAX_SAVED_SHARDS} entries, got ${describe(o.shards)}`);
  }
  const shards = (o.shards as unknown[]).map((entry, s) => {
    const e = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    const rows = integer(`shards[${s}].rows`, e.rows, 0, 2 ** 32 - 1);
    return { rows, live: integer(`shards[${s}].live`, e.live, 0, rows) };
  });
  return {
    format: INDEX_FORMAT, version, dims, storedDims, precision, rescore, normalize: o.normalize as boolean,
    ...(rotation && { rotation }), ...(ranges && { ranges }), ...(maxMemoryBytes !== undefined && { maxMemoryBytes }),
    shardBytes, nextId, shards,
  };
}

// Float32 matrices are stored little-endian (like every number in the file and WebAssembly memory).
const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function float32Bytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.byteLength);
  if (littleEndian) bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  else values.forEach((v, i) => new DataView(bytes.buffer).setFloat32(4 * i, v, true));
  return bytes;
}

function float32Of(bytes: Uint8Array): Float32Array {
  const values = new Float32Array(bytes.byteLength / 4);
  if (littleEndian) new Uint8Array(values.buffer).set(bytes);
  else values.forEach((_, i) => (values[i] = new DataView(bytes.buffer, bytes.byteOffset).getFloat32(4 * i, true)));
  return values;
}
