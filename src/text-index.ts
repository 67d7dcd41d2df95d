// Text in, keys out: an embedder turns texts into vectors, an Index stores and searches them,
// and a key map turns the caller's string or integer keys into the Index's integer ids.

import { type Matrix, toMatrix } from "./embeddings.js";
import { describe } from "./errors.js";
import { type ContainerSource, FileFormatError, openContainer } from "./file/container.js";
import { decodeTextSection, type EmbedderRecord, encodeTextSection, TEXT_TAG, type TextSection } from "./file/text-section.js";
import { LOAD_OPTION_KEYS, readOptions } from "./options.js";
import { Index, type IndexOptions, type LoadOptions, type SearchOptions } from "./vector-index.js";
import { ready } from "./wasm.js";

export type { EmbedderRecord } from "./file/text-section.js";

/**
 * Anything that turns texts into vectors of a fixed length: `transformersEmbedder` from
 * `quantvec/transformers`, or your own (another model, a remote API).
 */
export interface TextEmbedder {
  /** What produced the vectors (a model id or folder); for messages, and recorded by `TextIndex.save`. */
  readonly model: string;
  /** Length of every vector it returns. */
  readonly dims: number;
  /** Token pooling, if the embedder has such a setting (`transformersEmbedder` does); recorded by `save`. */
  readonly pooling?: string;
  /** Whether vectors are L2-normalized, if the embedder says; recorded by `save`. */
  readonly normalize?: boolean;
  /** Query and document prefixes, if any; recorded by `save`. */
  readonly prefixes?: { readonly query: string; readonly document: string };
  /** Matryoshka settings, if any; recorded by `save`. */
  readonly matryoshka?: { readonly dims: number; readonly layerNorm: boolean };
  /** One row per text, in order. */
  embedDocuments(texts: readonly string[]): Promise<Matrix>;
  /** One row for the query (query-side prefixes, if any, applied). */
  embedQuery(text: string): Promise<Matrix>;
}

/** A document's key: a string or a safe integer. */
export type TextKey = string | number;

/** Options of {@link TextIndex.create}: the embedder and every Index option except `dims`. */
export interface TextIndexOptions extends Omit<IndexOptions, "dims"> {
  /** Turns texts into vectors; its `dims` becomes the index's. */
  embedder: TextEmbedder;
  /**
   * Characters kept of each text, returned by `search` as `text` and saved with the index (to
   * show results without the corpus at hand); default 0, none.
   */
  keepText?: number;
}

/** Options of {@link TextIndex.load}: the embedder to search with, and the Index's load options. */
export interface TextLoadOptions extends LoadOptions {
  /** Must be the embedder the index was built with (same model and settings, see {@link TextIndex.inspect}). */
  embedder: TextEmbedder;
}

/** What {@link TextIndex.inspect} reads from a saved text index without loading it. */
export interface TextIndexInfo {
  /** The embedder it was built with: pass one with these settings to {@link TextIndex.load}. */
  embedder: EmbedderRecord;
  /** Texts it holds. */
  size: number;
  /** Characters kept of each text (0: none). */
  keepText: number;
}

/** Options of {@link TextIndex.add}. */
export interface TextAddOptions {
  /** Called after each batch is embedded with the texts done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Texts per embedder call; default 64. */
  batchSize?: number;
}

/** Options of {@link TextIndex.search}: the Index's, with a filter over keys. */
export interface TextSearchOptions extends Omit<SearchOptions, "filter"> {
  /** Only these keys may be returned: an iterable of keys (unknown ones are ignored) or a predicate. */
  filter?: Iterable<TextKey> | ((key: TextKey) => boolean);
}

/** One result of {@link TextIndex.search}. */
export interface TextSearchHit {
  key: TextKey;
  /** The Index's score for this document (higher is better; see README "What a score means"). */
  score: number;
  /** The start of the text (its first `keepText` characters), when the index keeps it. */
  text?: string;
}

const DEFAULT_BATCH = 64;

