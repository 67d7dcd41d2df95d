#!/usr/bin/env node
// The `quantvec` executable; everything else lives in main.ts so tests can import it.
import { main } from "./main.js";

process.exitCode = await main(process.argv.slice(2));
