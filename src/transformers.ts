// quantvec/transformers: texts to quantvec matrices through a transformers.js feature-extraction
// pipeline. transformers.js is an optional peer, imported only when a model is loaded here, so
// the core stays free of dependencies; nothing in this file's types refers to it.

import type { Matrix } from "./embeddings.js";
import { checkChoice, describe } from "./errors.js";
import { type OptionKeys, readOptions } from "./options.js";
import type { TextEmbedder } from "./text-index.js";

/** How token vectors become one vector per text (as transformers.js names them). */
export type Pooling = "mean" | "cls" | "last_token";

/** Options of {@link transformersEmbedder}. */
export interface TransformersEmbedderOptions {
  /** Token pooling; default "mean" (the attention mask's sum divides, so padding is ignored). */
  pooling?: Pooling;
  /** L2-normalize each vector (after Matryoshka truncation); default true. */
  normalize?: boolean;
  /** Weights to load, e.g. "fp32", "q8" (transformers.js `dtype`); ignored for a ready pipeline. */
  dtype?: string;
  /** Where to run, e.g. "cpu", "wasm", "webgpu" (transformers.js `device`); ignored for a ready pipeline. */
  device?: string;
  /** Texts per pipeline call; default 32. */
  batchSize?: number;
  /** Prepended to queries and documents: e5 uses "query: " / "passage: ", nomic "search_query: " / "search_document: ". */
  prefixes?: { query?: string; document?: string };
  /**
   * Keep the first `dims` dimensions of an MRL-trained model's vectors. With `layerNorm` (default
   * true: nomic-embed-text-v1.5's recipe) the pooled vector is layer-normalized over all its
   * dimensions first; the cut vector is then L2-normalized when `normalize` is on.
   */
  matryoshka?: { dims: number; layerNorm?: boolean };
}

/** The part of a transformers.js `Tensor` this adapter reads. */
export interface TensorLike {
  readonly data: ArrayLike<number>;
  readonly dims: readonly number[];
}

/** A ready transformers.js `feature-extraction` pipeline (what `pipeline("feature-extraction", …)` returns). */
export type FeatureExtractionPipeline = ((
  texts: string[],
  options: { pooling: Pooling; normalize: boolean },
) => Promise<TensorLike>) & {
  readonly task?: string;
  readonly model?: { config?: { _name_or_path?: string }; sessions?: Record<string, { outputNames?: readonly string[] }> };
};

/** A {@link TextEmbedder} over transformers.js, with the settings that shape its vectors. */
export interface TransformersEmbedder extends TextEmbedder {
  readonly pooling: Pooling;
  readonly normalize: boolean;
  readonly prefixes: { query: string; document: string };
  readonly matryoshka: { dims: number; layerNorm: boolean } | undefined;
  /** The pipeline underneath. */
  readonly pipeline: FeatureExtractionPipeline;
}

const CALLER = "transformersEmbedder";
const POOLINGS: readonly Pooling[] = ["mean", "cls", "last_token"];
/** The outputs transformers.js' feature-extraction pipeline pools, in the order it looks for them. */
const HIDDEN_STATE_OUTPUTS = ["last_hidden_state", "logits", "token_embeddings"];
const DEFAULT_BATCH = 32;
const OPTION_KEYS: OptionKeys<TransformersEmbedderOptions> = {
  pooling: true, normalize: true, dtype: true, device: true, batchSize: true, prefixes: true, matryoshka: true,
};
const LAYER_NORM_EPSILON = 1e-5; // torch.nn.functional.layer_norm's default, as nomic uses it

/** A local folder rather than a model id: an absolute or ./relative path, or a file: URL. */
function isLocalPath(model: string): boolean {
  return /^(\/|\.\.?[/\\]|file:|[A-Za-z]:[/\\])/.test(model);
}

/** Node's built-in modules without an import statement, so bundlers for browsers leave them alone. */
function nodeBuiltin<T>(name: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.(name) as T | undefined;
}