/** Throws unless `text` is a non-blank string: a blank text has no meaning to embed. */
function checkText(caller: string, name: string, text: unknown): string {
  if (typeof text !== "string") throw new TypeError(`${caller}: ${name} is ${describe(text)}; expected a string`);
  if (text.trim() === "") throw new RangeError(`${caller}: ${name} is ${describe(text)}; texts must not be empty or blank`);
  return text;
}

function checkKey(caller: string, name: string, key: unknown): TextKey {
  if (typeof key === "string") return key;
  if (typeof key === "number" && Number.isSafeInteger(key)) return key;
  throw new TypeError(`${caller}: ${name} is ${describe(key)}; keys must be strings or safe integers`);
}

function checkIterable<T>(caller: string, name: string, value: Iterable<T>): Iterable<T> {
  if (typeof value === "string" || typeof (value as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] !== "function") {
    throw new TypeError(`${caller}: ${name} is ${describe(value)}; expected an array (or iterable) of keys, or a predicate`);
  }
  return value;
}

/** The embedder's output as a matrix of exactly `rows` × `dims`, or a RangeError naming the embedder. */
function checkEmbedded(caller: string, embedder: TextEmbedder, output: unknown, rows: number, dims: number): Matrix {
  const matrix = toMatrix(caller, output as Matrix, { name: `the embedder's output (${embedder.model})` });
  if (matrix.cols !== dims) {
    throw new RangeError(
      `${caller}: the embedder (${embedder.model}) returned vectors of ${matrix.cols} values, expected ${dims} ` +
        `(its dims when the index was created); an embedder must not change its dims`,
    );
  }
  if (matrix.rows !== rows) {
    throw new RangeError(`${caller}: the embedder (${embedder.model}) returned ${matrix.rows} rows for ${rows} texts`);
  }
  return matrix;
}

/**
 * A searchable collection of texts under string or integer keys: each text is embedded by the
 * embedder and stored in an {@link Index} with the precision you choose.
 *
 * @example
 * import { TextIndex } from "quantvec";
 * import { transformersEmbedder } from "quantvec/transformers";
 * const embedder = await transformersEmbedder("Xenova/all-MiniLM-L6-v2");
 * const texts = await TextIndex.create({ embedder, precision: "float32" });
 * await texts.add(["How to deploy to Cloud Foundry", "Filter bar basics"], ["deploy", "filter"]);
 * const hits = await texts.search("deployment", { k: 5 }); // [{ key: "deploy", score: 0.61 }, …]
 */
export class TextIndex {
  readonly embedder: TextEmbedder;
  /** The vector index underneath (ids are internal; use keys through this class). */
  readonly index: Index;
  // Keys to the Index's ids and back; ids are handed out in order and never reused.
  private readonly idOfKey = new Map<TextKey, number>();
  private readonly keyOfId = new Map<number, TextKey>();
  /** The kept start of each text, by id (keepText > 0). */
  private readonly textOfId = new Map<number, string>();
  private nextId = 0;
  private nextDefaultKey = 0;
  /** Characters kept of each text. */
  readonly keepText: number;

  private constructor(embedder: TextEmbedder, index: Index, keepText: number) {
    this.embedder = embedder;
    this.index = index;
    this.keepText = keepText;
  }

