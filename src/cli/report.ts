// From a BenchResults object to what people read: BENCHMARKS.md, the terminal tables and the two
// plots. Every fact comes from the object, so a report can always be regenerated from results.json.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { markPareto } from "./pareto.js";
import type { BenchResults, IdsRow, KernelRow, KernelSuite, PersistenceRun, QualityRow, QualityStudy, RunMeta, ScaleRun, ScalingRow } from "./results.js";
import { formatBytes, formatCount, formatSig, recallPlot, throughputPlot } from "./svg.js";

const DASH = "—";

// ---------------------------------------------------------------------------------------------
// Shared cell text

/** ISO time as `2025-03-01 14:05 UTC`; anything unparsable is shown as given. */
function formatDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function opt(value: number | undefined, format: (v: number) => string): string {
  return value === undefined || !Number.isFinite(value) ? DASH : format(value);
}

function isQuantvec(row: KernelRow): boolean {
  return /^quantvec\b/i.test(row.implementation.trim());
}

/** "1.23× (1.10–1.31)": a ratio with its lowest and highest round, where the run recorded them. */
function ratioText(ratio: number, low?: number, high?: number): string {
  const range = low === undefined || high === undefined ? "" : ` (${formatSig(low, 3, true)}–${formatSig(high, 3, true)})`;
  return `${formatSig(ratio, 3, true)}×${range}`;
}

/** "4.72× (4.5–4.9)" for a peer; "baseline" for quantvec's own row, whose ratio to itself is 1. */
function speedupCell(row: KernelRow): string {
  if (row.quantvecSpeedup === undefined || !Number.isFinite(row.quantvecSpeedup)) return DASH;
  if (isQuantvec(row) && Math.abs(row.quantvecSpeedup - 1) < 1e-9) return "baseline";
  return ratioText(row.quantvecSpeedup, row.quantvecSpeedupLow, row.quantvecSpeedupHigh);
}

/** The suite's hardware reference in a sentence, or "" when the run has none. */
function referenceText(suite: KernelSuite): string {
  const ref = suite.reference;
  if (ref === undefined) return "";
  if (ref.twoThreadSpeedup === undefined) return ` Hardware reference: ${ref.note ?? "not measured"}.`;
  return ` Hardware reference, the same read on this thread and split with one worker: ${formatSig(ref.oneThreadGbPerSec!)} GB/s on 1 thread, ` +
    `${ratioText(ref.twoThreadSpeedup, ref.twoThreadSpeedupLow, ref.twoThreadSpeedupHigh)} on 2 (what the machine allows a 2-thread scan).`;
}

function scalingSpeedupCell(row: ScalingRow): string {
  return ratioText(row.speedup, row.speedupLow, row.speedupHigh);
}

function ofReferenceCell(row: ScalingRow): string {
  return row.ofReference === undefined ? "" : `${formatSig(100 * row.ofReference, 2)}% of ${formatSig(row.referenceSpeedup!, 3, true)}×`;
}

function noteCell(row: KernelRow): string {
  if (row.status === "ok") return row.note ?? "";
  return `${row.status}${row.note ? `: ${row.note}` : ""}`;
}

function peersText(meta: RunMeta): string {
  const names = Object.keys(meta.peers);
  if (names.length === 0) return "none";
  return names.map((name) => `${name} ${meta.peers[name] ?? "not loaded"}`).join(", ");
}

function recallCell(recall: number): string {
  return Number.isFinite(recall) ? recall.toFixed(4) : DASH;
}

/**
 * sentence-transformers rescores with the float32 query against the corpus codes it already
 * holds (unpacked bits, or int8 values): no float32 corpus vectors are read or stored.
 */
function rescoreCell(row: QualityRow): string {
  if (row.rescore === "none") return DASH;
  return row.reference && row.rescore === "float32" ? "float32 query · codes" : row.rescore;
}

function multiplierCell(row: QualityRow): string {
  return row.rescore === "none" ? DASH : `×${formatSig(row.multiplier, 3, true)}`;
}

/** Bytes of a float32 vector at the study's full dims over this row's bytes. */
function compressionCell(study: QualityStudy, row: QualityRow): string {
  if (!(row.bytesPerVector > 0)) return DASH;
  return `${formatSig((4 * study.dims) / row.bytesPerVector, 3, true)}×`;
}

