// `quantvec index` and `quantvec search`: texts in through a transformers.js model (a local folder
// or a model id), a TextIndex file out; a query in, a table (or JSON) of the best texts out.
// transformers.js is loaded only by these two commands (quantvec/transformers imports it lazily).

import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { TextIndex, type TextSearchHit } from "../text-index.js";
import type { Pooling, TransformersEmbedder, TransformersEmbedderOptions } from "../transformers.js";
import { readCorpus } from "./corpus.js";
import { choiceFlag, integerFlag, positionalArgs, requiredFlag, UsageError } from "./flags.js";
import { Progress } from "./progress.js";

const PRECISIONS = ["binary", "int8", "float32"] as const;
const RESCORES = ["int8", "float32", "none"] as const;
const POOLINGS: readonly Pooling[] = ["mean", "cls", "last_token"];
/** Characters of each text the index keeps for the search table and --json. */
const DEFAULT_KEEP_TEXT = 300;

/**
 * The model argument as transformersEmbedder takes it: an existing folder as its absolute path
 * (recorded in the index, so `search` finds it from any directory), anything path-like that does
 * not exist as an error, anything else as a model id.
 */
function modelArgument(model: string): string {
  if (existsSync(model)) {
    if (!statSync(model).isDirectory()) throw new Error(`--model ${JSON.stringify(model)} is a file; expected a model folder or a model id`);
    return resolve(model);
  }
  if (/^(\.{1,2}[/\\]|\/|~|[A-Za-z]:[/\\])/.test(model) || model.split("/").length > 2) {
    throw new Error(`--model ${JSON.stringify(model)}: no such folder (resolved to ${resolve(model)}); expected a transformers.js model folder or a model id like Xenova/all-MiniLM-L6-v2`);
  }
  return model;
}

async function loadEmbedder(model: string, options: TransformersEmbedderOptions): Promise<TransformersEmbedder> {
  const { transformersEmbedder } = await import("../transformers.js");
  return transformersEmbedder(model, options);
}

/** Fails before any work when `out` cannot be written: its folder must exist, and it must not be one. */
function checkOutput(out: string): void {
  const folder = dirname(resolve(out));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`--out ${JSON.stringify(out)}: folder ${folder} does not exist`);
  if (existsSync(out) && statSync(out).isDirectory()) throw new Error(`--out ${JSON.stringify(out)} is a folder; expected a file path`);
}

/** `quantvec index CORPUS --model DIR|ID --out FILE [...]` */
export async function indexCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: "string" }, out: { type: "string" }, "text-field": { type: "string" }, "key-field": { type: "string" },
      precision: { type: "string" }, rescore: { type: "string" }, truncate: { type: "string" }, "keep-text": { type: "string" },
      pooling: { type: "string" }, "query-prefix": { type: "string" }, "document-prefix": { type: "string" },
      matryoshka: { type: "string" }, "batch-size": { type: "string" },
    },
  });
  const [file] = positionalArgs("index", positionals, ["CORPUS"]);
  const modelFlag = requiredFlag("index", "model", values.model, "DIR|ID (a transformers.js model folder or model id)");
  const out = requiredFlag("index", "out", values.out, "FILE (the index file to write)");
  const precision = choiceFlag("precision", values.precision, PRECISIONS) ?? "binary";
  const rescore = choiceFlag("rescore", values.rescore, RESCORES);
  const truncateTo = values.truncate === undefined ? undefined : integerFlag("truncate", values.truncate, 0, 1);
  const keepText = integerFlag("keep-text", values["keep-text"], DEFAULT_KEEP_TEXT, 0);
  const batchSize = integerFlag("batch-size", values["batch-size"], 32, 1);
  const embedderOptions: TransformersEmbedderOptions = {
    pooling: choiceFlag("pooling", values.pooling, POOLINGS) ?? "mean",
    prefixes: { query: values["query-prefix"] ?? "", document: values["document-prefix"] ?? "" },
    batchSize,
    ...(values.matryoshka !== undefined && { matryoshka: { dims: integerFlag("matryoshka", values.matryoshka, 0, 1) } }),
  };
  checkOutput(out);
  const model = modelArgument(modelFlag);
  const progress = new Progress();
  const started = performance.now();

  progress.stage(`reading ${file}`);
  const corpus = await readCorpus(file, {
    textField: values["text-field"], keyField: values["key-field"],
    onProgress: (bytes, total) => progress.update(bytes, total, "reading"),
  });
  progress.stage(`${corpus.texts.length.toLocaleString("en-US")} texts (${corpus.format}, keys from ${corpus.keySource === "line" ? "line numbers" : `"${corpus.keySource}"`}); loading ${model}`);
  const embedder = await loadEmbedder(model, embedderOptions);
  const texts = await TextIndex.create({ embedder, precision, ...(rescore !== undefined && { rescore }), ...(truncateTo !== undefined && { truncateTo }), keepText });
  try {
    progress.stage(`embedding with ${embedder.model} (${embedder.dims} dims)`);
    await texts.add(corpus.texts, corpus.keys, { batchSize, onProgress: (done, total) => progress.count(done, total, "embedding", "texts") });
    progress.stage(`writing ${out}`);
    await texts.save(out);
  } finally {
    texts.dispose();
  }
  progress.clear();
  const seconds = (performance.now() - started) / 1000;
  const { index } = texts;
  const shape = `${index.precision}${index.rescore === "none" ? "" : ` → ${index.rescore}`}, ${index.storedDims} of ${index.dims} dims`;
  process.stdout.write(
    `indexed ${corpus.texts.length.toLocaleString("en-US")} texts from ${file} with ${embedder.model} (${shape}) into ${out} ` +
      `in ${seconds.toFixed(1)} s (${Math.round(corpus.texts.length / seconds).toLocaleString("en-US")} texts/s)\n`,
  );
}

