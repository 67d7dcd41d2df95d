// Settings shared by the fast-check property suites: seeded, so a failure replays; short in CI,
// longer on demand.
//
//   QUANTVEC_PROPERTY_RUNS=2000 npx vitest run test/*-properties.test.ts   a longer run
//   QUANTVEC_PROPERTY_SEED=123 …                                          another seed (or "random")
//
// A failure's message carries its seed, its path (fast-check's replay token) and the shrunk
// counterexample; pass the seed back through QUANTVEC_PROPERTY_SEED to replay it.

import fc from "fast-check";

const envRuns = Number(process.env.QUANTVEC_PROPERTY_RUNS);
const envSeed = process.env.QUANTVEC_PROPERTY_SEED;

/** The seed of every property in this run. */
export const PROPERTY_SEED = envSeed === "random" ? Date.now() >>> 0 : envSeed ? Number(envSeed) : 13;

/** Runs per property: `ciRuns` unless QUANTVEC_PROPERTY_RUNS asks for more (or fewer). */
export const propertyRuns = (ciRuns: number): number => (Number.isInteger(envRuns) && envRuns > 0 ? envRuns : ciRuns);

/** A per-test timeout that grows with the requested runs (vitest's 60 s suits the CI runs). */
export const propertyTimeout = (ciRuns: number, ciMs = 60_000): number => Math.max(ciMs, (ciMs * propertyRuns(ciRuns)) / ciRuns);

/** fc.assert with this run's seed and `ciRuns` runs (or the env's), reporting the seed on failure. */
export async function checkProperty<T>(property: fc.IAsyncPropertyWithHooks<T> | fc.IPropertyWithHooks<T>, ciRuns: number): Promise<void> {
  await fc.assert(property as fc.IAsyncPropertyWithHooks<T>, { seed: PROPERTY_SEED, numRuns: propertyRuns(ciRuns) });
}