const REFERENCE_NOTE = "reference: sentence-transformers default";

/** "for recall@10 ≥ 0.95: int8 @384 — reason"; the label is "none" when nothing reaches the target. */
function recommendationText(study: QualityStudy, strong: (label: string) => string): string | undefined {
  const rec = study.recommendation;
  if (!rec) return undefined;
  const head = `for recall@${study.k} ≥ ${formatSig(rec.targetRecall, 4, true)}: ${strong(rec.label ?? "none")}`;
  return rec.reason ? `${head} — ${rec.reason}` : head;
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** A table cell: pipes escaped, line breaks folded, `<` escaped so text is never read as HTML. */
function cell(value: string): string {
  return value.replace(/\r?\n/g, " ").replace(/</g, "&lt;").replace(/\|/g, "\\|");
}

/** Inline text outside tables. */
function inline(value: string): string {
  return value.replace(/\r?\n/g, " ").replace(/</g, "&lt;");
}

function mdTable(headers: string[], align: ("l" | "r")[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `|${align.map((a) => (a === "r" ? "---:" : ":---")).join("|")}|`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}

function kernelTable(suite: KernelSuite, percentColumn: boolean): string {
  const headers = ["Implementation", "p50 ms", "M vectors/s", "GB/s"];
  const align: ("l" | "r")[] = ["l", "r", "r", "r"];
  if (percentColumn) {
    headers.push("% of bound");
    align.push("r");
  }
  headers.push("quantvec is N× faster", "Notes");
  align.push("r", "l");
  const rows = suite.rows.map((row) => {
    const cells = [
      row.implementation,
      opt(row.p50Ms, (v) => formatSig(v)),
      opt(row.vectorsPerSec, (v) => formatSig(v / 1e6)),
      opt(row.gbPerSec, (v) => formatSig(v)),
    ];
    if (percentColumn) cells.push(opt(row.percentOfBound, (v) => `${formatSig(v, 2)}%`));
    cells.push(speedupCell(row), noteCell(row));
    return cells;
  });
  return mdTable(headers, align, rows);
}

/**
 * BENCHMARKS.md for a bench or eval run: run facts, the streaming-read bound, one table per kernel
 * suite, end-to-end latency, the quality study with its Pareto front and recommendation, thread
 * scaling, and links to the plots. Sections without data are left out.
 *
 * @param results the run, as written to results.json.
 * @param files paths of the plots relative to the markdown file; a plot is linked only when given.
 * @returns Markdown text ending in a newline.
 * @example
 * await writeFile("BENCHMARKS.md", renderMarkdown(results, { recallPlot: "recall.svg" }));
 */
export function renderMarkdown(results: BenchResults, files: { recallPlot?: string; throughputPlot?: string }): string {
  const { meta } = results;
  const out: string[] = [];
  out.push("# quantvec benchmarks", "");
  out.push(`Generated by \`quantvec ${meta.mode === "eval" ? "eval" : "bench"}\` from results.json; do not edit by hand.`, "");
  out.push(
    mdTable(
      ["Run", ""],
      ["l", "l"],
      [
        ["Date", formatDate(meta.date)],
        ["Node", meta.node],
        ["CPU", `${meta.cpu} (${formatCount(meta.cores)} cores)`],
        ...(meta.cpuFlags ? [["CPU flags that matter", meta.cpuFlags.join(" ") || "none of " + "popcnt, AVX2, AVX-512"]] : []),
        ["Platform", meta.platform],
        ["quantvec", meta.quantvecVersion],
        ...(meta.kernelPath ? [["Kernels", `${meta.kernelPath}: ${meta.kernelPathReason}`]] : []),
        ["Mode", meta.mode],
        ...(meta.loadAverage ? [["Load average at start (1, 5, 15 min)", meta.loadAverage.map((v) => v.toFixed(2)).join(", ")]] : []),
        ...(meta.refreshed ? [["Refreshed", meta.refreshed]] : []),
        ["Seed", String(meta.seed)],
        ...Object.keys(meta.peers).map((name) => [`Peer: ${name}`, meta.peers[name] ?? "not loaded"]),
      ],
    ),
    "",
  );

  if (results.bandwidth) {
    const b = results.bandwidth;
    out.push(
      b.interleavedGbPerSec === undefined
        ? `**Streaming-read bound: ${formatSig(b.gbPerSec)} GB/s** — a WebAssembly v128 sum over ${formatBytes(b.bytes)} ` +
          `read as 8 interleaved streams, as the scans read (p50 ${formatSig(b.p50Ms)} ms): the practical ceiling of any ` +
          `single-threaded scan on this machine in this run.` +
          (b.oneStreamGbPerSec === undefined ? "" : ` Read as one sequential stream, the same bytes come at ${formatSig(b.oneStreamGbPerSec)} GB/s.`) +
          " Each suite's % of bound uses a streaming read of its own bytes, timed beside it."
        : `**Streaming-read bound: ${formatSig(b.gbPerSec)} GB/s** — a WebAssembly v128 sum over ${formatBytes(b.bytes)}, ` +
          `the faster of one sequential stream (${formatSig(b.oneStreamGbPerSec!)} GB/s) and interleaved streams as the ` +
          `scans read (${formatSig(b.interleavedGbPerSec)} GB/s): the practical ceiling of any ` +
          "single-threaded scan on this machine in this run. Each suite's % of bound uses the faster read of its own bytes, timed beside it.",
      "",
    );
  }

  if (results.kernels.length > 0) {
    out.push("## Kernels", "");
    out.push(
      "One query scanned against the whole corpus, top-10 included; p50 of the timed runs. Ratios compare p50s measured in this run; " +
        "where the run timed its contenders in turn (A B A B …), the range after a ratio is its lowest and highest round.",
      "",
    );
    for (const suite of results.kernels) {
      out.push(`### ${inline(suite.title)}`, "");
      out.push(
        `${formatCount(suite.vectors)} vectors × ${formatBytes(suite.bytesPerVector)} ` +
          `(${formatBytes(suite.vectors * suite.bytesPerVector)} read per query)` +
          (suite.boundGbPerSec === undefined ? "." : `; streaming read of the same bytes: ${formatSig(suite.boundGbPerSec)} GB/s` +
            (suite.interleavedGbPerSec !== undefined
              ? ` (the faster of one stream, ${formatSig(suite.oneStreamGbPerSec!)} GB/s, and interleaved as the scans read, ${formatSig(suite.interleavedGbPerSec)} GB/s).`
              : suite.oneStreamGbPerSec === undefined ? "." : ` (one stream: ${formatSig(suite.oneStreamGbPerSec)} GB/s).`)) +
          referenceText(suite),
        "",
      );
      const percentColumn = results.bandwidth !== undefined || suite.rows.some((r) => r.percentOfBound !== undefined);
      out.push(kernelTable(suite, percentColumn), "");
    }
    if (files.throughputPlot) out.push(`![Scan throughput per kernel suite](${files.throughputPlot})`, "");
  }

  if (results.endToEnd.length > 0) {
    out.push("## End to end", "");
    out.push(
      mdTable(
        ["Search", "Vectors", "p50 ms", "p99 ms", "vs binary scan alone"],
        ["l", "r", "r", "r", "r"],
        results.endToEnd.map((row) => [
          row.name,
          formatCount(row.vectors),
          formatSig(row.p50Ms),
          formatSig(row.p99Ms),
          `${formatSig(row.vsBinaryScan, 3, true)}×`,
        ]),
      ),
      "",
    );
  }

  if (results.quality) {
    const study = results.quality;
    const rows = markPareto(study.rows);
    out.push(`## Quality: recall@${study.k} vs memory`, "");
    out.push(
      `${inline(study.dataset)}: ${formatCount(study.vectors)} vectors × ${formatCount(study.dims)} dims, ` +
        `${formatCount(study.queries)} queries. Recall@${study.k} against exact float32 search on the full vectors; ` +
        `compression against float32 at ${formatCount(study.dims)} dims (${formatBytes(4 * study.dims)} per vector). ` +
        `◆ marks the Pareto front: no other configuration stores fewer bytes with at least as much recall.`,
      "",
    );
    out.push(
      mdTable(
        ["Configuration", "Dims", "Rescore", "×mult", `Recall@${study.k}`, "Bytes/vector", "Compression", "p50 ms", "Pareto"],
        ["l", "r", "l", "r", "r", "r", "r", "r", "l"],
        rows.map((row) => [
          row.reference ? `${row.label} (${REFERENCE_NOTE})` : row.label,
          formatCount(row.dims),
          rescoreCell(row),
          multiplierCell(row),
          recallCell(row.recall),
          formatCount(row.bytesPerVector),
          compressionCell(study, row),
          formatSig(row.p50Ms),
          row.reference ? "reference" : row.pareto ? "◆" : "",
        ]),
      ),
      "",
    );
    const rec = recommendationText(study, (label) => `**${label}**`);
    if (rec) out.push(`**Recommendation** ${inline(rec)}`, "");
    if (files.recallPlot) out.push(`![Recall@${study.k} vs bytes per vector](${files.recallPlot})`, "");
  }

  if (results.scaling && results.scaling.length > 0) {
    out.push("## Scaling", "");
    out.push(
      mdTable(
        ["Configuration", "Baseline", "p50 ms", "Baseline p50 ms", "Speedup", "Of the hardware reference"],
        ["l", "l", "r", "r", "r", "r"],
        results.scaling.map((row) => [
          row.name,
          row.baseline,
          formatSig(row.p50Ms),
          formatSig(row.baselineP50Ms),
          scalingSpeedupCell(row),
          ofReferenceCell(row),
        ]),
      ),
      "",
    );
  }
  if (results.ids && results.ids.length > 0) {
    out.push("## Ids: filters, removal, upserts", "");
    out.push(mdTable(["Operation", "p50 ms", "Baseline", "Baseline p50 ms", "Time ÷ baseline"], ["l", "r", "l", "r", "r"], idsCells(results.ids)), "");
  }
  if (results.scale) {
    out.push("## Scale: one index past one WebAssembly memory", "");
    out.push(mdTable(["Measure", "Value"], ["l", "r"], scaleCells(results.scale)), "");
  }
  if (results.persistence) {
    const run = results.persistence;
    out.push("## Persistence: save and load against copying the file", "");
    out.push(`${persistenceNote(run)}`, "");
    out.push(mdTable(["Contender", "Median s", "GB/s", "Every round (s)"], ["l", "r", "r", "l"], persistenceCells(run)), "");
    out.push(persistenceRatios(run).map((line) => `- ${line}`).join("\n"), "");
  }
  return out.join("\n");
}

function persistenceNote(run: PersistenceRun): string {
  return `${run.vectors.toLocaleString("en-US")} × 1024-d vectors, binary → int8 (${(run.fileBytes / 1e9).toFixed(2)} GB file); ` +
    `the contenders timed in turn, ${run.rounds} rounds; page cache warm.`;
}

function persistenceCells(run: PersistenceRun): string[][] {
  return run.rows.map((r) => [r.name, r.p50Seconds.toFixed(3), r.gbPerSec.toFixed(2), r.seconds.map((t) => t.toFixed(3)).join(" ")]);
}

function persistenceRatios(run: PersistenceRun): string[] {
  return [
    `save throughput ÷ (copyFile + fsync) throughput: **${run.saveVsCopyFsync.toFixed(2)}** (goal ≥ 0.7); ÷ writing the bytes to a new file + fsync + rename: ${run.saveVsWriteNew.toFixed(2)}`,
    `load throughput ÷ copyFile throughput: **${run.loadVsCopy.toFixed(2)}** (goal ≥ 0.7); ÷ readFile into new memory + xxh64: ${run.loadVsReadFresh.toFixed(2)}`,
  ];
}

function idsCells(rows: readonly IdsRow[]): string[][] {
  return rows.map((r) => [
    r.name, formatSig(r.p50Ms), r.baseline ?? "", r.baselineP50Ms === undefined ? "" : formatSig(r.baselineP50Ms),
    r.ratio === undefined ? "" : ratioText(r.ratio, r.ratioLow, r.ratioHigh),
  ]);
}

function scaleCells(run: ScaleRun): string[][] {
  return [
    ["vectors (1024-bit codes, added with addQuantized)", run.vectors.toLocaleString("en-US")],
    ["code bytes", `${(run.codeBytes / 1e9).toFixed(2)} GB`],
    ["shards", String(run.shards)],
    ["adding them", `${run.addSeconds.toFixed(1)} s`],
    ["search, one query, p50", `${formatSig(run.searchP50Ms)} ms`],
    [`searchBatch of ${run.batchQueries}, p50`, `${formatSig(run.batchP50Ms)} ms (${formatSig(run.batchQps)} queries/s)`],
    ["memory per vector (memoryBytes ÷ vectors)", `${run.memoryPerVector.toFixed(2)} B`],
    ["row bytes per vector (codes, id, live bit)", `${run.rowBytesPerVector.toFixed(3)} B`],
  ];
}

// ---------------------------------------------------------------------------------------------
// Console

type ConsoleRow = string[] | { first: string; rest: string };

/** Plain-text columns, padded by code points; a `{ first, rest }` row runs its text past column 1. */
function textTable(headers: string[], align: ("l" | "r")[], rows: ConsoleRow[]): string {
  const len = (s: string) => [...s].length;
  const pad = (s: string, w: number, a: "l" | "r") => (a === "r" ? " ".repeat(w - len(s)) + s : s + " ".repeat(w - len(s)));
  const widths = headers.map((h, c) =>
    Math.max(len(h), ...rows.map((r) => (Array.isArray(r) ? len(r[c] ?? "") : c === 0 ? len(r.first) : 0))),
  );
  const line = (cells: string[]) => `  ${cells.map((s, c) => pad(s, widths[c], align[c])).join("  ")}`.trimEnd();
  return [
    line(headers),
    ...rows.map((r) => (Array.isArray(r) ? line(r) : `  ${pad(r.first, widths[0], "l")}  ${r.rest}`.trimEnd())),
  ].join("\n");
}

/**
 * Compact plain-text tables of a run for the terminal: the same facts as BENCHMARKS.md, no colours.
 *
 * @param results the run.
 * @returns text ending in a newline.
 * @example
 * process.stdout.write(renderConsole(results));
 */
export function renderConsole(results: BenchResults): string {
  const { meta } = results;
  const out: string[] = [];
  out.push(`quantvec ${meta.quantvecVersion} · ${meta.mode} · seed ${meta.seed} · ${formatDate(meta.date)}`);
  out.push(`${meta.cpu} (${meta.cores} cores) · ${meta.platform} · Node ${meta.node}`);
  out.push(`peers: ${peersText(meta)}`);
  if (meta.kernelPath) out.push(`kernels: ${meta.kernelPath} (${meta.kernelPathReason})`);
  if (results.bandwidth) out.push(`streaming-read bound: ${formatSig(results.bandwidth.gbPerSec)} GB/s`);

  for (const suite of results.kernels) {
    out.push("", `${suite.title} — ${formatCount(suite.vectors)} vectors × ${formatBytes(suite.bytesPerVector)}`);
    const reference = referenceText(suite).trim();
    if (reference) out.push(reference);
    else if (suite.boundGbPerSec !== undefined) out.push(`Streaming read of the same bytes in this run: ${formatSig(suite.boundGbPerSec)} GB/s.`);
    out.push(
      textTable(
        ["implementation", "p50 ms", "M vec/s", "GB/s", "% bound", "quantvec ×"],
        ["l", "r", "r", "r", "r", "r"],
        suite.rows.map((row) =>
          row.status === "ok"
            ? [
                row.implementation,
                opt(row.p50Ms, (v) => formatSig(v)),
                opt(row.vectorsPerSec, (v) => formatSig(v / 1e6)),
                opt(row.gbPerSec, (v) => formatSig(v)),
                opt(row.percentOfBound, (v) => `${formatSig(v, 2)}%`),
                speedupCell(row),
              ]
            : { first: row.implementation, rest: noteCell(row) },
        ),
      ),
    );
  }

  if (results.endToEnd.length > 0) {
    out.push("", "End to end");
    out.push(
      textTable(
        ["search", "vectors", "p50 ms", "p99 ms", "vs binary scan"],
        ["l", "r", "r", "r", "r"],
        results.endToEnd.map((r) => [r.name, formatCount(r.vectors), formatSig(r.p50Ms), formatSig(r.p99Ms), `${formatSig(r.vsBinaryScan, 3, true)}×`]),
      ),
    );
  }

  if (results.quality) {
    const study = results.quality;
    out.push("", `Quality — ${study.dataset}: ${formatCount(study.vectors)} × ${study.dims}d, ${formatCount(study.queries)} queries, recall@${study.k}`);
    out.push(
      textTable(
        ["configuration", "recall", "bytes", "compr.", "p50 ms", ""],
        ["l", "r", "r", "r", "r", "l"],
        markPareto(study.rows).map((row) => [
          row.label,
          recallCell(row.recall),
          formatCount(row.bytesPerVector),
          compressionCell(study, row),
          formatSig(row.p50Ms),
          row.reference ? "reference" : row.pareto ? "◆ front" : "",
        ]),
      ),
    );
    const rec = recommendationText(study, (label) => label);
    if (rec) out.push(`recommendation ${rec}`);
  }

  if (results.scaling && results.scaling.length > 0) {
    out.push("", "Scaling");
    out.push(
      textTable(
        ["configuration", "baseline", "p50 ms", "baseline ms", "speedup", "of reference"],
        ["l", "l", "r", "r", "r", "r"],
        results.scaling.map((r) => [r.name, r.baseline, formatSig(r.p50Ms), formatSig(r.baselineP50Ms), scalingSpeedupCell(r), ofReferenceCell(r)]),
      ),
    );
  }
  if (results.ids && results.ids.length > 0) {
    out.push("", "Ids: filters, removal, upserts");
    out.push(textTable(["operation", "p50 ms", "baseline", "baseline ms", "time ÷ baseline"], ["l", "r", "l", "r", "r"], idsCells(results.ids)));
  }
  if (results.scale) {
    out.push("", "Scale");
    out.push(textTable(["measure", "value"], ["l", "r"], scaleCells(results.scale)));
  }
  if (results.persistence) {
    out.push("", `Persistence: ${persistenceNote(results.persistence)}`);
    out.push(textTable(["contender", "median s", "GB/s", "every round (s)"], ["l", "r", "r", "l"], persistenceCells(results.persistence)));
    out.push(...persistenceRatios(results.persistence).map((line) => line.replace(/\*\*/g, "")));
  }
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Files

/**
 * Writes a run's outputs into `outDir` (created if missing): results.json, BENCHMARKS.md,
 * recall.svg when there is a quality study, throughput.svg when there are kernel suites.
 *
 * @param results the run.
 * @param outDir the folder to write into.
 * @returns the paths written (joined onto `outDir`).
 * @throws rejects with the file-system error when a folder or file cannot be written.
 * @example
 * const { markdown } = await writeReport(results, "bench-results");
 */
export async function writeReport(
  results: BenchResults,
  outDir: string,
): Promise<{ json: string; markdown: string; recallPlot?: string; throughputPlot?: string }> {
  await mkdir(outDir, { recursive: true });
  const written: { json: string; markdown: string; recallPlot?: string; throughputPlot?: string } = {
    json: join(outDir, "results.json"),
    markdown: join(outDir, "BENCHMARKS.md"),
  };
  const links: { recallPlot?: string; throughputPlot?: string } = {};
  if (results.quality) {
    links.recallPlot = "recall.svg";
    written.recallPlot = join(outDir, links.recallPlot);
    await writeFile(written.recallPlot, recallPlot(results.quality));
  }
  if (results.kernels.length > 0) {
    links.throughputPlot = "throughput.svg";
    written.throughputPlot = join(outDir, links.throughputPlot);
    await writeFile(written.throughputPlot, throughputPlot(results));
  }
  await writeFile(written.json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(written.markdown, renderMarkdown(results, links));
  return written;
}

// ---------------------------------------------------------------------------------------------
// Machines side by side

/** quantvec's speedup over the suite's usearch exactSearch (its p50 over ours), or undefined. */
function vsUsearch(results: BenchResults, kernel: string): KernelRow | undefined {
  return results.kernels.find((s) => s.kernel === kernel)?.rows.find((r) => /^usearch/.test(r.implementation) && r.status === "ok");
}

function twoThreads(results: BenchResults, prefix: string): ScalingRow | undefined {
  return results.scaling?.find((r) => r.name.startsWith(prefix) && r.name.includes("2 threads, one query"));
}

/**
 * One table, a column per run (each a machine's run as written to `dir`/results.json): CPU and
 * the flags that matter, the kernels chosen, and each headline ratio, so runs on different
 * machines read side by side.
 */
export function renderMachines(runs: ReadonlyArray<{ dir: string; results: BenchResults }>): string {
  const column = (f: (r: BenchResults) => string) => runs.map(({ results }) => f(results));
  const hamming = (r: BenchResults) => r.kernels.find((s) => s.kernel === "hamming");
  const threadCell = (prefix: string) => (r: BenchResults) => {
    const row = twoThreads(r, prefix);
    if (row === undefined || !Number.isFinite(row.speedup)) return DASH;
    return scalingSpeedupCell(row) + (row.referenceSpeedup === undefined ? "" : `; reference ${formatSig(row.referenceSpeedup, 3, true)}×`);
  };
  const peerCell = (kernel: string) => (r: BenchResults) => {
    const row = vsUsearch(r, kernel);
    return row === undefined ? DASH : speedupCell(row);
  };
  const rows: string[][] = [
    ["Run", ...runs.map(({ dir, results }) => `[${dir}](${dir}/BENCHMARKS.md), ${results.meta.mode}, ${formatDate(results.meta.date)}`)],
    ["CPU", ...column((r) => `${r.meta.cpu} (${r.meta.cores} cores)`)],
    ["CPU flags that matter", ...column((r) => r.meta.cpuFlags?.join(" ") ?? "not recorded")],
    ["Node", ...column((r) => r.meta.node)],
    ["Kernels chosen", ...column((r) => r.meta.kernelPath ?? "not recorded")],
    ["Load average at start", ...column((r) => r.meta.loadAverage?.map((v) => v.toFixed(1)).join(", ") ?? "not recorded")],
    ["Streaming read (the bound)", ...column((r) => opt(r.bandwidth?.gbPerSec, (v) => `${formatSig(v)} GB/s` + (r.bandwidth?.interleavedGbPerSec === undefined ? " (8 streams)" : " (the faster of one stream and the scans' interleaved read)")))],
    ["Hamming 1024-bit scan, % of the streaming read", ...column((r) => opt(hamming(r)?.rows[0]?.percentOfBound, (v) => `${formatSig(v, 2)}%`))],
    ["Hamming through Index.search", ...column((r) => opt(hamming(r)?.rows.find((x) => x.implementation === "quantvec Index.search")?.percentOfBound, (v) => `${formatSig(v, 2)}%`))],
    ["Hamming: reference scan time ÷ quantvec's", ...column((r) => {
      const row = hamming(r)?.rows.find((x) => x.implementation === "hardware reference scan");
      return row === undefined ? DASH : speedupCell(row);
    })],
    ["int8 1024-d: usearch exactSearch time ÷ quantvec's", ...column(peerCell("int8"))],
    ["float32 1024-d: usearch exactSearch time ÷ quantvec's", ...column(peerCell("float32"))],
    ...["quantize(…, \"int8\")", "quantize(…, \"int8\", { out })", "quantize(…, \"ubinary\")", "quantize(…, \"ubinary\", { out })"].map((name) => [
      `${name}, GB/s of float input`,
      ...column((r) => opt(r.kernels.find((s) => s.kernel === "quantize")?.rows.find((x) => x.implementation === name)?.gbPerSec, (v) => `${formatSig(v)} GB/s`)),
    ]),
    ["2 threads vs 1, Hamming", ...column(threadCell("Hamming"))],
    ["2 threads vs 1, int8", ...column(threadCell("int8"))],
    ["2 threads vs 1, float32", ...column(threadCell("float32"))],
  ];
  return [
    "# quantvec benchmarks, machine by machine",
    "",
    "Generated by scripts/machines.mjs from each run's results.json; do not edit by hand. Each column is one run on one machine;",
    "ratios compare contenders timed in the same run (a range is the lowest and highest round, where the run recorded one).",
    "",
    mdTable(rows[0], rows[0].map((_, i) => (i === 0 ? "l" : "r")), rows.slice(1)),
    "",
  ].join("\n");
}
