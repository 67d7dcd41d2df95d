// The quality study and the eval command: recall arithmetic, sampling, the configuration grid,
// the recommendation, and `quantvec eval` end to end on small files of every format.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main, withRecommendation } from "../src/cli/main.js";
import type { BenchResults, QualityRow } from "../src/cli/results.js";
import { meanRecall, mrlDims, qualityStudy, sampleRows } from "../src/cli/study.js";
import { ready } from "../src/index.js";
import { randomNormal, rng } from "./helpers.js";

beforeAll(() => ready());

/** Clustered vectors: neighbours exist, so recall differs between configurations. */
function clustered(rows: number, dims: number, seed: number): Float32Array {
  const random = rng(seed);
  const centres = Array.from({ length: 12 }, () => randomNormal(random, dims));
  const out = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    const centre = centres[r % centres.length];
    const noise = randomNormal(random, dims);
    for (let c = 0; c < dims; c++) out[r * dims + c] = centre[c] + 0.6 * noise[c];
  }
  return out;
}

describe("recall and sampling", () => {
  it("meanRecall counts the share of each true top-k that was found", () => {
    expect(meanRecall([[1, 2, 3]], [[3, 2, 1]], 3)).toBe(1);
    expect(meanRecall([[1, 2, 9]], [[3, 2, 1]], 3)).toBeCloseTo(2 / 3);
    expect(meanRecall([[1, 2], [7, 8]], [[1, 2], [8, 9]], 2)).toBe(0.75);
    expect(meanRecall([[5, 1]], [[1, 2]], 1)).toBe(0); // only the first k of each count
  });

  it("sampleRows is seeded, distinct, sorted and capped at the row count", () => {
    const a = sampleRows(1000, 50, 7);
    expect(a).toEqual(sampleRows(1000, 50, 7));
    expect(a).not.toEqual(sampleRows(1000, 50, 8));
    expect(new Set(a).size).toBe(50);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(sampleRows(5, 50, 1)).toEqual([0, 1, 2, 3, 4]);
  });

  it("mrlDims gives full, 1/2, 1/4 and 1/8 without duplicates", () => {
    expect(mrlDims(384)).toEqual([384, 192, 96, 48]);
    expect(mrlDims(5)).toEqual([5, 3, 1]);
    expect(mrlDims(1)).toEqual([1]);
  });
});

describe("qualityStudy", () => {
  it("measures every configuration against exact search, float32 at full dims exactly", async () => {
    const dims = 32;
    const data = clustered(400, dims, 3);
    const study = await qualityStudy({ data, rows: 400, cols: dims }, "synthetic", { queries: 30, k: 5, seed: 1 });
    expect(study.vectors).toBe(370);
    expect(study.rows).toHaveLength(4 * 7); // 4 MRL sizes × (float32, int8, binary, binary→int8 ×1/2/4/8)
    const row = (label: string) => study.rows.find((r) => r.label === label)!;
    expect(row("float32 @32").recall).toBe(1);
    expect(row("float32 @32").bytesPerVector).toBe(128);
    expect(row("int8 @16").bytesPerVector).toBe(16);
    expect(row("binary @32").bytesPerVector).toBe(4);
    expect(row("binary→int8 ×4 @32").bytesPerVector).toBe(4 + 32);
    expect(row("int8 @32").recall).toBeGreaterThan(0.9);
    // More candidates can only help the rescoring stage find the true neighbours.
    expect(row("binary→int8 ×8 @32").recall).toBeGreaterThanOrEqual(row("binary→int8 ×1 @32").recall);
    expect(row("binary→int8 ×8 @32").recall).toBeGreaterThan(row("binary @32").recall);
    for (const r of study.rows) {
      expect(r.recall).toBeGreaterThanOrEqual(0);
      expect(r.recall).toBeLessThanOrEqual(1);
      expect(r.p50Ms).toBeGreaterThanOrEqual(0);
    }
  });

  it("adds sentence-transformers reference rows when asked", async () => {
    const data = clustered(200, 16, 4);
    const study = await qualityStudy({ data, rows: 200, cols: 16 }, "synthetic", { queries: 20, k: 5, seed: 2, references: true });
    const refs = study.rows.filter((r) => r.reference);
    expect(refs.map((r) => r.label)).toEqual(["ST int8 codes·codes", "ST int8 codes·codes → rescore ×2", "ST binary → rescore ×2"]);
  });

  it("rejects a corpus smaller than k once the queries are held out", async () => {
    await expect(qualityStudy({ data: new Float32Array(40), rows: 10, cols: 4 }, "tiny", { queries: 5, k: 10, seed: 1 })).rejects.toThrow(
      /10 vectors leave fewer than k = 10/,
    );
  });
});

describe("withRecommendation", () => {
  const row = (label: string, bytesPerVector: number, recall: number, extra: Partial<QualityRow> = {}): QualityRow => ({
    label, precision: "int8", rescore: "none", dims: 8, multiplier: 1, recall, bytesPerVector, p50Ms: 1, ...extra,
  });
  const study = {
    dataset: "d", vectors: 100, dims: 8, queries: 10, k: 10,
    rows: [row("a", 32, 1), row("b", 8, 0.97), row("c", 1, 0.7), row("ref", 1, 0.99, { reference: true }), row("d", 9, 0.99)],
  };

  it("names the cheapest configuration that meets the target, never a reference row", () => {
    expect(withRecommendation(study, 0.95).recommendation).toMatchObject({ targetRecall: 0.95, label: "b" });
    expect(withRecommendation(study, 0.98).recommendation!.label).toBe("d");
    expect(withRecommendation(study, 0.98).recommendation!.reason).toMatch(/fewest bytes per vector \(9, 3\.6× smaller than float32\)/);
  });

  it("says so when nothing reaches the target", () => {
    const capped = { ...study, rows: study.rows.filter((r) => r.recall < 1) };
    const { recommendation } = withRecommendation(capped, 1);
    expect(recommendation!.label).toBeNull();
    expect(recommendation!.reason).toMatch(/no configuration reaches recall@10 1; the best is d/);
  });

  it("marks the Pareto front", () => {
    const marked = withRecommendation(study, 0.9).rows;
    expect(marked.filter((r) => r.pareto).map((r) => r.label).sort()).toEqual(["a", "b", "c", "d"]);
  });
});

