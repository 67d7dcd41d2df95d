// The package in a real browser: headless Chromium loads dist/ as ES modules from a local
// server. Served cross-origin isolated (COOP + COEP), `threads: 2` must start a Web Worker
// from a blob: URL over shared memory and return exactly what Node returns; served without
// those headers, the index must fall back to one thread and say why. Needs Debian's chromium
// (`apt-get install chromium`; .ci/run installs it) — without it these tests are skipped, loudly.

import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calibrate, Index, type IndexOptions } from "../src/index.js";
import { randomNormal, rng, SEARCH_CONFIGS } from "./helpers.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

const PAGE = `<!doctype html><meta charset="utf-8"><title>quantvec</title>
<script type="module">
  import { Index, kernels, ready } from "./dist/index.js";
  // Runs each configuration on 1 and on 2 threads; everything crosses back as plain arrays.
  window.runChecks = async ({ dims, rows, queries, ranges, configs, policy }) => {
    await ready({ relaxedSimd: policy });
    const toResults = (list) => list.map((r) => ({ ids: Array.from(r.ids), scores: Array.from(r.scores) }));
    const out = { isolated: self.crossOriginIsolated, path: kernels.features.path, reason: kernels.features.pathReason, runs: [] };
    for (const config of configs) {
      const run = { config, threads: [], notes: [], results: [] };
      for (const threads of [1, 2]) {
        const index = await Index.create({ dims, ranges, threads, ...config });
        index.parallelMinBytes = 1; // a small corpus: split it across the threads anyway
        run.kernelPaths = [...(run.kernelPaths ?? []), index.kernelPath];
        index.add(rows);
        const single = await Promise.all(queries.slice(0, 4).map((q) => index.search(q, { k: 10 })));
        const batch = await index.searchBatch(queries, { k: 10 });
        run.threads.push(index.threads);
        run.notes.push(index.threadingNote ?? null);
        run.results.push({ single: toResults(single), batch: toResults(batch) });
        index.dispose();
      }
      out.runs.push(run);
    }
    return out;
  };
  window.checksLoaded = true;
</script>`;

const TYPES: Record<string, string> = { ".js": "text/javascript", ".html": "text/html", ".map": "application/json" };

/** Serves PAGE and dist/ under /isolated/ (with COOP and COEP) and under /plain/ (without). */
function serve(): Promise<{ server: Server; origin: string }> {
  const server = createServer((request, response) => {
    const [, mode, ...rest] = (request.url ?? "/").split("?")[0].split("/");
    const path = rest.join("/");
    const headers: Record<string, string> = mode === "isolated"
      ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" }
      : {};
    if ((mode !== "isolated" && mode !== "plain") || (path !== "page.html" && !path.startsWith("dist/"))) {
      response.writeHead(404).end();
      return;
    }
    const file = normalize(join(ROOT, path));
    if (path !== "page.html" && (!file.startsWith(join(ROOT, "dist")) || !existsSync(file))) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", ...headers });
    response.end(path === "page.html" ? PAGE : readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const address = server.address() as { port: number };
    resolve({ server, origin: `http://127.0.0.1:${address.port}` });
  }));
}

const DIMS = 40;
const random = rng(2027);
const ROWS = Array.from({ length: 1200 }, () => randomNormal(random, DIMS));
for (let i = 5; i < ROWS.length; i += 9) ROWS[i] = ROWS[i - 4].slice(); // ties across the threads' halves
const QUERIES = Array.from({ length: 12 }, () => randomNormal(random, DIMS));
const RANGES = calibrate(ROWS);
const CONFIGS: Array<Pick<IndexOptions, "precision" | "rescore">> = SEARCH_CONFIGS;

interface PageRun {
  config: Pick<IndexOptions, "precision" | "rescore">;
  threads: number[];
  kernelPaths: string[];
  notes: Array<string | null>;
  results: Array<{ single: unknown; batch: unknown }>;
}
interface PageOutput {
  isolated: boolean;
  path: string;
  reason: string;
  runs: PageRun[];
}

