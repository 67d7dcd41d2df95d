// The `quantvec` command: `bench` measures this machine, `eval` studies the user's own vectors.
// Arguments go through node:util's parseArgs (Node's own parser): no runtime dependency.

import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { markPareto, recommend } from "./pareto.js";
import { Progress } from "./progress.js";
import { VECTOR_EXTENSIONS, VECTOR_FORMATS, type VectorFormat, readVectors } from "./read-vectors.js";
import { renderConsole, writeReport } from "./report.js";
import type { BenchResults, QualityStudy } from "./results.js";
import { packageVersion, runBench } from "./bench.js";
import { qualityStudy } from "./study.js";
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

Both write results.json, BENCHMARKS.md and SVG plots to --out (default ./quantvec-<command>).
--json prints results.json to stdout instead of the tables.`;

class UsageError extends Error {}

function integerFlag(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

function numberFlag(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${value}"`);
  return n;
}

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
    queries, k, seed, onProgress: (done, total, label) => progress.update(done, total, label),
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
    else throw new UsageError(`unknown command "${command}"; try quantvec --help`);
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    process.stderr.write(`\nquantvec ${command}: ${(error as Error).message}\n`);
    if (usage) process.stderr.write("see quantvec --help\n");
    return usage ? 2 : 1;
  }
}
