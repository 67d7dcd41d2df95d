// Peer libraries measured beside quantvec. They are optional: a peer that is not installed or
// does not load becomes a result row saying why, never a failed run.

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface Peer<T> {
  name: string;
  version: string | null;
  lib: T | null;
  /** Why `lib` is null. */
  reason?: string;
}

export interface SimSimd {
  hamming(a: Uint8Array, b: Uint8Array): number;
  inner(a: Int8Array | Float32Array, b: Int8Array | Float32Array): number;
}

export interface USearch {
  exactSearch(
    dataset: Int8Array | Float32Array, queries: Int8Array | Float32Array, dimensions: number, count: number,
    metric: unknown, threads?: number,
  ): { keys: BigUint64Array; distances: Float32Array };
  MetricKind: { IP: unknown };
}

const require = createRequire(import.meta.url);

/** The installed version, read from the package's own package.json (which its exports may hide). */
function versionOf(name: string): string | null {
  try {
    let dir = dirname(require.resolve(name));
    while (dir !== dirname(dir)) {
      const file = join(dir, "package.json");
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? null;
      }
      dir = dirname(dir);
    }
  } catch {
    // not installed
  }
  return null;
}

async function load<T>(name: string): Promise<Peer<T>> {
  const version = versionOf(name);
  try {
    const mod = (await import(name)) as { default?: T } & T;
    return { name, version, lib: (mod.default ?? mod) as T };
  } catch (error) {
    const reason = version === null ? "not installed" : `failed to load: ${(error as Error).message.split("\n")[0]}`;
    return { name, version, lib: null, reason };
  }
}

export const loadSimSimd = () => load<SimSimd>("simsimd");
export const loadUSearch = () => load<USearch>("usearch");
