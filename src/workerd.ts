// The entry for Cloudflare Workers (the "workerd" export condition, or "quantvec/workerd").
// workerd, like production Workers, refuses to compile WebAssembly from bytes at run time; it
// instantiates only modules imported as .wasm files, which wrangler (and workerd's own module
// list) turn into precompiled WebAssembly.Module objects. So this entry imports the four
// builds from dist/wasm/ and hands them to the loader before anything can call ready().
// Everything else is the default entry: same API, same results.

import relaxed from "./wasm/quantvec-relaxed.wasm";
import sharedRelaxed from "./wasm/quantvec-shared-relaxed.wasm";
import shared from "./wasm/quantvec-shared.wasm";
import simd from "./wasm/quantvec.wasm";
import { providePrecompiled } from "./wasm.js";

providePrecompiled("quantvec/workerd", { simd, shared, relaxed, "shared-relaxed": sharedRelaxed });

export * from "./index.js";
