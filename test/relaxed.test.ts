// The relaxed-SIMD kernels: identical results to the SIMD128 kernels, and never chosen where
// they compute wrongly. The comparisons run in child processes because the engine flags that
// enable relaxed SIMD on Node 20 (--experimental-wasm-relaxed-simd) must be given at startup;
// on Node >= 22 the feature is on anyway. --no-liftoff keeps Node 20 on its optimizing
// compiler, whose relaxed dot is right; its baseline compiler (Liftoff) gets it wrong.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { kernelPathDecided, kernels, ready } from "../src/index.js";
import { intQueryBytes, judgePairs, writeIntQuery } from "../src/relaxed.js";
import { WASM_RELAXED } from "../src/generated/wasm.js";

const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
const RELAXED_FLAG = NODE_MAJOR < 22 ? ["--experimental-wasm-relaxed-simd"] : [];
const BATTERY = fileURLToPath(new URL("./relaxed-battery.mjs", import.meta.url));

interface Battery {
  path: string;
  relaxedSimd: boolean;
  reason: string;
  results: Array<{ name: string; got: unknown }>;
  mismatches: string[];
  indexes: Array<{ label: string; kernelPath: string; note: string | null }>;
}

/** Runs the battery (over dist/, which `npm test` builds first) in a child process. */
function battery(flags: string[], policy: string): Battery {
  const built = readFileSync(fileURLToPath(new URL("../dist/generated/wasm.js", import.meta.url)), "utf8");
  if (!built.includes(WASM_RELAXED)) throw new Error("dist/ holds other kernels than src/: run `npm run build` (npm test does)");
  const child = spawnSync(process.execPath, [...flags, BATTERY, policy], { encoding: "utf8", timeout: 120_000 });
  if (child.status !== 0) throw new Error(`battery (${flags.join(" ")} ${policy}) exited ${child.status}: ${child.stderr}`);
  return JSON.parse(child.stdout) as Battery;
}

describe("relaxed SIMD query layout", () => {
  it("writes each value as base-128 digits of value + bias, then a plane of ones", () => {
    const q16 = Int16Array.from([-32768, 32767, 0, -1, 1, 12345, -12345]);
    const bytes = intQueryBytes("relaxed-simd", q16.length, true);
    expect(bytes).toBe(4 * 16);
    const u8 = new Uint8Array(bytes + 8).fill(0xff);
    writeIntQuery(u8, 4, q16, "relaxed-simd");
    for (let i = 0; i < q16.length; i++) {
      const digits = [u8[4 + i], u8[4 + 16 + i], u8[4 + 32 + i]];
      expect(digits.every((d) => d <= 127)).toBe(true);
      expect(digits[0] + 128 * digits[1] + 16384 * digits[2] - 32768).toBe(q16[i]);
      expect(u8[4 + 48 + i]).toBe(1);
    }
    // Padding lanes are zero (they never count), and nothing outside the query is touched.
    expect(Array.from(u8.subarray(4 + q16.length, 4 + 16))).toEqual(new Array(16 - q16.length).fill(0));
    expect([u8[3], u8[4 + bytes]]).toEqual([0xff, 0xff]);

    const q8 = Int8Array.from([-128, 127, 0, -1, 1, 64, -65]);
    const u8b = new Uint8Array(intQueryBytes("relaxed-simd", q8.length, false));
    writeIntQuery(u8b, 0, q8, "relaxed-simd");
    q8.forEach((q, i) => expect(u8b[i] + 128 * u8b[16 + i] - 128).toBe(q));
  });

  it("passes SIMD128 queries through as their own bytes", () => {
    const q16 = Int16Array.from([-32768, 5, 32767]);
    const u8 = new Uint8Array(intQueryBytes("simd128", 3, true));
    writeIntQuery(u8, 0, q16, "simd128");
    expect(Array.from(new Int16Array(u8.buffer))).toEqual(Array.from(q16));
  });
});

