// The offline model for the text tests: scripts/make-fixture-model.mjs writes it into a fresh
// temporary folder per test file, and the network is stubbed so any attempt to reach a model hub
// fails loudly instead of passing by accident on a machine that has one.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vi } from "vitest";
// @ts-expect-error: a plain .mjs script without type declarations
import { bertWords, fioriTexts, writeFixtureModel } from "../scripts/make-fixture-model.mjs";

export interface FixtureModel {
  vocab: Record<string, number>;
  tokens: string[];
  table: Float32Array;
  dims: number;
}

/** Writes a fixture model folder; returns its path and the model (vocabulary and table) in memory. */
export function makeFixtureModel(options: { dims?: number; outputName?: string } = {}): { dir: string; model: FixtureModel } {
  const dir = mkdtempSync(join(tmpdir(), "quantvec-model-"));
  return { dir, model: writeFixtureModel(dir, options) as FixtureModel };
}

/** Replaces fetch with one that throws; returns the spy so a test can also assert it was never called. */
export function forbidNetwork() {
  const spy = vi.fn(() => {
    throw new Error("offline test: fetch was called");
  });
  vi.stubGlobal("fetch", spy);
  return spy;
}

/** The Fiori texts as the demo and tests embed them: the first 2000 characters (the model reads 256 tokens). */
export function fioriCorpus(): string[] {
  return (fioriTexts() as string[]).map((text) => text.slice(0, 2000));
}

/**
 * The token ids the fixture tokenizer gives `text` ([CLS] words [SEP]), computed from the
 * vocabulary alone; throws for a word outside it (tests use whole-word texts).
 */
export function tokenIds(model: FixtureModel, text: string): number[] {
  const ids = (bertWords(text) as string[]).map((word) => {
    const id = model.vocab[word];
    if (id === undefined) throw new Error(`test text word ${JSON.stringify(word)} is not in the fixture vocabulary`);
    return id;
  });
  return [model.vocab["[CLS]"], ...ids, model.vocab["[SEP]"]];
}

/** The mean of the table rows of `ids` (float64). */
export function meanOfRows(model: FixtureModel, ids: number[]): Float64Array {
  const out = new Float64Array(model.dims);
  for (const id of ids) for (let i = 0; i < model.dims; i++) out[i] += model.table[id * model.dims + i];
  return out.map((v) => v / ids.length);
}

/** `values` scaled to unit L2 norm. */
export function unit(values: ArrayLike<number>): Float64Array {
  const norm = Math.sqrt(Array.from(values).reduce((sum, v) => sum + v * v, 0));
  return Float64Array.from(values, (v) => v / norm);
}
