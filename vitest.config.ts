import { defineConfig } from "vitest/config";

// QUANTVEC_TRANSFORMERS=/path/to/node_modules/@huggingface/transformers runs the text tests
// against another transformers.js install (CI runs the pinned devDependency, 4.x).
const transformers = process.env.QUANTVEC_TRANSFORMERS;

export default defineConfig({
  resolve: transformers ? { alias: { "@huggingface/transformers": `${transformers}/dist/transformers.node.mjs` } } : {},
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