describe("relaxed SIMD selection in this process", () => {
  beforeAll(() => ready().then(kernelPathDecided));

  it("reports a consistent choice: relaxed only where the runtime validates it", () => {
    const validates = WebAssembly.validate(Uint8Array.from(atob(WASM_RELAXED), (c) => c.charCodeAt(0)));
    const { path, relaxedSimd, pathReason } = kernels.features;
    expect(typeof pathReason).toBe("string");
    if (!validates) {
      expect(relaxedSimd).toBe(false);
      expect(path).toBe("simd128");
      expect(pathReason).toMatch(/does not support WebAssembly relaxed SIMD/);
    }
    if (path === "relaxed-simd") expect(relaxedSimd).toBe(true);
  });

  it("rejects an unknown policy, or options that are not an object, with a TypeError naming them", async () => {
    const before = kernels.features.path;
    await expect(ready({ relaxedSimd: "sometimes" as never })).rejects.toThrow(/relaxedSimd must be "auto", "always" or "never", got "sometimes"/);
    await expect(ready("always" as never)).rejects.toThrow(/ready: options must be an object such as \{ relaxedSimd: "auto" \}, got "always"/);
    await expect(ready(null as never)).rejects.toThrow(/options must be an object.*got null/);
    expect(kernels.features.path).toBe(before);
  });
});

describe("relaxed SIMD against SIMD128 (child processes)", () => {
  const flags = [...RELAXED_FLAG, "--no-liftoff"];

  it("gives identical results for every int8 kernel, the index, batches and threads", () => {
    const simd = battery(flags, "never");
    const relaxed = battery(flags, "always");
    expect(simd.path).toBe("simd128");
    // The optimizing compiler computes relaxed SIMD correctly on every Node we support.
    expect(relaxed.relaxedSimd).toBe(true);
    expect(relaxed.path).toBe("relaxed-simd");
    expect(simd.mismatches).toEqual([]);
    expect(relaxed.mismatches).toEqual([]);
    expect(relaxed.results.length).toBeGreaterThan(40);
    // Every index ran the kernels it was meant to: the threaded ones the shared relaxed build.
    expect(relaxed.indexes.map((i) => i.kernelPath)).toEqual(relaxed.indexes.map(() => "relaxed-simd"));
    expect(relaxed.indexes.filter((i) => i.label.includes("threads 2"))).toHaveLength(2);
    expect(simd.indexes.map((i) => i.kernelPath)).toEqual(simd.indexes.map(() => "simd128"));
    expect(relaxed.results).toEqual(simd.results);
  });

  /** Runs `body` (after `import { kernelPathDecided, kernels, ready }`) in a child Node; returns its JSON. */
  const child = (body: string) => {
    const script = `import { kernelPathDecided, kernels, ready } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};\n${body}`;
    const run = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as { path: string; reason: string };
  };

  it("ready() resolves on SIMD128 at once, even with no timers and a frozen clock (fake timers; sandboxes)", () => {
    const decided = child(`
      globalThis.setTimeout = () => 0;
      performance.now = () => 0;
      await ready();
      process.stdout.write(JSON.stringify({ path: kernels.features.path, reason: kernels.features.pathReason }));`);
    expect(decided.path).toBe("simd128");
    // Where relaxed SIMD validates, the decision waits for the background (which fake timers stall).
    expect(decided.reason).toMatch(NODE_MAJOR >= 22 ? /checked and timed in the background/ : /does not support WebAssembly relaxed SIMD|checked and timed in the background/);
  });

  it.skipIf(NODE_MAJOR < 22)("a frozen clock keeps SIMD128 once the background decision is made", () => {
    const decided = child(`
      performance.now = () => 0;
      const { path, reason } = await kernelPathDecided();
      process.stdout.write(JSON.stringify({ path, reason }));`);
    expect(decided.path).toBe("simd128");
    expect(decided.reason).toMatch(/untimed speed \(the clock did not advance while it ran\)/);
  });

  it.skipIf(NODE_MAJOR < 22)("indexes created before the background decision keep SIMD128, later ones take the decided path, results identical", () => {
    // Which path is decided depends on the machine; what must hold is the switch and equal results.
    const decided = child(`
      const { calibrate, Index } = await import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)});
      const rows = Array.from({ length: 300 }, (_, r) => Float32Array.from({ length: 40 }, (_, i) => Math.sin(r * 7 + i * 3)));
      const ranges = calibrate(rows);
      await ready();
      const before = await Index.create({ dims: 40, precision: "int8", ranges });
      await kernelPathDecided();
      const after = await Index.create({ dims: 40, precision: "int8", ranges });
      const results = [];
      for (const index of [before, after]) {
        index.add(rows);
        results.push(await index.searchBatch(rows.slice(0, 9), { k: 5 }));
      }
      const plain = (list) => JSON.stringify(list.map((r) => [Array.from(r.ids), Array.from(r.scores)]));
      process.stdout.write(JSON.stringify({ path: kernels.features.path, reason: kernels.features.pathReason,
        paths: [before.kernelPath, after.kernelPath], same: plain(results[0]) === plain(results[1]) }));`);
    expect(decided.path).toBeDefined();
    const { paths, same } = decided as unknown as { paths: string[]; same: boolean };
    expect(paths[0]).toBe("simd128");
    expect(paths[1]).toBe(decided.path);
    expect(same).toBe(true);
  });

  it.skipIf(NODE_MAJOR !== 20)("is never chosen where its self-check fails (Node 20's baseline compiler)", () => {
    const liftoff = battery(RELAXED_FLAG, "always");
    expect(liftoff.relaxedSimd).toBe(false);
    expect(liftoff.path).toBe("simd128");
    expect(liftoff.reason).toMatch(/failed its self-check/);
    expect(liftoff.mismatches).toEqual([]);
  });
});

