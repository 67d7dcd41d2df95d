// The `quantvec` command: `bench` measures this machine, `eval` studies the user's own vectors,
// `tune` picks the cheapest configuration (learned rotations included) that meets a recall target;
// `index` / `search` turn texts into an index file and query it (text.ts); `import` / `export`
// move binary codes from and to faiss (interop.ts).
// Arguments go through node:util's parseArgs (Node's own parser): no runtime dependency.

import { writeFile, mkdir } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { integerFlag, numberFlag, UsageError } from "./flags.js";
import { exportCommand, importCommand } from "./interop.js";
import { indexCommand, searchCommand } from "./text.js";
import { markPareto, recommend } from "./pareto.js";
import { Progress } from "./progress.js";
import { VECTOR_EXTENSIONS, VECTOR_FORMATS, type VectorFormat, readVectors } from "./read-vectors.js";
import { renderConsole, writeReport } from "./report.js";
import type { BenchResults, QualityStudy } from "./results.js";
import { packageVersion, runBench } from "./bench.js";
import { qualityStudy, rotationKey, rowOptions } from "./study.js";
import type { Rotation } from "../rotation.js";
import { ready } from "../wasm.js";
import os from "node:os";

const HELP = `quantvec ${packageVersion()} — small, fast embedding search

Usage
  quantvec bench [--quick | --full] [--scale] [--out DIR] [--seed N] [--json]
      Kernels against plain JS and peers (as a share of this machine's streaming-read
      bandwidth), end-to-end two-stage latency, filters and removal, and recall on real
      MiniLM vectors. --quick (default) finishes in a few minutes; --full uses 1M-vector
      corpora and adds the scale suite (40M codes, 5.1 GB, several shards), which --scale
      adds to a quick run.

  quantvec eval FILE [--dims N] [--format F] [--field NAME] [--queries 200] [--k 10]
                     [--target-recall 0.95] [--seed N] [--out DIR] [--json]
      Recall@k, bytes per vector and latency of every configuration (float32, int8,
      binary, binary→int8 ×1/2/4/8, at full, 1/2, 1/4 and 1/8 of the dimensions) on
      your vectors, against exact float search; recommends the cheapest one that meets
      --target-recall. FILE: ${Object.keys(VECTOR_EXTENSIONS).join(" ")} (raw float32 needs --dims;
      JSONL reads an "embedding" array per line, or --field).

  quantvec tune FILE --target-recall R [--queries 200] [--max-bytes B] [--k 10]
                     [--itq-iterations 50] [--dims N] [--format F] [--field NAME] [--seed N]
                     [--out DIR] [--json]
      Like eval, with learned rotations too (PCA before every cut, ITQ for binary codes,
      fitted on the corpus, never on the held-out queries): prints the cheapest
      configuration (bytes per vector, then latency) whose recall@k on the held-out
      queries reaches R, within B bytes per vector, as Index.create options, and writes
      recommendation.json plus the fitted rotation it needs (rotation-*.json).

bench, eval and tune write results.json, BENCHMARKS.md and SVG plots to --out (default
./quantvec-<command>); --json prints results.json to stdout instead of the tables.

  quantvec index CORPUS --model DIR|ID --out FILE [--text-field text] [--key-field id]
                 [--precision binary|int8|float32] [--rescore int8|float32|none] [--truncate N]
                 [--keep-text 300] [--pooling mean|cls|last_token] [--query-prefix P]
                 [--document-prefix P] [--matryoshka N] [--batch-size 32]
      Embeds every text of CORPUS with a transformers.js model (a local folder or a model id;
      needs @huggingface/transformers) and writes a text index file. CORPUS: JSONL (.jsonl,
      .ndjson; the text in --text-field, the key in --key-field, by default "id" when records
      have one, else the line number) or any other file as text, one document a line. Every
      line is checked first: a bad one is reported as FILE:LINE and nothing is written.
      Default binary → int8; --keep-text characters of each text are kept for search's table.

  quantvec search FILE QUERY [-k 10] [--rescore-multiplier 4] [--json]
      The k texts of FILE nearest to QUERY, embedded with the model and settings FILE was built
      with: a table (rank, score, key, start of the text) or JSON.

  quantvec export INDEX --faiss OUT
      Writes INDEX's binary codes as a faiss IndexBinaryIDMap file (IndexBinaryFlat when the
      ids are 0..n−1), which faiss.read_index_binary loads and searches by Hamming distance.

  quantvec import FAISS_FILE --out INDEX
      Reads a faiss IndexBinaryFlat / IndexBinaryIDMap / IndexBinaryIDMap2 file into a binary
      quantvec index file (ids must be integers from 0 to 2^32−1).`;

