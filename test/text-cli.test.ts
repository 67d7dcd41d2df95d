// `quantvec index` and `quantvec search` on the Fiori texts of @sap-ux/fiori-docs-embeddings with
// the fixture model, offline (fetch stubbed to throw): the search's keys and scores must be those
// of a brute-force search over the model's own vectors of the same texts; the table and the JSON
// show them with the start of each text. Every kind of bad input is reported with its file and
// line, and leaves the output file as it was.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { env } from "@huggingface/transformers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Progress } from "../src/cli/progress.js";
import { calibrate, type Matrix, TextIndex } from "../src/index.js";
import { transformersEmbedder } from "../src/transformers.js";
import { bruteForceSearch } from "./brute-force.js";
import { forbidNetwork, makeFixtureModel } from "./fixture-model.js";
import { runCli } from "./run-cli.js";

const RECORDS = createRequire(import.meta.url).resolve("@sap-ux/fiori-docs-embeddings/data/embeddings/records.jsonl");
const folder = mkdtempSync(join(tmpdir(), "quantvec-text-cli-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const at = (name: string) => join(folder, name);

interface JsonHit {
  rank: number;
  key: string | number;
  score: number;
  text?: string;
}

let modelDir: string;
let records: Array<{ id: string; content: string }>;

beforeAll(() => {
  forbidNetwork();
  env.allowRemoteModels = false;
  modelDir = makeFixtureModel().dir;
  records = readFileSync(RECORDS, "utf8").split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
}, 60_000);

describe("quantvec index → quantvec search on the Fiori texts (fixture model, offline)", () => {
  const index = () => at("fiori.qv");
  const QUERY = "configure the filter bar of a list report";
  let vectors: Matrix;
  let embedder: Awaited<ReturnType<typeof transformersEmbedder>>;

  beforeAll(async () => {
    const run = await runCli("index", RECORDS, "--model", modelDir, "--text-field", "content", "--out", index());
    expect(run.stderr).not.toMatch(/quantvec index:/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`indexed 778 texts from .*records\\.jsonl with ${modelDir} \\(binary → int8, 256 of 256 dims\\) into .*fiori\\.qv`));
    // Not a terminal: quiet stage lines, and the embedding's rate at the end.
    expect(run.stderr).toMatch(/778 texts \(jsonl, keys from "id"\)/);
    expect(run.stderr).toMatch(/embedding 778\/778 texts · [\d,]+ texts\/s/);
    embedder = await transformersEmbedder(modelDir);
    vectors = await embedder.embedDocuments(records.map((r) => r.content));
  }, 240_000);

  it("--json: the keys and scores of a brute-force binary → int8 search over the model's vectors", async () => {
    const run = await runCli("search", index(), QUERY, "-k", "7", "--json");
    expect(run.code).toBe(0);
    const { query, model, hits } = JSON.parse(run.stdout) as { query: string; model: string; hits: JsonHit[] };
    expect([query, model]).toEqual([QUERY, modelDir]);
    const rows = Array.from({ length: vectors.rows }, (_, r) => vectors.data.subarray(r * vectors.cols, (r + 1) * vectors.cols));
    const q = (await embedder.embedQuery(QUERY)).data;
    const expected = bruteForceSearch(rows, rows.map((_, i) => i), q, 7, 4, {
      precision: "binary", rescore: "int8", storedDims: embedder.dims, normalize: false, ranges: calibrate(vectors),
    });
    expect(hits.map((hit) => hit.key)).toEqual(expected.ids.map((row) => records[row].id));
    hits.forEach((hit, i) => {
      expect(hit.rank).toBe(i + 1);
      expect(hit.score).toBeCloseTo(expected.scores[i], 5);
      expect(hit.text).toBe(records[expected.ids[i]].content.slice(0, 300));
    });
    expect(hits[0].text!.split("\n")[0].toLowerCase()).toContain("filter bar");
  });

  it("the built executable in a fresh process: search prints the same JSON and exits 0", async () => {
    const inProcess = (await runCli("search", index(), QUERY, "-k", "3", "--json")).stdout;
    const bin = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));
    const child = spawnSync(process.execPath, [bin, "search", index(), QUERY, "-k", "3", "--json"], { encoding: "utf8", timeout: 120_000 });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(child.stdout).toBe(inProcess);
  });

  it("a table: rank, score, key and the start of the text, one line each", async () => {
    const json = JSON.parse((await runCli("search", index(), QUERY, "--json")).stdout) as { hits: JsonHit[] };
    const run = await runCli("search", index(), QUERY);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(11); // header + the default k = 10
    expect(lines[0]).toMatch(/^\s*# +score +key +text$/);
    json.hits.forEach((hit, i) => {
      const [rank, score, key, ...text] = lines[i + 1].trim().split(/\s+/);
      expect([rank, score, key]).toEqual([String(i + 1), hit.score.toFixed(4), hit.key]);
      const start = text.join(" ").replace(/…$/, "");
      expect(hit.text!.replace(/\s+/g, " ").trim().startsWith(start)).toBe(true);
      expect(start.length).toBeGreaterThan(10);
    });
  });

  it("a text file: one document a line, keyed by line number (blank lines skipped)", async () => {
    const lines = [records[3].content, "", records[10].content, records[20].content].map((text) => text.replace(/\s+/g, " "));
    writeFileSync(at("docs.txt"), `${lines.join("\n")}\n`);
    const built = await runCli("index", at("docs.txt"), "--model", modelDir, "--out", at("docs.qv"), "--precision", "float32", "--keep-text", "0");
    expect(built.code).toBe(0);
    expect(built.stderr).toMatch(/3 texts \(text, keys from line numbers\)/);
    const run = await runCli("search", at("docs.qv"), records[10].content.slice(0, 200), "--json");
    const { hits } = JSON.parse(run.stdout) as { hits: JsonHit[] };
    expect(hits.map((hit) => hit.key).sort()).toEqual([1, 3, 4]);
    expect(hits[0].key).toBe(3);
    expect(hits.every((hit) => hit.text === undefined)).toBe(true);
  });

  it("the embedder's settings are recorded, and search embeds the query with them", async () => {
    const settings = { pooling: "cls", prefixes: { query: "q: ", document: "d: " }, matryoshka: { dims: 64, layerNorm: true } } as const;
    const built = await runCli("index", at("docs.txt"), "--model", modelDir, "--out", at("settings.qv"), "--pooling", "cls",
      "--query-prefix", "q: ", "--document-prefix", "d: ", "--matryoshka", "64", "--truncate", "32", "--rescore", "float32");
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/\(binary → float32, 32 of 64 dims\)/);
    expect((await TextIndex.inspect(at("settings.qv"))).embedder).toEqual({ model: modelDir, dims: 64, normalize: true, ...settings });
    const query = "deploy the application";
    const run = await runCli("search", at("settings.qv"), query, "--json");
    expect(run.code).toBe(0);
    const same = await TextIndex.load(at("settings.qv"), { embedder: await transformersEmbedder(modelDir, settings) });
    expect((JSON.parse(run.stdout) as { hits: JsonHit[] }).hits.map(({ rank: _, ...hit }) => hit)).toEqual(await same.search(query));
    same.dispose();
  });
});

