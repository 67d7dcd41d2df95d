// The file layer in a real browser: headless Chromium loads dist/ as ES modules, writes a
// container to a WritableStream, reads it back from a Blob and from a ReadableStream (whole
// sections and rows of a blocked section), rejects a flipped byte, and round-trips a faiss file —
// with no Node module anywhere. An index saved in Node loads in the browser from a Blob and from
// a fetch body (and with rescoreFrom "disk", reading rows with Blob.slice) and answers as in Node; saved in the browser to a WritableStream, it loads back in
// the browser and in Node. Needs Debian's chromium (.ci/run installs it); skipped loudly without.

import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Index } from "../src/index.js";
import { randomInts, randomNormal, rng } from "./helpers.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser file tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

const PAGE = `<!doctype html><meta charset="utf-8"><title>quantvec files</title>
<script type="module">
  import { ready } from "./dist/wasm.js";
  import { openContainer, writeContainer } from "./dist/file/container.js";
  import { readFaissBinary, writeFaissBinary } from "./dist/file/faiss.js";
  window.runChecks = async ({ meta, codes, rowBytes, rows }) => {
    await ready();
    const chunks = [];
    const sink = new WritableStream({ write: (chunk) => void chunks.push(chunk) });
    const codeBytes = Uint8Array.from(codes);
    await writeContainer(sink, [
      { tag: "META", byteLength: meta.length, chunks: [Uint8Array.from(meta)] },
      { tag: "CODE", byteLength: codeBytes.length, chunks: [codeBytes.subarray(0, 1000), codeBytes.subarray(1000)], blockBytes: 4096 },
    ]);
    const blob = new Blob(chunks);
    const out = { byteLength: blob.size, fromBlob: {}, fromStream: {} };
    for (const [key, source] of [["fromBlob", blob], ["fromStream", blob.stream()]]) {
      const file = await openContainer(source, { name: key });
      out[key] = {
        meta: Array.from(await file.read("META")),
        code: Array.from(await file.read("CODE")),
        rows: Array.from(await file.readRows("CODE", rowBytes, rows)),
      };
      await file.close();
    }
    const bytes = new Uint8Array(await blob.arrayBuffer());
    bytes[bytes.length >> 1] ^= 4;
    out.corrupt = await openContainer(new Blob([bytes]), { name: "corrupt.qv" })
      .then(async (file) => { await file.read("META"); await file.read("CODE"); return "loaded"; }, (e) => e.message)
      .catch((e) => e.message);
    const faissChunks = [];
    await writeFaissBinary(new WritableStream({ write: (c) => void faissChunks.push(c) }), { dims: rowBytes * 8, count: codeBytes.length / rowBytes, codes: codeBytes, ids: rows.map((r) => r * 3) .concat(Array.from({ length: codeBytes.length / rowBytes - rows.length }, (_, i) => -1 - i)) });
    const faiss = await readFaissBinary(new Blob(faissChunks));
    out.faiss = { kind: faiss.kind, same: faiss.codes.every((b, i) => b === codeBytes[i]), ids: Array.from(faiss.ids.subarray(0, 3), Number) };
    return out;
  };
  window.indexChecks = async ({ queries }) => {
    const { Index } = await import("./dist/index.js");
    const plain = (list) => list.map((r) => ({ ids: Array.from(r.ids), scores: Array.from(r.scores) }));
    const answer = async (index) => plain(await index.searchBatch(queries, { k: 10 }));
    const out = {};
    const fromBlob = await Index.load(await (await fetch("./index.qv")).blob());
    out.fromBlob = await answer(fromBlob);
    const fromStream = await Index.load((await fetch("./index.qv")).body);
    out.fromStream = await answer(fromStream);
    out.shards = fromStream.shards;
    // Rescoring codes left in the File: every search reads its candidates' rows with Blob.slice.
    const onDisk = await Index.load(await (await fetch("./index.qv")).blob(), { rescoreFrom: "disk" });
    out.fromBlobOnDisk = await answer(onDisk);
    out.memoryBytes = { inMemory: fromBlob.memoryBytes, onDisk: onDisk.memoryBytes };
    onDisk.dispose();
    const chunks = [];
    await fromBlob.save(new WritableStream({ write: (chunk) => void chunks.push(chunk) }));
    const again = await Index.load(new Blob(chunks));
    out.savedInBrowser = await answer(again);
    out.saved = Array.from(new Uint8Array(await new Blob(chunks).arrayBuffer()));
    for (const index of [fromBlob, fromStream, again]) index.dispose();
    return out;
  };
  window.checksLoaded = true;
</script>`;

const TYPES: Record<string, string> = { ".js": "text/javascript", ".html": "text/html", ".map": "application/json" };

