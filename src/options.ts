// Options objects, read strictly: own properties only (a key inherited from a polluted
// Object.prototype is never honoured), every key known (a misspelt one is an error naming the
// closest valid key, not a silently applied default), each value read exactly once.

import { describe } from "./errors.js";
import type { ReadOptions } from "./cli/read-vectors.js";
import type { TruncateOptions } from "./matryoshka.js";
import type { CalibrateOptions, QuantizeOptions } from "./quantize.js";
import type { FitRotationOptions } from "./rotation.js";
import type { IndexOptions, LoadOptions, SearchOptions } from "./vector-index.js";
import type { ReadyOptions } from "./wasm.js";

/**
 * The keys an options type allows, as `{ key: true }`: a Record over every key of `T`, so the
 * compiler insists that a new option of `T` gets its entry here too.
 */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Copies the allowed own properties of `options` into a fresh object with no prototype, after
 * checking that it is an object and that it has no other own keys.
 *
 * @param caller the function's name in error messages.
 * @param options what the caller passed.
 * @param keys every allowed key (see `OptionKeys`).
 * @param expected what an options object looks like, for the error message ("an object like { k: 10 }").
 * @returns the allowed keys that `options` has as own properties, each read once.
 * @throws TypeError when `options` is not a plain object, or has a key that is not allowed (naming
 *   the key and the closest allowed one).
 * @example
 * const { k } = readOptions("index.search", { k: 3 }, { k: true, rescoreMultiplier: true }, "an object like { k: 10 }");
 */
export function readOptions<T extends object>(caller: string, options: unknown, keys: OptionKeys<T>, expected: string): Partial<T> {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${caller}: options must be ${expected}, got ${describe(options)}`);
  }
  const allowed = Object.keys(keys);
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(keys, key)) {
      const closest = closestKey(key, allowed);
      throw new TypeError(
        `${caller}: options has an unknown key ${JSON.stringify(key)}` +
          `${closest === undefined ? "" : `; did you mean ${JSON.stringify(closest)}?`} (allowed: ${allowed.join(", ")})`,
      );
    }
  }
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of allowed) {
    if (Object.hasOwn(options, key)) copy[key] = (options as Record<string, unknown>)[key];
  }
  return copy as Partial<T>;
}

/** The allowed key nearest to `key` by edit distance (ignoring case), if any is near enough to be a slip. */
function closestKey(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A slip changes a few characters; a suggestion further away than half the key is noise.
  return bestDistance <= Math.max(2, Math.ceil(key.length / 2)) ? best : undefined;
}

/** Levenshtein distance: insertions, deletions and substitutions, one each. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

// The options each entry point takes. Adding an option to one of these types without adding it
// here is a compile error, so a new option is one entry.

/** `Index.create`. */
export const INDEX_OPTION_KEYS: OptionKeys<IndexOptions> = {
  dims: true, precision: true, rescore: true, truncateTo: true, normalize: true, ranges: true, maxMemoryBytes: true, shardBytes: true,
  threads: true, rotation: true, rescoreTo: true,
};
/** `Index.load`. */
export const LOAD_OPTION_KEYS: OptionKeys<LoadOptions> = { threads: true, rescoreFrom: true };
/** `index.search` and `index.searchBatch`. */
export const SEARCH_OPTION_KEYS: OptionKeys<SearchOptions> = { k: true, rescoreMultiplier: true, filter: true };
/** `ready`. */
export const READY_OPTION_KEYS: OptionKeys<ReadyOptions> = { relaxedSimd: true, modules: true };
/** `quantize`. */
export const QUANTIZE_OPTION_KEYS: OptionKeys<QuantizeOptions> = { ranges: true, calibration: true, dims: true, out: true };
/** `truncate`. */
export const TRUNCATE_OPTION_KEYS: OptionKeys<TruncateOptions> = { normalize: true, inputDims: true, layerNorm: true };
/** `calibrate`. */
export const CALIBRATE_OPTION_KEYS: OptionKeys<CalibrateOptions> = { dims: true };
/** `fitRotation`. */
export const FIT_ROTATION_OPTION_KEYS: OptionKeys<FitRotationOptions> = { method: true, dims: true, iterations: true, seed: true };
/** `readVectors` (the CLI's reader). */
export const READ_OPTION_KEYS: OptionKeys<ReadOptions> = { dims: true, format: true, field: true, onProgress: true };
