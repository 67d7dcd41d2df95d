// The checks every runtime of the matrix runs (scripts/runtime-matrix.mjs): plain JavaScript
// with no imports, so Node, Bun, Deno, workerd and a Chromium page can all load it and hand it
// their own copy of the package. The matrix compares what it returns with Node 20's output.
//   smoke: binary → int8 index, 2,000 seeded vectors, 5 searches and a batch, on 1 then 2 threads;
//   exact: 20,000 × 256 seeded vectors under four scan/rescore configurations, searches and batches.
// Both run under the relaxed-SIMD policies "never" and "always", so each kernel path the
// runtime can run is exercised; "auto" is then asked which path it would pick (reported only).

/** mulberry32, as in test/helpers.ts: the same seed gives the same vectors in every runtime. */
function rng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded standard-normal rows (Box–Muller), as float32. */
function vectors(seed, count, dims) {
  const random = rng(seed);
  return Array.from({ length: count }, () => {
    const row = new Float32Array(dims);
    for (let i = 0; i < dims; i++) row[i] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return row;
  });
}

const plain = (list) => list.map((r) => ({ ids: Array.from(r.ids), scores: Array.from(r.scores) }));

async function smoke(quantvec) {
  const dims = 128;
  const rows = vectors(1, 2000, dims);
  const queries = vectors(2, 8, dims);
  const runs = [];
  for (const threads of [1, 2]) {
    const index = await quantvec.Index.create({ dims, precision: "binary", rescore: "int8", threads });
    index.parallelMinBytes = 1; // a small corpus: split it across the threads anyway
    index.add(rows);
    const single = [];
    for (const query of queries.slice(0, 5)) single.push(await index.search(query, { k: 10 }));
    const batch = await index.searchBatch(queries, { k: 10 });
    runs.push({ threads: index.threads, note: index.threadingNote ?? null, kernelPath: index.kernelPath, single: plain(single), batch: plain(batch) });
    index.dispose();
  }
  return runs;
}

async function exact(quantvec) {
  const dims = 256;
  const rows = vectors(3, 20000, dims);
  const queries = vectors(4, 16, dims);
  const ranges = quantvec.calibrate(rows.slice(0, 1000));
  const out = [];
  for (const [precision, rescore] of [["float32", "none"], ["int8", "none"], ["binary", "int8"], ["binary", "float32"]]) {
    const index = await quantvec.Index.create({ dims, precision, rescore, ranges });
    index.add(rows);
    const single = [];
    for (const query of queries.slice(0, 4)) single.push(await index.search(query, { k: 20 }));
    const batch = await index.searchBatch(queries, { k: 20 });
    out.push({ config: `${precision}→${rescore}`, kernelPath: index.kernelPath, single: plain(single), batch: plain(batch) });
    index.dispose();
  }
  return out;
}

/**
 * Runs the checks against `quantvec` (the package's namespace, from whichever entry the runtime
 * uses) and returns plain data. `policies` are the relaxed-SIMD policies to run them under.
 */
export async function runChecks(quantvec, policies = ["never", "always"]) {
  const started = Date.now();
  const byPolicy = {};
  for (const policy of policies) {
    await quantvec.ready({ relaxedSimd: policy });
    byPolicy[policy] = { path: quantvec.kernels.features.path, reason: quantvec.kernels.features.pathReason, smoke: await smoke(quantvec), exact: await exact(quantvec) };
  }
  await quantvec.ready({ relaxedSimd: "auto" });
  const decided = typeof quantvec.kernelPathDecided === "function" ? await quantvec.kernelPathDecided() : quantvec.kernels.features;
  return { byPolicy, auto: { path: decided.path, reason: decided.reason ?? decided.pathReason }, ms: Date.now() - started };
}