/** The hits as a table: rank, score, key and the start of the text, fitted to `width` columns. */
export function renderHits(hits: readonly TextSearchHit[], width = 100): string {
  const rows = hits.map((hit, i) => [String(i + 1), hit.score.toFixed(4), String(hit.key)]);
  const header = ["#", "score", "key"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const used = widths.reduce((sum, w) => sum + w + 2, 0);
  const room = Math.max(20, width - used);
  const oneLine = (text: string | undefined) => {
    const flat = (text ?? "").replace(/\s+/g, " ").trim();
    return flat.length > room ? `${flat.slice(0, room - 1)}…` : flat;
  };
  const line = (cells: string[], text: string) => [...cells.map((cell, c) => (c === 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))].join("  ") + `  ${text}`;
  return [line(header, "text"), ...rows.map((row, i) => line(row, oneLine(hits[i].text)))].map((l) => l.trimEnd()).join("\n");
}

/** `quantvec search FILE "query" [-k 10] [--json]` */
export async function searchCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { k: { type: "string", short: "k" }, json: { type: "boolean" }, "rescore-multiplier": { type: "string" } },
  });
  const [file, query] = positionalArgs("search", positionals, ["FILE", "QUERY"]);
  if (query.trim() === "") throw new UsageError("search needs a non-empty QUERY");
  const k = integerFlag("k", values.k, 10, 1);
  const rescoreMultiplier = integerFlag("rescore-multiplier", values["rescore-multiplier"], 4, 1);
  const { embedder: record } = await TextIndex.inspect(file);
  if (record.pooling === null || record.normalize === null || record.prefixes === null) {
    throw new Error(`${file} was built with a custom embedder (model ${JSON.stringify(record.model)}), not a transformers.js model: search it from code with TextIndex.load`);
  }
  const embedder = await loadEmbedder(record.model, {
    pooling: record.pooling as Pooling, normalize: record.normalize, prefixes: record.prefixes,
    ...(record.matryoshka !== null && { matryoshka: record.matryoshka }),
  });
  // One query reads a few candidates' rescoring rows: leave the rest of them in the file.
  const texts = await TextIndex.load(file, { embedder, rescoreFrom: "disk" });
  let hits: TextSearchHit[];
  try {
    hits = await texts.search(query, { k, rescoreMultiplier });
  } finally {
    texts.dispose();
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ query, model: record.model, hits: hits.map((hit, i) => ({ rank: i + 1, ...hit })) }, null, 2)}\n`);
  } else {
    process.stdout.write(`${renderHits(hits, process.stdout.columns ?? 100)}\n`);
  }
}