/** Serves PAGE, dist/ and `files` (name → bytes). */
function serve(files: Map<string, Uint8Array> = new Map()): Promise<{ server: Server; origin: string }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0].slice(1);
    if (files.has(path)) {
      response.writeHead(200, { "Content-Type": "application/octet-stream" });
      response.end(files.get(path));
      return;
    }
    const file = normalize(join(ROOT, path));
    if (path !== "page.html" && (!path.startsWith("dist/") || !file.startsWith(join(ROOT, "dist")) || !existsSync(file))) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
    response.end(path === "page.html" ? PAGE : readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    resolve({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
  }));
}

describe.skipIf(!hasChromium)("file layer in headless Chromium", () => {
  let browser: Browser;
  let server: Server;
  let origin: string;
  const files = new Map<string, Uint8Array>();
  beforeAll(async () => {
    ({ server, origin } = await serve(files));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it("writes to a WritableStream, reads from a Blob and a ReadableStream, rejects a flipped byte, round-trips faiss", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${origin}/page.html`);
    await page.waitForFunction(() => (window as unknown as { checksLoaded?: boolean }).checksLoaded === true, undefined, { timeout: 20_000 });
    const rowBytes = 48;
    const codes = randomInts(rng(77), rowBytes * 500, 0, 255);
    const meta = Array.from(new TextEncoder().encode('{"dims":384}'));
    const rows = [499, 0, 85, 85, 170];
    const out = await page.evaluate((arg) => (window as unknown as { runChecks: (a: unknown) => Promise<Record<string, any>> }).runChecks(arg), { meta, codes, rowBytes, rows });
    await page.close();
    expect(errors).toEqual([]);
    const expectedRows = rows.flatMap((r) => codes.slice(r * rowBytes, (r + 1) * rowBytes));
    for (const key of ["fromBlob", "fromStream"]) {
      expect(out[key].meta, key).toEqual(meta);
      expect(out[key].code, key).toEqual(codes);
      expect(out[key].rows, key).toEqual(expectedRows);
    }
    expect(out.corrupt).toMatch(/"corrupt\.qv": section "CODE" block \d+: checksum mismatch/);
    expect(out.faiss).toEqual({ kind: "IndexBinaryIDMap", same: true, ids: [499 * 3, 0, 85 * 3] });
  });

  it("an index saved in Node loads from a Blob and a fetch body with Node's answers; saved to a WritableStream in the browser, it loads back", async () => {
    const random = rng(31);
    const dims = 48;
    const index = await Index.create({ dims, precision: "binary", rescore: "int8", shardBytes: 192 * 1024 });
    const rows = Array.from({ length: 5000 }, (_, i) => (i % 7 === 6 ? randomNormal(rng(i - 1), dims) : randomNormal(rng(i), dims)));
    index.add(rows);
    index.remove([1, 2, 3, 4000]);
    index.upsert([rows[10]], [20]);
    expect(index.shards).toBeGreaterThan(1);
    const chunks: Uint8Array[] = [];
    await index.save(new WritableStream({ write: (chunk) => void chunks.push(chunk) }));
    files.set("index.qv", new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer()));
    const queries = [...Array.from({ length: 5 }, () => Array.from(randomNormal(random, dims))), Array.from(rows[13])];
    const plain = (list: Array<{ ids: Uint32Array; scores: Float32Array }>) => list.map((r) => ({ ids: Array.from(r.ids), scores: Array.from(r.scores) }));
    const want = plain(await index.searchBatch(queries, { k: 10 }));
    index.dispose();

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${origin}/page.html`);
    await page.waitForFunction(() => (window as unknown as { checksLoaded?: boolean }).checksLoaded === true, undefined, { timeout: 20_000 });
    const out = await page.evaluate((arg) => (window as unknown as { indexChecks: (a: unknown) => Promise<Record<string, any>> }).indexChecks(arg), { queries });
    await page.close();
    expect(errors).toEqual([]);
    expect(out.shards).toBeGreaterThan(1);
    expect(out.fromBlob).toEqual(want);
    expect(out.fromStream).toEqual(want);
    expect(out.fromBlobOnDisk).toEqual(want);
    expect(out.memoryBytes.onDisk).toBeLessThan(out.memoryBytes.inMemory);
    expect(out.savedInBrowser).toEqual(want);
    const original = files.get("index.qv")!;
    const sameBytes = out.saved.length === original.length && (out.saved as number[]).every((byte, i) => byte === original[i]);
    expect(sameBytes, "the same index makes the same bytes").toBe(true);
    const loadedInNode = await Index.load(Uint8Array.from(out.saved));
    expect(plain(await loadedInNode.searchBatch(queries, { k: 10 }))).toEqual(want);
    loadedInNode.dispose();
  });
});