  /**
   * Creates an empty text index.
   *
   * @param options `embedder` plus every {@link IndexOptions} except `dims` (taken from the embedder).
   * @returns a promise of the index.
   * @throws TypeError/RangeError (as a rejection) for a missing or malformed embedder, or bad Index options.
   * @example
   * const texts = await TextIndex.create({ embedder, precision: "int8" });
   */
  static async create(options: TextIndexOptions): Promise<TextIndex> {
    const caller = "TextIndex.create";
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${caller}: options is ${describe(options)}; expected { embedder, precision, … }`);
    }
    const { embedder, keepText = 0, ...indexOptions } = options;
    checkEmbedder(caller, embedder);
    if (!Number.isSafeInteger(keepText) || keepText < 0) {
      throw new RangeError(`${caller}: options.keepText is ${describe(keepText)}; expected an integer ≥ 0 (characters kept of each text)`);
    }
    if ("dims" in indexOptions) {
      throw new TypeError(`${caller}: options.dims is not allowed; the index takes its dims from the embedder (${embedder.dims})`);
    }
    const index = await Index.create({ ...indexOptions, dims: embedder.dims });
    return new TextIndex(embedder, index, keepText);
  }

  /**
   * Reads what a saved text index records (its embedder's model and settings, its size) without
   * loading it: what `quantvec search` uses to load the right model.
   *
   * @param source as for {@link TextIndex.load}.
   * @returns a promise of `{ embedder, size, keepText }`.
   * @throws (as a rejection) FileFormatError for a file that is not a text index, or is damaged.
   * @example
   * const { embedder } = await TextIndex.inspect("docs.qv");
   * const loaded = await TextIndex.load("docs.qv", { embedder: await transformersEmbedder(embedder.model, { pooling: embedder.pooling }) });
   */
  static async inspect(source: ContainerSource): Promise<TextIndexInfo> {
    const { embedder, ids, keepText } = await readTextSection("TextIndex.inspect", source);
    return { embedder, size: ids.length, keepText };
  }

  /**
   * Loads a text index saved by {@link TextIndex.save}: the Index underneath (`Index.load`), and
   * the keys and kept texts. Refuses an embedder whose model or settings differ from the ones
   * the index was built with: its vectors would not match the stored ones.
   *
   * @param source a file path (Node), `Uint8Array`/`ArrayBuffer`, `Blob`/`File`, or `ReadableStream<Uint8Array>`.
   * @param options `embedder` (required), and `threads` and `rescoreFrom` as for `Index.load`.
   * @returns a promise of the text index.
   * @throws (as a rejection) TypeError for a missing or malformed embedder; Error naming every
   *   setting that differs for another embedder; FileFormatError for a file that is not a text
   *   index, is damaged, or whose keys and index disagree. Nothing stays loaded after a failure.
   * @example
   * const texts = await TextIndex.load("docs.qv", { embedder });
   */
  static async load(source: ContainerSource, options: TextLoadOptions): Promise<TextIndex> {
    const caller = "TextIndex.load";
    const { embedder, ...loadOptions } = readOptions<TextLoadOptions>(caller, options, { ...LOAD_OPTION_KEYS, embedder: true }, "an object like { embedder }");
    checkEmbedder(caller, embedder!);
    // A stream can be read once: one branch for the text section, one for the Index.
    let indexSource = source;
    if (typeof ReadableStream === "function" && source instanceof ReadableStream) [source, indexSource] = source.tee();
    const name = fileName(source);
    let section: TextSection;
    try {
      section = await readTextSection(caller, source);
      checkSameEmbedder(caller, name, section.embedder, embedder!);
    } catch (error) {
      if (indexSource !== source) await (indexSource as ReadableStream<Uint8Array>).cancel().catch(() => {});
      throw error;
    }
    const index = await Index.load(indexSource, loadOptions);
    const missing = section.ids.findIndex((id) => !index.has(id));
    const mismatch = index.dims !== section.embedder.dims ? `the index has ${index.dims} dims, the embedder that built it ${section.embedder.dims}`
      : index.size !== section.ids.length ? `the index holds ${index.size} vectors, the text section ${section.ids.length} keys`
      : missing >= 0 ? `the text section has id ${section.ids[missing]}, which the index does not hold`
      : undefined;
    if (mismatch !== undefined) {
      index.dispose();
      throw new FileFormatError(caller, name, `section "${TEXT_TAG}"`, `${mismatch}; the file's parts do not belong together`);
    }
    const texts = new TextIndex(embedder!, index, section.keepText);
    section.ids.forEach((id, i) => {
      texts.idOfKey.set(section.keys[i], id);
      texts.keyOfId.set(id, section.keys[i]);
      if (section.texts !== undefined) texts.textOfId.set(id, section.texts[i]);
    });
    texts.nextId = section.nextId;
    texts.nextDefaultKey = section.nextDefaultKey;
    return texts;
  }

  /**
   * Writes the index to a file or stream: the Index's file (`index.save`) with one more section
   * holding the keys, the kept texts and the embedder's model and settings. A path is written to a
   * temporary file and renamed, so it never holds a half-written file.
   *
   * @param target a file path (Node) or a `WritableStream<Uint8Array>`.
   * @returns a promise that resolves once the file is complete.
   * @throws (as a rejection) whatever `index.save` throws (I/O errors; the path is left as it was).
   * @example
   * await texts.save("docs.qv");
   * const again = await TextIndex.load("docs.qv", { embedder });
   */
  async save(target: string | WritableStream<Uint8Array>): Promise<void> {
    const ids = Uint32Array.from(this.keyOfId.keys()).sort();
    const section = encodeTextSection({
      embedder: embedderRecord(this.embedder), keepText: this.keepText, nextId: this.nextId, nextDefaultKey: this.nextDefaultKey,
      ids, keys: Array.from(ids, (id) => this.keyOfId.get(id)!),
      texts: this.keepText > 0 ? Array.from(ids, (id) => this.textOfId.get(id)!) : undefined,
    });
    await this.index.save(target, [section]);
  }

  /** How many texts the index holds. */
  get size(): number {
    return this.idOfKey.size;
  }

  /**
   * Whether a text is stored under `key` (strings and numbers differ: 1 is not "1").
   *
   * @param key a string or integer key.
   * @returns true when the index holds a text under `key`.
   * @example
   * if (!texts.has("intro")) await texts.add([introText], ["intro"]);
   */
  has(key: TextKey): boolean {
    return this.idOfKey.has(key);
  }

  /**
   * Embeds `texts` and adds them under `keys`. Every text is embedded before anything is added,
   * and all are added in one call: a failure anywhere leaves the index as it was.
   *
   * @param texts non-blank strings.
   * @param keys one string or safe integer per text, unique and not yet in the index; default
   *   consecutive integers from one past the largest integer key so far (0 in an empty index).
   * @param options `onProgress(done, total)` after each batch, `batchSize` (texts per embedder call).
   * @returns a promise of the keys added, in order.
   * @throws (as a rejection) TypeError/RangeError for a non-string or blank text, a bad or duplicate
   *   key, or an embedder that returns vectors of another length than its dims; whatever the
   *   embedder or the Index throws (e.g. int8 without ranges on a first add of under 100 texts).
   * @example
   * await texts.add(["first text", "second text"], ["a", "b"], { onProgress: (done, total) => console.log(done, total) });
   */
  async add(texts: readonly string[], keys?: readonly TextKey[], options: TextAddOptions = {}): Promise<TextKey[]> {
    const caller = "textIndex.add";
    if (!Array.isArray(texts)) throw new TypeError(`${caller}: texts is ${describe(texts)}; expected an array of strings`);
    if (texts.length === 0) throw new RangeError(`${caller}: texts is empty; at least one text is required`);
    texts.forEach((text, i) => checkText(caller, `texts[${i}]`, text));
    if (keys !== undefined) {
      if (!Array.isArray(keys)) throw new TypeError(`${caller}: keys is ${describe(keys)}; expected an array of strings or integers`);
      if (keys.length !== texts.length) {
        throw new RangeError(`${caller}: keys has ${keys.length} entries for ${texts.length} texts; expected one key per text`);
      }
    }
    const { onProgress, batchSize = DEFAULT_BATCH } = readOptions<TextAddOptions>(
      caller, options, { onProgress: true, batchSize: true }, "an object like { onProgress, batchSize }");
    if (onProgress !== undefined && typeof onProgress !== "function") {
      throw new TypeError(`${caller}: options.onProgress is ${describe(onProgress)}; expected a function`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`${caller}: options.batchSize is ${describe(batchSize)}; expected a positive integer`);
    }
    this.newKeys(caller, keys, texts.length); // fail before the (slow) embedding when keys are bad

    const dims = this.index.dims;
    const data = new Float32Array(texts.length * dims);
    for (let start = 0; start < texts.length; start += batchSize) {
      const batch = texts.slice(start, start + batchSize);
      const output = await this.embedder.embedDocuments(batch);
      data.set(checkEmbedded(caller, this.embedder, output, batch.length, dims).data, start * dims);
      onProgress?.(start + batch.length, texts.length);
    }

    // Checked again: another add may have taken a key while this one was embedding.
    const newKeys = this.newKeys(caller, keys, texts.length);
    const firstId = this.nextId;
    const ids = Uint32Array.from(newKeys, (_, i) => firstId + i);
    this.index.add({ data, rows: texts.length, cols: dims }, ids);
    this.nextId += newKeys.length;
    newKeys.forEach((key, i) => {
      this.idOfKey.set(key, firstId + i);
      this.keyOfId.set(firstId + i, key);
      if (this.keepText > 0) this.textOfId.set(firstId + i, textStart(texts[i], this.keepText));
      if (typeof key === "number" && key >= this.nextDefaultKey) this.nextDefaultKey = key + 1;
    });
    return newKeys;
  }

  /**
   * The `k` texts nearest to `text`, best first.
   *
   * @param text a non-blank query string (the embedder applies any query prefix).
   * @param options `k` (default 10) and `rescoreMultiplier`, as for {@link Index.search}; `filter`:
   *   the keys allowed (an iterable of keys, or a predicate called with each stored key).
   * @returns a promise of `[{ key, score }]`.
   * @throws (as a rejection) TypeError/RangeError for a non-string or blank text, bad options or
   *   filter, or an embedder whose query vector has another length than its dims.
   * @example
   * const hits = await texts.search("how do I deploy?", { k: 3, filter: (key) => String(key).startsWith("guide-") });
   */
  async search(text: string, options: TextSearchOptions = {}): Promise<TextSearchHit[]> {
    const caller = "textIndex.search";
    checkText(caller, "text", text);
    if (typeof options !== "object" || options === null) throw new TypeError(`${caller}: options is ${describe(options)}; expected { k, filter }`);
    const { filter, ...rest } = options;
    this.idFilter(caller, filter); // a bad filter fails before the query is embedded
    const query = checkEmbedded(caller, this.embedder, await this.embedder.embedQuery(text), 1, this.index.dims);
    const { ids, scores } = await this.index.search(query, { ...rest, filter: this.idFilter(caller, filter) });
    return Array.from(ids, (id, i) => {
      const hit: TextSearchHit = { key: this.keyOfId.get(id)!, score: scores[i] };
      if (this.keepText > 0) hit.text = this.textOfId.get(id);
      return hit;
    });
  }

  /**
   * Removes the texts stored under `keys`; keys the index does not hold are skipped.
   *
   * @param keys strings or safe integers: an array or any iterable.
   * @returns how many of the keys were in the index.
   * @throws TypeError for keys that are not an iterable of strings or safe integers (nothing is removed then).
   * @example
   * texts.remove(["intro", 42]);
   */
  remove(keys: Iterable<TextKey>): number {
    const caller = "textIndex.remove";
    const list = [...checkIterable(caller, "keys", keys)];
    list.forEach((key, i) => checkKey(caller, `keys[${i}]`, key));
    const present = [...new Set(list)].filter((key) => this.idOfKey.has(key));
    const removed = this.index.remove(present.map((key) => this.idOfKey.get(key)!));
    for (const key of present) {
      const id = this.idOfKey.get(key)!;
      this.keyOfId.delete(id);
      this.textOfId.delete(id);
      this.idOfKey.delete(key);
    }
    return removed;
  }

  /**
   * Frees the index's memory; later calls throw.
   *
   * @example
   * texts.dispose();
   */
  dispose(): void {
    this.index.dispose();
  }

  /** A key filter as an id filter for the Index. */
  private idFilter(caller: string, filter: TextSearchOptions["filter"]): Set<number> | ((id: number) => boolean) | undefined {
    if (filter === undefined) return undefined;
    if (typeof filter === "function") return (id: number) => filter(this.keyOfId.get(id)!);
    const ids = new Set<number>();
    for (const key of checkIterable(caller, "options.filter", filter)) {
      const id = this.idOfKey.get(key);
      if (id !== undefined) ids.add(id);
    }
    return ids;
  }

  /** The keys for `count` new texts, validated: given ones unique and unused, or the defaults. */
  private newKeys(caller: string, keys: readonly TextKey[] | undefined, count: number): TextKey[] {
    if (keys === undefined) return Array.from({ length: count }, (_, i) => this.nextDefaultKey + i);
    const seen = new Set<TextKey>();
    return keys.map((key, i) => {
      checkKey(caller, `keys[${i}]`, key);
      if (this.idOfKey.has(key)) throw new RangeError(`${caller}: keys[${i}] is ${describe(key)}, already in the index`);
      if (seen.has(key)) throw new RangeError(`${caller}: keys[${i}] is ${describe(key)}, given twice`);
      seen.add(key);
      return key;
    });
  }
}

