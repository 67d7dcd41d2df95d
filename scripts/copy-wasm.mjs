// Copies the compiled kernels into the package as real .wasm files (dist/wasm/), beside the
// base64 copies in dist/generated/wasm.js: the "workerd" entry imports them as modules, and
// runtimes that refuse to compile bytes can import them through "quantvec/wasm/*".
//   node scripts/copy-wasm.mjs <out dir> module.wasm [module.wasm …]
import { copyFileSync, mkdirSync } from "node:fs";
import { basename, join } from "node:path";

const [outDir, ...inputs] = process.argv.slice(2);
if (!outDir || inputs.length === 0 || inputs.some((input) => !input.endsWith(".wasm"))) {
  console.error("usage: node scripts/copy-wasm.mjs <out dir> module.wasm [module.wasm ...]");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
for (const input of inputs) copyFileSync(input, join(outDir, basename(input)));
