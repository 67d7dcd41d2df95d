// Rescoring from disk with a cold page cache: 1M × 1024-d binary → int8 ×4, one saved index
// loaded into memory and with rescoreFrom "disk"; the page cache is dropped (needs root:
// /proc/sys/vm/drop_caches) after the disk load, then 100 queries run cold and again warm.
//   npm run build && node --expose-gc bench/disk-cold.mjs
import { execSync } from "node:child_process";
import { Index, calibrate } from "../dist/index.js";
import { randomNormal } from "../dist/cli/kernel-bench.js";
const dims = 1024, rows = 1_000_000, batch = 16384, path = "/tmp/cold.qv";
const ranges = calibrate(randomNormal(4096 * dims, 3), { dims });
const built = await Index.create({ dims, precision: "binary", rescore: "int8", ranges });
for (let s = 0; s < rows; s += batch) { const n = Math.min(batch, rows - s); built.add({ data: randomNormal(n * dims, 7 + s), rows: n, cols: dims }); }
await built.save(path); built.dispose();
const qs = Array.from({ length: 200 }, (_, i) => randomNormal(dims, 5000 + i));
const mem = await Index.load(path);
const p = (v, q) => v.slice().sort((a, b) => a - b)[Math.floor(q * (v.length - 1))];
async function times(ix, list) { const t = []; for (const q of list) { const t0 = performance.now(); await ix.search(q, { k: 10 }); t.push(performance.now() - t0); } return t; }
await times(mem, qs.slice(0, 20));
const memT = await times(mem, qs.slice(100));
execSync("sync; echo 3 > /proc/sys/vm/drop_caches", { shell: "/bin/bash" });
const disk = await Index.load(path, { rescoreFrom: "disk" });
execSync("sync; echo 3 > /proc/sys/vm/drop_caches", { shell: "/bin/bash" }); // the load read every block: cold again
const cold = await times(disk, qs.slice(100));
const warm = await times(disk, qs.slice(100));
console.log(`memory p50 ${p(memT, .5).toFixed(2)} p90 ${p(memT, .9).toFixed(2)} | disk cold p50 ${p(cold, .5).toFixed(2)} p90 ${p(cold, .9).toFixed(2)} | disk warm (same queries again) p50 ${p(warm, .5).toFixed(2)} p90 ${p(warm, .9).toFixed(2)} ms`);
const a = await disk.search(qs[150], { k: 10 }), b = await mem.search(qs[150], { k: 10 });
console.log("same answers:", a.ids.join() === b.ids.join() && a.scores.join() === b.scores.join());
disk.dispose();
mem.dispose();
(await import("node:fs")).rmSync(path);