function checkEmbedder(caller: string, embedder: TextEmbedder): void {
  if (typeof embedder !== "object" || embedder === null ||
    typeof embedder.embedDocuments !== "function" || typeof embedder.embedQuery !== "function") {
    throw new TypeError(`${caller}: embedder is ${describe(embedder)}; expected { model, dims, embedDocuments(texts), embedQuery(text) }`);
  }
  if (!Number.isInteger(embedder.dims) || embedder.dims < 1) {
    throw new RangeError(`${caller}: embedder.dims is ${describe(embedder.dims)}; expected a positive integer`);
  }
}

/** The first `length` characters of `text`, never ending inside a surrogate pair. */
function textStart(text: string, length: number): string {
  if (text.length <= length) return text;
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}

/** What the file records of an embedder: its model and the settings that shape its vectors. */
function embedderRecord(embedder: TextEmbedder): EmbedderRecord {
  const { model, dims, pooling, normalize, prefixes, matryoshka } = embedder;
  return {
    model: String(model), dims, pooling: pooling ?? null, normalize: normalize ?? null,
    prefixes: prefixes ? { query: prefixes.query, document: prefixes.document } : null,
    matryoshka: matryoshka ? { dims: matryoshka.dims, layerNorm: matryoshka.layerNorm } : null,
  };
}

