// The "TEXT" section a TextIndex adds to its index file (docs/FORMAT.md, "TextIndex section"):
// UTF-8 JSON lines. The first line records the embedder and the key bookkeeping; then one line
// per stored text, in ascending id order: [id, key] or, when the index keeps the start of each
// text, [id, key, text]. JSON keeps string keys apart from integer ones ("1" is not 1), and
// lines let a reader walk a large section without one giant string.
//
// The section is not critical: Index.load reads a TextIndex file as the plain Index it contains.

import { FileFormatError, type SectionInput } from "./container.js";
import type { TextKey } from "../text-index.js";

export const TEXT_TAG = "TEXT";
/** The section's own format; a newer one is refused with an "upgrade quantvec" message. */
const TEXT_VERSION = 1;
const FORMAT_NAME = "quantvec-text";
const MAX_ID = 2 ** 32 - 1;
/** Bytes per chunk the writer hands to the container. */
const CHUNK_BYTES = 1 << 20;

/** What a saved TextIndex records of its embedder; `TextIndex.load` refuses an embedder that differs. */
export interface EmbedderRecord {
  readonly model: string;
  readonly dims: number;
  readonly pooling: string | null;
  readonly normalize: boolean | null;
  readonly prefixes: { readonly query: string; readonly document: string } | null;
  readonly matryoshka: { readonly dims: number; readonly layerNorm: boolean } | null;
}

/** Everything in the section. */
export interface TextSection {
  readonly embedder: EmbedderRecord;
  /** Characters kept of each text (0: none). */
  readonly keepText: number;
  /** The Index id the next added text gets (ids are never reused). */
  readonly nextId: number;
  /** The key the next text added without keys gets. */
  readonly nextDefaultKey: number;
  /** Ascending. */
  readonly ids: Uint32Array;
  readonly keys: readonly TextKey[];
  /** The kept start of each text, when keepText > 0. */
  readonly texts: readonly string[] | undefined;
}

/** The section as container input: encoded now (its length must be known), handed over in 1 MiB chunks. */
export function encodeTextSection(section: TextSection): SectionInput {
  const { embedder, keepText, nextId, nextDefaultKey, ids, keys, texts } = section;
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let pending: string[] = [];
  let pendingLength = 0;
  let byteLength = 0;
  const flush = () => {
    const bytes = encoder.encode(pending.join(""));
    chunks.push(bytes);
    byteLength += bytes.length;
    pending = [];
    pendingLength = 0;
  };
  const line = (value: unknown) => {
    const text = `${JSON.stringify(value)}\n`;
    pending.push(text);
    pendingLength += text.length;
    if (pendingLength >= CHUNK_BYTES / 3) flush(); // UTF-8 takes at most 3 bytes per UTF-16 unit
  };
  line({ format: FORMAT_NAME, version: TEXT_VERSION, embedder, keepText, nextId, nextDefaultKey, count: ids.length });
  ids.forEach((id, i) => line(texts === undefined ? [id, keys[i]] : [id, keys[i], texts[i]]));
  flush();
  return { tag: TEXT_TAG, byteLength, chunks };
}

/**
 * Parses and checks the section: every field's type and range, ids ascending and in range, keys
 * unique strings or safe integers, one text per entry when texts are kept, the declared count.
 *
 * @throws FileFormatError naming the file, the section and the line.
 */
