// The container layer (src/file/container.ts, docs/FORMAT.md): round trips through every target
// and source, atomic file writes, row reads of blocked sections, and rejection of foreign, newer,
// truncated, extended and corrupted files — every mutated file must fail with a FileFormatError
// that names the file and the part, and none may load.

import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ContainerSource, FileFormatError, HEADER_BYTES, openContainer, type SectionInput, writeContainer } from "../src/file/container.js";
import * as reference from "../src/reference.js";
import { ready } from "../src/wasm.js";
import { partAt, randomInts, rng } from "./helpers.js";

await ready();
const folder = mkdtempSync(join(tmpdir(), "quantvec-container-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const bytesOf = (seed: number, length: number) => Uint8Array.from(randomInts(rng(seed), length, 0, 255));

/** Sections of every kind: empty, shorter than the alignment, blocked with a partial last block, unblocked. */
const CONTENT: Array<{ tag: string; data: Uint8Array; blockBytes?: number; critical?: boolean }> = [
  { tag: "META", data: new TextEncoder().encode(JSON.stringify({ dims: 384, precision: "binary" })), critical: true },
  { tag: "EMPT", data: new Uint8Array(0) },
  { tag: "ODD1", data: bytesOf(1, 63) },
  { tag: "CODE", data: bytesOf(2, 48 * 300), blockBytes: 1024 },
  { tag: "RESC", data: bytesOf(3, 384 * 61 + 7), blockBytes: 4096 },
  { tag: "IDS ", data: bytesOf(4, 8 * 300) },
];

/** Chunks of seeded random sizes (0 included), as an iterable or an async iterable. */
function chunked(data: Uint8Array, seed: number, asynchronous = false): Iterable<Uint8Array> | AsyncIterable<Uint8Array> {
  const random = rng(seed);
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < data.length;) {
    const size = [0, 1, 17, 64, 1000, 5000][Math.floor(random() * 6)];
    pieces.push(data.subarray(at, Math.min(at + size, data.length)));
    at += size;
  }
  if (!asynchronous) return pieces;
  return (async function* () {
    for (const piece of pieces) yield piece;
  })();
}

const inputs = (asynchronous = false): SectionInput[] =>
  CONTENT.map((s, i) => ({ tag: s.tag, byteLength: s.data.length, chunks: chunked(s.data, 100 + i, asynchronous), blockBytes: s.blockBytes, critical: s.critical }));

/** Opens, reads every section whole and verifies everything: what "loading" a file means. */
async function loadAll(source: ContainerSource, name?: string): Promise<Map<string, Uint8Array>> {
  const file = await openContainer(source, { name });
  try {
    const out = new Map<string, Uint8Array>();
    for (const section of file.sections) out.set(section.tag, (await file.read(section.tag)).slice());
    await file.verifyAll();
    return out;
  } finally {
    await file.close();
  }
}

function expectContent(loaded: Map<string, Uint8Array>): void {
  expect([...loaded.keys()]).toEqual(CONTENT.map((s) => s.tag));
  for (const s of CONTENT) expect(loaded.get(s.tag), s.tag).toEqual(s.data);
}

/** A stream delivering `bytes` in seeded random chunks. */
function streamOf(bytes: Uint8Array, seed: number): ReadableStream<Uint8Array> {
  const random = rng(seed);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      const size = 1 + Math.floor(random() * 3000);
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

const good = join(folder, "good.qv");
await writeContainer(good, inputs());
const goodBytes = new Uint8Array(readFileSync(good));

describe("round trip", () => {
  it("a file written to a path loads from the path, bytes, ArrayBuffer, Blob and ReadableStream with the same sections", async () => {
    expectContent(await loadAll(good));
    expectContent(await loadAll(goodBytes));
    expectContent(await loadAll(goodBytes.slice().buffer));
    expectContent(await loadAll(new Blob([goodBytes])));
    expectContent(await loadAll(streamOf(goodBytes, 5)));
  });

  it("a WritableStream target receives exactly the bytes of the file target, from async chunks too", async () => {
    const received: Uint8Array[] = [];
    const stream = new WritableStream<Uint8Array>({ write: (chunk) => void received.push(chunk) });
    const written = await writeContainer(stream, inputs(true));
    const all = new Uint8Array(received.reduce((n, c) => n + c.length, 0));
    received.reduce((at, c) => (all.set(c, at), at + c.length), 0);
    expect(all).toEqual(goodBytes);
    expect(written.byteLength).toBe(goodBytes.length);
  });

  it("a producer that refills one buffer for every chunk is written correctly (chunks are consumed before the next is asked for)", async () => {
    const data = bytesOf(7, 50_000);
    const buffer = new Uint8Array(999);
    function* refill() {
      for (let at = 0; at < data.length; at += buffer.length) {
        const piece = data.subarray(at, at + buffer.length);
        buffer.set(piece);
        yield buffer.subarray(0, piece.length);
      }
    }
    const received: Uint8Array[] = [];
    await writeContainer(new WritableStream({ write: (c) => void received.push(c) }), [{ tag: "DATA", byteLength: data.length, chunks: refill(), blockBytes: 4096 }]);
    const path = join(folder, "refill.qv");
    await writeContainer(path, [{ tag: "DATA", byteLength: data.length, chunks: refill(), blockBytes: 4096 }]);
    const fromStream = new Blob(received as Uint8Array<ArrayBuffer>[]);
    for (const source of [path, fromStream]) {
      const file = await openContainer(source);
      expect(await file.read("DATA")).toEqual(data);
      await file.close();
    }
  });

  it("sections start at multiples of 64 and in-memory reads are views, not copies", async () => {
    const file = await openContainer(goodBytes);
    for (const section of file.sections) expect(section.offset % 64, section.tag).toBe(0);
    const codes = await file.read("CODE");
    expect(codes.buffer).toBe(goodBytes.buffer);
    expect(codes.byteOffset).toBe(file.section("CODE")!.offset);
    expect(file.section("META")!.critical).toBe(true);
    expect(file.section("CODE")!.critical).toBe(false);
    expect(file.version).toEqual({ major: 1, minor: 0 });
  });

  it("readInto fills caller memory; readRows returns rows in the order asked, repeats and block-spanning rows included", async () => {
    for (const source of [good, goodBytes, new Blob([goodBytes])] as ContainerSource[]) {
      const file = await openContainer(source);
      const target = new Uint8Array(CONTENT[4].data.length);
      await file.readInto("RESC", target);
      expect(target).toEqual(CONTENT[4].data);
      const rowBytes = 384; // 4096 is not a multiple of 384: some rows span two blocks
      const rows = [60, 0, 10, 10, 11, 21, 59, 32];
      const got = await file.readRows("RESC", rowBytes, rows);
      rows.forEach((row, i) => expect(got.subarray(i * rowBytes, (i + 1) * rowBytes), `row ${row}`).toEqual(CONTENT[4].data.subarray(row * rowBytes, (row + 1) * rowBytes)));
      const codes = await file.readRows("CODE", 48, Uint32Array.of(299, 1));
      expect(codes).toEqual(new Uint8Array([...CONTENT[3].data.subarray(299 * 48, 300 * 48), ...CONTENT[3].data.subarray(48, 96)]));
      await file.close();
    }
  });

  it("the header and checksum table follow docs/FORMAT.md (magic, version, lengths, xxh64 checksums)", () => {
    const view = new DataView(goodBytes.buffer);
    expect(Array.from(goodBytes.subarray(0, 8))).toEqual([0x89, 0x51, 0x56, 0x45, 0x43, 0x0d, 0x0a, 0x1a]);
    expect(view.getUint16(8, true)).toBe(1);
    expect(view.getUint32(12, true)).toBe(CONTENT.length);
    expect(Number(view.getBigUint64(16, true))).toBe(goodBytes.length);
    const tableEnd = HEADER_BYTES + 64 * CONTENT.length;
    const head = new Uint8Array([...goodBytes.subarray(0, 56), ...goodBytes.subarray(64, tableEnd)]);
    expect(view.getBigUint64(56, true)).toBe(reference.xxh64(head));
    // Checksum table: META EMPT ODD1 unblocked (one each), CODE in 1024-byte blocks, RESC in 4096, IDS one.
    const checksumOffset = Number(view.getBigUint64(24, true));
    const digest = (k: number) => view.getBigUint64(checksumOffset + 8 * k, true);
    const code = CONTENT[3].data;
    expect(digest(0)).toBe(reference.xxh64(CONTENT[0].data));
    expect(digest(1)).toBe(reference.xxh64(new Uint8Array(0)));
    expect(digest(3)).toBe(reference.xxh64(code.subarray(0, 1024)));
    const codeBlocks = Math.ceil(code.length / 1024);
    expect(digest(3 + codeBlocks - 1)).toBe(reference.xxh64(code.subarray((codeBlocks - 1) * 1024)));
    const total = Number(view.getBigUint64(32, true)) / 8 - 1;
    expect(digest(total)).toBe(reference.xxh64(goodBytes.subarray(checksumOffset, checksumOffset + 8 * total)));
  });
});

describe("atomic file writes", () => {
  const existing = join(folder, "existing.qv");
  const failures: Array<[string, () => SectionInput[]]> = [
    ["chunks longer than byteLength", () => [{ tag: "DATA", byteLength: 10, chunks: [new Uint8Array(6), new Uint8Array(6)] }]],
    ["chunks shorter than byteLength", () => [{ tag: "DATA", byteLength: 10, chunks: [new Uint8Array(6)] }]],
    ["a chunk that is not a Uint8Array", () => [{ tag: "DATA", byteLength: 2, chunks: [[1, 2] as unknown as Uint8Array] }]],
    ["a producer that throws midway", () => [{ tag: "DATA", byteLength: 2e6, chunks: (function* () { yield new Uint8Array(1e6); throw new Error("producer failed"); })() }]],
  ];
  it.each(failures)("%s: rejects, leaves the existing file untouched and no temporary file behind", async (_, sections) => {
    writeFileSync(existing, "old content");
    await expect(writeContainer(existing, sections())).rejects.toThrow(/DATA|producer failed/);
    expect(readFileSync(existing, "utf8")).toBe("old content");
    expect(readdirSync(folder).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("a failing write aborts a WritableStream target", async () => {
    let aborted: unknown;
    const stream = new WritableStream({ abort: (reason) => void (aborted = reason) });
    await expect(writeContainer(stream, failures[0][1]())).rejects.toThrow(RangeError);
    expect(String(aborted)).toMatch(/more than its byteLength/);
  });

  it.each([
    [[{ tag: "TOOLONG", byteLength: 0, chunks: [] }], TypeError, /sections\[0\]\.tag must be 4 printable ASCII characters \(the first not a space\), got "TOOLONG"/],
    [[{ tag: " ABC", byteLength: 0, chunks: [] }], TypeError, /tag must be 4 printable/],
    [[{ tag: "DATA", byteLength: 0, chunks: [] }, { tag: "DATA", byteLength: 0, chunks: [] }], RangeError, /"DATA" appears twice/],
    [[{ tag: "DATA", byteLength: -1, chunks: [] }], RangeError, /byteLength must be an integer >= 0, got -1/],
    [[{ tag: "DATA", byteLength: 1.5, chunks: [] }], RangeError, /byteLength/],
    [[{ tag: "DATA", byteLength: 0, chunks: [], blockBytes: 1000 }], RangeError, /blockBytes must be 0 or a power of two from 64 to 16777216, got 1000/],
    [[{ tag: "DATA", byteLength: 0, chunks: 5 }], TypeError, /chunks must be an Iterable or AsyncIterable/],
    ["not an array", TypeError, /sections must be an array/],
  ] as Array<[unknown, ErrorConstructor, RegExp]>)("bad sections are rejected before the target is touched (%#)", async (sections, kind, message) => {
    const path = join(folder, "never.qv");
    const error = await writeContainer(path, sections as SectionInput[]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(kind);
    expect(String(error)).toMatch(message);
    expect(() => statSync(path)).toThrow(/ENOENT/);
  });

  it("rejects a target that is neither a path nor a WritableStream", async () => {
    await expect(writeContainer(42 as unknown as string, [])).rejects.toThrow(/target must be a file path or a WritableStream, got 42/);
  });
});

async function expectRejected(bytes: Uint8Array, what: string, part?: RegExp): Promise<void> {
  const error = await loadAll(bytes, "mutated.qv").then(() => undefined, (e: unknown) => e);
  expect(error, `${what} loaded`).toBeInstanceOf(FileFormatError);
  const { message, part: named } = error as FileFormatError;
  expect(message, what).toMatch(/^openContainer: "mutated\.qv": /);
  if (part !== undefined) expect(named, `${what}: ${message}`).toMatch(part);
}

describe("corruption", async () => {
  const layout = await openContainer(goodBytes);
  const random = rng(2024);
  const positions = randomInts(random, 1200, 0, goodBytes.length - 1);
  // Every part gets hit at least a few times, however small it is.
  const starts = [0, 8, 12, 16, 56, 64, ...layout.sections.flatMap((s) => [s.offset - 1, s.offset, s.offset + Math.floor(s.byteLength / 2), s.offset + s.byteLength - 1]), goodBytes.length - 8, goodBytes.length - 1];
  positions.push(...starts.filter((p) => p >= 0 && p < goodBytes.length));

  it(`a flipped bit at each of ${positions.length} seeded positions in every part is rejected, naming that part`, async () => {
    for (const [i, position] of positions.entries()) {
      const bytes = goodBytes.slice();
      bytes[position] ^= 1 << (i % 8);
      await expectRejected(bytes, `flip at ${position}`, partAt(position, layout));
    }
  });

  it("a byte flipped to every other value at every position of the header, section table and checksum table is rejected", async () => {
    const checksumOffset = Number(new DataView(goodBytes.buffer).getBigUint64(24, true));
    const head = Array.from({ length: HEADER_BYTES + 64 * layout.sections.length }, (_, i) => i);
    const tail = Array.from({ length: goodBytes.length - checksumOffset }, (_, i) => checksumOffset + i);
    for (const position of [...head, ...tail]) {
      const bytes = goodBytes.slice();
      bytes[position] ^= 0xff;
      await expectRejected(bytes, `0xff flip at ${position}`, partAt(position, layout));
    }
  });

  it(`a byte deleted at each of ${positions.length} seeded positions is rejected`, async () => {
    for (const position of positions) {
      const bytes = new Uint8Array(goodBytes.length - 1);
      bytes.set(goodBytes.subarray(0, position));
      bytes.set(goodBytes.subarray(position + 1), position);
      await expectRejected(bytes, `delete at ${position}`);
    }
  });

  it(`a byte inserted at each of ${positions.length} seeded positions, and bytes appended at the end, are rejected`, async () => {
    for (const [i, position] of positions.entries()) {
      const bytes = new Uint8Array(goodBytes.length + 1);
      bytes.set(goodBytes.subarray(0, position));
      bytes[position] = i & 255;
      bytes.set(goodBytes.subarray(position), position + 1);
      await expectRejected(bytes, `insert at ${position}`);
    }
    for (const extra of [1, 7, 64, 4096]) {
      await expectRejected(new Uint8Array([...goodBytes, ...new Uint8Array(extra)]), `${extra} zero bytes appended`, /^checksum table/);
    }
  });

  it("truncation at every section boundary (and inside every part) is rejected, from bytes, a path and a stream", async () => {
    const cuts = new Set([0, 1, 7, 8, 63, 64, HEADER_BYTES + 64 * layout.sections.length - 1, goodBytes.length - 1]);
    for (const s of layout.sections) for (const cut of [s.offset - 1, s.offset, s.offset + 1, s.offset + s.byteLength - 1, s.offset + s.byteLength]) cuts.add(cut);
    for (const cut of cuts) {
      const bytes = goodBytes.slice(0, cut);
      await expectRejected(bytes, `truncated at ${cut}`);
      if (cut > 64) {
        const path = join(folder, "truncated.qv");
        writeFileSync(path, bytes);
        await expect(loadAll(path), `path truncated at ${cut}`).rejects.toThrow(/truncated\.qv.*truncated: the file is/);
        await expect(loadAll(streamOf(bytes, cut)), `stream truncated at ${cut}`).rejects.toThrow(FileFormatError);
      }
    }
  });

  it("a section with bytes after its last whole row: rows of its last block verify over the whole block, and a flipped trailing byte is caught", async () => {
    const rowBytes = 384; // RESC holds 61 rows of 384 bytes and 7 bytes more, all under its last checksum
    const resc = layout.section("RESC")!;
    const lastRow = () => Array.from(CONTENT[4].data.subarray(60 * rowBytes, 61 * rowBytes));
    const file = await openContainer(goodBytes);
    const column = file.diskColumn("RESC", rowBytes);
    expect([column.rows, column.byteLength]).toEqual([61, 384 * 61 + 7]);
    const fetched = await column.fetch("test", [60, 60]);
    const out = new Uint8Array(2 * rowBytes);
    fetched.copyTo(out);
    expect([Array.from(out.subarray(0, rowBytes)), Array.from(out.subarray(rowBytes))]).toEqual([lastRow(), lastRow()]);
    const streamed: number[] = [];
    for await (const chunk of column.chunks("test", 0, 61)) streamed.push(...chunk);
    expect(streamed).toEqual(Array.from(CONTENT[4].data.subarray(0, 61 * rowBytes)));
    await file.close();

    const bad = goodBytes.slice();
    bad[resc.offset + 61 * rowBytes + 3] ^= 0x01; // a trailing byte, in no row
    const damaged = await openContainer(bad, { name: "trailing.qv" });
    await expect(damaged.readRows("RESC", rowBytes, [60])).rejects.toThrow(/trailing\.qv": section "RESC" block 5: checksum mismatch/);
    await expect(damaged.diskColumn("RESC", rowBytes).fetch("test", [60])).rejects.toThrow(/section "RESC" block 5: checksum mismatch/);
    expect(Array.from(await damaged.readRows("RESC", rowBytes, [0]))).toEqual(Array.from(CONTENT[4].data.subarray(0, rowBytes)));
    await damaged.close();
  });

  it("a corrupt block read on demand from disk rejects that read only; other blocks and later reads still work", async () => {
    const path = join(folder, "disk.qv");
    writeFileSync(path, goodBytes);
    const resc = layout.section("RESC")!;
    const fd = openSync(path, "r+");
    writeSync(fd, Uint8Array.of(goodBytes[resc.offset + 4096 + 5] ^ 0x10), 0, 1, resc.offset + 4096 + 5); // block 1 of RESC
    closeSync(fd);
    const file = await openContainer(path); // opening reads no section data
    const rowBytes = 384;
    const rowsOf = (rows: number[]) => rows.flatMap((row) => Array.from(CONTENT[4].data.subarray(row * rowBytes, (row + 1) * rowBytes)));
    await expect(file.readRows("RESC", rowBytes, [0, 12])).rejects.toThrow(/disk\.qv": section "RESC" block 1: checksum mismatch/);
    expect(Array.from(await file.readRows("RESC", rowBytes, [0, 1, 40]))).toEqual(rowsOf([0, 1, 40]));
    await expect(file.readRows("RESC", rowBytes, [10])).rejects.toThrow(FileFormatError); // row 10 spans blocks 0 and 1
    expect(Array.from(await file.readRows("RESC", rowBytes, [60, 2]))).toEqual(rowsOf([60, 2]));
    await expect(file.read("RESC")).rejects.toThrow(/section "RESC" block 1/);
    await expect(file.verifyAll()).rejects.toThrow(/section "RESC" block 1/);
    expect(await file.read("CODE")).toEqual(CONTENT[3].data);
    await file.close();
  });
});

describe("foreign, newer and lying files", async () => {
  const layout = await openContainer(goodBytes);
  it.each([
    ["an empty file", new Uint8Array(0)],
    ["text", new TextEncoder().encode("hello, this is not an index\n".repeat(10))],
    ["a PNG signature", Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(100))],
    ["a faiss IndexBinaryFlat", new Uint8Array([..."IBxF"].map((c) => c.charCodeAt(0)).concat(new Array(29).fill(0)))],
  ])("%s is rejected as not a quantvec file", async (_, bytes) => {
    await expect(loadAll(bytes, "foreign.bin")).rejects.toThrow(/"foreign\.bin": header: not a quantvec file/);
    await expect(loadAll(streamOf(bytes, 1), "foreign.bin")).rejects.toThrow(/not a quantvec file/);
  });

  it("a newer major version is rejected with an upgrade hint; a newer minor version loads", async () => {
    const newer = goodBytes.slice();
    newer[8] = 2;
    await expect(loadAll(newer, "newer.qv")).rejects.toThrow(/"newer\.qv": header: written in format version 2\.0, newer than this reader's 1\.x: upgrade quantvec/);
    const minor = goodBytes.slice();
    minor[10] = 3;
    rewriteHeaderChecksum(minor);
    expectContent(await loadAll(minor));
  });

  it("a header whose checksum is valid but whose lengths lie is rejected before anything is allocated", async () => {
    for (const [field, value] of [[16, 2n ** 52n], [24, 2n ** 40n], [32, 8n]] as const) {
      const lying = goodBytes.slice();
      new DataView(lying.buffer).setBigUint64(field, value, true);
      rewriteHeaderChecksum(lying);
      await expect(loadAll(lying, "lying.qv"), `field ${field}`).rejects.toThrow(/"lying\.qv": header: declares file length/);
    }
    // A consistent lie: the last section claims a petabyte and the header's lengths agree with it.
    const huge = goodBytes.slice();
    const view = new DataView(huge.buffer);
    const ids = layout.sections[5];
    const checksumOffset = Math.ceil((ids.offset + 2 ** 50) / 64) * 64;
    view.setBigUint64(HEADER_BYTES + 64 * 5 + 16, 2n ** 50n, true);
    view.setBigUint64(16, BigInt(checksumOffset) + view.getBigUint64(32, true), true);
    view.setBigUint64(24, BigInt(checksumOffset), true);
    rewriteHeaderChecksum(huge);
    await expect(loadAll(huge, "huge.qv")).rejects.toThrow(/"huge\.qv": section "IDS ": truncated: the file is \d+ bytes, its header says 11258999068\d+/);
    const other = goodBytes.slice();
    new DataView(other.buffer).setBigUint64(HEADER_BYTES + 64 * 3 + 16, 2n ** 50n, true); // CODE alone: later offsets disagree
    rewriteHeaderChecksum(other);
    await expect(loadAll(other, "other.qv")).rejects.toThrow(/"other\.qv": section "RESC": stored at offset \d+, but the layout puts it at/);
  });

  it("a stream that is foreign is cancelled after its first chunk, not read to the end", async () => {
    let pulls = 0;
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => void (pulls++, c.enqueue(new Uint8Array(1000).fill(65))) });
    await expect(openContainer(stream)).rejects.toThrow(/not a quantvec file/);
    expect(pulls).toBeLessThan(5);
  });

  it("a stream that keeps going past the declared length is rejected and cancelled", async () => {
    let cancelled = false;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(sent < goodBytes.length ? goodBytes.slice(sent, sent + 4096) : new Uint8Array(4096));
        sent += 4096;
      },
      cancel: () => void (cancelled = true),
    });
    await expect(openContainer(stream, { name: "endless" })).rejects.toThrow(/"endless": checksum table: \d+ unexpected bytes after the end/);
    expect(cancelled).toBe(true);
    expect(sent).toBeLessThan(goodBytes.length + 3 * 4096);
  });

  it("checkCritical refuses unknown critical sections and lets unknown optional ones pass", async () => {
    const file = await openContainer(goodBytes, { name: "x.qv" });
    expect(() => file.checkCritical(["CODE"])).toThrow(/"x\.qv": section "META": a critical section this version of quantvec does not know/);
    expect(() => file.checkCritical(["META"])).not.toThrow();
  });

  it("rejects sources of the wrong kind and unknown sections, naming them", async () => {
    await expect(openContainer(42 as unknown as Uint8Array)).rejects.toThrow(/source must be a file path, Uint8Array, ArrayBuffer, Blob or ReadableStream, got 42/);
    const file = await openContainer(goodBytes, { name: "x.qv" });
    await expect(file.read("NOPE")).rejects.toThrow(/"x\.qv": section "NOPE": read: no such section \(the file has "META", "EMPT"/);
    await expect(file.readRows("META", 4, [0])).rejects.toThrow(/no block checksums/);
    await expect(file.readRows("CODE", 48, [300])).rejects.toThrow(/rows\[0\] must be an integer from 0 to 299 .*got 300/);
    await expect(file.readRows("CODE", 0, [0])).rejects.toThrow(/rowBytes must be an integer > 0, got 0/);
    await expect(file.readInto("CODE", new Uint8Array(3))).rejects.toThrow(/target must be a Uint8Array of 14400 bytes/);
  });
});

/** Recomputes the header checksum after a test edited the header (a well-formed lie). */
function rewriteHeaderChecksum(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const tableEnd = HEADER_BYTES + 64 * view.getUint32(12, true);
  view.setBigUint64(56, reference.xxh64(new Uint8Array([...bytes.subarray(0, 56), ...bytes.subarray(64, tableEnd)])), true);
}