async function finish(results: BenchResults, outDir: string, json: boolean, progress: Progress): Promise<void> {
  const files = await writeReport(results, outDir);
  progress.clear();
  if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else {
    process.stdout.write(`\n${renderConsole(results)}\n`);
    const written = [files.json, files.markdown, files.recallPlot, files.throughputPlot].filter(Boolean);
    process.stdout.write(`\nwrote ${written.join(", ")}\n`);
  }
}

async function bench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean" }, full: { type: "boolean" }, out: { type: "string" }, seed: { type: "string" },
      json: { type: "boolean" }, scale: { type: "boolean" },
    },
  });
  if (values.quick && values.full) throw new UsageError("choose one of --quick and --full");
  const progress = new Progress();
  const results = await runBench({
    mode: values.full ? "full" : "quick", seed: integerFlag("seed", values.seed, 42, 0), progress, scale: Boolean(values.scale),
  });
  await finish(results, resolve(values.out ?? "quantvec-bench"), Boolean(values.json), progress);
}

async function evaluate(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      dims: { type: "string" }, format: { type: "string" }, field: { type: "string" }, queries: { type: "string" },
      k: { type: "string" }, "target-recall": { type: "string" }, seed: { type: "string" }, out: { type: "string" },
      json: { type: "boolean" },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`eval takes one FILE, got ${positionals.length}`);
  if (values.format !== undefined && !VECTOR_FORMATS.includes(values.format as VectorFormat)) {
    throw new UsageError(`--format must be one of ${VECTOR_FORMATS.join(", ")}, got "${values.format}"`);
  }
  const file = positionals[0];
  const k = integerFlag("k", values.k, 10, 1);
  const queries = integerFlag("queries", values.queries, 200, 1);
  const target = numberFlag("target-recall", values["target-recall"], 0.95, 0, 1);
  const seed = integerFlag("seed", values.seed, 42, 0);
  const progress = new Progress();

  progress.stage(`reading ${file}`);
  const matrix = await readVectors(file, {
    dims: values.dims === undefined ? undefined : integerFlag("dims", values.dims, 0, 1),
    format: values.format as VectorFormat | undefined,
    field: values.field,
    onProgress: (done, total) => progress.update(done, total, "reading"),
  });
  progress.stage(`${matrix.rows.toLocaleString("en-US")} vectors × ${matrix.cols} dims; holding out ${Math.min(queries, matrix.rows)} queries`);
  await ready();
  const study = await qualityStudy(matrix, basename(file), {
    queries, k, seed, rotations: ["pca", "itq"], onProgress: (done, total, label) => progress.update(done, total, label),
  });
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model ?? "unknown", cores: os.availableParallelism(),
      platform: `${os.platform()} ${os.arch()}`, quantvecVersion: packageVersion(), mode: "eval", seed, peers: {},
    },
    kernels: [],
    endToEnd: [],
    quality: withRecommendation(study, target),
  };
  await finish(results, resolve(values.out ?? "quantvec-eval"), Boolean(values.json), progress);
}

/** What `quantvec tune` recommends, as written to recommendation.json. */
export interface TuneRecommendation {
  targetRecall: number;
  maxBytes: number | null;
  k: number;
  label: string | null;
  recall: number | null;
  bytesPerVector: number | null;
  p50Ms: number | null;
  reason: string;
  /** Index.create options, except `rotation`: load that from `rotationFile` with Rotation.fromJSON. */
  create: Record<string, unknown> | null;
  /** Absolute path of the rotation's JSON, or null when the configuration has none. */
  rotationFile: string | null;
  search: { k: number; rescoreMultiplier: number } | null;
  /** The vectors held out as queries (0-based rows of FILE); the corpus was every other row. */
  queryRows: number[];
}

