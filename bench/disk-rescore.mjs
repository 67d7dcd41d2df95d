// Rescoring from disk, measured. Two parts:
//
//   search  binary → int8 ×4 over --rows × --dims (default 1M × 1024): an index saved and loaded
//           back twice, with rescoreFrom "memory" and "disk" (page cache warm: the file was just
//           written, and every query runs once before timing). One query at a time, contenders interleaved A B, B A, …
//           (the order alternates each round), every answer compared first; p50/p90 and the
//           ratio of the p50s, with the spread of per-round ratios.
//   build   --build-rows × --dims (default 10M × 1024) added with rescoreTo in adds of 16,384:
//           build time, file size, memoryBytes and the process's resident memory against the
//           binary codes + ids alone, and search p50. With --minutes, adding stops after that
//           long (the rows built by then are measured, and the report says how many were asked for).
//
//   npm run build && node --expose-gc bench/disk-rescore.mjs [--part search|build|both|report] [--rows 1000000]
//       [--build-rows 10000000] [--minutes 600] [--dims 1024] [--queries 300] [--dir /tmp] [--note "…"]
//
// The corpus is synthetic (clustered: a centroid of 4,096 plus noise), generated in the adds'
// chunks so it never exists whole in memory. Results go to bench/latest/disk-rescore.json and, as
// a generated section, into bench/latest/BENCHMARKS.md (--part report only renders that section again).

import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Index, ready } from "../dist/index.js";

const { values } = parseArgs({ options: {
  part: { type: "string", default: "both" }, rows: { type: "string", default: "1000000" },
  "build-rows": { type: "string", default: "10000000" }, dims: { type: "string", default: "1024" },
  queries: { type: "string", default: "300" }, dir: { type: "string", default: "/tmp" },
  minutes: { type: "string", default: "600" }, note: { type: "string" },
} });
const DIMS = Number(values.dims);
const CHUNK = 16384;
const K = 10;
const MULTIPLIER = 4;
await ready();

// ---- data --------------------------------------------------------------------------------------

const CENTROIDS = 4096;
let state = 0x9e3779b9;
const uniform = () => {
  state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
  return (state >>> 0) / 2 ** 31 - 1;
};
const centroids = Float32Array.from({ length: CENTROIDS * DIMS }, uniform);
/** Rows `first … first + count − 1` of the corpus: deterministic by row number. */
function corpusRows(first, count) {
  const out = new Float32Array(count * DIMS);
  for (let r = 0; r < count; r++) {
    const row = first + r;
    state = (Math.imul(row, 0x85ebca6b) ^ 0x27d4eb2f) >>> 0 || 1;
    const c = (row % CENTROIDS) * DIMS;
    for (let d = 0; d < DIMS; d++) out[r * DIMS + d] = centroids[c + d] + 0.6 * uniform();
  }
  return out;
}
/** A query near a corpus row (so it has true neighbours). */
function queryNear(row) {
  const q = corpusRows(row, 1);
  for (let d = 0; d < DIMS; d++) q[d] += 0.2 * uniform();
  return q;
}

/** Adds rows 0 … rows − 1 in chunks, unless `stop()` says to stop first; returns how many were added. */
async function build(index, rows, onChunk, stop = () => false) {
  let at = 0;
  for (; at < rows && !stop(); at += CHUNK) {
    index.add(corpusRows(at, Math.min(CHUNK, rows - at)));
    onChunk?.(at);
  }
  return Math.min(at, rows);
}

const pct = (list, p) => [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor(list.length * p))];
const round = (x, digits = 3) => Number(x.toFixed(digits));
const mb = (bytes) => round(bytes / 1e6, 1);
const same = (a, b) => a.ids.join() === b.ids.join() && a.scores.join() === b.scores.join();

// ---- search: memory vs disk ----------------------------------------------------------------------

