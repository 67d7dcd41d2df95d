// Runtimes that refuse to compile WebAssembly from bytes (Cloudflare Workers / workerd, pages
// whose CSP lacks 'wasm-unsafe-eval'): simulated with a stub `WebAssembly` whose compile throws
// workerd's CompileError. ready() must reject with quantvec's explanation (what happened, which
// entry to use), and ready({ modules }) must run everything on precompiled modules instead.
// The real workerd runs the same through the "workerd" entry in scripts/runtime-matrix.mjs.

import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calibrate, Index, kernels, ready } from "../src/index.js";
import { bruteForceSearch } from "./brute-force.js";
import { randomNormal, rng } from "./helpers.js";

const REAL = globalThis.WebAssembly;
const REFUSAL = "WebAssembly.compile(): Wasm code generation disallowed by embedder";

/** The real WebAssembly namespace, except that compiling bytes fails as it does in workerd. */
function refusingWebAssembly(): typeof WebAssembly {
  const stub = Object.create(null) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(REAL)) stub[name] = (REAL as unknown as Record<string, unknown>)[name];
  stub.compile = () => Promise.reject(new REAL.CompileError(REFUSAL));
  stub.instantiate = () => Promise.reject(new REAL.CompileError(REFUSAL.replace("compile", "instantiate")));
  return stub as unknown as typeof WebAssembly;
}

/** A build from dist/wasm/ (`npm test` builds it), compiled with the real WebAssembly. */
const precompiled = (file: string) => REAL.compile(readFileSync(new URL(`../dist/wasm/${file}`, import.meta.url)));

describe("where run-time compilation is refused (stub WebAssembly, workerd's CompileError)", () => {
  beforeAll(() => {
    globalThis.WebAssembly = refusingWebAssembly();
  });
  afterAll(() => {
    globalThis.WebAssembly = REAL;
  });

  it("ready() rejects with an error naming the cause and the entry to use", async () => {
    const error = await ready().then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/^quantvec: this runtime refuses to compile WebAssembly at run time \(CompileError: WebAssembly\.compile\(\): Wasm code generation disallowed by embedder\)/);
    expect(error!.message).toMatch(/import "quantvec" through its "workerd" export condition .* or import "quantvec\/workerd"/);
    expect(error!.message).toMatch(/import "quantvec\/wasm\/quantvec\.wasm" as a module and pass it: ready\(\{ modules: \{ simd: module \} \}\)/);
    expect(error!.cause).toBeInstanceOf(REAL.CompileError);
    // Index.create goes through ready() and says the same.
    await expect(Index.create({ dims: 8, precision: "binary" })).rejects.toThrow(/refuses to compile WebAssembly at run time/);
  });

  it("rejects modules that are not quantvec builds, naming them, and registers none of them", async () => {
    const empty = await REAL.compile(Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0]));
    const simd = await precompiled("quantvec.wasm");
    await expect(ready({ modules: 5 as never })).rejects.toThrow(/ready: modules must be an object such as \{ simd: WebAssembly\.Module \}, got 5/);
    await expect(ready({ modules: { simd: new Uint8Array(8) as never } })).rejects.toThrow(/ready: modules\["simd"\] must be a WebAssembly\.Module .*quantvec\.wasm.*got a Uint8Array of 8/);
    await expect(ready({ modules: { fast: simd } as never })).rejects.toThrow(/ready: modules\.fast is not a build; expected some of "simd", "shared", "relaxed", "shared-relaxed"/);
    // The valid simd module comes first: the invalid shared one must keep it from being registered.
    await expect(ready({ modules: { simd, shared: empty } })).rejects.toThrow(/modules\["shared"\] is not a quantvec kernel build \(it does not export hamming_u1_topk, dot_i16i8_topk, dot_f32_topk, HEAP_BASE\)/);
    await expect(ready()).rejects.toThrow(/refuses to compile WebAssembly at run time/);
  });

  it("ready({ modules }) runs on precompiled builds: one and two threads match the scalar reference", async () => {
    const relaxedValidates = REAL.validate(readFileSync(new URL("../dist/wasm/quantvec-relaxed.wasm", import.meta.url)));
    const modules = {
      simd: await precompiled("quantvec.wasm"),
      shared: await precompiled("quantvec-shared.wasm"),
      ...(relaxedValidates ? { relaxed: await precompiled("quantvec-relaxed.wasm") } : {}),
    };
    await ready({ modules, relaxedSimd: "never" });
    expect(kernels.features.path).toBe("simd128");

    const dims = 48;
    const random = rng(14);
    const rows = Array.from({ length: 600 }, () => randomNormal(random, dims));
    const queries = Array.from({ length: 6 }, () => randomNormal(random, dims));
    const ranges = calibrate(rows);
    const ids = rows.map((_, i) => i);
    const expected = queries.map((q) => bruteForceSearch(rows, ids, q, 10, 4, { precision: "binary", rescore: "int8", storedDims: dims, normalize: false, ranges }));
    for (const threads of [1, 2]) {
      const index = await Index.create({ dims, precision: "binary", rescore: "int8", ranges, threads });
      (index as unknown as { parallelMinBytes: number }).parallelMinBytes = 1;
      index.add(rows);
      expect(index.threads, index.threadingNote).toBe(threads);
      const got = await index.searchBatch(queries, { k: 10, rescoreMultiplier: 4 });
      expect(got.map((r) => ({ ids: Array.from(r.ids), scores: Array.from(r.scores) }))).toEqual(expected);
      index.dispose();
    }

    // The relaxed build was given where it validates, so "always" runs it; the threaded relaxed
    // build was not, and compiling it is refused: such an index says so and uses SIMD128 threads.
    await ready({ relaxedSimd: "always" });
    if (relaxedValidates) {
      expect(kernels.features.path, kernels.features.pathReason).toBe("relaxed-simd");
      const index = await Index.create({ dims, precision: "binary", rescore: "int8", ranges, threads: 2 });
      expect(index.kernelPath).toBe("simd128");
      expect(index.threadingNote).toMatch(/the threads run the SIMD128 kernels: this runtime refuses to compile WebAssembly at run time/);
      index.add(rows);
      const got = await index.searchBatch(queries, { k: 10, rescoreMultiplier: 4 });
      expect(got.map((r) => ({ ids: Array.from(r.ids), scores: Array.from(r.scores) }))).toEqual(expected);
      index.dispose();
    } else {
      expect(kernels.features.path).toBe("simd128");
      expect(kernels.features.pathReason).toMatch(/does not support WebAssembly relaxed SIMD/);
    }
  });
});