async function tune(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      dims: { type: "string" }, format: { type: "string" }, field: { type: "string" }, queries: { type: "string" },
      k: { type: "string" }, "target-recall": { type: "string" }, "max-bytes": { type: "string" }, seed: { type: "string" },
      "itq-iterations": { type: "string" }, out: { type: "string" }, json: { type: "boolean" },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`tune takes one FILE, got ${positionals.length}`);
  if (values["target-recall"] === undefined) throw new UsageError("tune needs --target-recall R (a number from 0 to 1)");
  if (values.format !== undefined && !VECTOR_FORMATS.includes(values.format as VectorFormat)) {
    throw new UsageError(`--format must be one of ${VECTOR_FORMATS.join(", ")}, got "${values.format}"`);
  }
  const file = positionals[0];
  const k = integerFlag("k", values.k, 10, 1);
  const queries = integerFlag("queries", values.queries, 200, 1);
  const target = numberFlag("target-recall", values["target-recall"], 0.95, 0, 1);
  const maxBytes = values["max-bytes"] === undefined ? null : integerFlag("max-bytes", values["max-bytes"], 0, 1);
  const seed = integerFlag("seed", values.seed, 42, 0);
  const itqIterations = integerFlag("itq-iterations", values["itq-iterations"], 50, 0);
  const outDir = resolve(values.out ?? "quantvec-tune");
  const progress = new Progress();

  progress.stage(`reading ${file}`);
  const matrix = await readVectors(file, {
    dims: values.dims === undefined ? undefined : integerFlag("dims", values.dims, 0, 1),
    format: values.format as VectorFormat | undefined,
    field: values.field,
    onProgress: (done, total) => progress.update(done, total, "reading"),
  });
  progress.stage(`${matrix.rows.toLocaleString("en-US")} vectors × ${matrix.cols} dims; holding out ${Math.min(queries, matrix.rows)} queries`);
  await ready();
  const fitted = new Map<string, Rotation>();
  const study = await qualityStudy(matrix, basename(file), {
    queries, k, seed, rotations: ["pca", "itq"], fitted, itqIterations, onProgress: (done, total, label) => progress.update(done, total, label),
  });
  const rows = markPareto(study.rows);
  const affordable = rows.filter((r) => maxBytes === null || r.bytesPerVector <= maxBytes);
  const best = recommend(affordable, target);
  const float32 = study.dims * 4;
  const budget = maxBytes === null ? "" : ` within ${maxBytes} bytes per vector`;
  const reason = best
    ? `fewest bytes per vector${budget} (${best.bytesPerVector}, ${(float32 / best.bytesPerVector).toFixed(1)}× smaller than float32), ` +
      `then lowest latency, with recall@${k} ${best.recall.toFixed(4)} ≥ ${target} on ${study.queries} held-out queries`
    : `no configuration${budget} reaches recall@${k} ${target}; the best is ${
        [...affordable].filter((r) => !r.reference && Number.isFinite(r.recall)).sort((a, b) => b.recall - a.recall)[0]?.label ?? "none"
      }`;

  await mkdir(outDir, { recursive: true });
  let rotationFile: string | null = null;
  if (best?.rotation) {
    const key = rotationKey(best.rotation, best.rotation === "pca" ? study.dims : best.dims);
    rotationFile = join(outDir, `rotation-${key.replace("@", "-")}.json`);
    await writeFile(rotationFile, JSON.stringify(fitted.get(key)));
  }
  const recommendation: TuneRecommendation = {
    targetRecall: target, maxBytes, k, label: best?.label ?? null, recall: best?.recall ?? null,
    bytesPerVector: best?.bytesPerVector ?? null, p50Ms: best?.p50Ms ?? null, reason,
    create: best ? { ...rowOptions(best, study.dims) } : null,
    rotationFile,
    search: best ? { k, rescoreMultiplier: best.multiplier } : null,
    queryRows: study.queryRows ?? [],
  };
  const recommendationFile = join(outDir, "recommendation.json");
  await writeFile(recommendationFile, `${JSON.stringify(recommendation, null, 2)}\n`);
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model ?? "unknown", cores: os.availableParallelism(),
      platform: `${os.platform()} ${os.arch()}`, quantvecVersion: packageVersion(), mode: "eval", seed, peers: {},
    },
    kernels: [],
    endToEnd: [],
    quality: { ...study, rows, recommendation: { targetRecall: target, label: best?.label ?? null, reason } },
  };
  await finish(results, outDir, Boolean(values.json), progress);
  if (!values.json) process.stdout.write(`\n${renderTune(recommendation, recommendationFile)}\n`);
}

