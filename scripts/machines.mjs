#!/usr/bin/env node
// Writes bench/MACHINES.md: every run under bench/ (a folder with results.json) side by side, one
// column per machine. Run after `npm run build`: node scripts/machines.mjs
import { readdirSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { renderMachines } from "../dist/cli/report.js";

const root = new URL("../bench/", import.meta.url);
const runs = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(new URL(`${entry.name}/results.json`, root)))
  .map((entry) => ({ dir: entry.name, results: JSON.parse(readFileSync(new URL(`${entry.name}/results.json`, root), "utf8")) }));
writeFileSync(new URL("MACHINES.md", root), renderMachines(runs));
console.log(`bench/MACHINES.md: ${runs.map((r) => r.dir).join(", ")}`);
