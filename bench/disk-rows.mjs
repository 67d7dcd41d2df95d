// Rows read on demand from a container on disk (what `rescoreFrom: "disk"` will do): per query,
// `--rows` random rows of `--row-bytes` bytes, read with readRows (covering blocks only, sorted,
// consecutive blocks merged, all reads in flight together, every block verified), for several
// checksum block sizes; against gathering the same rows from memory. Page cache warm.
//
//   npm run build && node bench/disk-rows.mjs [--mib 1024] [--row-bytes 1024] [--rows 160] [--queries 300]

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir, cpus } from "node:os";
import { parseArgs } from "node:util";
import { ready } from "../dist/wasm.js";
import { openContainer, writeContainer } from "../dist/file/container.js";

const { values } = parseArgs({ options: {
  mib: { type: "string", default: "1024" }, "row-bytes": { type: "string", default: "1024" },
  rows: { type: "string", default: "160" }, queries: { type: "string", default: "300" },
} });
const SIZE = Number(values.mib) * 1024 * 1024;
const ROW = Number(values["row-bytes"]);
const ROWS = Number(values.rows);
const QUERIES = Number(values.queries);
const COUNT = Math.floor(SIZE / ROW);
await ready();

const data = new Uint8Array(COUNT * ROW);
for (let i = 0; i < data.length; i += 4096) data[i] = (i * 2654435761) >>> 24;
let seed = 12345;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const queries = Array.from({ length: QUERIES }, () => Uint32Array.from({ length: ROWS }, () => Math.floor(random() * COUNT)));

const BLOCKS = [4096, 16384, 65536];
const files = {};
for (const block of BLOCKS) {
  files[block] = join(tmpdir(), `quantvec-rows-${process.pid}-${block}.qv`);
  await writeContainer(files[block], [{ tag: "RESC", byteLength: data.length, chunks: [data], blockBytes: block }]);
}
const readers = Object.fromEntries(await Promise.all(BLOCKS.map(async (b) => [b, await openContainer(files[b])])));
const out = new Uint8Array(ROWS * ROW);

// Same answer first.
for (const block of BLOCKS) {
  const got = await readers[block].readRows("RESC", ROW, queries[0]);
  queries[0].forEach((row, i) => {
    if (got[i * ROW] !== data[row * ROW]) throw new Error(`block ${block}: row ${row} differs`);
  });
}

const contenders = {
  memory: async (rows) => rows.forEach((row, i) => out.set(data.subarray(row * ROW, (row + 1) * ROW), i * ROW)),
  ...Object.fromEntries(BLOCKS.map((b) => [`disk, ${b / 1024} KiB blocks`, (rows) => readers[b].readRows("RESC", ROW, rows, out)])),
};
const times = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
for (const rows of queries) {
  for (const [name, run] of Object.entries(contenders)) {
    const start = performance.now();
    await run(rows);
    times[name].push(performance.now() - start);
  }
}
const pct = (list, p) => [...list].sort((a, b) => a - b)[Math.floor(list.length * p)];
console.log(`rows on demand: ${COUNT} rows × ${ROW} B (${(SIZE / 2 ** 20).toFixed(0)} MiB), ${ROWS} random rows per query, ${QUERIES} queries interleaved, page cache warm; Node ${process.version}, ${cpus()[0].model} × ${cpus().length}; ${new Date().toISOString()}`);
console.log("| contender | p50 ms | p90 ms | bytes read per query |\n|---|---|---|---|");
for (const [name, list] of Object.entries(times)) {
  const block = Number(name.match(/(\d+) KiB/)?.[1] ?? 0) * 1024;
  const bytes = block === 0 ? ROWS * ROW : `≤ ${ROWS * Math.ceil(ROW / block + 1) * block}`;
  console.log(`| ${name} | ${pct(list, 0.5).toFixed(3)} | ${pct(list, 0.9).toFixed(3)} | ${bytes} |`);
}
for (const reader of Object.values(readers)) await reader.close();
for (const path of Object.values(files)) await rm(path, { force: true });
