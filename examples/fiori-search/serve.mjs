#!/usr/bin/env node
// A tiny static server for the built demo. It sends Cross-Origin-Opener-Policy and
// Cross-Origin-Embedder-Policy, so the page is cross-origin isolated and quantvec may scan on
// several threads over shared memory.
//
//   node examples/fiori-search/serve.mjs [PORT]     (after build.mjs; default port 5173)

import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json",
  ".wasm": "application/wasm", ".onnx": "application/octet-stream", ".css": "text/css", ".png": "image/png",
};

/** Serves `root` on 127.0.0.1:`port` (0: any free port); resolves to { server, origin }. */
export function serve(root = join(dirname(fileURLToPath(import.meta.url)), "dist"), port = 0) {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return response.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!existsSync(file)) return response.writeHead(404).end();
    response.writeHead(200, {
      "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      "Cache-Control": "no-store",
    });
    response.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => {
    resolve({ server, origin: `http://127.0.0.1:${server.address().port}` });
  }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { origin } = await serve(undefined, Number(process.argv[2] ?? 5173));
  console.log(`Fiori search demo: ${origin}/  (add ?model=Xenova/all-MiniLM-L6-v2 to use a real model, with a network)`);
}