/** In Node: the folder as an absolute path, checked to hold a model. Elsewhere: as given (a URL path). */
function localFolder(model: string | URL): string {
  const path = nodeBuiltin<{ resolve(...parts: string[]): string; join(...parts: string[]): string }>("node:path");
  const url = nodeBuiltin<{ fileURLToPath(url: string | URL): string }>("node:url");
  const fs = nodeBuiltin<{ existsSync(path: string): boolean; statSync(path: string): { isDirectory(): boolean } }>("node:fs");
  if (path === undefined || url === undefined || fs === undefined) return String(model);
  const folder = path.resolve(typeof model !== "string" || model.startsWith("file:") ? url.fileURLToPath(model) : model);
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
    throw new Error(`${CALLER}: model folder ${describe(String(model))} does not exist (resolved to ${folder})`);
  }
  for (const file of ["config.json", "tokenizer.json"]) {
    if (!fs.existsSync(path.join(folder, file))) {
      throw new Error(`${CALLER}: model folder ${describe(String(model))} has no ${file}; expected a transformers.js model folder (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx)`);
    }
  }
  return folder;
}

async function loadPipeline(model: string | URL, options: TransformersEmbedderOptions): Promise<FeatureExtractionPipeline> {
  const local = typeof model !== "string" || isLocalPath(model);
  const source = local ? localFolder(model) : (model as string);
  let transformers: { pipeline(task: string, model: string, options: object): Promise<unknown> };
  try {
    // A literal specifier, so bundlers (Vite, webpack) resolve it for browsers; the cast keeps the
    // peer's types out of this file's declarations.
    transformers = (await import("@huggingface/transformers")) as unknown as typeof transformers;
  } catch (error) {
    throw new Error(`${CALLER}: loading a model needs the optional peer @huggingface/transformers (npm install @huggingface/transformers): ${(error as Error).message}`, { cause: error });
  }
  try {
    const loaded = await transformers.pipeline("feature-extraction", source, {
      ...(options.dtype !== undefined && { dtype: options.dtype }),
      ...(options.device !== undefined && { device: options.device }),
      ...(local && { local_files_only: true }),
    });
    return loaded as FeatureExtractionPipeline;
  } catch (error) {
    throw new Error(`${CALLER}: could not load model ${describe(String(model))}: ${(error as Error).message}`, { cause: error });
  }
}

/** Layer norm without affine parameters over each row of `data` (rows × cols), in place. */
function layerNormRows(data: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(r * cols, (r + 1) * cols);
    let mean = 0;
    for (let i = 0; i < cols; i++) mean += row[i];
    mean /= cols;
    let variance = 0;
    for (let i = 0; i < cols; i++) variance += (row[i] - mean) ** 2;
    const scale = 1 / Math.sqrt(variance / cols + LAYER_NORM_EPSILON);
    for (let i = 0; i < cols; i++) row[i] = (row[i] - mean) * scale;
  }
}

/** The first `keep` columns of each row, L2-normalized when asked. */
function finishRows(data: Float32Array, rows: number, cols: number, keep: number, normalize: boolean): Float32Array {
  const out = new Float32Array(rows * keep);
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(r * cols, r * cols + keep);
    let norm = 1;
    if (normalize) {
      let sum = 0;
      for (let i = 0; i < keep; i++) sum += row[i] * row[i];
      norm = Math.sqrt(sum) || 1;
    }
    for (let i = 0; i < keep; i++) out[r * keep + i] = row[i] / norm;
  }
  return out;
}

