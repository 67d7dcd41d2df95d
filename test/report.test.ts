// The report: Pareto front and recommendation, BENCHMARKS.md, terminal tables, the two SVG plots
// and the files writeReport leaves behind. Rendered from the committed bench/latest/results.json
// (what the bench really emits, so the renderer cannot drift from it), and from a hand-made
// sample run for the exact formatting and the edge cases (QUANTVEC_PLOTS_DIR=dir writes it out).

import { readFileSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { markPareto, recommend } from "../src/cli/pareto.js";
import { renderConsole, renderMachines, renderMarkdown, writeReport } from "../src/cli/report.js";
import type { BenchResults, KernelRow, QualityRow } from "../src/cli/results.js";
import { formatSig, recallPlot, throughputPlot } from "../src/cli/svg.js";

function q(label: string, precision: QualityRow["precision"], rescore: QualityRow["rescore"], dims: number, multiplier: number, recall: number, bytesPerVector: number, p50Ms: number, reference?: boolean): QualityRow {
  const row: QualityRow = { label, precision, rescore, dims, multiplier, recall, bytesPerVector, p50Ms };
  if (reference) row.reference = true;
  return row;
}

function k(implementation: string, vectors: number, bytesPerVector: number, vectorsPerSec: number, quantvecVps: number, bound: number): KernelRow {
  const p50Ms = (vectors / vectorsPerSec) * 1000;
  const gbPerSec = (vectorsPerSec * bytesPerVector) / 1e9;
  return {
    implementation,
    status: "ok",
    p50Ms,
    vectorsPerSec,
    gbPerSec,
    percentOfBound: (gbPerSec / bound) * 100,
    quantvecSpeedup: quantvecVps / vectorsPerSec,
  };
}

/** A realistic full run: the 384-d MiniLM quality study and three kernel suites. */
function sampleResults(): BenchResults {
  const bound = 10.5;
  const rows: QualityRow[] = [];
  const dimsList = [384, 192, 96, 48];
  const f32 = [1.0, 0.93, 0.8, 0.62];
  const i8 = [0.995, 0.92, 0.79, 0.6];
  const bin = [0.63, 0.5, 0.35, 0.22];
  const twoStage = [
    [0.7, 0.85, 0.946, 0.986],
    [0.6, 0.78, 0.87, 0.905],
    [0.5, 0.68, 0.76, 0.78],
    [0.35, 0.5, 0.57, 0.59],
  ];
  dimsList.forEach((d, i) => rows.push(q(`float32 @${d}`, "float32", "none", d, 1, f32[i], 4 * d, 0.05 * (d / 48))));
  dimsList.forEach((d, i) => rows.push(q(`int8 @${d}`, "int8", "none", d, 1, i8[i], d, 0.02 * (d / 48))));
  dimsList.forEach((d, i) => rows.push(q(`binary @${d}`, "binary", "none", d, 1, bin[i], d / 8, 0.004 * (d / 48))));
  dimsList.forEach((d, i) =>
    [1, 2, 4, 8].forEach((m, j) => rows.push(q(`binary→int8 ×${m} @${d}`, "binary", "int8", d, m, twoStage[i][j], d / 8 + d, 0.006 * (d / 48) + 0.001 * m))),
  );
  rows.push(q("ST int8 codes·codes → rescore ×2", "int8", "int8", 384, 2, 0.836, 384, 0.21, true));
  rows.push(q("ST binary → rescore ×2", "binary", "int8", 384, 2, 0.72, 48, 0.04, true));

  const hv = 1_000_000;
  const iv = 200_000;
  const fv = 50_000;
  return {
    meta: {
      date: "2025-06-01T12:34:56.000Z",
      node: "v20.20.2",
      cpu: "AMD EPYC 7B13",
      cores: 8,
      platform: "linux-x64",
      quantvecVersion: "0.1.0",
      mode: "full",
      seed: 42,
      peers: { simsimd: "6.5.5", usearch: "2.25.3", "@huggingface/transformers": null },
    },
    bandwidth: { bytes: 256 * 1024 * 1024, p50Ms: 25.56, gbPerSec: bound },
    kernels: [
      {
        kernel: "hamming",
        title: "Hamming 1024-bit, top-10",
        vectors: hv,
        bytesPerVector: 128,
        rows: [
          k("quantvec", hv, 128, 50e6, 50e6, bound),
          k("plain JS (SWAR popcount)", hv, 128, 10.6e6, 50e6, bound),
          { ...k("simsimd 6.5.5", hv, 128, 3.3e6, 50e6, bound), note: "per-pair N-API calls" },
          { implementation: "usearch 2.25.3", status: "unavailable", note: "b1 exactSearch not reachable from JS" },
        ],
      },
      {
        kernel: "int8",
        title: "int8 1024-d dot, top-10",
        vectors: iv,
        bytesPerVector: 1024,
        rows: [
          k("quantvec", iv, 1024, 6.9e6, 6.9e6, bound),
          k("usearch 2.25.3 exactSearch", iv, 1024, 6.0e6, 6.9e6, bound),
          k("simsimd 6.5.5", iv, 1024, 2.6e6, 6.9e6, bound),
          k("plain JS", iv, 1024, 0.55e6, 6.9e6, bound),
        ],
      },
      {
        kernel: "float32",
        title: "float32 1024-d dot, top-10",
        vectors: fv,
        bytesPerVector: 4096,
        rows: [
          k("quantvec", fv, 4096, 2.4e6, 2.4e6, bound),
          k("usearch 2.25.3 exactSearch", fv, 4096, 1.6e6, 2.4e6, bound),
          k("simsimd 6.5.5", fv, 4096, 1.05e6, 2.4e6, bound),
          k("plain JS", fv, 4096, 0.63e6, 2.4e6, bound),
          { implementation: "faiss-node", status: "failed", note: "threw: index type not supported" },
        ],
      },
    ],
    endToEnd: [
      { name: "binary scan alone", vectors: hv, p50Ms: 20.1, p99Ms: 24.3, vsBinaryScan: 1 },
      { name: "binary→int8 ×4 rescore", vectors: hv, p50Ms: 21.7, p99Ms: 26.9, vsBinaryScan: 1.08 },
    ],
    quality: {
      dataset: "all-MiniLM-L6-v2 (@sap-ux/fiori-docs-embeddings)",
      vectors: 778,
      dims: 384,
      queries: 778,
      k: 10,
      rows,
      recommendation: { targetRecall: 0.95, label: "int8 @384", reason: "fewest bytes per vector with recall@10 ≥ 0.95" },
    },
    scaling: [{ name: "4 workers", baseline: "1 thread", p50Ms: 6.1, baselineP50Ms: 20.1, speedup: 3.3 }],
  };
}

/** A bare row for the hand-made Pareto cases. */
function r(label: string, bytesPerVector: number, recall: number, p50Ms = 1, reference?: boolean): QualityRow {
  return q(label, "int8", "none", 8, 1, recall, bytesPerVector, p50Ms, reference);
}

function front(rows: QualityRow[]): string[] {
  return markPareto(rows).filter((row) => row.pareto).map((row) => row.label);
}

function count(haystack: string, needle: string | RegExp): number {
  return haystack.split(needle).length - 1;
}

const PLOTS_DIR = process.env.QUANTVEC_PLOTS_DIR;

describe("markPareto", () => {
  it("keeps rows no other row beats on both bytes and recall", () => {
    const rows = [r("a", 16, 0.5), r("b", 32, 0.7), r("c", 64, 0.65), r("d", 64, 0.9), r("e", 128, 0.9), r("f", 8, 0.3)];
    expect(front(rows)).toEqual(["a", "b", "d", "f"]);
  });

  it("keeps both of two identical rows and drops a row tied on one axis but worse on the other", () => {
    const rows = [r("x", 48, 0.8), r("y", 48, 0.8), r("same bytes, less recall", 48, 0.79), r("same recall, more bytes", 49, 0.8)];
    expect(front(rows)).toEqual(["x", "y"]);
  });

  it("never marks reference rows, and a reference row does not push others off the front", () => {
    const rows = [r("ref", 8, 0.99, 1, true), r("a", 16, 0.5), r("b", 32, 0.7)];
    const marked = markPareto(rows);
    expect(marked.map((row) => row.pareto)).toEqual([false, true, true]);
  });

  it("returns new objects in the input order and leaves the input alone", () => {
    const rows = [r("b", 32, 0.7), r("a", 16, 0.5)];
    const marked = markPareto(rows);
    expect(marked.map((row) => row.label)).toEqual(["b", "a"]);
    expect(marked[0]).not.toBe(rows[0]);
    expect(rows[0].pareto).toBeUndefined();
  });

  it("finds the expected front of the sample study", () => {
    expect(front(sampleResults().quality!.rows)).toEqual([
      "float32 @384", "int8 @384", "int8 @192", "int8 @96", "binary @384", "binary @192", "binary @96", "binary @48",
    ]);
  });
});

describe("recommend", () => {
  it("picks the fewest bytes among the rows that meet the target", () => {
    const rows = [r("big", 1536, 1.0), r("mid", 384, 0.96), r("small", 48, 0.7), r("ok", 432, 0.97)];
    expect(recommend(rows, 0.95)?.label).toBe("mid");
  });

  it("counts a row exactly at the target as meeting it", () => {
    expect(recommend([r("exact", 10, 0.9), r("more", 20, 0.95)], 0.9)?.label).toBe("exact");
  });

  it("returns null when no row meets the target", () => {
    expect(recommend([r("a", 48, 0.7), r("b", 96, 0.8)], 0.95)).toBeNull();
  });

  it("breaks a tie on bytes by lower latency, then by label", () => {
    expect(recommend([r("slow", 384, 0.99, 2), r("fast", 384, 0.96, 1)], 0.95)?.label).toBe("fast");
    expect(recommend([r("b", 384, 0.99, 1), r("a", 384, 0.96, 1)], 0.95)?.label).toBe("a");
  });

  it("ignores reference rows even when they are cheapest", () => {
    expect(recommend([r("ref", 8, 1, 1, true), r("a", 64, 0.96)], 0.95)?.label).toBe("a");
  });

  it("rejects a target outside 0…1", () => {
    expect(() => recommend([], 1.5)).toThrow(RangeError);
    expect(() => recommend([], Number.NaN)).toThrow(RangeError);
  });
});

describe("renderMarkdown", () => {
  const results = sampleResults();
  const md = renderMarkdown(results, { recallPlot: "recall.svg", throughputPlot: "throughput.svg" });

  it("states the run facts in the header", () => {
    for (const fact of ["2025-06-01 12:34 UTC", "v20.20.2", "AMD EPYC 7B13 (8 cores)", "linux-x64", "0.1.0", "| Mode | full |", "| Seed | 42 |"]) {
      expect(md).toContain(fact);
    }
    expect(md).toContain("| Peer: simsimd | 6.5.5 |");
    expect(md).toContain("| Peer: usearch | 2.25.3 |");
    expect(md).toContain("| Peer: @huggingface/transformers | not loaded |");
  });

  it("states the streaming-read bound", () => {
    expect(md).toContain("Streaming-read bound: 10.5 GB/s");
    expect(md).toContain("256 MiB");
  });

  it("has one table per kernel suite with formatted numbers", () => {
    expect(md).toContain("### Hamming 1024-bit, top-10");
    expect(md).toContain("1,000,000 vectors × 128 B (122 MiB read per query)");
    // 1M vectors at 50 M/s: 20 ms, 6.4 GB/s, 61% of 10.5 GB/s.
    expect(md).toContain("| quantvec | 20.0 | 50.0 | 6.40 | 61% | baseline |  |");
    expect(md).toContain("| plain JS (SWAR popcount) | 94.3 | 10.6 | 1.36 | 13% | 4.72× |  |");
    expect(md).toContain("| simsimd 6.5.5 | 303 | 3.30 | 0.422 | 4.0% | 15.2× | per-pair N-API calls |");
    expect(md).toContain("### float32 1024-d dot, top-10");
    expect(md).toContain("| quantvec | 20.8 | 2.40 | 9.83 | 94% | baseline |  |");
  });

  it("shows unavailable and failed peers as rows that say why", () => {
    expect(md).toContain("| usearch 2.25.3 | — | — | — | — | — | unavailable: b1 exactSearch not reachable from JS |");
    expect(md).toContain("| faiss-node | — | — | — | — | — | failed: threw: index type not supported |");
  });

  it("has the end-to-end and scaling tables", () => {
    expect(md).toContain("| binary→int8 ×4 rescore | 1,000,000 | 21.7 | 26.9 | 1.08× |");
    expect(md).toContain("| 4 workers | 1 thread | 6.10 | 20.1 | 3.3× |");
  });

  it("has the persistence table with both ratios, when the suite ran", () => {
    expect(md).not.toContain("## Persistence");
    const persistence = {
      vectors: 1_000_000, fileBytes: 1.156e9, rounds: 2, saveVsCopyFsync: 0.5, saveVsWriteNew: 0.9, loadVsCopy: 0.25, loadVsReadFresh: 0.8,
      rows: [{ name: "Index.load", p50Seconds: 2.5, gbPerSec: 0.4624, seconds: [2.5, 2.75] }],
    };
    const withRun = renderMarkdown({ ...results, persistence }, {});
    expect(withRun).toContain("1,000,000 × 1024-d vectors, binary → int8 (1.16 GB file); the contenders timed in turn, 2 rounds");
    expect(withRun).toContain("| Index.load | 2.500 | 0.46 | 2.500 2.750 |");
    expect(withRun).toContain("save throughput ÷ (copyFile + fsync) throughput: **0.50** (goal ≥ 0.7); ÷ writing the bytes to a new file + fsync + rename: 0.90");
    expect(withRun).toContain("load throughput ÷ copyFile throughput: **0.25** (goal ≥ 0.7); ÷ readFile into new memory + xxh64: 0.80");
    expect(renderConsole({ ...results, persistence })).toContain("load throughput ÷ copyFile throughput: 0.25 (goal ≥ 0.7)");
  });

  it("lists every quality row with recall, bytes, compression, latency and Pareto mark", () => {
    expect(md).toContain("## Quality: recall@10 vs memory");
    expect(md).toContain("| float32 @384 | 384 | — | — | 1.0000 | 1,536 | 1× | 0.400 | ◆ |");
    expect(md).toContain("| int8 @192 | 192 | — | — | 0.9200 | 192 | 8× | 0.0800 | ◆ |");
    expect(md).toContain("| binary @384 | 384 | — | — | 0.6300 | 48 | 32× | 0.0320 | ◆ |");
    expect(md).toContain("| float32 @48 | 48 | — | — | 0.6200 | 192 | 8× | 0.0500 |  |");
    expect(md).toContain("| binary→int8 ×4 @384 | 384 | int8 | ×4 | 0.9460 | 432 | 3.56× | 0.0520 |  |");
    for (const row of results.quality!.rows) expect(md).toContain(`| ${row.label}`);
  });

  it("marks reference rows and states the recommendation", () => {
    expect(md).toContain("| ST binary → rescore ×2 (reference: sentence-transformers default) | 384 | int8 | ×2 | 0.7200 | 48 | 32× | 0.0400 | reference |");
    expect(md).toContain("**Recommendation** for recall@10 ≥ 0.95: **int8 @384** — fewest bytes per vector with recall@10 ≥ 0.95");
  });

  it("links both plots with relative paths", () => {
    expect(md).toContain("](throughput.svg)");
    expect(md).toContain("](recall.svg)");
    expect(renderMarkdown(results, {})).not.toContain(".svg)");
  });

  it("escapes pipes in table cells", () => {
    const piped = sampleResults();
    piped.kernels[0].rows[3].note = "needs a|b";
    piped.quality!.rows[0].label = "f32 | full";
    const out = renderMarkdown(piped, {});
    expect(out).toContain("unavailable: needs a\\|b |");
    expect(out).toContain("| f32 \\| full | 384 |");
    expect(out).not.toContain("a|b");
  });

  it("says so when no configuration reaches the target, and leaves out empty sections", () => {
    const bare = sampleResults();
    bare.kernels = [];
    bare.endToEnd = [];
    delete bare.bandwidth;
    delete bare.scaling;
    bare.quality!.recommendation = { targetRecall: 0.999, label: null, reason: "best is 0.995" };
    const out = renderMarkdown(bare, {});
    expect(out).toContain("**Recommendation** for recall@10 ≥ 0.999: **none** — best is 0.995");
    expect(out).not.toContain("## Kernels");
    expect(out).not.toContain("## End to end");
    expect(out).not.toContain("Streaming-read bound");
    expect(out).not.toContain("## Scaling");
  });
});

describe("renderConsole", () => {
  it("prints aligned tables with the same numbers and the peers' reasons", () => {
    const text = renderConsole(sampleResults());
    expect(text).toContain("peers: simsimd 6.5.5, usearch 2.25.3, @huggingface/transformers not loaded");
    expect(text).toContain("streaming-read bound: 10.5 GB/s");
    expect(text).toMatch(/usearch 2\.25\.3 +unavailable: b1 exactSearch not reachable from JS/);
    expect(text).toMatch(/int8 @384 +0\.9950 +384 +4× +0\.160 +◆ front/);
    expect(text).toContain("recommendation for recall@10 ≥ 0.95: int8 @384 — fewest bytes");
    expect(text).not.toContain("\u001b[");
    // A suite without a hardware reference (quantization) still shows its own streaming read.
    const quantization = renderConsole({
      ...sampleResults(),
      kernels: [{ kernel: "quantize", title: "Quantization", vectors: 10, bytesPerVector: 4096, boundGbPerSec: 24.8, rows: [] }],
    });
    expect(quantization).toContain("Quantization — 10 vectors × 4 KiB\nStreaming read of the same bytes in this run: 24.8 GB/s.");
    // Columns line up: every row of the Hamming table puts "GB/s" values at the same end column.
    const lines = text.split("\n");
    const header = lines.findIndex((l) => l.includes("implementation"));
    const gbEnd = lines[header].indexOf("GB/s") + 4;
    expect(lines[header + 1].slice(gbEnd - 4, gbEnd)).toBe("6.40");
  });
});

describe("recallPlot", () => {
  const study = sampleResults().quality!;
  const svg = recallPlot(study);

  it("is a single well-formed svg element with balanced text elements", () => {
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(count(svg, "<svg")).toBe(1);
    expect(count(svg, "<text")).toBe(count(svg, "</text>"));
    expect(count(svg, "<title>")).toBe(count(svg, "</title>"));
    expect(count(svg, "<g")).toBe(count(svg, "</g>"));
    expect(svg).toContain('font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"');
  });

  it("draws one marker per quality row, hollow for reference rows", () => {
    expect(count(svg, 'class="pt"')).toBe(study.rows.length);
    expect(count(svg, /class="pt" d="[^"]*" fill="#fff"/g)).toBe(2);
  });

  it("has a title with dataset and k, axis titles and byte ticks", () => {
    expect(svg).toContain("Recall@10 vs bytes per vector — all-MiniLM-L6-v2");
    expect(svg).toContain(">recall@10</text>");
    expect(svg).toContain(">bytes per vector stored");
    for (const tick of ["48 B", "384 B", "1.5 KiB"]) expect(svg).toContain(`>${tick}</text>`);
  });

  it("labels the Pareto front points", () => {
    for (const label of ["int8 @384  0.995", "binary @384  0.630", "float32 @384  1.000"]) expect(svg).toContain(`>${label}</text>`);
    expect(svg).not.toContain(">float32 @48  0.620</text>");
  });

  it("escapes <, & and > in labels", () => {
    const hostile = { ...study, dataset: "a<b>&c", rows: [...study.rows, r("x<y & z>w", 64, 0.99)] };
    const out = recallPlot(hostile);
    expect(out).toContain("x&lt;y &amp; z&gt;w");
    expect(out).toContain("a&lt;b&gt;&amp;c");
    expect(out).not.toContain("x<y");
    expect(out).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#39;)/);
  });

  it("writes the sample report for viewing when QUANTVEC_PLOTS_DIR is set", async () => {
    if (!PLOTS_DIR) return;
    await writeReport(sampleResults(), PLOTS_DIR);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(PLOTS_DIR, "console.txt"), renderConsole(sampleResults()));
  });
});

describe("throughputPlot", () => {
  const results = sampleResults();
  const svg = throughputPlot(results);

  it("is well formed, with one bar per implementation that ran", () => {
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(count(svg, "<text")).toBe(count(svg, "</text>"));
    const ran = results.kernels.flatMap((s) => s.rows).filter((row) => row.status === "ok").length;
    expect(count(svg, /<rect x=/g)).toBe(ran);
  });

  it("labels bars with vectors/s and GB/s, and lists unavailable peers with their reason", () => {
    expect(svg).toContain(">50.0 M vectors/s · 6.40 GB/s</text>");
    expect(svg).toContain(">unavailable: b1 exactSearch not reachable from JS</text>");
    expect(svg).toContain(">failed: threw: index type not supported</text>");
  });

  it("draws the streaming-read bound only when bandwidth was measured", () => {
    expect(svg).toContain(">streaming-read bound 10.5 GB/s</text>");
    expect(svg).toContain("stroke-dasharray");
    const without = sampleResults();
    delete without.bandwidth;
    const out = throughputPlot(without);
    expect(out).not.toContain("streaming-read bound");
    expect(out).not.toContain("stroke-dasharray");
  });

  it("escapes <, & and > in implementation names and notes", () => {
    const hostile = sampleResults();
    hostile.kernels[0].rows[3].note = "needs <b1> & more";
    const out = throughputPlot(hostile);
    expect(out).toContain("needs &lt;b1&gt; &amp; more");
    expect(out).not.toContain("<b1>");
  });
});

describe("writeReport", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("writes results.json, BENCHMARKS.md and both plots into a new folder", async () => {
    const base = await mkdtemp(join(tmpdir(), "quantvec-report-"));
    dirs.push(base);
    const outDir = join(base, "nested", "out");
    const results = sampleResults();
    const written = await writeReport(results, outDir);
    expect((await readdir(outDir)).sort()).toEqual(["BENCHMARKS.md", "recall.svg", "results.json", "throughput.svg"]);
    expect(written).toEqual({
      json: join(outDir, "results.json"),
      markdown: join(outDir, "BENCHMARKS.md"),
      recallPlot: join(outDir, "recall.svg"),
      throughputPlot: join(outDir, "throughput.svg"),
    });
    expect(JSON.parse(await readFile(written.json, "utf8"))).toEqual(results);
    expect(await readFile(written.markdown, "utf8")).toBe(renderMarkdown(results, { recallPlot: "recall.svg", throughputPlot: "throughput.svg" }));
    expect(await readFile(written.recallPlot!, "utf8")).toBe(recallPlot(results.quality!));
  });

  it("writes no plot for a part that was not measured", async () => {
    const base = await mkdtemp(join(tmpdir(), "quantvec-report-"));
    dirs.push(base);
    const results = sampleResults();
    results.kernels = [];
    delete results.quality;
    const written = await writeReport(results, base);
    expect((await readdir(base)).sort()).toEqual(["BENCHMARKS.md", "results.json"]);
    expect(written.recallPlot).toBeUndefined();
    expect(written.throughputPlot).toBeUndefined();
  });
});

