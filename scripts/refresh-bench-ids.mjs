// Adds the ids suite (filters, removal, compaction, upserts over 1M codes) and the scale suite
// (40M 1024-bit codes in several shards) to bench/latest without rerunning the whole full bench:
// reads bench/latest/results.json, measures those two parts now with the same seed, and
// regenerates BENCHMARKS.md and the plots from the merged results. Run after `npm run build`:
//   node --expose-gc scripts/refresh-bench-ids.mjs [bench/latest]
import { readFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { idsSuite, SCALE_VECTORS, scaleSuite } from "../dist/cli/bench.js";
import { Progress } from "../dist/cli/progress.js";
import { writeReport } from "../dist/cli/report.js";
import { ready } from "../dist/index.js";

const dir = process.argv[2] ?? "bench/latest";
const results = JSON.parse(await readFile(join(dir, "results.json"), "utf8"));
await ready();
const machine = `${os.cpus()[0]?.model ?? "unknown CPU"} × ${os.availableParallelism()}, load average ${os.loadavg()[0].toFixed(1)} at the start`;
const progress = new Progress();
const seed = results.meta.seed;
const timeMs = results.meta.mode === "full" ? 2000 : 500;
results.ids = await idsSuite(1_000_000, seed, timeMs, progress);
results.scale = await scaleSuite(SCALE_VECTORS, seed, timeMs, progress);
const note = `${new Date().toISOString()}: ids and scale suites (scripts/refresh-bench-ids.mjs, Node ${process.version}, ${machine})`;
results.meta.refreshed = results.meta.refreshed ? `${results.meta.refreshed}; ${note}` : note;
progress.clear();
const files = await writeReport(results, dir);
console.log(`wrote ${Object.values(files).filter(Boolean).join(", ")}`);
