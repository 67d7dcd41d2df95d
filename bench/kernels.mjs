// Kernel throughput on seeded synthetic data: each quantvec fused scan + top-10 beside the best
// plain-JS baseline, measured in the same run with tinybench. Kernels are data-independent, so
// synthetic vectors measure speed honestly; quality is measured on real vectors in the tests.
//
//   npm run bench                       # the sizes below
//   QUANTVEC_BENCH_SCALE=0.1 npm run bench   # a tenth of every corpus
//   QUANTVEC_BENCH_SEED=7 QUANTVEC_BENCH_TIME_MS=2000 npm run bench

import os from "node:os";
import { Bench } from "tinybench";
import { kernels, ready } from "../dist/index.js";

const SEED = Number(process.env.QUANTVEC_BENCH_SEED ?? 42);
const SCALE = Number(process.env.QUANTVEC_BENCH_SCALE ?? 1);
const TIME_MS = Number(process.env.QUANTVEC_BENCH_TIME_MS ?? 1500);
const K = 10;
const DIMS = 1024;

/** xorshift32 filling whole words: fast enough for a gigabyte of synthetic codes. */
function fillRandom(bytes, seed) {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  return bytes;
}

function randomNormal(n, seed) {
  const out = new Float32Array(n);
  let x = seed >>> 0 || 1;
  const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return (x + 0.5) / 4294967296; };
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return out;
}

// ---- plain-JS baselines: the best-known tricks, with the same top-k semantics --------------

/** Keeps the k best (higher key, then smaller row) with a threshold test before any heap work. */
class JsTopK {
  constructor(k) { this.k = k; this.keys = []; this.rows = []; }
  worstIndex() {
    let w = 0;
    for (let i = 1; i < this.keys.length; i++) {
      if (this.keys[i] < this.keys[w] || (this.keys[i] === this.keys[w] && this.rows[i] > this.rows[w])) w = i;
    }
    return w;
  }
  offer(key, row) {
    if (this.keys.length < this.k) { this.keys.push(key); this.rows.push(row); this.worst = this.worstIndex(); return; }
    const w = this.worst;
    if (key > this.keys[w] || (key === this.keys[w] && row < this.rows[w])) {
      this.keys[w] = key; this.rows[w] = row; this.worst = this.worstIndex();
    }
  }
  threshold() { return this.keys.length < this.k ? -Infinity : this.keys[this.worst]; }
  sortedRows() {
    return this.rows.map((row, i) => [this.keys[i], row]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map((e) => e[1]);
  }
}

/** SWAR popcount over 32-bit words (the fastest pure-JS popcount measured here). */
function jsHammingTopK(query, codes, bytes, k) {
  const q = new Uint32Array(query.buffer, query.byteOffset, bytes >> 2);
  const c = new Uint32Array(codes.buffer, codes.byteOffset, codes.byteLength >> 2);
  const words = bytes >> 2;
  const count = codes.byteLength / bytes;
  const top = new JsTopK(k);
  for (let row = 0, at = 0; row < count; row++, at += words) {
    let d = 0;
    for (let w = 0; w < words; w++) {
      let v = q[w] ^ c[at + w];
      v -= (v >>> 1) & 0x55555555;
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      d += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
    }
    if (-d >= top.threshold()) top.offer(-d, row);
  }
  return top.sortedRows();
}

/** int16 query × int8 codes, unrolled by four. */
function jsInt8TopK(query, codes, dims, k) {
  const count = codes.length / dims;
  const top = new JsTopK(k);
  for (let row = 0, at = 0; row < count; row++, at += dims) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < dims; i += 4) {
      s0 += query[i] * codes[at + i];
      s1 += query[i + 1] * codes[at + i + 1];
      s2 += query[i + 2] * codes[at + i + 2];
      s3 += query[i + 3] * codes[at + i + 3];
    }
    const s = s0 + s1 + s2 + s3;
    if (s >= top.threshold()) top.offer(s, row);
  }
  return top.sortedRows();
}

/** float32 dot products, unrolled by four. */
function jsFloatTopK(query, vectors, dims, k) {
  const count = vectors.length / dims;
  const top = new JsTopK(k);
  for (let row = 0, at = 0; row < count; row++, at += dims) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < dims; i += 4) {
      s0 += query[i] * vectors[at + i];
      s1 += query[i + 1] * vectors[at + i + 1];
      s2 += query[i + 2] * vectors[at + i + 2];
      s3 += query[i + 3] * vectors[at + i + 3];
    }
    const s = s0 + s1 + s2 + s3;
    if (s >= top.threshold()) top.offer(s, row);
  }
  return top.sortedRows();
}

