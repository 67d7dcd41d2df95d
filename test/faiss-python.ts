// Debian's faiss (python3-faiss, imported from /usr/bin/python3; .ci/run installs it) driven from
// the tests: a probe, a runner, and the two scripts the interop tests use. Without faiss the
// interop tests are skipped with a printed warning.

import { spawnSync } from "node:child_process";
import { quantize } from "../src/index.js";
import { randomNormal, rng } from "./helpers.js";

export const PYTHON = process.env.FAISS_PYTHON ?? "/usr/bin/python3";
const probe = spawnSync(PYTHON, ["-c", "import faiss, numpy; print(faiss.__version__)"], { encoding: "utf8" });
export const hasFaiss = probe.status === 0;
export const faissVersion = probe.stdout?.trim() ?? "";

/** Warns (once per test file that asks) that the faiss interop tests will be skipped. */
export function warnWithoutFaiss(what: string): void {
  if (!hasFaiss) console.warn(`${what} skipped: ${PYTHON} cannot import faiss (apt-get install python3-faiss, or set FAISS_PYTHON)`);
}

/** Runs python with faiss; throws with its stderr when it fails. */
export function python(script: string, ...args: string[]): string {
  const run = spawnSync(PYTHON, ["-c", script, ...args], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

/** argv: index file, query codes file (uint8 rows), nq, k, output prefix; writes OUT.D (int32) and OUT.I (int64). */
export const SEARCH = `
import sys, faiss, numpy as np
path, queries_path, nq, k, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
index = faiss.read_index_binary(path)
queries = np.fromfile(queries_path, dtype=np.uint8).reshape(nq, -1)
D, I = index.search(queries, k)
D.astype(np.int32).tofile(out + ".D")
I.astype(np.int64).tofile(out + ".I")
print(type(index).__name__, index.ntotal, index.d)
`;

/** argv: codes file, ids file (int64), d, kind ("flat", "idmap", "idmap2"), output path. */
export const WRITE = `
import sys, faiss, numpy as np
codes_path, ids_path, d, kind, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
codes = np.fromfile(codes_path, dtype=np.uint8).reshape(-1, d // 8)
flat = faiss.IndexBinaryFlat(d)
if kind == "flat":
    flat.add(codes)
    faiss.write_index_binary(flat, out)
else:
    ids = np.fromfile(ids_path, dtype=np.int64)
    index = faiss.IndexBinaryIDMap(flat) if kind == "idmap" else faiss.IndexBinaryIDMap2(flat)
    index.add_with_ids(codes, ids)
    faiss.write_index_binary(index, out)
`;

/** Seeded random vectors (rows of `dims` floats). */
export function vectorsOf(seed: number, rows: number, dims: number): Float32Array[] {
  const random = rng(seed);
  return Array.from({ length: rows }, () => randomNormal(random, dims));
}

/** Binary codes of seeded random vectors through the public quantize(…, "ubinary"). */
export function codesOf(seed: number, rows: number, dims: number): Uint8Array {
  if (rows === 0) return new Uint8Array(0);
  return quantize(vectorsOf(seed, rows, dims), "ubinary").data;
}
