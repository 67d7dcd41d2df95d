// "Nothing changed": everything observable about an index, and an assertion that a rejected call
// left it exactly so. Shared by the bad-input tests and the property suite.

import { expect } from "vitest";
import type { Index } from "../src/index.js";

/** Everything observable about an index: its size, its memory, and its answers to `queries`. */
export interface Observation {
  size: number;
  memoryBytes: number;
  results: Array<{ ids: Uint32Array; scores: Float32Array }>;
}

/** Observes `index` through its public API (k = 200 reaches every row of the small test indexes). */
export async function observe(index: Index, queries: readonly Float32Array[], k = 200): Promise<Observation> {
  return {
    size: index.size,
    memoryBytes: index.memoryBytes,
    results: await Promise.all(queries.map((q) => index.search(q, { k }))),
  };
}

/** Runs `action`, sync or async, and returns what it threw or rejected with (undefined if it succeeded). */
export async function failureOf(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * Asserts that `action` fails with `type` and a message matching `message`, and that the index
 * answers `queries` afterwards exactly as before, with the same size and memory.
 */
export async function rejectsUnchanged(
  index: Index, queries: readonly Float32Array[], action: () => unknown, type: ErrorConstructor, message: RegExp,
): Promise<void> {
  const before = await observe(index, queries);
  const error = await failureOf(action);
  expect(error, "the call should have failed").toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  expect(await observe(index, queries)).toEqual(before);
}
