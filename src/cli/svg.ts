// The two plots of the report, written by hand as small static SVG (no runtime dependencies):
// recall against bytes per vector for the quality study, and scan throughput per kernel suite.
// Also the number formatting that BENCHMARKS.md shares with the plots, so both say the same thing.

import { markPareto } from "./pareto.js";
import type { BenchResults, KernelRow, QualityRow, QualityStudy } from "./results.js";

const FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif";
const INK = "#1a1a1a";
const MUTED = "#5c5c5c";
const GRID = "#e4e4e4";

// ---------------------------------------------------------------------------------------------
// Formatting

/** `s` with the five XML special characters escaped, safe in text content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** An integer with thousands separators: `1,000,000`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return "—";
  return Math.round(n).toLocaleString("en-US");
}

/**
 * `x` to `digits` significant digits without exponents: 0.0213, 6.40, 123, 12,345.
 * With `trim`, trailing zeros go (6.4, 32): for ratios, where "32.0×" reads as false precision.
 */
export function formatSig(x: number, digits = 3, trim = false): string {
  if (!Number.isFinite(x)) return "—";
  if (x === 0) return "0";
  const abs = Math.abs(x);
  if (abs < 1e-4) return x.toExponential(digits - 1);
  const text = x.toPrecision(digits);
  if (text.includes("e")) return formatCount(x); // 1234 → "1.23e+3": an integer reads better
  return trim && text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** A size in bytes with binary units: `48 B`, `1.5 KiB`, `122 MiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${formatCount(value)} B`;
  return `${formatSig(value, value >= 100 ? 3 : 2, true)} ${units[unit]}`;
}

/**
 * Approximate rendered width of `text` in a sans-serif font of `size` px: enough to keep labels
 * apart and inside the canvas without a layout engine.
 */
function textWidth(text: string, size: number): number {
  let em = 0;
  for (const ch of text) {
    if ("il.,:;'|!·()[] ".includes(ch)) em += 0.3;
    else if ("fjrt-/".includes(ch)) em += 0.38;
    else if ("mwMW@".includes(ch)) em += 0.85;
    else if (/[A-Z]/.test(ch)) em += 0.66;
    else em += 0.56;
  }
  return em * size * 1.08; // a little wider than measured: bold text and other fonts run long
}

/** Shortens `text` with an ellipsis until it fits `width` px. */
function fit(text: string, size: number, width: number): string {
  if (textWidth(text, size) <= width) return text;
  let out = text;
  while (out.length > 1 && textWidth(`${out}…`, size) > width) out = out.slice(0, -1);
  return `${out.trimEnd()}…`;
}

/** Rounds a coordinate to 0.1 px: keeps the file small. */
function n(v: number): string {
  return String(Math.round(v * 10) / 10);
}

interface TextOptions {
  size?: number;
  anchor?: "start" | "middle" | "end";
  fill?: string;
  weight?: "bold";
  italic?: boolean;
  /** A white outline behind the glyphs, so text stays readable over lines it crosses. */
  halo?: boolean;
  transform?: string;
}

function text(x: number, y: number, content: string, o: TextOptions = {}): string {
  const attrs = [`x="${n(x)}"`, `y="${n(y)}"`];
  if (o.size !== undefined) attrs.push(`font-size="${o.size}"`);
  if (o.anchor && o.anchor !== "start") attrs.push(`text-anchor="${o.anchor}"`);
  if (o.fill) attrs.push(`fill="${o.fill}"`);
  if (o.weight) attrs.push(`font-weight="${o.weight}"`);
  if (o.italic) attrs.push(`font-style="italic"`);
  if (o.halo) attrs.push(`stroke="#fff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"`);
  if (o.transform) attrs.push(`transform="${o.transform}"`);
  return `<text ${attrs.join(" ")}>${escapeXml(content)}</text>`;
}

