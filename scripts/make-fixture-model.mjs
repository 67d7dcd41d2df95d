#!/usr/bin/env node
// Writes a tiny sentence-embedding model folder that transformers.js loads offline through its
// real feature-extraction pipeline: a WordPiece tokenizer whose vocabulary comes from a corpus
// (by default the SAP Fiori texts of @sap-ux/fiori-docs-embeddings) and an ONNX graph that is one
// Gather from a seeded embedding table. Mean pooling over such a "static" model gives an
// IDF-weighted bag of words in a random projection: crude, but lexical search over the corpus is
// meaningful, and every output can be recomputed by hand from the table.
//
//   node scripts/make-fixture-model.mjs OUT_DIR [--dims 256] [--vocab 6000] [--seed 1]
//        [--output-name last_hidden_state] [--max-length 256]
//
// No dependencies: the ONNX protobuf is written below by hand. The folder is deterministic for
// given options and corpus, so it is generated where needed (tests, the demo build) and not committed.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/** The records of @sap-ux/fiori-docs-embeddings ({ id, title, content, … }), in file order. */
export function fioriRecords() {
  const require = createRequire(import.meta.url);
  const file = require.resolve("@sap-ux/fiori-docs-embeddings/data/embeddings/records.jsonl");
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
}

/** The Fiori texts the default vocabulary is built from (the `content` of each record). */
export function fioriTexts() {
  return fioriRecords().map((record) => record.content);
}

// BERT's pre-tokenizer treats every ASCII non-alphanumeric character as punctuation, and any
// Unicode punctuation too: each is a word of its own; other words are runs of the remaining
// non-space, non-control characters.
const WORD = /[^\s\p{Cc}!-/:-@[-`{-~\p{P}]+|[!-/:-@[-`{-~\p{P}]/gu;

/**
 * Splits text the way transformers.js' BertNormalizer (lowercase, accents stripped) and
 * BertPreTokenizer do. Used to count words for the vocabulary and, in tests, to compute token ids
 * independently of transformers.js.
 */
export function bertWords(text) {
  return text.toLowerCase().normalize("NFD").replace(/\p{Mn}/gu, "").match(WORD) ?? [];
}

/** 32-bit FNV-1a of a string, so a token's row depends on the token and the seed, not on vocabulary order. */
function hash(text, seed) {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A seeded standard-normal vector (mulberry32 + Box-Muller). */
function gaussian(key, seed, dims) {
  let state = hash(key, seed);
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(dims);
  for (let i = 0; i < dims; i++) {
    const u = 1 - uniform();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  }
  return out;
}

/** A crude stem, so "filter", "filters" and "filtering" share part of their rows. */
const stem = (word) => word.replace(/(ing|ed|es|s)$/, "").length >= 4 ? word.replace(/(ing|ed|es|s)$/, "") : word;

/**
 * Builds the model in memory: the vocabulary (token → id) and the embedding table
 * (`vocab.length` × `dims` float32, row-major).
 */
export function buildFixtureModel({ texts = fioriTexts(), dims = 256, vocabSize = 6000, seed = 1 } = {}) {
  if (!Number.isInteger(dims) || dims < 8) throw new RangeError(`dims must be an integer ≥ 8, got ${dims}`);
  const documentFrequency = new Map();
  const characters = new Set();
  for (const text of texts) {
    // The model reads at most a few hundred tokens of a text: count words where it reads.
    const words = new Set(bertWords(text.slice(0, 8000)));
    for (const word of words) {
      documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
      for (const char of word) characters.add(char);
    }
  }
  const chars = [...characters].sort();
  // Single characters (and their ## continuations) spell out any word outside the vocabulary.
  const tokens = [...SPECIAL_TOKENS, ...chars, ...chars.map((c) => `##${c}`)];
  const known = new Set(tokens);
  const frequent = [...documentFrequency]
    .filter(([word, df]) => df >= 2 && !known.has(word))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, Math.max(0, vocabSize - tokens.length));
  tokens.push(...frequent.map(([word]) => word));

  const vocab = Object.fromEntries(tokens.map((token, id) => [token, id]));
  const table = new Float32Array(tokens.length * dims);
  const documents = texts.length;
  tokens.forEach((token, id) => {
    if (token === "[PAD]") return; // padding never counts: zeros make that visible if it did
    const df = documentFrequency.get(token);
    // Words: IDF weights, so "the" and "sap" matter little and rare words a lot. Pieces and
    // special tokens: a small fixed weight.
    const weight = df !== undefined && !token.startsWith("[") ? Math.log(documents / df) + 1 : 0.5;
    const own = gaussian(token, seed, dims);
    const shared = df !== undefined && stem(token) !== token ? gaussian(`stem:${stem(token)}`, seed, dims) : gaussian(`stem:${token}`, seed, dims);
    for (let i = 0; i < dims; i++) table[id * dims + i] = (weight * (own[i] + shared[i])) / Math.sqrt(2 * dims);
  });
  return { vocab, tokens, table, dims };
}

// ---- ONNX protobuf, by hand (field numbers from onnx/onnx.proto3) ----

function varint(value) {
  const bytes = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v !== 0n);
  return bytes;
}

/** One protobuf message from [field, kind, value] triples; kind is "int" (varint), "str", "bytes" or "msg". */
function message(fields) {
  const parts = [];
  for (const [field, kind, value] of fields) {
    if (kind === "int") {
      parts.push(Uint8Array.from([...varint(field << 3), ...varint(value)]));
      continue;
    }
    const payload = kind === "str" ? new TextEncoder().encode(value) : value;
    parts.push(Uint8Array.from([...varint((field << 3) | 2), ...varint(payload.length)]), payload);
  }
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const FLOAT = 1;
const INT64 = 7;
const dimension = (d) => message([typeof d === "number" ? [1, "int", d] : [2, "str", d]]);
const valueInfo = (name, elemType, shape) =>
  message([
    [1, "str", name],
    [2, "msg", message([[1, "msg", message([[1, "int", elemType], [2, "msg", message(shape.map((d) => [1, "msg", dimension(d)]))]])]])],
  ]);

/** An ONNX model: `outputName` = Gather(table, input_ids) over axis 0. */
export function gatherModel(table, rows, dims, outputName = "last_hidden_state") {
  const initializer = message([
    [1, "int", rows],
    [1, "int", dims],
    [2, "int", FLOAT],
    [8, "str", "embeddings"],
    [9, "bytes", new Uint8Array(table.buffer, table.byteOffset, table.byteLength)],
  ]);
  const node = message([
    [1, "str", "embeddings"],
    [1, "str", "input_ids"],
    [2, "str", outputName],
    [3, "str", "gather"],
    [4, "str", "Gather"],
  ]);
  const graph = message([
    [1, "msg", node],
    [2, "str", "fixture"],
    [5, "msg", initializer],
    [11, "msg", valueInfo("input_ids", INT64, ["batch_size", "sequence_length"])],
    [12, "msg", valueInfo(outputName, FLOAT, ["batch_size", "sequence_length", dims])],
  ]);
  return message([
    [1, "int", 8], // ir_version
    [2, "str", "quantvec make-fixture-model"],
    [7, "msg", graph],
    [8, "msg", message([[1, "str", ""], [2, "int", 13]])], // opset 13
  ]);
}

/** The tokenizer.json of a lowercasing BERT WordPiece tokenizer with [CLS] … [SEP] around each text. */
export function tokenizerJson(vocab) {
  const special = (content) => ({
    id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  });
  const token = (id) => ({ SpecialToken: { id, type_id: 0 } });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(special),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [token("[CLS]"), { Sequence: { id: "A", type_id: 0 } }, token("[SEP]")],
      pair: [token("[CLS]"), { Sequence: { id: "A", type_id: 0 } }, token("[SEP]"), { Sequence: { id: "B", type_id: 1 } }, { SpecialToken: { id: "[SEP]", type_id: 1 } }],
      special_tokens: Object.fromEntries(["[CLS]", "[SEP]"].map((t) => [t, { id: t, ids: [vocab[t]], tokens: [t] }])),
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab },
  };
}

