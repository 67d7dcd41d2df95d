#!/usr/bin/env node
// Builds the Fiori search demo into examples/fiori-search/dist (run `npm run build` first: the
// demo imports quantvec from the package's dist/). Everything it needs is generated here, offline:
// the fixture model (scripts/make-fixture-model.mjs), the Fiori texts from
// @sap-ux/fiori-docs-embeddings, and onnxruntime-web's WebAssembly files (transformers.js would
// otherwise fetch them from a CDN).

import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { fioriRecords, writeFixtureModel } from "../../scripts/make-fixture-model.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const PUBLIC = join(HERE, "build", "public");
const require = createRequire(import.meta.url);

rmSync(PUBLIC, { recursive: true, force: true });
mkdirSync(join(PUBLIC, "ort"), { recursive: true });
writeFixtureModel(join(PUBLIC, "models", "fixture-model"));

// The texts the page indexes: each record's id as key, its title, and the first 2000 characters
// of its content (the model reads 256 tokens; the package's own chunks are 2000 characters).
writeFileSync(join(PUBLIC, "fiori.json"), JSON.stringify(fioriRecords().map(({ id, title, content }) => ({ key: id, title, text: content.slice(0, 2000) }))));

// The onnxruntime-web that transformers.js resolves (its package exports no package.json: cut the entry's path).
const ortEntry = require.resolve("onnxruntime-web", { paths: [dirname(require.resolve("@huggingface/transformers"))] });
const ort = ortEntry.slice(0, ortEntry.lastIndexOf(`${"onnxruntime-web"}`) + "onnxruntime-web".length);
for (const file of ["ort-wasm-simd-threaded.asyncify.mjs", "ort-wasm-simd-threaded.asyncify.wasm"]) {
  copyFileSync(join(ort, "dist", file), join(PUBLIC, "ort", file));
}

await build({
  root: HERE,
  base: "./",
  publicDir: PUBLIC,
  logLevel: "warn",
  resolve: {
    alias: {
      "quantvec/transformers": join(ROOT, "dist", "transformers.js"),
      quantvec: join(ROOT, "dist", "index.js"),
    },
  },
  worker: { format: "es" },
  build: {
    outDir: join(HERE, "dist"),
    emptyOutDir: true,
    target: "es2022",
    // quantvec's scan workers are built from its functions' source text: keep it readable.
    minify: false,
    chunkSizeWarningLimit: 4096,
  },
});
console.log(`built ${join(HERE, "dist")}`);
