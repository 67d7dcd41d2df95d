// Index.load on damaged and foreign files, and bad arguments to save and load. Every flipped,
// deleted or inserted byte anywhere in an index file (≥ 1,000 seeded positions over every
// section) and every truncation at a section boundary must reject with a FileFormatError naming
// the file and the part — none may load. Files whose checksums are right but whose index content
// is wrong (as a buggy or newer writer would make them) are refused the same way.

import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HEADER_BYTES, openContainer, type SectionInput, writeContainer } from "../src/file/container.js";
import { FileFormatError, fitRotation, Index, ready } from "../src/index.js";
import { partAt, randomInts, randomNormal, rng, saveToBytes } from "./helpers.js";

await ready();
const folder = mkdtempSync(join(tmpdir(), "quantvec-persistence-bad-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const DIMS = 32;

/** A small index with every kind of section: a rotation, removals, two shards, rescoring codes. */
async function smallIndexFile(): Promise<Uint8Array> {
  const random = rng(99);
  const rows = Array.from({ length: 4000 }, () => randomNormal(random, DIMS));
  const index = await Index.create({ dims: DIMS, precision: "binary", rescore: "int8", rotation: fitRotation(rows.slice(0, 200), { method: "pca" }), shardBytes: 192 * 1024 });
  index.add(rows);
  index.remove([3, 4, 1000]);
  expect(index.shards).toBe(2);
  const bytes = await saveToBytes(index);
  index.dispose();
  return bytes;
}

const good = await smallIndexFile();
const layout = await openContainer(good);
const tags = layout.sections.map((s) => s.tag);

async function expectRejected(bytes: Uint8Array, what: string, part?: RegExp): Promise<void> {
  const outcome = await Index.load(bytes).then((index) => (index.dispose(), undefined), (e: unknown) => e);
  expect(outcome, `${what} loaded`).toBeInstanceOf(FileFormatError);
  const { message, part: named, file } = outcome as FileFormatError;
  expect(file, what).toBe("bytes");
  expect(message, what).toMatch(/^Index\.load: "bytes": /);
  if (part !== undefined) expect(named, `${what}: ${message}`).toMatch(part);
}

describe("a damaged index file never loads", () => {
  it("the file has every kind of section, and loads intact", async () => {
    expect(tags).toEqual(["META", "ROTN", "I000", "L000", "S000", "I001", "L001", "S001", "R000", "R001"]);
    const index = await Index.load(good);
    expect(index.size).toBe(3997);
    index.dispose();
  });

  // Seeded positions over the whole file, plus the first, middle and last byte of every section
  // and the byte before it, so every section is hit however small it is.
  const positions = randomInts(rng(2026), 1000, 0, good.length - 1);
  for (const s of layout.sections) positions.push(...[s.offset - 1, s.offset, s.offset + (s.byteLength >> 1), s.offset + s.byteLength - 1].filter((p) => p >= 0 && p < good.length));

  it(`a bit flipped at each of ${positions.length} seeded positions is rejected, naming the part it is in`, async () => {
    const hit = new Set<string>();
    for (const [i, position] of positions.entries()) {
      const bytes = good.slice();
      bytes[position] ^= 1 << (i % 8);
      const part = partAt(position, layout);
      await expectRejected(bytes, `flip at ${position}`, part);
      hit.add(part.source);
    }
    for (const tag of tags) expect(hit.has(`^section "${tag}"`), tag).toBe(true);
  });

  it(`a byte deleted or inserted at each of ${positions.length} seeded positions, or appended, is rejected`, async () => {
    for (const [i, position] of positions.entries()) {
      const deleted = new Uint8Array(good.length - 1);
      deleted.set(good.subarray(0, position));
      deleted.set(good.subarray(position + 1), position);
      await expectRejected(deleted, `delete at ${position}`);
      const inserted = new Uint8Array(good.length + 1);
      inserted.set(good.subarray(0, position));
      inserted[position] = i & 255;
      inserted.set(good.subarray(position), position + 1);
      await expectRejected(inserted, `insert at ${position}`);
    }
    for (const extra of [1, 8, 4096]) {
      const appended = new Uint8Array(good.length + extra);
      appended.set(good);
      await expectRejected(appended, `${extra} bytes appended`, /^checksum table/);
    }
  });

  it("truncation at every section boundary is rejected, from bytes and from a path", async () => {
    const cuts = new Set([0, 1, 8, 64, HEADER_BYTES + 64 * layout.sections.length, good.length - 1]);
    for (const s of layout.sections) for (const cut of [s.offset - 1, s.offset, s.offset + 1, s.offset + s.byteLength - 1, s.offset + s.byteLength]) cuts.add(cut);
    const path = join(folder, "truncated.qv");
    for (const cut of cuts) {
      await expectRejected(good.slice(0, cut), `truncated at ${cut}`);
      writeFileSync(path, good.slice(0, cut));
      await expect(Index.load(path), `path truncated at ${cut}`).rejects.toThrow(cut < 8 ? /truncated\.qv.*not a quantvec file/ : /truncated\.qv.*truncated/);
    }
  });
});

/** The file's sections, each with its bytes, ready to be written again (edited) by writeContainer. */
async function sectionsOf(bytes: Uint8Array): Promise<SectionInput[]> {
  const file = await openContainer(bytes);
  return Promise.all(file.sections.map(async (s) => {
    const data = (await file.read(s.tag)).slice();
    return { tag: s.tag, byteLength: data.length, chunks: [data], blockBytes: s.blockBytes, critical: s.critical };
  }));
}

async function rewritten(edit: (sections: SectionInput[]) => SectionInput[]): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await writeContainer(new WritableStream({ write: (chunk) => void chunks.push(chunk) }), edit(await sectionsOf(good)));
  return new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer());
}

