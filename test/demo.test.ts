// The browser demo (examples/fiori-search), built with Vite and opened in headless Chromium from
// its own static server: a query typed into the page must list exactly the keys that TextIndex
// returns in Node for the same texts, model and query. Everything is offline: the build
// generates the fixture model and copies onnxruntime-web's WebAssembly; any request that leaves
// the local server fails the test. A screenshot is saved to test-output/fiori-search-demo.png.
// Needs Debian's chromium, like test/browser.test.ts; without it this is skipped, loudly.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { env } from "@huggingface/transformers";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TextIndex } from "../src/index.js";
import { transformersEmbedder } from "../src/transformers.js";
// @ts-expect-error: a plain .mjs script without type declarations
import { serve } from "../examples/fiori-search/serve.mjs";
import { forbidNetwork } from "./fixture-model.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEMO = join(ROOT, "examples", "fiori-search");
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`demo test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

const QUERIES = ["configure the filter bar of a list report", "deploy the application to cloud foundry"];

describe.skipIf(!hasChromium)("the Fiori search demo in headless Chromium", () => {
  let browser: Browser;
  let server: Server;
  let origin: string;
  const outside: string[] = [];

  beforeAll(async () => {
    execFileSync(process.execPath, [join(DEMO, "build.mjs")], { stdio: "pipe" });
    ({ server, origin } = await serve(join(DEMO, "dist")));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it("lists the keys TextIndex returns in Node for the same query (binary → int8)", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 820 } });
    // Nothing may leave the local server: no model hub, no CDN for onnxruntime-web.
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith("blob:") || url.startsWith("data:")) return route.continue();
      outside.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => document.body.dataset.ready || document.body.dataset.error, null, { timeout: 240_000 });
    expect(await page.evaluate(() => document.body.dataset.error ?? null)).toBeNull();
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);

    const listed: string[][] = [];
    for (const query of QUERIES) {
      await page.fill("#query", query);
      await page.press("#query", "Enter");
      await page.waitForFunction((q) => document.body.dataset.searched === q, query, { timeout: 60_000 });
      listed.push(await page.$$eval("#results li", (items) => items.map((li) => (li as HTMLElement).dataset.key!)));
    }
    mkdirSync(join(ROOT, "test-output"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "test-output", "fiori-search-demo.png") });
    await context.close();

    // Node: the same texts and keys (the page's fiori.json), the model folder the page loaded.
    forbidNetwork();
    env.allowRemoteModels = false;
    const records = JSON.parse(readFileSync(join(DEMO, "dist", "fiori.json"), "utf8")) as Array<{ key: string; text: string }>;
    const embedder = await transformersEmbedder(join(DEMO, "dist", "models", "fixture-model"));
    const texts = await TextIndex.create({ embedder, precision: "binary", rescore: "int8" });
    await texts.add(records.map((r) => r.text), records.map((r) => r.key));
    for (const [i, query] of QUERIES.entries()) {
      const expected = (await texts.search(query, { k: 10 })).map((hit) => hit.key);
      expect(expected).toHaveLength(10);
      expect(listed[i]).toEqual(expected);
    }
    texts.dispose();
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
  }, 400_000);
});