/** What Node returns for the same data: the browser must match it exactly. */
async function nodeResults(config: Pick<IndexOptions, "precision" | "rescore">) {
  const index = await Index.create({ dims: DIMS, ranges: RANGES, ...config });
  index.add(ROWS);
  const toResults = (list: Array<{ ids: Uint32Array; scores: Float32Array }>) =>
    list.map((r) => ({ ids: Array.from(r.ids), scores: Array.from(r.scores) }));
  const single = toResults(await Promise.all(QUERIES.slice(0, 4).map((q) => index.search(q, { k: 10 }))));
  const batch = toResults(await index.searchBatch(QUERIES, { k: 10 }));
  index.dispose();
  return { single, batch };
}

describe.skipIf(!hasChromium)("in headless Chromium", () => {
  let browser: Browser;
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    ({ server, origin } = await serve());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // This machine's network is closed: keep Chromium from reaching out at all.
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  async function runPage(mode: "isolated" | "plain", policy: "auto" | "always" = "auto"): Promise<PageOutput> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${origin}/${mode}/page.html`);
    await page.waitForFunction(() => (window as unknown as { checksLoaded?: boolean }).checksLoaded === true, undefined, { timeout: 20_000 });
    const input = { dims: DIMS, rows: ROWS.map((r) => Array.from(r)), queries: QUERIES.map((q) => Array.from(q)), ranges: RANGES, configs: CONFIGS, policy };
    const output = await page.evaluate((arg) => (window as unknown as { runChecks: (a: unknown) => Promise<PageOutput> }).runChecks(arg), input);
    await page.close();
    expect(errors).toEqual([]);
    return output;
  }

  it("cross-origin isolated: two threads (a Web Worker over shared memory) return exactly Node's results", async () => {
    const output = await runPage("isolated");
    console.log(`Chromium ${browser.version()}: ${output.path} kernels (${output.reason})`);
    expect(output.isolated).toBe(true);
    expect(output.runs).toHaveLength(CONFIGS.length);
    for (const run of output.runs) {
      expect(run.threads, JSON.stringify(run.notes)).toEqual([1, 2]);
      const expected = await nodeResults(run.config);
      expect(run.results[0], `${run.config.precision} → ${run.config.rescore}, 1 thread`).toEqual(expected);
      expect(run.results[1], `${run.config.precision} → ${run.config.rescore}, 2 threads`).toEqual(expected);
    }
  }, 120_000);

  it("relaxed SIMD in Chromium (forced): every precision, on 1 and 2 threads, returns exactly Node's SIMD128 results", async () => {
    const output = await runPage("isolated", "always");
    // Chromium >= 114 runs relaxed SIMD; its self-check must pass there.
    expect(output.path, output.reason).toBe("relaxed-simd");
    for (const run of output.runs) {
      expect(run.threads).toEqual([1, 2]);
      expect(run.kernelPaths).toEqual(["relaxed-simd", "relaxed-simd"]);
      const expected = await nodeResults(run.config);
      expect(run.results[0], `${run.config.precision} → ${run.config.rescore}, 1 thread`).toEqual(expected);
      expect(run.results[1], `${run.config.precision} → ${run.config.rescore}, 2 threads`).toEqual(expected);
    }
  }, 120_000);

  it("not isolated: falls back to one thread, says why, and still returns Node's results", async () => {
    const output = await runPage("plain");
    expect(output.isolated).toBe(false);
    for (const run of output.runs) {
      expect(run.threads).toEqual([1, 1]);
      expect(run.notes[1]).toMatch(/asked for 2 threads, running on 1: .*(SharedArrayBuffer|cross-origin isolated)/);
      const expected = await nodeResults(run.config);
      expect(run.results[1]).toEqual(expected);
    }
  }, 120_000);
});
