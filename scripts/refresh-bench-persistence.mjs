// Adds the persistence suite (index.save and Index.load of 1M × 1024-d binary → int8 vectors
// against copying the same file, interleaved) to bench/latest without rerunning the whole full
// bench: reads bench/latest/results.json, measures the suite now with the same seed, and
// regenerates BENCHMARKS.md and the plots from the merged results. Run after `npm run build`:
//   node scripts/refresh-bench-persistence.mjs [bench/latest] [--vectors N] [--rounds R] [--dir FOLDER]
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { persistenceSuite } from "../dist/cli/persistence-bench.js";
import { Progress } from "../dist/cli/progress.js";
import { writeReport } from "../dist/cli/report.js";
import { ready } from "../dist/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { vectors: { type: "string", default: "1000000" }, rounds: { type: "string", default: "5" }, dir: { type: "string" } },
});
const dir = positionals[0] ?? "bench/latest";
const results = JSON.parse(await readFile(join(dir, "results.json"), "utf8"));
await ready();
const progress = new Progress();
results.persistence = await persistenceSuite(Number(values.vectors), results.meta.seed, Number(values.rounds), progress, values.dir);
const note = `${new Date().toISOString()}: persistence suite (scripts/refresh-bench-persistence.mjs, Node ${process.version})`;
results.meta.refreshed = results.meta.refreshed ? `${results.meta.refreshed}; ${note}` : note;
progress.clear();
const files = await writeReport(results, dir);
console.log(`wrote ${Object.values(files).filter(Boolean).join(", ")}`);
