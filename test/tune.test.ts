// `quantvec tune` end to end on the Fiori MiniLM vectors (778 × 384, all-MiniLM-L6-v2): its
// recommendation, built exactly as printed (options JSON + the rotation file it wrote), must reach
// the target recall on the queries it held out, against exact cosine truth computed here.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { main, type TuneRecommendation } from "../src/cli/main.js";
import { Index, type IndexOptions, ready, Rotation } from "../src/index.js";

const DIMS = 384;
const TARGET = 0.9;

await ready();

describe("quantvec tune on the Fiori MiniLM vectors", () => {
  it("recommends a configuration that, used as printed, meets the target on the held-out queries", async () => {
    const require = createRequire(import.meta.url);
    const source = join(dirname(require.resolve("@sap-ux/fiori-docs-embeddings/package.json")), "data/embeddings/embeddings.bin");
    const dir = mkdtempSync(join(tmpdir(), "quantvec-tune-"));
    const file = join(dir, "fiori.f32");
    writeFileSync(file, readFileSync(source));

    let printed = "";
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      printed += String(chunk);
      return true;
    });
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    let code: number;
    try {
      code = await main(["tune", file, "--dims", String(DIMS), "--target-recall", String(TARGET), "--itq-iterations", "10", "--out", join(dir, "out")]);
    } finally {
      write.mockRestore();
      stderr.mockRestore();
    }
    expect(code).toBe(0);

    const recommendation = JSON.parse(readFileSync(join(dir, "out", "recommendation.json"), "utf8")) as TuneRecommendation;
    expect(recommendation.create).not.toBeNull();
    // Cheaper than what plain truncation offers at this target, or it would not be worth a rotation.
    expect(recommendation.bytesPerVector).toBeLessThan(DIMS);
    expect(printed).toContain(JSON.stringify(recommendation.create));
    if (recommendation.rotationFile) expect(printed).toContain(JSON.stringify(recommendation.rotationFile));

    // Build it as the printed code does.
    const rotation = recommendation.rotationFile
      ? Rotation.fromJSON(JSON.parse(readFileSync(recommendation.rotationFile, "utf8")))
      : undefined;
    const index = await Index.create({ ...(recommendation.create as unknown as IndexOptions), ...(rotation ? { rotation } : {}) });

    const bytes = readFileSync(file);
    const flat = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const rows = Array.from({ length: flat.length / DIMS }, (_, i) => flat.subarray(i * DIMS, (i + 1) * DIMS));
    const held = new Set(recommendation.queryRows);
    expect(held.size).toBe(200);
    const corpusIds = rows.map((_, i) => i).filter((i) => !held.has(i));
    index.add(corpusIds.map((i) => rows[i]), corpusIds);

    const norms = rows.map((row) => Math.hypot(...row));
    let hits = 0;
    for (const q of recommendation.queryRows) {
      const scores = corpusIds.map((i) => {
        let dot = 0;
        for (let c = 0; c < DIMS; c++) dot += rows[i][c] * rows[q][c];
        return dot / (norms[i] * norms[q]);
      });
      const truth = new Set(corpusIds.map((_, j) => j).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, 10).map((j) => corpusIds[j]));
      const { ids } = await index.search(rows[q], recommendation.search!);
      hits += Array.from(ids).filter((id) => truth.has(id)).length;
    }
    const recall = hits / (held.size * 10);
    console.log(`tune recommended ${recommendation.label} (${recommendation.bytesPerVector} B/vector): recall@10 ${recall.toFixed(4)} on the held-out queries (tune measured ${recommendation.recall?.toFixed(4)})`);
    expect(recall).toBeGreaterThanOrEqual(TARGET);
    index.dispose();
  }, 1_200_000);
});
