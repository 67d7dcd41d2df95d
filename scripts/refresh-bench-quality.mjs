// Refreshes the quality study and adds the rotation kernel suite in bench/latest without rerunning
// the whole full bench (which takes most of an hour on a shared 2-core machine): reads
// bench/latest/results.json, measures those two parts now with the same seed and query count,
// and regenerates BENCHMARKS.md and the plots from the merged results. Run after `npm run build`:
//   node scripts/refresh-bench-quality.mjs [bench/latest]
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadMiniLM, qualityOnMiniLM } from "../dist/cli/bench.js";
import { Progress } from "../dist/cli/progress.js";
import { writeReport } from "../dist/cli/report.js";
import { rotationSuite } from "../dist/cli/rotation-bench.js";
import { ready } from "../dist/index.js";

const dir = process.argv[2] ?? "bench/latest";
const results = JSON.parse(await readFile(join(dir, "results.json"), "utf8"));
await ready();
const progress = new Progress();
const seed = results.meta.seed;
const rotation = await rotationSuite(4096, 384, seed, results.meta.mode === "full" ? 2000 : 500);
results.kernels = [...results.kernels.filter((suite) => suite.kernel !== "rotation"), rotation];
const miniLM = loadMiniLM();
if (miniLM === null) throw new Error("@sap-ux/fiori-docs-embeddings is not installed");
results.quality = await qualityOnMiniLM(miniLM, results.meta.mode === "full" ? 200 : 150, seed, progress);
results.meta.refreshed = `${new Date().toISOString()}: quality study and rotation suite (scripts/refresh-bench-quality.mjs, Node ${process.version})`;
progress.clear();
const files = await writeReport(results, dir);
console.log(`wrote ${Object.values(files).filter(Boolean).join(", ")}`);