export function decodeTextSection(bytes: Uint8Array, caller: string, file: string): TextSection {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const fail = (line: number, problem: string): never => {
    throw new FileFormatError(caller, file, `section "${TEXT_TAG}" line ${line}`, problem);
  };
  let at = 0;
  let lineNumber = 0;
  const next = (): unknown => {
    lineNumber++;
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) fail(lineNumber, at === bytes.length ? "missing: the section ends early" : "the last line has no newline (cut short?)");
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(at, end));
    } catch {
      return fail(lineNumber, "not valid UTF-8");
    }
    at = end + 1;
    try {
      return JSON.parse(text);
    } catch (error) {
      return fail(lineNumber, `not valid JSON (${(error as Error).message})`);
    }
  };

  const head = next() as Record<string, unknown>;
  if (typeof head !== "object" || head === null || head.format !== FORMAT_NAME) fail(1, `expected a header with format "${FORMAT_NAME}"`);
  if (typeof head.version !== "number" || head.version < 1) fail(1, `version is ${JSON.stringify(head.version)}, expected a positive integer`);
  if ((head.version as number) > TEXT_VERSION) {
    fail(1, `version ${head.version} is newer than this quantvec reads (${TEXT_VERSION}); upgrade quantvec to load it`);
  }
  const embedder = checkEmbedderRecord(head.embedder, (problem) => fail(1, `embedder: ${problem}`));
  const integer = (name: string, max: number): number => {
    const value = head[name];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value > max) {
      fail(1, `${name} is ${JSON.stringify(value)}, expected an integer from 0 to ${max}`);
    }
    return value as number;
  };
  const keepText = integer("keepText", 2 ** 31);
  const nextId = integer("nextId", MAX_ID + 1);
  const nextDefaultKey = integer("nextDefaultKey", Number.MAX_SAFE_INTEGER);
  const count = integer("count", nextId);

  const ids = new Uint32Array(count);
  const keys: TextKey[] = new Array(count);
  const texts: string[] | undefined = keepText > 0 ? new Array(count) : undefined;
  const seen = new Set<TextKey>();
  for (let i = 0; i < count; i++) {
    const entry = next();
    const line = lineNumber;
    const width = texts === undefined ? 2 : 3;
    if (!Array.isArray(entry) || entry.length !== width) fail(line, `expected [id, key${texts === undefined ? "" : ", text"}]`);
    const [id, key, text] = entry as [unknown, unknown, unknown];
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= nextId) fail(line, `id ${JSON.stringify(id)} is not an integer below nextId ${nextId}`);
    if (i > 0 && (id as number) <= ids[i - 1]) fail(line, `id ${id} does not follow ${ids[i - 1]} (ids must ascend)`);
    if (typeof key !== "string" && !(typeof key === "number" && Number.isSafeInteger(key))) fail(line, `key ${JSON.stringify(key)} is not a string or safe integer`);
    if (seen.has(key as TextKey)) fail(line, `key ${JSON.stringify(key)} appears twice`);
    if (texts !== undefined && typeof text !== "string") fail(line, `text ${JSON.stringify(text)} is not a string`);
    seen.add(key as TextKey);
    ids[i] = id as number;
    keys[i] = key as TextKey;
    if (texts !== undefined) texts[i] = text as string;
  }
  if (at !== bytes.length) fail(lineNumber + 1, `${bytes.length - at} bytes after the ${count} entries the header declares`);
  return { embedder, keepText, nextId, nextDefaultKey, ids, keys, texts };
}

function checkEmbedderRecord(value: unknown, fail: (problem: string) => never): EmbedderRecord {
  if (typeof value !== "object" || value === null) return fail("missing");
  const record = value as Record<string, unknown>;
  const { model, dims, pooling, normalize, prefixes, matryoshka } = record;
  if (typeof model !== "string") fail(`model is ${JSON.stringify(model)}, expected a string`);
  if (typeof dims !== "number" || !Number.isInteger(dims) || dims < 1) fail(`dims is ${JSON.stringify(dims)}, expected a positive integer`);
  if (pooling !== null && typeof pooling !== "string") fail(`pooling is ${JSON.stringify(pooling)}, expected a string or null`);
  if (normalize !== null && typeof normalize !== "boolean") fail(`normalize is ${JSON.stringify(normalize)}, expected true, false or null`);
  const p = prefixes as Record<string, unknown> | null;
  if (p !== null && (typeof p !== "object" || typeof p.query !== "string" || typeof p.document !== "string")) {
    fail(`prefixes is ${JSON.stringify(prefixes)}, expected { query, document } strings or null`);
  }
  const m = matryoshka as Record<string, unknown> | null;
  if (m !== null && (typeof m !== "object" || !Number.isInteger(m.dims) || (m.dims as number) < 1 || typeof m.layerNorm !== "boolean")) {
    fail(`matryoshka is ${JSON.stringify(matryoshka)}, expected { dims, layerNorm } or null`);
  }
  return {
    model: model as string, dims: dims as number, pooling: pooling as string | null, normalize: normalize as boolean | null,
    prefixes: p && { query: p.query as string, document: p.document as string },
    matryoshka: m && { dims: m.dims as number, layerNorm: m.layerNorm as boolean },
  };
}