/** The recommendation as text: what was chosen, and the code that builds it. */
export function renderTune(r: TuneRecommendation, file: string): string {
  if (r.create === null) return `quantvec tune: ${r.reason}`;
  const lines = [
    `Recommended for recall@${r.k} ≥ ${r.targetRecall}: ${r.label}`,
    `  ${r.reason}; p50 ${r.p50Ms?.toFixed(3)} ms per query`,
    "",
    `Index.create options (JSON, also in ${file}):`,
    `  ${JSON.stringify(r.create)}`,
    ...(r.rotationFile ? [`  plus rotation: Rotation.fromJSON(<${r.rotationFile}>)`] : []),
    `search options: ${JSON.stringify(r.search)}`,
    "",
    "In code:",
    '  import { readFileSync } from "node:fs";',
    `  import { Index${r.rotationFile ? ", Rotation" : ""} } from "quantvec";`,
    ...(r.rotationFile ? [`  const rotation = Rotation.fromJSON(JSON.parse(readFileSync(${JSON.stringify(r.rotationFile)}, "utf8")));`] : []),
    `  const index = await Index.create({ ...${JSON.stringify(r.create)}${r.rotationFile ? ", rotation" : ""} });`,
    "  index.add(vectors); // the first add of ≥ 100 rows calibrates int8 ranges: add the corpus at once",
    `  const { ids, scores } = await index.search(query, ${JSON.stringify(r.search)});`,
  ];
  return lines.join("\n");
}

/** Marks the Pareto front and names the cheapest configuration that meets the target. */
export function withRecommendation(study: QualityStudy, target: number): QualityStudy {
  const rows = markPareto(study.rows);
  const best = recommend(rows, target);
  const float32 = study.dims * 4;
  return {
    ...study,
    rows,
    recommendation: {
      targetRecall: target,
      label: best?.label ?? null,
      reason: best
        ? `fewest bytes per vector (${best.bytesPerVector}, ${(float32 / best.bytesPerVector).toFixed(1)}× smaller than float32) ` +
          `with recall@${study.k} ${best.recall.toFixed(4)} ≥ ${target}`
        : `no configuration reaches recall@${study.k} ${target}; the best is ${
            [...rows].filter((r) => !r.reference && Number.isFinite(r.recall)).sort((a, b) => b.recall - a.recall)[0]?.label ?? "none"
          }`,
    },
  };
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      process.stdout.write(`${HELP}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === "--version" || command === "-v") {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    if (command === "bench") await bench(rest);
    else if (command === "eval") await evaluate(rest);
    else if (command === "tune") await tune(rest);
    else if (command === "index") await indexCommand(rest);
    else if (command === "search") await searchCommand(rest);
    else if (command === "export") await exportCommand(rest);
    else if (command === "import") await importCommand(rest);
    else throw new UsageError(`unknown command "${command}"; try quantvec --help`);
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    // Library errors name their caller; those called for this command already name it.
    const message = (error as Error).message;
    const prefix = `quantvec ${command}: `;
    process.stderr.write(`\n${message.startsWith(prefix) ? "" : prefix}${message}\n`);
    if (usage) process.stderr.write("see quantvec --help\n");
    return usage ? 2 : 1;
  }
}
