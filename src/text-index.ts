// Text in, keys out: an embedder turns texts into vectors, an Index stores and searches them,
// and a key map turns the caller's string or integer keys into the Index's integer ids.

import { type Matrix, toMatrix } from "./embeddings.js";
import { describe } from "./errors.js";
import { readOptions } from "./options.js";
import { Index, type IndexOptions, type SearchOptions } from "./vector-index.js";

/**
 * Anything that turns texts into vectors of a fixed length: `transformersEmbedder` from
 * `quantvec/transformers`, or your own (another model, a remote API).
 */
export interface TextEmbedder {
  /** What produced the vectors (a model id or folder); for messages and, later, index files. */
  readonly model: string;
  /** Length of every vector it returns. */
  readonly dims: number;
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
  private nextId = 0;
  private nextDefaultKey = 0;

  private constructor(embedder: TextEmbedder, index: Index) {
    this.embedder = embedder;
    this.index = index;
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
    const { embedder, ...indexOptions } = options;
    if (typeof embedder !== "object" || embedder === null ||
      typeof embedder.embedDocuments !== "function" || typeof embedder.embedQuery !== "function") {
      throw new TypeError(`${caller}: embedder is ${describe(embedder)}; expected { model, dims, embedDocuments(texts), embedQuery(text) }`);
    }
    if (!Number.isInteger(embedder.dims) || embedder.dims < 1) {
      throw new RangeError(`${caller}: embedder.dims is ${describe(embedder.dims)}; expected a positive integer`);
    }
    if ("dims" in indexOptions) {
      throw new TypeError(`${caller}: options.dims is not allowed; the index takes its dims from the embedder (${embedder.dims})`);
    }
    const index = await Index.create({ ...indexOptions, dims: embedder.dims });
    return new TextIndex(embedder, index);
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
    return Array.from(ids, (id, i) => ({ key: this.keyOfId.get(id)!, score: scores[i] }));
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
      this.keyOfId.delete(this.idOfKey.get(key)!);
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
