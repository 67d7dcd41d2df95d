// The matrix's Worker as a user writes it: imports "quantvec" by name; wrangler resolves the
// "workerd" export condition and bundles the .wasm imports (scripts/runtime-matrix.mjs).
import * as quantvec from "quantvec";
import { runChecks } from "./checks.mjs";

export default {
  async fetch() {
    try {
      return Response.json(await runChecks(quantvec));
    } catch (error) {
      return new Response(String(error?.stack ?? error), { status: 500 });
    }
  },
};