describe("quantvec index: bad input is reported with file and line, and nothing is written", () => {
  const good = (i: number) => JSON.stringify({ id: `k${i}`, text: `filter bar number ${i}` });

  it.each([
    ["a line without the text field", [good(1), good(2), JSON.stringify({ id: "k3", body: "x" })], /bad\.jsonl:3: no "text" field \(the record has "id", "body"\); choose the text's field with --text-field/],
    ["an empty text", [good(1), JSON.stringify({ id: "k2", text: "" })], /bad\.jsonl:2: "text" is ""; texts must not be empty or blank/],
    ["a blank text", [JSON.stringify({ id: "k1", text: " \t " })], /bad\.jsonl:1: "text" is " \\t "; texts must not be empty or blank/],
    ["a non-string text", [good(1), good(2), good(3), JSON.stringify({ id: "k4", text: 42 })], /bad\.jsonl:4: "text" is number 42; expected a string/],
    ["invalid JSON", [good(1), "{ not json"], /bad\.jsonl:2: not valid JSON/],
    ["a line that is not an object", [good(1), "[1, 2]"], /bad\.jsonl:2: expected a JSON object, got an array/],
    ["a key used twice", [good(1), good(2), good(1)], /bad\.jsonl:3: key "k1" was already used on line 1; keys must be unique/],
    ["a line without the key the first one had", [good(1), JSON.stringify({ text: "no id" })], /bad\.jsonl:2: no "id" field for the key \(the first record has one\)/],
    ["a key that is neither string nor integer", [JSON.stringify({ id: 1.5, text: "x" })], /bad\.jsonl:1: "id" is number 1\.5; a key must be a string or a safe integer/],
  ])("%s", async (_, lines, message) => {
    writeFileSync(at("bad.jsonl"), `${lines.join("\n")}\n`);
    writeFileSync(at("kept.qv"), "the previous index");
    const run = await runCli("index", at("bad.jsonl"), "--model", modelDir, "--out", at("kept.qv"));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(readFileSync(at("kept.qv"), "utf8")).toBe("the previous index");
  });

  it("a missing model folder, a missing output folder, a missing corpus, missing flags", async () => {
    writeFileSync(at("ok.jsonl"), `${good(1)}\n`);
    const noModel = await runCli("index", at("ok.jsonl"), "--model", at("no-such-model"), "--out", at("never.qv"));
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(/quantvec index: --model ".*no-such-model": no such folder/);
    const noFolder = await runCli("index", at("ok.jsonl"), "--model", modelDir, "--out", at("missing/never.qv"));
    expect(noFolder.stderr).toMatch(/--out ".*missing\/never\.qv": folder .*missing does not exist/);
    const noCorpus = await runCli("index", at("absent.jsonl"), "--model", modelDir, "--out", at("never.qv"));
    expect(noCorpus.stderr).toMatch(/ENOENT.*absent\.jsonl/);
    expect((await runCli("index", at("ok.jsonl"), "--out", at("never.qv"))).code).toBe(2);
    expect((await runCli("index", at("ok.jsonl"), "--model", modelDir)).stderr).toMatch(/index needs --out FILE/);
    expect((await runCli("index", at("ok.jsonl"), "--model", modelDir, "--out", at("never.qv"), "--precision", "int4")).stderr).toMatch(/--precision must be one of binary, int8, float32, got "int4"/);
    expect(existsSync(at("never.qv"))).toBe(false);
  });

  it("search: a file that is not a text index, a blank query", async () => {
    writeFileSync(at("junk.qv"), "junk");
    const junk = await runCli("search", at("junk.qv"), "query");
    expect(junk.code).toBe(1);
    expect(junk.stderr).toMatch(/junk\.qv/);
    expect((await runCli("search", at("junk.qv"), "  ")).stderr).toMatch(/search needs a non-empty QUERY/);
    expect((await runCli("search", at("junk.qv"))).stderr).toMatch(/search takes FILE QUERY, got 1 argument/);
  });
});

describe("progress on a terminal", () => {
  it("draws a bar with the count, the rate and the time left", async () => {
    const written: string[] = [];
    const stream = Object.assign(new Writable({ write: (chunk, _, done) => (written.push(String(chunk)), done()) }), { columns: 200 });
    const progress = new Progress(stream as unknown as NodeJS.WriteStream, true);
    progress.count(0, 1000, "embedding", "texts");
    await new Promise((resolve) => setTimeout(resolve, 150));
    progress.count(250, 1000, "embedding", "texts");
    expect(written.at(-1)).toMatch(/█+░+ +25% +embedding 250\/1,000 texts · [\d,]+ texts\/s · ETA \d+s/);
  });
});