/** The sections with META's JSON replaced by `change(meta)`. */
function withMeta(change: (meta: Record<string, any>) => void) {
  return (sections: SectionInput[]) => sections.map((s) => {
    if (s.tag !== "META") return s;
    const meta = JSON.parse(new TextDecoder().decode((s.chunks as Uint8Array[])[0]));
    change(meta);
    const data = new TextEncoder().encode(JSON.stringify(meta));
    return { ...s, byteLength: data.length, chunks: [data] };
  });
}

describe("well-formed containers with wrong index content are refused", () => {
  it.each([
    ["an unknown critical section", (s: SectionInput[]) => [...s, { tag: "XTRA", byteLength: 3, chunks: [Uint8Array.of(1, 2, 3)], critical: true }], /section "XTRA": a critical section this version of quantvec does not know/],
    ["a newer index layout", withMeta((m) => (m.version = 2)), /section "META": index layout version 2 is newer than this reader's 1: upgrade quantvec/],
    ["another kind of quantvec file", withMeta((m) => (m.format = "quantvec-something")), /section "META": format is "quantvec-something", expected "quantvec-index"/],
    ["no META", (s: SectionInput[]) => s.filter((x) => x.tag !== "META"), /section "META": missing: not a quantvec index file/],
    ["META not JSON", (s: SectionInput[]) => s.map((x) => (x.tag === "META" ? { ...x, byteLength: 3, chunks: [Uint8Array.of(0x7b, 0x7b, 0x7d)] } : x)), /section "META": not valid UTF-8 JSON/],
    ["more rows than the columns hold", withMeta((m) => (m.shards[0].rows += 1)), /section "I000": \d+ bytes, but the index metadata implies \d+/],
    ["a shard missing", withMeta((m) => m.shards.push({ rows: 0, live: 0 })), /section "I002": missing/],
    ["a live count that disagrees with the bitmap", withMeta((m) => (m.shards[1].live -= 1)), /section "L001": the live bitmap marks \d+ live rows; the index metadata says/],
    ["an unknown precision", withMeta((m) => (m.precision = "int4")), /section "META": precision must be "binary" \| "int8" \| "float32", got "int4"/],
    ["a rescore the precision does not allow", withMeta((m) => (m.rescore = "binary")), /section "META": rescore must be "int8" \| "float32" \| "none", got "binary"/],
    ["ranges of the wrong length", withMeta((m) => m.ranges.min.pop()), /section "META": ranges\.min must be 32 finite numbers/],
    ["ids at or past nextId", withMeta((m) => (m.nextId = 10)), /sections "I000"…"I001": shard 0 row 10 has id 10, not below the next id 10/],
    ["a rotation that is not orthogonal", (s: SectionInput[]) => s.map((x) => (x.tag === "ROTN" ? { ...x, chunks: [new Uint8Array(x.byteLength).fill(0x3f)] } : x)), /section "ROTN": .*not orthonormal/],
    ["a shardBytes too small for one segment", withMeta((m) => (m.shardBytes = 1000)), /section "META": .*shardBytes must leave room/],
  ] as Array<[string, (s: SectionInput[]) => SectionInput[], RegExp]>)("%s", async (_, edit, message) => {
    const bytes = await rewritten(edit);
    const error = await Index.load(bytes).then((index) => (index.dispose(), undefined), (e: unknown) => e);
    expect(error).toBeInstanceOf(FileFormatError);
    expect(String(error)).toMatch(message);
  });

  it("a newer container format version is refused with an upgrade message", async () => {
    const bytes = good.slice();
    new DataView(bytes.buffer).setUint16(8, 2, true);
    await expect(Index.load(bytes)).rejects.toThrow(/Index\.load: "bytes": header: written in format version 2\.0, newer than this reader's 1\.x: upgrade quantvec/);
  });

  it("an unknown non-critical section is skipped", async () => {
    const bytes = await rewritten((s) => [...s, { tag: "note", byteLength: 5, chunks: [new TextEncoder().encode("hello")] }]);
    const index = await Index.load(bytes);
    expect(index.size).toBe(3997);
    index.dispose();
  });
});

describe("bad arguments", () => {
  it("Index.load refuses a source of the wrong kind, foreign files and bad options, naming them", async () => {
    await expect(Index.load(42 as unknown as string)).rejects.toThrow(/^Index\.load: source must be a file path, Uint8Array, ArrayBuffer, Blob or ReadableStream, got 42$/);
    await expect(Index.load(new TextEncoder().encode('{"dims": 384}'))).rejects.toThrow(/Index\.load: "bytes": header: not a quantvec file/);
    await expect(Index.load(new Uint8Array(0))).rejects.toThrow(FileFormatError);
    const faissLike = Uint8Array.from([..."IBxF"].map((c) => c.charCodeAt(0)).concat(Array(40).fill(0)));
    await expect(Index.load(faissLike)).rejects.toThrow(/not a quantvec file/);
    await expect(Index.load(join(folder, "absent.qv"))).rejects.toThrow(/ENOENT/);
    await expect(Index.load(good, { thread: 2 } as never)).rejects.toThrow(/Index\.load: options has an unknown key "thread"; did you mean "threads"\?/);
    await expect(Index.load(good, { rescoreFrom: "flash" } as never)).rejects.toThrow(/Index\.load: rescoreFrom must be "memory" \| "disk", got "flash"/);
    await expect(Index.load(good, { threads: 0 })).rejects.toThrow(RangeError);
    await expect(Index.load(good, "fast" as never)).rejects.toThrow(/Index\.load: options must be an object/);
  });

  it("index.save refuses a bad target and leaves the index and the path as they were", async () => {
    const index = await Index.create({ dims: DIMS, precision: "float32" });
    index.add([randomNormal(rng(1), DIMS)]);
    await expect(index.save(42 as unknown as string)).rejects.toThrow(/^index\.save: target must be a file path or a WritableStream<Uint8Array>, got 42$/);
    const missing = join(folder, "no-such-folder", "index.qv");
    await expect(index.save(missing)).rejects.toThrow(/ENOENT/);
    expect(() => statSync(missing)).toThrow(/ENOENT/);
    expect(index.size).toBe(1);
    const failing = new WritableStream({ write: () => Promise.reject(new Error("disk full")) });
    await expect(index.save(failing)).rejects.toThrow(/disk full/);
    expect((await index.search(randomNormal(rng(1), DIMS), { k: 1 })).ids.length).toBe(1);
    index.dispose();
    await expect(index.save(join(folder, "x.qv"))).rejects.toThrow(/index\.save: this index was disposed/);
  });
});
