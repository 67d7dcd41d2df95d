// The demo page: loads the texts, asks the worker to embed them, stores them in three TextIndexes
// (float32, int8, binary → int8) and searches all three for each query.

import { TextIndex } from "quantvec";

const K = 10;
const CONFIGS = [
  { label: "float32", precision: "float32" },
  { label: "int8", precision: "int8" },
  { label: "binary → int8", precision: "binary", rescore: "int8" },
];
const SHOWN = CONFIGS[2];
const params = new URLSearchParams(location.search);
const base = new URL(".", location.href);
// Offline, the fixture model built with the page; with a network, any model id (?model=Xenova/all-MiniLM-L6-v2).
const model = params.get("model") ?? new URL("models/fixture-model", base).pathname;

const $ = (selector) => document.querySelector(selector);
const status = (text) => { $("#status").textContent = text; };

// ---- the worker, behind a promise per request ----
const worker = new Worker(new URL("./embed-worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let nextRequest = 0;
worker.onmessage = ({ data }) => {
  if (data.progress) return status(`Embedding the texts in a Web Worker… ${data.progress.done} / ${data.progress.total}`);
  const request = pending.get(data.id);
  pending.delete(data.id);
  if (data.error) request.reject(new Error(data.error));
  else request.resolve(data.result);
};
const ask = (type, payload) => new Promise((resolve, reject) => {
  const id = nextRequest++;
  pending.set(id, { resolve, reject });
  worker.postMessage({ id, type, payload });
});

/**
 * A TextIndex embedder whose work happens in the worker. The corpus is embedded once and its
 * rows handed to each of the three indexes; a query is embedded once for all three.
 */
function workerEmbedder(info, corpus, vectors) {
  const rowOf = new Map(corpus.map((text, row) => [text, row]));
  let lastQuery;
  return {
    model: info.model,
    dims: info.dims,
    async embedDocuments(texts) {
      const data = new Float32Array(texts.length * info.dims);
      texts.forEach((text, i) => data.set(vectors.subarray(rowOf.get(text) * info.dims, (rowOf.get(text) + 1) * info.dims), i * info.dims));
      return { data, rows: texts.length, cols: info.dims };
    },
    async embedQuery(text) {
      if (lastQuery?.text !== text) lastQuery = { text, matrix: await ask("query", text) };
      return lastQuery.matrix;
    },
  };
}

const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function start() {
  const records = await (await fetch(new URL("fiori.json", base))).json();
  const corpus = records.map((r) => r.text);
  status(`Loading the model ${model}…`);
  const info = await ask("load", { model, base: base.href });
  const documents = await ask("documents", corpus);
  const embedder = workerEmbedder(info, corpus, documents.data);
  const threads = self.crossOriginIsolated ? "auto" : 1;
  const indexes = [];
  for (const config of CONFIGS) {
    const { label, ...options } = config;
    const index = await TextIndex.create({ embedder, threads, ...options });
    await index.add(corpus, records.map((r) => r.key));
    indexes.push({ config, index });
  }
  const titleOf = new Map(records.map((r) => [r.key, r.title]));
  const first = indexes[0].index.index;
  $("#details").textContent =
    `${records.length} texts · model ${info.model} (${info.dims} dims) · ${first.threads} scan thread(s)` +
    (self.crossOriginIsolated ? " · cross-origin isolated" : " · not cross-origin isolated") +
    (first.threadingNote ? ` (${first.threadingNote})` : "") + ` · kernels: ${first.kernelPath}` +
    " · a search is split across threads only from 4 MB of codes, so these 778 texts are scanned on one";

  async function search(query) {
    const started = performance.now();
    await embedder.embedQuery(query);
    const embedMs = performance.now() - started;
    const runs = [];
    for (const { config, index } of indexes) {
      const times = [];
      let hits;
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        hits = await index.search(query, { k: K });
        times.push(performance.now() - t0);
      }
      runs.push({ config, hits, ms: median(times), bytes: index.index.bytesPerVector });
    }
    const exact = new Set(runs[0].hits.map((h) => h.key));
    const shown = runs.find((r) => r.config === SHOWN);
    $("#results").replaceChildren(...shown.hits.map((hit, rank) => {
      const li = document.createElement("li");
      li.dataset.key = hit.key;
      if (!exact.has(hit.key)) li.className = "missed-by-float32";
      li.innerHTML = `<span class="rank">${rank + 1}</span><span class="score">${hit.score.toFixed(3)}</span><span></span>`;
      li.lastChild.textContent = titleOf.get(hit.key);
      const key = document.createElement("span");
      key.className = "key";
      key.textContent = hit.key;
      li.lastChild.append(key);
      return li;
    }));
    $("#compare tbody").replaceChildren(...runs.map((run) => {
      const tr = document.createElement("tr");
      const overlap = run.hits.filter((h) => exact.has(h.key)).length;
      for (const cell of [run.config.label, `${overlap} / ${exact.size}`, String(run.bytes), run.ms.toFixed(3)]) {
        tr.append(Object.assign(document.createElement("td"), { textContent: cell }));
      }
      return tr;
    }));
    status(`“${query}”: query embedded in ${embedMs.toFixed(1)} ms; results from the binary → int8 index (an orange edge: not in float32's top ${K}).`);
    document.body.dataset.searched = query;
  }

  $("#search").addEventListener("submit", (event) => {
    event.preventDefault();
    const query = $("#query").value.trim();
    if (query) search(query).catch((error) => status(`Search failed: ${error.message}`));
  });
  for (const control of document.querySelectorAll("#search input, #search button")) control.disabled = false;
  status(`Ready: ${records.length} texts indexed. Type a query.`);
  document.body.dataset.ready = "true";
  if (params.get("q")) {
    $("#query").value = params.get("q");
    await search(params.get("q"));
  }
}

start().catch((error) => {
  status(`Failed: ${error.message}`);
  document.body.dataset.error = error.message;
});
