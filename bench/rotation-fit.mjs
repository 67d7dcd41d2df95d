// How long fitRotation takes on seeded vectors, phase by phase: the PCA fit, the eigendecomposition
// of the sample's second-moment matrix alone, and ITQ's cost per iteration ((fit with N iterations −
// fit with 0) / N). Uses only the built package (dist/), so the same script times any commit:
//   npm run build && node bench/rotation-fit.mjs [--dist DIR] [--rows 10000] [--dims 1024] [--itq 5] [--repeat 1]
// Times are CPU time of this process (user + system; the fit is single-threaded) and wall time;
// on a loaded machine CPU time is the steadier of the two.
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const { values: args } = parseArgs({
  options: {
    dist: { type: "string", default: "dist" },
    rows: { type: "string", default: "10000" },
    dims: { type: "string", default: "1024" },
    itq: { type: "string", default: "5" },
    repeat: { type: "string", default: "1" },
  },
});
const load = (file) => import(pathToFileURL(resolve(args.dist, file)).href);
const { fitRotation, ready } = await load("index.js");
const { symmetricEigen } = await load("eigen.js");
const { randomNormal } = await load("cli/kernel-bench.js");
await ready();

const rows = Number(args.rows);
const dims = Number(args.dims);
const itqIterations = Number(args.itq);
// Normal values whose spread falls off across the coordinates (as embeddings' variance does),
// so the eigenvalues are distinct and the ITQ problem is not trivially isotropic.
const data = randomNormal(rows * dims, 7);
for (let r = 0; r < rows; r++) for (let c = 0; c < dims; c++) data[r * dims + c] /= Math.sqrt(1 + c / 8);
const sample = { data, rows, cols: dims };

function timed(fn) {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const result = fn();
  const wallMs = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  return { result, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const secondMoment = () => {
  const m = new Float64Array(dims * dims);
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(r * dims, (r + 1) * dims);
    for (let i = 0; i < dims; i++) {
      const x = row[i];
      for (let j = 0; j <= i; j++) m[i * dims + j] += x * row[j];
    }
  }
  for (let i = 0; i < dims; i++) for (let j = 0; j <= i; j++) m[i * dims + j] = m[j * dims + i] = m[i * dims + j] / rows;
  return m;
};
const moment = secondMoment();
const fmt = (t) => `${(t.cpuMs / 1000).toFixed(2)} s CPU (${(t.wallMs / 1000).toFixed(2)} s wall)`;
console.log(`fitRotation on ${rows} × ${dims} seeded vectors, ${args.dist}, Node ${process.version}`);
for (let rep = 0; rep < Number(args.repeat); rep++) {
  const pca = timed(() => fitRotation(sample, { method: "pca" }));
  const eigen = timed(() => symmetricEigen(moment, dims));
  const itq0 = timed(() => fitRotation(sample, { method: "itq", iterations: 0 }));
  const itqN = itqIterations > 0 ? timed(() => fitRotation(sample, { method: "itq", iterations: itqIterations })) : undefined;
  console.log(`  PCA fit:                    ${fmt(pca)}`);
  console.log(`    of which eigen alone:     ${fmt(eigen)} (symmetricEigen of the ${dims} × ${dims} second moment)`);
  console.log(`  ITQ fit, 0 iterations:      ${fmt(itq0)}`);
  if (itqN) {
    const per = { cpuMs: (itqN.cpuMs - itq0.cpuMs) / itqIterations, wallMs: (itqN.wallMs - itq0.wallMs) / itqIterations };
    console.log(`  ITQ fit, ${itqIterations} iterations:      ${fmt(itqN)}; per iteration ${fmt(per)}`);
    const fifty = { cpuMs: itq0.cpuMs + 50 * per.cpuMs, wallMs: itq0.wallMs + 50 * per.wallMs };
    console.log(`  ITQ fit, 50 (default), projected: ${fmt(fifty)}`);
  }
}
