#!/usr/bin/env node
// Why two threads lost to one: each suspected cause timed on its own, contenders interleaved
// (A B A B …) in one process, with the spread. Run after `npm run build`, from the project root:
//   node scripts/thread-probe.mjs [binary|int8|float32] [rows]
// (a few MB of rows, e.g. binary 32768, sit in cache: there two threads show what the cores give
// for compute alone; the default sizes read from memory).
// Reads the index's internals (shardList, pool, arena): a diagnostic, not an API.
import { Index } from "../dist/index.js";
import { randomNormal } from "../dist/cli/kernel-bench.js";
import { fillRandom } from "../dist/cli/random.js";
import { calibrate } from "../dist/quantize.js";

const precision = process.argv[2] ?? "binary";
const rows = Number(process.argv[3] ?? (precision === "binary" ? 1_000_000 : precision === "int8" ? 200_000 : 50_000));
const rounds = 40;
const dims = 1024;

async function build(threads) {
  const index = await Index.create({ dims, precision, rescore: "none", threads, ranges: precision === "int8" ? calibrate(randomNormal(8192 * dims, 7), { dims }) : undefined });
  const batch = 8192;
  for (let start = 0; start < rows; start += batch) {
    const n = Math.min(batch, rows - start);
    if (precision === "binary") {
      const codes = new Uint8Array(n * 128);
      fillRandom(codes, 7 + start);
      index.addQuantized({ binary: codes });
    } else index.add(randomNormal(n * dims, 7 + start));
  }
  return index;
}

/** Interleaves the contenders for `rounds` rounds; p50, min and p90 of each. */
async function interleave(contenders) {
  const samples = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  for (let r = 0; r < 3; r++) for (const fn of Object.values(contenders)) await fn();
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(contenders)) {
      const began = performance.now();
      await fn();
      samples[name].push(performance.now() - began);
    }
  }
  const at = (v, q) => v[Math.min(v.length - 1, Math.floor(q * v.length))];
  for (const [name, v] of Object.entries(samples)) {
    v.sort((a, b) => a - b);
    console.log(`  ${name.padEnd(44)} p50 ${at(v, 0.5).toFixed(3).padStart(8)} ms   min ${v[0].toFixed(3).padStart(8)}   p90 ${at(v, 0.9).toFixed(3).padStart(8)}`);
  }
  return samples;
}

const one = await build(1);
const two = await build(2);
// A corpus small enough to sit in cache would stay on one thread (each must get ≥ 4 MB of work):
// split it anyway, so that in-cache scaling (compute, not memory) can be read against the rest.
two.parallelMinBytes = 0;
const query = randomNormal(dims, 99);
const shard = two.shardList[0];
const pool = shard.pool;
const post = pool.scan.bind(pool);
console.log(`${precision}, ${rows} rows (${((rows * shard.store.widths[precision]) / 2 ** 20).toFixed(0)} MiB), load average ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(" ")}`);
const same = JSON.stringify(await one.search(query, { k: 10 })) === JSON.stringify(await two.search(query, { k: 10 }));
console.log(`results identical to one thread: ${same}`);

console.log("1. When the worker gets its share: before the caller scans its own (now) or after (as before: posted behind an await)");
const deferred = async () => {
  pool.scan = (i, descs) => Promise.resolve().then(() => post(i, descs));
  try { await two.search(query, { k: 10 }); } finally { pool.scan = post; }
};
await interleave({
  "1 thread": () => one.search(query, { k: 10 }),
  "2 threads, worker posted first": () => two.search(query, { k: 10 }),
  "2 threads, worker posted after own share": deferred,
  "threads: 2 index, one thread scans": async () => {
    const m = two.parallelMinBytes;
    two.parallelMinBytes = Infinity;
    try { await two.search(query, { k: 10 }); } finally { two.parallelMinBytes = m; }
  },
});

// The descriptors the worker gets, to time its share alone.
let share;
pool.scan = (i, descs) => { share = descs.slice(); return post(i, descs); };
await two.search(query, { k: 10 });
pool.scan = post;
const kernels = shard.arena.kernels;
console.log("2. Hand-off, and the worker's code against the caller's on the same share (tier-up)");
await interleave({
  "round trip of an empty scan message": () => pool.scan(0, []),
  "worker scans the worker's share": () => pool.scan(0, share),
  "caller scans the same share": () => { for (const d of share) kernels.scan_topk(d); },
});

console.log("3. A fresh worker's first scans (Liftoff until tier-up?), ms each");
const fresh = await build(2);
const freshShard = fresh.shardList[0];
let freshShare;
const freshPost = freshShard.pool.scan.bind(freshShard.pool);
freshShard.pool.scan = (i, descs) => { freshShare = descs.slice(); return freshPost(i, descs); };
const firstSearch = performance.now();
await fresh.search(query, { k: 10 });
const times = [performance.now() - firstSearch];
freshShard.pool.scan = freshPost;
for (let i = 0; i < 8; i++) {
  const began = performance.now();
  await freshPost(0, freshShare);
  times.push(performance.now() - began);
}
console.log(`  first search ${times[0].toFixed(2)}; then the worker's share alone: ${times.slice(1).map((t) => t.toFixed(2)).join(", ")}`);
fresh.dispose();
one.dispose();
two.dispose();
