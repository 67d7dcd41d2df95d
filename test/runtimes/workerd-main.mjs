// The matrix's Worker for workerd: "/" runs the checks through the "workerd" entry (precompiled
// .wasm modules) and answers with their JSON.
import * as quantvec from "./dist/workerd.js";
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