describe("the committed bench/latest/results.json", () => {
  const results = JSON.parse(readFileSync(new URL("../bench/latest/results.json", import.meta.url), "utf8")) as BenchResults;
  const md = renderMarkdown(results, { recallPlot: "recall.svg", throughputPlot: "throughput.svg" });
  const text = renderConsole(results);
  const cells = (line: string) => line.split(" | ").map((c) => c.replace(/^\| |\s*\|$/g, "").trim());
  /** The first table row starting with `first`, after the heading `after` if given. */
  const tableRow = (first: string, after = "") =>
    md.slice(md.indexOf(after)).split("\n").find((line) => line.startsWith(`| ${first.replace(/\|/g, "\\|")} |`));

  it("renders every kernel row with its p50, and says why a peer did not run", () => {
    for (const suite of results.kernels) {
      expect(md).toContain(`### ${suite.title}`);
      for (const row of suite.rows) {
        const line = tableRow(row.implementation, `### ${suite.title}`);
        expect(line, row.implementation).toBeDefined();
        if (row.status === "ok") expect(cells(line!)[1]).toBe(formatSig(row.p50Ms!));
        else expect(line).toContain(`${row.status}: ${row.note}`);
      }
    }
  });

  it("shows each quality row's recall and stored bytes; sentence-transformers rescores codes with the float32 query", () => {
    const study = results.quality!;
    for (const row of study.rows) {
      const line = md.split("\n").find((l) => l.startsWith(`| ${row.label}`));
      expect(line, row.label).toBeDefined();
      const c = cells(line!);
      expect(c[4]).toBe(Number.isFinite(row.recall) ? row.recall.toFixed(4) : "—");
      expect(c[5]).toBe(Number.isFinite(row.bytesPerVector) ? row.bytesPerVector.toLocaleString("en-US") : "NaN");
    }
    // study.ts rescores these two from the codes they search (int8 values, unpacked bits), as
    // sentence-transformers' semantic_search_* do: their bytes are the codes alone.
    const reference = (label: string) => study.rows.find((r) => r.label === label)!;
    expect(reference("ST binary → rescore ×2").bytesPerVector).toBe(study.dims / 8);
    expect(reference("ST int8 codes·codes → rescore ×2").bytesPerVector).toBe(study.dims);
    expect(tableRow("ST binary → rescore ×2 (reference: sentence-transformers default)")).toContain("| float32 query · codes | ×2 |");
  });

  it("renders the end-to-end, scaling, ids and scale sections from the run", () => {
    for (const row of results.endToEnd) expect(cells(tableRow(row.name)!)[2]).toBe(formatSig(row.p50Ms));
    for (const row of results.scaling ?? []) expect(cells(tableRow(row.name)!)[4]).toMatch(new RegExp(`^${formatSig(row.speedup, 3, true).replace(".", "\\.")}×`));
    for (const row of results.ids ?? []) expect(tableRow(row.name)).toBeDefined();
    if (results.scale) expect(md).toContain(`| shards | ${results.scale.shards} |`);
  });

  it("puts the run in a column of the machine comparison, beside another machine's", () => {
    const other = sampleResults();
    const table = renderMachines([{ dir: "latest", results }, { dir: "sample", results: other }]);
    const row = (name: string) => cells(table.split("\n").find((l) => l.startsWith(`| ${name} |`))!);
    expect(row("CPU").slice(1)).toEqual([`${results.meta.cpu} (${results.meta.cores} cores)`, "AMD EPYC 7B13 (8 cores)"]);
    const usearch = results.kernels.find((s) => s.kernel === "int8")!.rows.find((r) => r.implementation.startsWith("usearch"))!;
    expect(row("int8 1024-d: usearch exactSearch time ÷ quantvec's")[1]).toBe(`${formatSig(usearch.quantvecSpeedup!, 3, true)}×`);
    expect(row("int8 1024-d: usearch exactSearch time ÷ quantvec's")[2]).toBe("1.15×"); // 6.9 / 6.0 M vectors/s
    const two = results.scaling!.find((r) => r.name === "Hamming 1024-bit: 2 threads, one query")!;
    expect(row("2 threads vs 1, Hamming")[1]).toBe(`${formatSig(two.speedup, 3, true)}×`);
    expect(row("2 threads vs 1, Hamming")[2]).toBe("—"); // the sample has no such row
  });

  it("names both reads when the bound is the faster of one stream and the interleaved order (runs since 2026-12-02)", () => {
    const newer = structuredClone(results);
    newer.bandwidth = { ...newer.bandwidth!, gbPerSec: 27, oneStreamGbPerSec: 27, interleavedGbPerSec: 17.1 };
    const hamming = newer.kernels.find((s) => s.kernel === "hamming")!;
    Object.assign(hamming, { boundGbPerSec: 27, oneStreamGbPerSec: 27, interleavedGbPerSec: 17.1 });
    const out = renderMarkdown(newer, {});
    expect(out).toContain("**Streaming-read bound: 27.0 GB/s** — a WebAssembly v128 sum over");
    expect(out).toContain("the faster of one sequential stream (27.0 GB/s) and interleaved streams as the scans read (17.1 GB/s)");
    expect(out).toContain("streaming read of the same bytes: 27.0 GB/s (the faster of one stream, 27.0 GB/s, and interleaved as the scans read, 17.1 GB/s).");
    expect(md).not.toContain("the faster of one stream"); // the committed run predates the field
  });

  it("prints the same rows to the terminal", () => {
    for (const suite of results.kernels) for (const row of suite.rows) expect(text).toContain(row.implementation);
    for (const row of results.quality!.rows) expect(text).toContain(row.label);
  });

  it("plots one marker per quality row (hollow for the references) and one bar per kernel that ran", () => {
    const recall = recallPlot(results.quality!);
    expect(count(recall, 'class="pt"')).toBe(results.quality!.rows.filter((r) => Number.isFinite(r.recall)).length);
    expect(count(recall, /class="pt" d="[^"]*" fill="#fff"/g)).toBe(results.quality!.rows.filter((r) => r.reference).length);
    const bars = throughputPlot(results);
    expect(count(bars, /<rect x=/g)).toBe(results.kernels.flatMap((s) => s.rows).filter((r) => r.status === "ok" && r.vectorsPerSec !== undefined).length);
  });
});