// ---- the suites ----------------------------------------------------------------------------

function sameRows(name, a, b) {
  if (a.length !== b.length || a.some((row, i) => row !== b[i])) {
    throw new Error(`bench: ${name} disagrees with quantvec before timing:\n  quantvec ${a}\n  baseline ${b}`);
  }
}

const suites = [
  {
    name: "hamming 1024-bit",
    count: Math.round(1_000_000 * SCALE),
    rowBytes: DIMS / 8,
    setup(count) {
      const buffer = kernels.alloc("uint8", count * this.rowBytes);
      fillRandom(buffer.array, SEED);
      const query = fillRandom(new Uint8Array(this.rowBytes), SEED + 1);
      const plain = buffer.array.slice();
      return {
        buffer,
        quantvec: () => Array.from(kernels.hamming_u1_topk(query, buffer, K).rows),
        baseline: () => jsHammingTopK(query, plain, this.rowBytes, K),
      };
    },
  },
  {
    name: "int8 1024-d (int16 query)",
    count: Math.round(200_000 * SCALE),
    rowBytes: DIMS,
    setup(count) {
      const buffer = kernels.alloc("int8", count * DIMS);
      fillRandom(new Uint8Array(buffer.array.buffer, buffer.array.byteOffset, count * DIMS), SEED + 2);
      // |query| ≤ 8000 keeps Σ|q|·128 < 2^31, as the index's query encoder guarantees.
      const query = Int16Array.from(randomNormal(DIMS, SEED + 3), (v) => Math.max(-8000, Math.min(8000, Math.round(v * 2000))));
      const plain = buffer.array.slice();
      return {
        buffer,
        quantvec: () => Array.from(kernels.dot_i16i8_topk(query, buffer, K).rows),
        baseline: () => jsInt8TopK(query, plain, DIMS, K),
      };
    },
  },
  {
    name: "float32 1024-d",
    count: Math.round(50_000 * SCALE),
    rowBytes: DIMS * 4,
    setup(count) {
      const buffer = kernels.alloc("float32", count * DIMS);
      buffer.array.set(randomNormal(count * DIMS, SEED + 4));
      const query = randomNormal(DIMS, SEED + 5);
      const plain = buffer.array.slice();
      return {
        buffer,
        quantvec: () => Array.from(kernels.dot_f32_topk(query, buffer, K).rows),
        baseline: () => jsFloatTopK(query, plain, DIMS, K),
      };
    },
  },
];

await ready();
console.log(`quantvec kernel bench — Node ${process.version}, ${os.cpus()[0]?.model ?? "unknown CPU"}, seed ${SEED}, scale ${SCALE}`);
console.log("each row: one query scanned against the whole corpus, top-10 selection included\n");

const rows = [];
let sink = 0;
for (const suite of suites) {
  const { buffer, quantvec, baseline } = suite.setup(suite.count);
  sameRows(suite.name, quantvec(), baseline());
  const bench = new Bench({ time: TIME_MS, iterations: 5, warmup: true, warmupIterations: 2 });
  bench.add("quantvec", () => { sink ^= quantvec()[0]; });
  bench.add("plain JS", () => { sink ^= baseline()[0]; });
  await bench.run();
  const [ours, js] = bench.tasks.map((task) => task.result);
  for (const [label, result] of [["quantvec (WASM SIMD)", ours], ["plain JS", js]]) {
    if (result.state !== "completed") throw new Error(`bench: ${suite.name} / ${label} did not complete: ${result.state}`);
    const seconds = result.latency.p50 / 1000;
    rows.push({
      kernel: suite.name,
      implementation: label,
      vectors: suite.count,
      "p50 ms": +result.latency.p50.toFixed(2),
      "M vectors/s": +(suite.count / seconds / 1e6).toFixed(2),
      "GB/s": +((suite.count * suite.rowBytes) / seconds / 1e9).toFixed(2),
      "× plain JS": +(js.latency.p50 / result.latency.p50).toFixed(2),
    });
  }
  buffer.dispose();
  globalThis.gc?.();
}
console.table(rows);
if (sink === 0.5) console.log(sink); // keep results observable
