// The demo's Web Worker: transformers.js and quantvec/transformers, so the page stays responsive
// while the model embeds. Requests: load { model, base } → { model, dims }; documents (texts) →
// { data, rows, cols } with progress messages; query (text) → { data, rows: 1, cols }.

import { env } from "@huggingface/transformers";
import { transformersEmbedder } from "quantvec/transformers";

let embedder;

async function load({ model, base }) {
  const local = model.startsWith("/");
  env.allowLocalModels = local; // a folder on this server
  env.allowRemoteModels = !local; // a model id from the hub, when there is a network
  env.useBrowserCache = !local;
  // onnxruntime-web's WebAssembly comes from this server, not from a CDN.
  env.backends.onnx.wasm.wasmPaths = {
    mjs: new URL("ort/ort-wasm-simd-threaded.asyncify.mjs", base).href,
    wasm: new URL("ort/ort-wasm-simd-threaded.asyncify.wasm", base).href,
  };
  env.backends.onnx.wasm.numThreads = 1;
  embedder = await transformersEmbedder(model, { dtype: local ? "fp32" : "q8", device: "wasm" });
  return { model: embedder.model, dims: embedder.dims };
}

async function documents(texts, id) {
  const batch = 64;
  const data = new Float32Array(texts.length * embedder.dims);
  for (let start = 0; start < texts.length; start += batch) {
    const rows = await embedder.embedDocuments(texts.slice(start, start + batch));
    data.set(rows.data, start * embedder.dims);
    self.postMessage({ id, progress: { done: Math.min(start + batch, texts.length), total: texts.length } });
  }
  return { data, rows: texts.length, cols: embedder.dims };
}

self.onmessage = async ({ data: { id, type, payload } }) => {
  try {
    const result = type === "load" ? await load(payload)
      : type === "documents" ? await documents(payload, id)
      : await embedder.embedQuery(payload);
    self.postMessage({ id, result }, result.data ? [result.data.buffer] : []);
  } catch (error) {
    self.postMessage({ id, error: String(error?.message ?? error) });
  }
};