async function searchPart() {
  const rows = Number(values.rows);
  const file = join(values.dir, `quantvec-disk-bench-${process.pid}.qv`);
  const built = await Index.create({ dims: DIMS, precision: "binary", rescore: "int8" });
  await build(built, rows);
  await built.save(file);
  built.dispose();
  // Both contenders loaded from the same file, so their first-stage codes have the same layout in
  // memory (one piece per shard; an index built by adds holds them in segments between its int8
  // codes, which scanned up to 4× slower here) and only the rescoring differs.
  const memory = await Index.load(file);
  const disk = await Index.load(file, { rescoreFrom: "disk" });
  const queries = Array.from({ length: Number(values.queries) }, (_, i) => queryNear((i * 7919) % rows));
  // Same answers first (and the page cache warm: every query's rows are read once).
  for (const q of queries) {
    if (!same(await memory.search(q, { k: K }), await disk.search(q, { k: K }))) throw new Error("memory and disk answers differ");
  }
  const contenders = { memory, disk };
  const times = { memory: [], disk: [] };
  const ratios = [];
  for (let round = 0; round < 3; round++) {
    for (const [i, q] of queries.entries()) {
      const order = (i + round) % 2 === 0 ? ["memory", "disk"] : ["disk", "memory"];
      const t = {};
      for (const name of order) {
        const start = performance.now();
        await contenders[name].search(q, { k: K, rescoreMultiplier: MULTIPLIER });
        t[name] = performance.now() - start;
        times[name].push(t[name]);
      }
      ratios.push(t.disk / t.memory);
    }
  }
  const batch = { memory: [], disk: [] };
  const blocks = Array.from({ length: Math.floor(queries.length / 32) }, (_, b) => queries.slice(b * 32, b * 32 + 32));
  for (let round = 0; round < 2; round++) {
    for (const [i, block] of blocks.entries()) {
      for (const name of (i + round) % 2 === 0 ? ["memory", "disk"] : ["disk", "memory"]) {
        const start = performance.now();
        await contenders[name].searchBatch(block, { k: K, rescoreMultiplier: MULTIPLIER });
        batch[name].push(performance.now() - start);
      }
    }
  }
  const result = {
    rows, dims: DIMS, k: K, multiplier: MULTIPLIER, queries: queries.length, rounds: 3,
    memoryBytes: { memory: memory.memoryBytes, disk: disk.memoryBytes },
    fileBytes: (await stat(file)).size,
    single: Object.fromEntries(Object.entries(times).map(([name, list]) => [name, { p50: round(pct(list, 0.5)), p90: round(pct(list, 0.9)) }])),
    ratio: { p50: round(pct(times.disk, 0.5) / pct(times.memory, 0.5)), perQueryP10: round(pct(ratios, 0.1)), perQueryP50: round(pct(ratios, 0.5)), perQueryP90: round(pct(ratios, 0.9)) },
    batch32: Object.fromEntries(Object.entries(batch).map(([name, list]) => [name, { p50: round(pct(list, 0.5)) }])),
  };
  memory.dispose();
  disk.dispose();
  await rm(file, { force: true });
  return result;
}

// ---- build past RAM ----------------------------------------------------------------------------

async function buildPart() {
  const asked = Number(values["build-rows"]);
  const file = join(values.dir, `quantvec-build-bench-${process.pid}.rows`);
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const index = await Index.create({ dims: DIMS, precision: "binary", rescore: "int8", rescoreTo: file });
  const start = performance.now();
  let next = 0;
  const rows = await build(index, asked, (at) => {
    if (at >= next) {
      process.stderr.write(`  ${at.toLocaleString("en")} rows, ${((performance.now() - start) / 1000).toFixed(0)} s\n`);
      next += 1_000_000;
    }
  }, () => performance.now() - start > Number(values.minutes) * 60_000);
  const seconds = (performance.now() - start) / 1000;
  globalThis.gc?.();
  const rss = process.memoryUsage().rss;
  const queries = Array.from({ length: 60 }, (_, i) => queryNear((i * 104_729) % rows));
  for (const q of queries.slice(0, 10)) await index.search(q, { k: K });
  const times = [];
  for (const q of queries) {
    const t = performance.now();
    await index.search(q, { k: K, rescoreMultiplier: MULTIPLIER });
    times.push(performance.now() - t);
  }
  const codesAndIds = rows * (Math.ceil(DIMS / 8) + 4);
  const result = {
    rows, asked, dims: DIMS, seconds: round(seconds, 1), rowsPerSecond: Math.round(rows / seconds),
    fileBytes: (await stat(file)).size, memoryBytes: index.memoryBytes, rss, rssBefore, codesAndIds, shards: index.shards,
    memoryOverCodes: round(index.memoryBytes / codesAndIds), rssOverCodes: round(rss / codesAndIds),
    searchP50: round(pct(times, 0.5)), searchP90: round(pct(times, 0.9)),
  };
  index.dispose();
  await rm(file, { force: true });
  return result;
}

