// The corpus `quantvec index` reads: JSONL (one JSON object a line, the text in --text-field, the
// key in --key-field) or plain text (one document a line, keyed by its line number). Every line
// is checked before anything is embedded, and a bad one is reported as FILE:LINE.

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { extname } from "node:path";
import { createInterface } from "node:readline";
import type { TextKey } from "../text-index.js";

export type CorpusFormat = "jsonl" | "text";

/** Extensions read as JSONL; anything else is a text file, one document a line. */
export const JSONL_EXTENSIONS = [".jsonl", ".ndjson"];

export interface CorpusOptions {
  /** The JSONL field holding the text (default "text"). */
  textField?: string;
  /**
   * The JSONL field holding the key: required on every line when given; by default "id" when
   * the first record has one, else the line number.
   */
  keyField?: string;
  /** Called now and then with the bytes read and the file's size. */
  onProgress?: (bytes: number, total: number) => void;
}

export interface Corpus {
  format: CorpusFormat;
  texts: string[];
  keys: TextKey[];
  /** Where the keys came from: a field's name, or "line" for line numbers. */
  keySource: string;
}

/** A corpus line that cannot be indexed: the message starts with FILE:LINE. */
export class CorpusError extends Error {
  constructor(readonly file: string, readonly line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
    this.name = "CorpusError";
  }
}

const describeJson = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value).slice(0, 40)}`;

/**
 * Reads and checks a corpus. Blank lines are skipped (their numbers still count); in JSONL, a line
 * that is not an object, lacks the text field, or whose text is not a non-blank string is an
 * error, and so is a key that is missing, not a string or safe integer, or used twice.
 *
 * @param file the corpus path.
 * @param options text and key fields, progress.
 * @returns the texts and their keys, in file order.
 * @throws CorpusError naming the file and line; the file system's errors for a missing file.
 */
export async function readCorpus(file: string, options: CorpusOptions = {}): Promise<Corpus> {
  const format: CorpusFormat = JSONL_EXTENSIONS.includes(extname(file).toLowerCase()) ? "jsonl" : "text";
  const textField = options.textField ?? "text";
  let keyField = options.keyField;
  const { size } = await stat(file);
  const texts: string[] = [];
  const keys: TextKey[] = [];
  const lineOfKey = new Map<TextKey, number>();
  const stream = createReadStream(file, { encoding: "utf8" });
  let bytes = 0;
  stream.on("data", (chunk) => {
    bytes += Buffer.byteLength(chunk as string);
    options.onProgress?.(bytes, size);
  });
  let number = 0;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    number++;
    if (line.trim() === "") continue;
    const fail = (problem: string): never => {
      stream.destroy();
      throw new CorpusError(file, number, problem);
    };
    if (format === "text") {
      texts.push(line);
      keys.push(number);
      continue;
    }
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      fail(`not valid JSON (${(error as Error).message})`);
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) fail(`expected a JSON object, got ${describeJson(record)}`);
    const fields = record as Record<string, unknown>;
    const has = (field: string) => Object.hasOwn(fields, field);
    if (!has(textField)) {
      fail(`no "${textField}" field (the record has ${Object.keys(fields).map((f) => `"${f}"`).join(", ") || "no fields"}); choose the text's field with --text-field`);
    }
    const text = fields[textField];
    if (typeof text !== "string") fail(`"${textField}" is ${describeJson(text)}; expected a string`);
    if ((text as string).trim() === "") fail(`"${textField}" is ${JSON.stringify(text)}; texts must not be empty or blank`);
    if (texts.length === 0 && keyField === undefined && has("id")) keyField = "id";
    let key: TextKey = number;
    if (keyField !== undefined) {
      if (!has(keyField)) fail(`no "${keyField}" field for the key${options.keyField === undefined ? " (the first record has one)" : ""}`);
      const value = fields[keyField];
      if (typeof value !== "string" && !(typeof value === "number" && Number.isSafeInteger(value))) {
        fail(`"${keyField}" is ${describeJson(value)}; a key must be a string or a safe integer`);
      }
      key = value as TextKey;
      const first = lineOfKey.get(key);
      if (first !== undefined) fail(`key ${JSON.stringify(key)} was already used on line ${first}; keys must be unique`);
      lineOfKey.set(key, number);
    }
    texts.push(text as string);
    keys.push(key);
  }
  if (texts.length === 0) throw new Error(`${file}: no documents (the file is empty or blank)`);
  return { format, texts, keys, keySource: keyField ?? "line" };
}
