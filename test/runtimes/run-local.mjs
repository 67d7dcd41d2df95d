// The matrix's program for Node, Bun and Deno: loads the built package (dist/) and prints the
// checks' results as JSON on stdout. Usage: <runtime> test/runtimes/run-local.mjs [policy …]
import * as quantvec from "../../dist/index.js";
import { runChecks } from "./checks.mjs";

const policies = globalThis.process?.argv.slice(2) ?? globalThis.Deno.args;
const result = await runChecks(quantvec, policies.length > 0 ? policies : undefined);
process.stdout.write(JSON.stringify(result));
