// Runs every int8 kernel path of the built package (dist/) under one relaxed-SIMD policy and
// prints the results as JSON, for test/relaxed.test.ts to compare between policies in child
// processes started with the engine flags it needs. Usage: node [flags] relaxed-battery.mjs POLICY
// Each result also carries whether it matched the scalar reference (dist/reference.js).
import { calibrate, Index, kernels, ready } from "../dist/index.js";
import * as reference from "../dist/reference.js";

const policy = process.argv[2];
await ready({ relaxedSimd: policy });

let state = 0x9e3779b9;
const random = () => ((state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
const ints = (Type, length, lo, hi) => Type.from({ length }, (_, i) => (i % 11 === 0 ? (i % 22 === 0 ? lo : hi) : lo + Math.floor(random() * (hi - lo + 1))));
const normal = (length) => Float32Array.from({ length }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));

const out = { path: kernels.features.path, relaxedSimd: kernels.features.relaxedSimd, reason: kernels.features.pathReason, results: [], mismatches: [], indexes: [] };
const record = (name, got, expected) => {
  out.results.push({ name, got });
  if (expected !== undefined && JSON.stringify(got) !== JSON.stringify(expected)) out.mismatches.push(name);
};
const top = (values, k) => reference.topk(values, Array.from(values, (_, i) => i), k);

// Every tail length around a 16-element step, and the common embedding sizes.
for (const dims of [1, 7, 15, 16, 17, 31, 33, 384, 1037]) {
  const rows = 45;
  const codes = ints(Int8Array, dims * rows, -128, 127);
  const q8 = ints(Int8Array, dims, -128, 127);
  const q16 = ints(Int16Array, dims, -32768, 32767);
  const ref8 = reference.dot_i8(q8, codes);
  const ref16 = reference.dot_i16i8(q16, codes);
  record(`dot_i8 d${dims}`, Array.from(kernels.dot_i8(q8, codes)), Array.from(ref8));
  record(`dot_i16i8 d${dims}`, Array.from(kernels.dot_i16i8(q16, codes)), Array.from(ref16));
  record(`dot_i8_topk d${dims}`, Array.from(kernels.dot_i8_topk(q8, codes, 9).rows), top(ref8, 9));
  record(`dot_i16i8_topk d${dims}`, Array.from(kernels.dot_i16i8_topk(q16, codes, 9).rows), top(ref16, 9));
}

// The index: one-stage int8, binary → int8 rescoring (the gather kernel), batches, two threads.
const DIMS = 72;
const rows = Array.from({ length: 1500 }, () => normal(DIMS));
const queries = Array.from({ length: 40 }, () => normal(DIMS));
const ranges = calibrate(rows);
const plain = (results) => results.map((r) => ({ ids: Array.from(r.ids), scores: Array.from(r.scores) }));
for (const [precision, rescore, threads] of [["int8", "none", 1], ["binary", "int8", 1], ["int8", "none", 2], ["binary", "int8", 2]]) {
  const index = await Index.create({ dims: DIMS, precision, rescore, ranges, threads });
  index.parallelMinBytes = 1; // a small corpus: split it across the threads anyway
  index.add(rows);
  const label = `index ${precision}→${rescore} threads ${index.threads}`;
  out.indexes.push({ label, kernelPath: index.kernelPath, note: index.threadingNote ?? null });
  record(`${label} search`, plain(await Promise.all(queries.slice(0, 5).map((q) => index.search(q, { k: 10 })))));
  record(`${label} searchBatch`, plain(await index.searchBatch(queries, { k: 10 })));
  index.dispose();
}
process.stdout.write(JSON.stringify(out));