function svgOpen(width: number, height: number, label: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="${FONT}" font-size="12" fill="${INK}" role="img" aria-label="${escapeXml(label)}">\n` +
    `<rect width="${width}" height="${height}" fill="#fff"/>`
  );
}

// ---------------------------------------------------------------------------------------------
// Recall vs bytes per vector

type Shape = "circle" | "square" | "triangle" | "diamond" | "triangleDown" | "hexagon";

interface Family {
  name: string;
  color: string;
  shape: Shape;
}

// Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), and a distinct
// marker shape per family so the plot does not rely on colour alone.
const FAMILIES: Record<string, Family> = {
  float32: { name: "float32", color: "#0072B2", shape: "circle" },
  int8: { name: "int8", color: "#009E73", shape: "square" },
  binary: { name: "binary alone", color: "#D55E00", shape: "triangle" },
  "binary→int8": { name: "binary → int8", color: "#CC79A7", shape: "diamond" },
  "binary→float32": { name: "binary → float32", color: "#E69F00", shape: "triangleDown" },
  "int8→float32": { name: "int8 → float32", color: "#56B4E9", shape: "hexagon" },
};

function familyKey(row: QualityRow): string {
  if (row.precision === "float32" || row.rescore === "none" || row.rescore === row.precision) return row.precision;
  return `${row.precision}→${row.rescore}`;
}

function markerPath(shape: Shape, x: number, y: number, r: number): string {
  switch (shape) {
    case "circle":
      return `M${n(x - r)} ${n(y)}a${n(r)} ${n(r)} 0 1 0 ${n(2 * r)} 0a${n(r)} ${n(r)} 0 1 0 ${n(-2 * r)} 0Z`;
    case "square": {
      const s = r * 0.88;
      return `M${n(x - s)} ${n(y - s)}h${n(2 * s)}v${n(2 * s)}h${n(-2 * s)}Z`;
    }
    case "triangle": {
      const s = r * 1.2;
      return `M${n(x)} ${n(y - s)}L${n(x + s * 0.95)} ${n(y + s * 0.7)}H${n(x - s * 0.95)}Z`;
    }
    case "triangleDown": {
      const s = r * 1.2;
      return `M${n(x)} ${n(y + s)}L${n(x + s * 0.95)} ${n(y - s * 0.7)}H${n(x - s * 0.95)}Z`;
    }
    case "diamond": {
      const s = r * 1.25;
      return `M${n(x)} ${n(y - s)}L${n(x + s)} ${n(y)}L${n(x)} ${n(y + s)}L${n(x - s)} ${n(y)}Z`;
    }
    case "hexagon": {
      const pts = Array.from({ length: 6 }, (_, i) => {
        const a = (Math.PI / 3) * i;
        return `${n(x + r * 1.05 * Math.cos(a))} ${n(y + r * 1.05 * Math.sin(a))}`;
      });
      return `M${pts.join("L")}Z`;
    }
  }
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function overlap(a: Box, b: Box): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

function textBox(x: number, y: number, width: number, size: number, anchor: "start" | "middle" | "end"): Box {
  const x0 = anchor === "start" ? x : anchor === "end" ? x - width : x - width / 2;
  return { x0: x0 - 2, y0: y - size * 0.8 - 1, x1: x0 + width + 2, y1: y + size * 0.25 + 1 };
}

/** Ticks one octave apart on the log2 bytes axis: powers of two, or 3·2ⁿ when more values land on those. */
function byteTicks(values: number[], lo: number, hi: number, pxPerOctave: number): number[] {
  const distinct = [...new Set(values)];
  const onPow2 = distinct.filter((v) => Number.isInteger(Math.log2(v))).length;
  const onThree = distinct.filter((v) => v % 3 === 0 && Number.isInteger(Math.log2(v / 3))).length;
  const base = onThree > onPow2 ? 3 : 1;
  const stride = Math.max(1, Math.ceil(58 / pxPerOctave));
  const ticks: number[] = [];
  for (let e = Math.ceil(lo - Math.log2(base)); Math.log2(base * 2 ** e) <= hi; e++) {
    if (e % stride === 0) ticks.push(base * 2 ** e);
  }
  return ticks.filter((t) => Number.isInteger(t)); // no fractional bytes (0.5 B, 1.5 B)
}

/** A step from {1, 2, 5}·10ⁿ that cuts `span` into about `target` intervals. */
function niceStep(span: number, target: number): number {
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

/** The fewest decimals that print every multiple of `step` exactly (0.25 → 2, 0.1 → 1, 2 → 0). */
function decimalsOf(step: number): number {
  let d = 0;
  while (d < 6 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-6) d++;
  return d;
}

interface LegendItem {
  swatch: string;
  label: string;
}

/** Legend items flowed into rows under the title; returns the SVG and the height used. */
function legendRows(items: LegendItem[], x0: number, y0: number, maxWidth: number): { svg: string; height: number } {
  const parts: string[] = [];
  let x = x0;
  let y = y0;
  for (const item of items) {
    const w = 20 + textWidth(item.label, 12) * 1.1 + 20;
    if (x > x0 && x + w > x0 + maxWidth) {
      x = x0;
      y += 20;
    }
    parts.push(`<g transform="translate(${n(x)} ${n(y)})">${item.swatch}${text(20, 4, item.label, { fill: INK })}</g>`);
    x += w;
  }
  return { svg: parts.join("\n"), height: y - y0 + 20 };
}

/**
 * The recall-vs-memory plot of a quality study: recall@k against bytes per vector on a log2 axis,
 * one marker per configuration (colour and shape by family, hollow for reference rows), the
 * Pareto front as a staircase with its points labelled.
 *
 * @param study the quality study; its `pareto` marks are recomputed with `markPareto`.
 * @returns SVG text, about 900×560 px.
 * @example
 * await writeFile("recall.svg", recallPlot(results.quality));
 */
export function recallPlot(study: QualityStudy): string {
  const W = 900;
  const H = 560;
  const rows = markPareto(study.rows);
  const out: string[] = [];
  const title = `Recall@${study.k} vs bytes per vector`;
  out.push(svgOpen(W, H, `${title} — ${study.dataset}`));
  out.push(text(20, 28, title, { size: 17, weight: "bold" }));
  const subtitle =
    `${study.dataset}: ${formatCount(study.vectors)} vectors × ${formatCount(study.dims)} dims, ${formatCount(study.queries)} queries; ` +
    `recall against exact float32 search on the full vectors. Up and left is better.`;
  out.push(text(20, 48, fit(subtitle, 12, W - 40), { size: 12, fill: MUTED }));

  const families = [...new Set(rows.map(familyKey))].filter((k) => k in FAMILIES);
  const legendItems: LegendItem[] = families.map((k) => ({
    swatch: `<path d="${markerPath(FAMILIES[k].shape, 8, 0, 5)}" fill="${FAMILIES[k].color}"/>`,
    label: FAMILIES[k].name,
  }));
  if (rows.some((r) => r.reference)) {
    legendItems.push({
      swatch: `<path d="${markerPath("circle", 8, 0, 5)}" fill="#fff" stroke="${MUTED}" stroke-width="2"/>`,
      label: "hollow: sentence-transformers default",
    });
  }
  legendItems.push({
    swatch:
      `<path d="M0 0H16" fill="none" stroke="${INK}" stroke-width="1.5"/>` +
      `<path d="${markerPath("circle", 8, 0, 4.5)}" fill="#bbb" stroke="${INK}" stroke-width="1.5"/>`,
    label: "Pareto front",
  });
  const legend = legendRows(legendItems, 20, 74, W - 40);
  out.push(legend.svg);

  const left = 72;
  const right = W - 28;
  const top = 74 + legend.height + 10;
  const bottom = H - 58;

  const usable = rows.filter((r) => Number.isFinite(r.recall) && Number.isFinite(r.bytesPerVector));
  if (usable.length === 0) {
    out.push(text((left + right) / 2, (top + bottom) / 2, "no quality rows", { anchor: "middle", fill: MUTED }));
    out.push("</svg>");
    return out.join("\n") + "\n";
  }

  // Axes. Bytes below 1 cannot sit on a log axis: they are drawn at 1 B.
  const bytesOf = (r: QualityRow) => Math.max(1, r.bytesPerVector);
  const logs = usable.map((r) => Math.log2(bytesOf(r)));
  let lx0 = Math.min(...logs) - 0.45;
  let lx1 = Math.max(...logs) + 0.45;
  if (lx1 - lx0 < 2) {
    const mid = (lx0 + lx1) / 2;
    lx0 = mid - 1;
    lx1 = mid + 1;
  }
  const sx = (bytes: number) => left + ((Math.log2(Math.max(1, bytes)) - lx0) / (lx1 - lx0)) * (right - left);

  const minRecall = Math.min(...usable.map((r) => r.recall));
  const maxRecall = Math.max(1, ...usable.map((r) => r.recall));
  const margin = Math.max(0.02, (maxRecall - minRecall) * 0.06);
  let step = niceStep(maxRecall - (minRecall - margin), 10);
  if (step < 0.01) step = 0.01;
  const y0 = Math.max(0, Math.floor((minRecall - margin) / step + 1e-9) * step);
  const y1 = maxRecall;
  const pad = 14; // room above recall 1.0 so the top markers and their labels are not clipped
  const sy = (recall: number) => bottom - ((recall - y0) / (y1 - y0)) * (bottom - top - pad);

  const grid: string[] = [];
  const ticks: string[] = [];
  const decimals = decimalsOf(step);
  for (let i = 0; y0 + i * step <= y1 + 1e-9; i++) {
    const v = y0 + i * step;
    const y = sy(v);
    grid.push(`M${left} ${n(y)}H${right}`);
    ticks.push(text(left - 8, y + 4, v.toFixed(decimals), { anchor: "end", fill: MUTED }));
  }
  const pxPerOctave = (right - left) / (lx1 - lx0);
  for (const t of byteTicks(usable.map(bytesOf), lx0, lx1, pxPerOctave)) {
    const x = sx(t);
    grid.push(`M${n(x)} ${top}V${bottom}`);
    ticks.push(text(x, bottom + 18, formatBytes(t), { anchor: "middle", fill: MUTED }));
  }
  out.push(`<path d="${grid.join("")}" stroke="${GRID}" stroke-width="1" fill="none"/>`);
  out.push(`<path d="M${left} ${top}V${bottom}H${right}" stroke="${MUTED}" stroke-width="1" fill="none"/>`);
  out.push(ticks.join("\n"));
  out.push(text((left + right) / 2, H - 16, "bytes per vector stored (log scale; binary prefilter + rescore codes counted together)", { anchor: "middle", size: 13 }));
  out.push(text(0, 0, `recall@${study.k}`, { anchor: "middle", size: 13, transform: `translate(20 ${n((top + bottom) / 2)}) rotate(-90)` }));

  // The front as a staircase: with a budget of b bytes, the best recall is that of the last
  // front point at or below b, so the line runs flat until the next point and then rises.
  const front = usable.filter((r) => r.pareto).sort((a, b) => a.bytesPerVector - b.bytesPerVector || a.recall - b.recall);
  const lineBoxes: Box[] = [];
  if (front.length > 0) {
    let d = `M${n(sx(bytesOf(front[0])))} ${n(sy(front[0].recall))}`;
    for (let i = 1; i < front.length; i++) {
      const x = sx(bytesOf(front[i]));
      const yPrev = sy(front[i - 1].recall);
      const y = sy(front[i].recall);
      lineBoxes.push({ x0: sx(bytesOf(front[i - 1])), y0: yPrev - 1, x1: x, y1: yPrev + 1 });
      lineBoxes.push({ x0: x - 1, y0: y, x1: x + 1, y1: yPrev });
      d += `H${n(x)}V${n(y)}`;
    }
    out.push(`<path d="${d}" fill="none" stroke="${INK}" stroke-width="1.5" stroke-linejoin="round"/>`);
  }

  // Markers: dominated rows first, then references, then the front on top.
  const order = (r: QualityRow) => (r.pareto ? 2 : r.reference ? 1 : 0);
  const markerBoxes: Box[] = [];
  const markers: string[] = [];
  for (const r of [...usable].sort((a, b) => order(a) - order(b))) {
    const fam = FAMILIES[familyKey(r)] ?? FAMILIES.float32;
    const x = sx(bytesOf(r));
    const y = sy(r.recall);
    const radius = r.pareto ? 6 : 5;
    markerBoxes.push({ x0: x - radius - 1, y0: y - radius - 1, x1: x + radius + 1, y1: y + radius + 1 });
    const style = r.reference
      ? `fill="#fff" stroke="${fam.color}" stroke-width="2"`
      : r.pareto
        ? `fill="${fam.color}" stroke="${INK}" stroke-width="1.5"`
        : `fill="${fam.color}" fill-opacity="0.8" stroke="#fff" stroke-width="0.8"`;
    const tip = `${r.label}${r.reference ? " (reference)" : ""}: recall ${r.recall.toFixed(4)}, ${formatBytes(r.bytesPerVector)}, ${formatSig(r.p50Ms)} ms`;
    markers.push(`<path class="pt" d="${markerPath(fam.shape, x, y, radius)}" ${style}><title>${escapeXml(tip)}</title></path>`);
  }
  out.push(markers.join("\n"));

  // Labels: every front point and every reference row, each at the first candidate position that
  // hits nothing (other labels, markers, the staircase, the frame), else at the least-bad one.
  // Widths are estimates, so the frame is what the label must stay inside, not the canvas.
  const placed: Box[] = [];
  const labels: string[] = [];
  const frame: Box = { x0: left + 2, y0: top - pad + 2, x1: right - 2, y1: bottom - 2 };
  const labelled = [...front, ...usable.filter((r) => r.reference)];
  for (const r of labelled) {
    const x = sx(bytesOf(r));
    const y = sy(r.recall);
    const content = `${r.label}  ${r.recall.toFixed(3)}`;
    const size = 11;
    const w = textWidth(content, size);
    const near: [number, number, "start" | "middle" | "end"][] = r.reference
      ? [[x + 9, y + 4, "start"], [x - 9, y + 4, "end"], [x + 8, y + 15, "start"], [x - 8, y + 15, "end"], [x + 8, y - 7, "start"], [x - 8, y - 7, "end"]]
      : [[x - 9, y - 6, "end"], [x - 10, y + 4, "end"], [x, y - 11, "middle"], [x + 9, y - 6, "start"], [x + 10, y + 4, "start"], [x + 9, y + 15, "start"], [x - 9, y + 15, "end"], [x, y + 20, "middle"]];
    // Then the same positions one line further out, for crowded neighbourhoods.
    const candidates = [...near, ...near.map(([cx, cy, a]): [number, number, "start" | "middle" | "end"] => [cx, cy + (cy < y ? -12 : 12), a])];
    let best = candidates[0];
    let bestScore = Infinity;
    let bestClash = Infinity;
    for (const c of candidates) {
      const box = textBox(c[0], c[1], w, size, c[2]);
      const outside = (box.x1 - box.x0) * (box.y1 - box.y0) - overlap(box, frame);
      const clash = outside + placed.reduce((s, b) => s + overlap(box, b), 0);
      const score =
        clash * 30 +
        markerBoxes.reduce((s, b) => s + overlap(box, b) * 5, 0) +
        lineBoxes.reduce((s, b) => s + overlap(box, b) * 5, 0);
      if (score < bestScore) {
        best = c;
        bestScore = score;
        bestClash = clash;
        if (score === 0) break;
      }
    }
    // A label that would sit on another label or leave the frame is dropped: the marker's tooltip
    // and the table still name it, and a dense front stays legible.
    if (bestClash > 0) continue;
    placed.push(textBox(best[0], best[1], w, size, best[2]));
    labels.push(text(best[0], best[1], content, { size, anchor: best[2], halo: true, italic: r.reference === true, fill: r.reference ? MUTED : INK }));
  }
  out.push(labels.join("\n"));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
// Throughput

const IMPLEMENTATION_COLORS: Record<string, string> = {
  quantvec: "#0072B2",
  plain: "#999999",
  simsimd: "#E69F00",
  usearch: "#009E73",
};
const OTHER_COLORS = ["#CC79A7", "#56B4E9", "#D55E00"];

function implementationColor(name: string, others: Map<string, string>): string {
  const key = name.trim().split(/\s+/)[0].toLowerCase();
  if (key in IMPLEMENTATION_COLORS) return IMPLEMENTATION_COLORS[key];
  if (!others.has(key)) others.set(key, OTHER_COLORS[others.size % OTHER_COLORS.length]);
  return others.get(key)!;
}

/** GB/s of a row, derived from vectors/s when the bench did not record it. */
function rowGbPerSec(row: KernelRow, bytesPerVector: number): number | undefined {
  if (row.gbPerSec !== undefined && Number.isFinite(row.gbPerSec)) return row.gbPerSec;
  if (row.vectorsPerSec !== undefined && Number.isFinite(row.vectorsPerSec)) return (row.vectorsPerSec * bytesPerVector) / 1e9;
  return undefined;
}

/**
 * The throughput plot: per kernel suite, one horizontal bar of GB/s per implementation that ran,
 * labelled with vectors/s and GB/s; peers that were unavailable or failed are listed with their
 * reason instead of a bar; a dashed line marks the streaming-read bound when it was measured.
 *
 * @param results a bench run; only `kernels`, `bandwidth` and `meta` are read.
 * @returns SVG text, 900 px wide, as tall as the suites need.
 * @example
 * await writeFile("throughput.svg", throughputPlot(results));
 */
export function throughputPlot(results: BenchResults): string {
  const W = 900;
  const suites = results.kernels;
  const bound = results.bandwidth && Number.isFinite(results.bandwidth.gbPerSec) ? results.bandwidth.gbPerSec : undefined;

  const allNames = suites.flatMap((s) => s.rows.map((r) => r.implementation));
  // Wide fallback fonts (DejaVu) run about 10% past the estimate: leave that much room.
  const nameWidth = Math.min(250, Math.max(90, ...allNames.map((s) => textWidth(s, 12) * 1.1)));
  const left = 20 + nameWidth + 12;
  const right = W - 30;
  const groupsTop = bound !== undefined && !suites.some((s) => s.boundGbPerSec !== undefined) ? 92 : 76;
  const HEADER = 24;
  const ROW = 24;
  const NOTE = 20;
  const GAP = 14;

  const hasBar = (row: KernelRow, bytesPerVector: number) => row.status === "ok" && rowGbPerSec(row, bytesPerVector) !== undefined;
  let y = groupsTop;
  const layout = suites.map((suite) => {
    const startY = y;
    y += HEADER + GAP;
    for (const row of suite.rows) y += hasBar(row, suite.bytesPerVector) ? ROW : NOTE;
    return startY;
  });
  const groupsBottom = y - GAP + 4;
  const H = Math.round(groupsBottom + 52);

  const values = suites.flatMap((s) => s.rows.filter((r) => r.status === "ok").map((r) => rowGbPerSec(r, s.bytesPerVector) ?? 0));
  const suiteBounds = suites.map((s) => s.boundGbPerSec).filter((b): b is number => b !== undefined && Number.isFinite(b));
  const maxValue = Math.max(bound ?? 0, ...suiteBounds, ...values, 1e-9);
  const step = niceStep(maxValue * 1.08, 6);
  const xMax = Math.ceil((maxValue * 1.08) / step) * step;
  const sx = (v: number) => left + (v / xMax) * (right - left);

  const title = "Scan throughput: one query against the whole corpus, top-10 included";
  const out: string[] = [svgOpen(W, H, title)];
  out.push(text(20, 28, title, { size: 17, weight: "bold" }));
  const machine = `${results.meta.cpu} (${results.meta.cores} cores), Node ${results.meta.node}, ${results.meta.platform}`;
  out.push(text(20, 48, fit(`GB/s of vectors scanned; dashed: a streaming read of the same bytes. ${machine}`, 12, W - 40), { size: 12, fill: MUTED }));

  if (suites.length === 0) {
    out.push(text(W / 2, groupsTop + 20, "no kernel measurements", { anchor: "middle", fill: MUTED }));
    out.push("</svg>");
    return out.join("\n") + "\n";
  }

  // Grid and axis.
  const grid: string[] = [];
  const ticks: string[] = [];
  const decimals = decimalsOf(step);
  for (let v = 0; v <= xMax + 1e-9; v += step) {
    const x = sx(v);
    grid.push(`M${n(x)} ${groupsTop - 6}V${n(groupsBottom)}`);
    ticks.push(text(x, groupsBottom + 16, v.toFixed(decimals), { anchor: "middle", fill: MUTED }));
  }
  out.push(`<path d="${grid.join("")}" stroke="${GRID}" stroke-width="1" fill="none"/>`);
  out.push(`<path d="M${left} ${groupsTop - 6}V${n(groupsBottom)}H${right}" stroke="${MUTED}" stroke-width="1" fill="none"/>`);
  out.push(ticks.join("\n"));
  out.push(text((left + right) / 2, groupsBottom + 38, "GB/s of vectors read (higher is better)", { anchor: "middle", size: 13 }));

  const others = new Map<string, string>();
  const bars: string[] = [];
  const labels: string[] = [];
  const suiteBound = (i: number) => suites[i].boundGbPerSec;
  const perSuite = suites.some((_, i) => suiteBound(i) !== undefined);
  suites.forEach((suite, i) => {
    let rowY = layout[i];
    const groupBound = suiteBound(i);
    if (groupBound !== undefined && Number.isFinite(groupBound)) {
      // Each suite's bound is a streaming read of its own bytes, timed beside it.
      const x = sx(groupBound);
      const end = i + 1 < layout.length ? layout[i + 1] - GAP : groupsBottom;
      bars.push(`<path d="M${n(x)} ${rowY + 4}V${n(end)}" stroke="${INK}" stroke-width="1.5" stroke-dasharray="6 4" fill="none"/>`);
      const label = `bound ${formatSig(groupBound)} GB/s`;
      const anchor = x + 6 + textWidth(label, 11) <= W - 10 ? "start" : "end";
      labels.push(text(anchor === "start" ? x + 6 : x - 6, rowY + 15, label, { anchor, size: 11, weight: "bold", halo: true }));
    }
    const header = `${suite.title} — ${formatCount(suite.vectors)} vectors × ${formatBytes(suite.bytesPerVector)}`;
    labels.push(text(20, rowY + 15, fit(header, 13, W - 40), { size: 13, weight: "bold", halo: true }));
    rowY += HEADER;
    for (const row of suite.rows) {
      const gb = rowGbPerSec(row, suite.bytesPerVector);
      const name = fit(row.implementation, 12, nameWidth / 1.1);
      if (!hasBar(row, suite.bytesPerVector) || gb === undefined) {
        const why = row.status === "ok" ? "no measurement" : `${row.status}${row.note ? `: ${row.note}` : ""}`;
        labels.push(text(left - 10, rowY + 13, name, { anchor: "end", fill: MUTED }));
        labels.push(text(left + 8, rowY + 13, fit(why, 12, right - left - 8), { fill: MUTED, italic: true, halo: true }));
        rowY += NOTE;
        continue;
      }
      const x1 = sx(gb);
      const color = implementationColor(row.implementation, others);
      labels.push(text(left - 10, rowY + 15, name, { anchor: "end", weight: row.implementation.toLowerCase().startsWith("quantvec") ? "bold" : undefined }));
      bars.push(`<rect x="${left}" y="${rowY + 3}" width="${n(Math.max(1, x1 - left))}" height="16" rx="2" fill="${color}"><title>${escapeXml(`${row.implementation}: ${formatSig(gb)} GB/s`)}</title></rect>`);
      const mvps = row.vectorsPerSec !== undefined ? `${formatSig(row.vectorsPerSec / 1e6)} M vectors/s · ` : "";
      const value = `${mvps}${formatSig(gb)} GB/s`;
      const w = textWidth(value, 11);
      if (x1 + 6 + w <= right) {
        labels.push(text(x1 + 6, rowY + 15, value, { size: 11, halo: true }));
      } else {
        labels.push(text(x1 - 6, rowY + 15, value, { size: 11, anchor: "end", fill: "#fff" }));
      }
      rowY += ROW;
    }
  });
  out.push(bars.join("\n"));

  if (bound !== undefined && !perSuite) {
    const x = sx(bound);
    out.push(`<path d="M${n(x)} ${groupsTop - 14}V${n(groupsBottom)}" stroke="${INK}" stroke-width="1.5" stroke-dasharray="6 4" fill="none"/>`);
    const label = `streaming-read bound ${formatSig(bound)} GB/s`;
    const anchor = x + 6 + textWidth(label, 12) <= W - 10 ? "start" : "end";
    out.push(text(anchor === "start" ? x + 6 : x - 6, groupsTop - 8, label, { anchor, size: 12, weight: "bold" }));
  }
  out.push(labels.join("\n"));
  out.push("</svg>");
  return out.join("\n") + "\n";
}