function checkOptions(options: unknown): Required<Pick<TransformersEmbedderOptions, "pooling" | "normalize" | "batchSize">> & {
  prefixes: { query: string; document: string };
  matryoshka: { dims: number; layerNorm: boolean } | undefined;
} {
  const { pooling = "mean", normalize = true, batchSize = DEFAULT_BATCH, prefixes = {}, matryoshka } = readOptions<TransformersEmbedderOptions>(
    CALLER, options, OPTION_KEYS, "an object like { pooling: \"mean\", normalize: true }");
  checkChoice(CALLER, "options.pooling", pooling, POOLINGS);
  if (typeof normalize !== "boolean") throw new TypeError(`${CALLER}: options.normalize is ${describe(normalize)}; expected true or false`);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`${CALLER}: options.batchSize is ${describe(batchSize)}; expected a positive integer`);
  }
  if (typeof prefixes !== "object" || prefixes === null) throw new TypeError(`${CALLER}: options.prefixes is ${describe(prefixes)}; expected { query?, document? }`);
  const { query = "", document = "" } = prefixes;
  for (const [name, value] of [["query", query], ["document", document]] as const) {
    if (typeof value !== "string") throw new TypeError(`${CALLER}: options.prefixes.${name} is ${describe(value)}; expected a string`);
  }
  let mrl: { dims: number; layerNorm: boolean } | undefined;
  if (matryoshka !== undefined) {
    if (typeof matryoshka !== "object" || matryoshka === null) {
      throw new TypeError(`${CALLER}: options.matryoshka is ${describe(matryoshka)}; expected { dims, layerNorm? }`);
    }
    const { dims, layerNorm = true } = matryoshka;
    if (!Number.isInteger(dims) || dims < 1) throw new RangeError(`${CALLER}: options.matryoshka.dims is ${describe(dims)}; expected a positive integer`);
    if (typeof layerNorm !== "boolean") throw new TypeError(`${CALLER}: options.matryoshka.layerNorm is ${describe(layerNorm)}; expected true or false`);
    mrl = { dims, layerNorm };
  }
  return { pooling, normalize, batchSize, prefixes: Object.freeze({ query, document }), matryoshka: mrl && Object.freeze(mrl) };
}

/**
 * An embedder over a transformers.js feature-extraction pipeline, for {@link TextIndex} or for
 * `Index.add` / `Index.search` directly.
 *
 * Loads `model` (a model id, a local folder given as an absolute or `./`relative path or a
 * `file:` URL, or a ready pipeline), embeds one probe text to learn the vector length, and
 * returns `{ model, dims, embedDocuments(texts), embedQuery(text) }` giving `{ data, rows, cols }`
 * float32 matrices. `@huggingface/transformers` (^3.8 or ^4) must be installed; it is imported
 * only here. Local folders load with `local_files_only`, never from the network; in a browser,
 * set transformers.js' `env.allowLocalModels = true` to load a folder from your own server.
 *
 * @param model a model id ("Xenova/all-MiniLM-L6-v2"), a local folder, or a pipeline.
 * @param options pooling, normalize, dtype, device, batchSize, prefixes, matryoshka.
 * @returns a promise of the embedder.
 * @throws (as a rejection) TypeError/RangeError for bad options, a pipeline of another task or
 *   Matryoshka dims larger than the model's; Error for a missing model folder, a model that
 *   cannot be loaded, one without a `last_hidden_state` output, or a missing transformers.js.
 * @example
 * import { TextIndex } from "quantvec";
 * import { transformersEmbedder } from "quantvec/transformers";
 * const embedder = await transformersEmbedder("nomic-ai/nomic-embed-text-v1.5", {
 *   prefixes: { query: "search_query: ", document: "search_document: " },
 *   matryoshka: { dims: 256 },
 * });
 * const { data, rows, cols } = await embedder.embedDocuments(["first text", "second text"]); // 2 × 256
 */