describe("judging relaxed against SIMD128 from interleaved timing pairs", () => {
  /**
   * `count` pairs [SIMD128 rate, relaxed rate] at `speedup`, each run slowed by up to 3% jitter
   * and, a third of the time (preemption, another process), by up to `noise`× (seeded).
   */
  const pairs = (count: number, speedup: number, noise: number, seed: number) => {
    let state = seed;
    const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const slow = () => (random() < 1 / 3 ? 1 + (noise - 1) * random() : 1 + 0.03 * random());
    return Array.from({ length: count }, () => [100 / slow(), (100 * speedup) / slow()] as const);
  };

  it("is sure of relaxed SIMD only when two windows agree that it is faster, however noisy the pairs", () => {
    expect(judgePairs(pairs(32, 1.3, 3, 1)).verdict).toBe("relaxed");
    expect(judgePairs(pairs(32, 1.3, 3, 1)).speedup).toBeCloseTo(1.3, 1);
    expect(judgePairs(pairs(32, 0.7, 3, 2)).verdict).toBe("simd128");
    expect(judgePairs(pairs(32, 1.02, 1.2, 3)).verdict).toBe("simd128"); // a tie keeps SIMD128
    expect(judgePairs(pairs(16, 1.3, 3, 4)).verdict).toBe("unsure"); // one window is not enough
    // A first window that favoured relaxed SIMD (say, SIMD128 not optimized yet) does not decide.
    const warming = [...pairs(16, 2.4, 1.2, 5), ...pairs(16, 0.8, 1.2, 6)];
    expect(judgePairs(warming).verdict).toBe("unsure");
    expect(judgePairs([...warming, ...pairs(16, 0.8, 1.2, 7)]).verdict).toBe("simd128");
    // Two windows that disagree by more than 10% are not sure of relaxed SIMD.
    expect(judgePairs([...pairs(16, 1.1, 1.05, 8), ...pairs(16, 1.5, 1.05, 9)]).verdict).toBe("unsure");
  });
});