describe("quantvec eval", () => {
  const dir = mkdtempSync(join(tmpdir(), "quantvec-eval-"));
  const out: string[] = [];
  const err: string[] = [];
  const capture = () => {
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => (out.push(String(chunk)), true));
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (err.push(String(chunk)), true));
  };
  afterEach(() => {
    vi.restoreAllMocks();
    out.length = 0;
    err.length = 0;
  });

  const rows = 160;
  const dims = 16;
  const data = clustered(rows, dims, 9);
  const files: Record<string, string[]> = {};
  const raw = join(dir, "vectors.f32");
  writeFileSync(raw, new Uint8Array(data.buffer));
  files.f32 = [raw, "--dims", String(dims)];
  const jsonl = join(dir, "vectors.jsonl");
  writeFileSync(jsonl, Array.from({ length: rows }, (_, r) => JSON.stringify({ embedding: Array.from(data.subarray(r * dims, (r + 1) * dims)) })).join("\n"));
  files.jsonl = [jsonl];
  const fvecs = join(dir, "vectors.fvecs");
  const fv = new DataView(new ArrayBuffer(rows * (4 + dims * 4)));
  for (let r = 0; r < rows; r++) {
    fv.setInt32(r * (4 + dims * 4), dims, true);
    for (let c = 0; c < dims; c++) fv.setFloat32(r * (4 + dims * 4) + 4 + c * 4, data[r * dims + c], true);
  }
  writeFileSync(fvecs, new Uint8Array(fv.buffer));
  files.fvecs = [fvecs];
  const npy = join(dir, "vectors.npy");
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dims}), }`;
  const padded = header.padEnd(128 - 10 - 1, " ") + "\n";
  const npyBytes = new Uint8Array(10 + padded.length + data.byteLength);
  npyBytes.set([0x93, ...Buffer.from("NUMPY"), 1, 0, padded.length & 255, padded.length >> 8]);
  npyBytes.set(Buffer.from(padded, "latin1"), 10);
  npyBytes.set(new Uint8Array(data.buffer), 10 + padded.length);
  writeFileSync(npy, npyBytes);
  files.npy = [npy];

  it.each(Object.keys(files))("studies a .%s file and writes the report with a recommendation", async (format) => {
    capture();
    const outDir = join(dir, `out-${format}`);
    const code = await main(["eval", ...files[format], "--queries", "16", "--k", "5", "--target-recall", "0.9", "--out", outDir, "--json"]);
    expect(err.join(""), "stderr").not.toMatch(/quantvec eval:/);
    expect(code).toBe(0);
    const printed = JSON.parse(out.join("")) as BenchResults;
    const written = JSON.parse(readFileSync(join(outDir, "results.json"), "utf8")) as BenchResults;
    expect(printed).toEqual(written);
    const quality = written.quality!;
    expect([quality.vectors, quality.dims, quality.queries]).toEqual([rows - 16, dims, 16]);
    expect(quality.recommendation!.targetRecall).toBe(0.9);
    const chosen = quality.rows.find((r) => r.label === quality.recommendation!.label)!;
    expect(chosen.recall).toBeGreaterThanOrEqual(0.9);
    const cheaper = quality.rows.filter((r) => !r.reference && r.bytesPerVector < chosen.bytesPerVector && r.recall >= 0.9);
    expect(cheaper).toEqual([]);
    expect(readFileSync(join(outDir, "BENCHMARKS.md"), "utf8")).toContain(`**${chosen.label}**`);
    expect(readFileSync(join(outDir, "recall.svg"), "utf8")).toMatch(/^<svg/);
  });

  it("reports an unreadable file with its reason and exit code 1", async () => {
    capture();
    expect(await main(["eval", join(dir, "missing.npy")])).toBe(1);
    expect(err.join("")).toMatch(/quantvec eval: .*missing\.npy: cannot open the file \(ENOENT/);
  });

  it("reports a NaN with its line number", async () => {
    capture();
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, ['{"embedding":[1,2]}', '{"embedding":[3,4]}', '{"embedding":[5,NaN]}'].join("\n"));
    expect(await main(["eval", bad])).toBe(1);
    expect(err.join("")).toMatch(/line 3/);
  });

  it("rejects bad flags with exit code 2", async () => {
    capture();
    expect(await main(["eval", raw])).toBe(1); // raw float32 without --dims
    expect(err.join("")).toMatch(/dims/);
    expect(await main(["eval", jsonl, "--k", "0"])).toBe(2);
    expect(await main(["eval", jsonl, "--target-recall", "1.5"])).toBe(2);
    expect(await main(["eval"])).toBe(2);
    expect(await main(["frobnicate"])).toBe(2);
    expect(err.join("")).toMatch(/unknown command "frobnicate"/);
  });
});