export async function transformersEmbedder(
  model: string | URL | FeatureExtractionPipeline,
  options: TransformersEmbedderOptions = {},
): Promise<TransformersEmbedder> {
  const settings = checkOptions(options);
  let pipe: FeatureExtractionPipeline;
  let name: string;
  if (typeof model === "function") {
    if (model.task !== undefined && model.task !== "feature-extraction") {
      throw new TypeError(`${CALLER}: model is a "${model.task}" pipeline; expected a "feature-extraction" pipeline`);
    }
    pipe = model;
    name = model.model?.config?._name_or_path ?? "feature-extraction pipeline";
  } else if ((typeof model === "string" && model.trim() !== "") || model instanceof URL) {
    pipe = await loadPipeline(model, options);
    name = String(model);
  } else {
    throw new TypeError(`${CALLER}: model is ${describe(model)}; expected a model id, a local folder or a feature-extraction pipeline`);
  }

  const outputs = pipe.model?.sessions?.model?.outputNames;
  if (outputs !== undefined && !outputs.some((output) => HIDDEN_STATE_OUTPUTS.includes(output))) {
    throw new Error(
      `${CALLER}: model ${describe(name)} has no last_hidden_state output (its outputs: ${outputs.join(", ")}); ` +
        `expected a model exported for feature extraction (last_hidden_state, logits or token_embeddings)`,
    );
  }

  const { pooling, normalize, batchSize, prefixes, matryoshka } = settings;
  let fullDims = 0;

  /** Pipeline output for `texts` as rows of the model's full width. */
  const run = async (texts: string[], caller: string): Promise<Float32Array> => {
    let tensor: TensorLike;
    try {
      tensor = await pipe(texts, { pooling, normalize: false });
    } catch (error) {
      throw new Error(`${caller}: the pipeline of ${describe(name)} failed: ${(error as Error).message}`, { cause: error });
    }
    const dims = tensor?.dims;
    if (!Array.isArray(dims) || dims.length !== 2 || dims[0] !== texts.length) {
      throw new Error(`${caller}: the pipeline of ${describe(name)} returned dims ${describe(dims)}; expected [${texts.length}, d] (pooled vectors)`);
    }
    if (fullDims !== 0 && dims[1] !== fullDims) {
      throw new RangeError(`${caller}: the pipeline of ${describe(name)} returned vectors of ${dims[1]} values, expected ${fullDims}`);
    }
    const data = Float32Array.from(tensor.data);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        const row = Math.floor(i / dims[1]);
        throw new RangeError(`${caller}: the model returned ${data[i]} for text ${describe(texts[row])}; a model must give finite values`);
      }
    }
    return data;
  };

  const embed = async (texts: readonly string[], prefix: string, caller: string, name: string): Promise<Matrix> => {
    if (!Array.isArray(texts)) throw new TypeError(`${caller}: ${name} is ${describe(texts)}; expected an array of strings`);
    texts.forEach((text, i) => {
      if (typeof text !== "string") throw new TypeError(`${caller}: ${name}[${i}] is ${describe(text)}; expected a string`);
      if (text.trim() === "") throw new RangeError(`${caller}: ${name}[${i}] is ${describe(text)}; texts must not be empty or blank`);
    });
    const keep = matryoshka?.dims ?? fullDims;
    const out = new Float32Array(texts.length * keep);
    for (let start = 0; start < texts.length; start += batchSize) {
      const batch = texts.slice(start, start + batchSize).map((text) => prefix + text);
      const data = await run(batch, caller);
      if (matryoshka?.layerNorm) layerNormRows(data, batch.length, fullDims);
      out.set(finishRows(data, batch.length, fullDims, keep, normalize), start * keep);
    }
    return { data: out, rows: texts.length, cols: keep };
  };

  fullDims = (await run([`${prefixes.document}quantvec`], CALLER)).length;
  if (matryoshka !== undefined && matryoshka.dims > fullDims) {
    throw new RangeError(`${CALLER}: options.matryoshka.dims is ${matryoshka.dims}, more than the model's ${fullDims} dimensions`);
  }

  return {
    model: name,
    dims: matryoshka?.dims ?? fullDims,
    pooling,
    normalize,
    prefixes,
    matryoshka,
    pipeline: pipe,
    embedDocuments: (texts) => embed(texts, prefixes.document, "embedDocuments", "texts"),
    embedQuery: async (text) => {
      if (typeof text !== "string") throw new TypeError(`embedQuery: text is ${describe(text)}; expected a string`);
      if (text.trim() === "") throw new RangeError(`embedQuery: text is ${describe(text)}; a query must not be empty or blank`);
      return embed([text], prefixes.query, "embedQuery", "text");
    },
  };
}