/**
 * Writes the model folder: config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx.
 * Returns the in-memory model ({ vocab, tokens, table, dims }) so tests can recompute outputs.
 */
export function writeFixtureModel(outDir, { outputName = "last_hidden_state", maxLength = 256, ...options } = {}) {
  const model = buildFixtureModel(options);
  const rows = model.tokens.length;
  mkdirSync(join(outDir, "onnx"), { recursive: true });
  writeFileSync(join(outDir, "onnx", "model.onnx"), gatherModel(model.table, rows, model.dims, outputName));
  writeFileSync(join(outDir, "tokenizer.json"), JSON.stringify(tokenizerJson(model.vocab)));
  writeFileSync(
    join(outDir, "tokenizer_config.json"),
    JSON.stringify({
      tokenizer_class: "BertTokenizer",
      do_lower_case: true,
      pad_token: "[PAD]", unk_token: "[UNK]", cls_token: "[CLS]", sep_token: "[SEP]", mask_token: "[MASK]",
      model_max_length: maxLength,
    }, null, 2),
  );
  writeFileSync(
    join(outDir, "config.json"),
    JSON.stringify({ model_type: "bert", architectures: ["BertModel"], hidden_size: model.dims, vocab_size: rows }, null, 2),
  );
  return model;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [outDir, ...rest] = process.argv.slice(2);
  if (!outDir) {
    console.error("usage: node scripts/make-fixture-model.mjs OUT_DIR [--dims 256] [--vocab 6000] [--seed 1] [--output-name NAME] [--max-length 256]");
    process.exit(2);
  }
  const flags = {};
  for (let i = 0; i < rest.length; i += 2) flags[rest[i].replace(/^--/, "")] = rest[i + 1];
  const model = writeFixtureModel(resolve(outDir), {
    dims: flags.dims ? Number(flags.dims) : undefined,
    vocabSize: flags.vocab ? Number(flags.vocab) : undefined,
    seed: flags.seed ? Number(flags.seed) : undefined,
    outputName: flags["output-name"],
    maxLength: flags["max-length"] ? Number(flags["max-length"]) : undefined,
  });
  console.log(`${outDir}: ${model.tokens.length} tokens × ${model.dims} dims`);
}