/** Throws an Error naming every setting in which `embedder` differs from the file's record. */
function checkSameEmbedder(caller: string, file: string, saved: EmbedderRecord, embedder: TextEmbedder): void {
  const given = embedderRecord(embedder);
  const differences = (Object.keys(saved) as Array<keyof EmbedderRecord>)
    .filter((field) => JSON.stringify(saved[field]) !== JSON.stringify(given[field]))
    .map((field) => `${field} ${JSON.stringify(saved[field])} in the file, ${JSON.stringify(given[field])} given`);
  if (differences.length > 0) {
    throw new Error(
      `${caller}: ${JSON.stringify(file)} was built with another embedder (${differences.join("; ")}); ` +
        "its vectors would not match the stored ones: load it with the embedder it was built with (TextIndex.inspect tells which)",
    );
  }
}

/** How errors name a source. */
function fileName(source: ContainerSource): string {
  if (typeof source === "string") return source;
  if (typeof Blob === "function" && source instanceof Blob) return (source as File).name ?? "blob";
  return typeof ReadableStream === "function" && source instanceof ReadableStream ? "stream" : "bytes";
}

/** The TEXT section of a saved text index, checked; a plain Index file is refused with a hint. */
async function readTextSection(caller: string, source: ContainerSource): Promise<TextSection> {
  await ready(); // the checksums run in the WebAssembly module
  const file = await openContainer(source, { caller });
  try {
    if (file.section(TEXT_TAG) === undefined) {
      throw new FileFormatError(caller, file.name, `section "${TEXT_TAG}"`, "missing: this is not a text index (a plain Index file? load it with Index.load)");
    }
    return decodeTextSection(await file.read(TEXT_TAG), caller, file.name);
  } finally {
    await file.close();
  }
}