// ---- report ------------------------------------------------------------------------------------

const jsonPath = new URL("latest/disk-rescore.json", import.meta.url);
const header = `Node ${process.version}, ${cpus()[0].model} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, load average ${loadavg()[0].toFixed(1)} at the start; ${new Date().toISOString()}`;
const measured = {};
if (values.part === "search" || values.part === "both") measured.search = { header, ...(await searchPart()) };
if (values.part === "build" || values.part === "both") measured.build = { header, ...(await buildPart()) };
// Read only now: the other part may have been measured by another process meanwhile.
const saved = { ...(await readFile(jsonPath, "utf8").then(JSON.parse, () => ({}))), ...measured, ...(values.note && { note: values.note }) };
await writeFile(jsonPath, `${JSON.stringify(saved, null, 2)}\n`);

const lines = ["<!-- disk-rescore: generated by bench/disk-rescore.mjs from bench/latest/disk-rescore.json -->", "## Rescoring from disk", ""];
if (saved.note) lines.push(saved.note, "");
if (saved.search) {
  const s = saved.search;
  lines.push(
    `binary → int8 ×${s.multiplier}, k = ${s.k}, ${s.rows.toLocaleString("en")} × ${s.dims}-d (synthetic, clustered): one saved index loaded with \`rescoreFrom: "memory"\` and with`,
    `\`rescoreFrom: "disk"\` (4 KiB checksum blocks, synchronous preads, page cache warm), the same answers checked first; ${s.queries} queries × ${s.rounds} rounds, contenders interleaved. ${s.header}.`, "",
    "| | memory | disk | disk ÷ memory |", "|:---|---:|---:|---:|",
    `| search, one query, p50 (ms) | ${s.single.memory.p50} | ${s.single.disk.p50} | ${s.ratio.p50}× |`,
    `| search, one query, p90 (ms) | ${s.single.memory.p90} | ${s.single.disk.p90} | |`,
    `| per-query ratio p10 / p50 / p90 | | | ${s.ratio.perQueryP10} / ${s.ratio.perQueryP50} / ${s.ratio.perQueryP90} |`,
    `| searchBatch of 32, p50 (ms) | ${s.batch32.memory.p50} | ${s.batch32.disk.p50} | ${round(s.batch32.disk.p50 / s.batch32.memory.p50)}× |`,
    `| memoryBytes (MB) | ${mb(s.memoryBytes.memory)} | ${mb(s.memoryBytes.disk)} | ${round(s.memoryBytes.disk / s.memoryBytes.memory)}× |`,
    `| index file (MB) | | ${mb(s.fileBytes)} | |`, "",
  );
}
if (saved.build) {
  const b = saved.build;
  lines.push(
    `Building past RAM: ${b.rows.toLocaleString("en")} × ${b.dims}-d binary → int8 with \`rescoreTo\`, adds of ${CHUNK.toLocaleString("en")} (generating the synthetic rows included)` +
      `${b.rows < b.asked ? `; ${b.asked.toLocaleString("en")} were asked for, adding stopped at the time limit (--minutes)` : ""}. ${b.header}.`, "",
    "| Measure | Value |", "|:---|---:|",
    `| build time | ${b.seconds} s (${b.rowsPerSecond.toLocaleString("en")} rows/s) |`,
    `| int8 rows file | ${mb(b.fileBytes)} MB |`,
    `| binary codes + ids alone | ${mb(b.codesAndIds)} MB |`,
    `| memoryBytes | ${mb(b.memoryBytes)} MB (${b.memoryOverCodes}× codes + ids) |`,
    `| process resident memory (RSS, after gc) | ${mb(b.rss)} MB (${b.rssOverCodes}× codes + ids; ${mb(b.rssBefore)} MB before the index) |`,
    `| shards | ${b.shards} |`,
    `| search, one query, p50 / p90 | ${b.searchP50} / ${b.searchP90} ms |`, "",
  );
}
lines.push("<!-- /disk-rescore -->");
const mdPath = new URL("latest/BENCHMARKS.md", import.meta.url);
const md = await readFile(mdPath, "utf8");
const section = lines.join("\n");
const marked = /<!-- disk-rescore:[^]*?<!-- \/disk-rescore -->/;
await writeFile(mdPath, marked.test(md) ? md.replace(marked, section) : `${md.trimEnd()}\n\n${section}\n`);
console.log(section);
