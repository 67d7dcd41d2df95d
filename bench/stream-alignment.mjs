// Scans of power-of-two sizes against sizes just beside them (assembly/scan.ts, streamRows). Every
// scan walks its rows as 4 chunks in lockstep; at 2^20 int8 rows of 1 KiB or 2^23 codes of 128 B
// those chunks would start exactly 256 MiB apart, which on an AMD EPYC host (2026-12-03) read at a
// third of the speed. With the chunks spread, each power-of-two size should run like its
// neighbours: a row that falls far below them means the alignment is back.
// The sizes are timed in turn (A B C A B C …), p50 of the rounds, in GB/s of codes read.
//
//   npm run build && node bench/stream-alignment.mjs [--rounds 9]

import { parseArgs } from "node:util";
import { kernels, ready } from "../dist/index.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "9" } } });
const ROUNDS = Number(values.rounds);
await ready();

/** A buffer of `bytes` seeded bytes in kernel memory (xorshift32, so no JS number per byte). */
function seeded(type, bytes) {
  const buffer = kernels.alloc(type, bytes);
  const words = new Uint32Array(buffer.array.buffer, buffer.array.byteOffset, bytes >>> 2);
  let x = 2463534242;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    words[i] = x >>> 0;
  }
  return buffer;
}

const median = (times) => times.sort((a, b) => a - b)[times.length >> 1];

for (const { name, type, rowBytes, counts } of [
  { name: "int8 1024-d, dot_i8_topk", type: "int8", rowBytes: 1024, counts: [2 ** 20, 2 ** 20 + 1, 1_000_000] },
  { name: "binary 1024-bit, hamming_u1_topk", type: "uint8", rowBytes: 128, counts: [2 ** 23, 2 ** 23 + 3, 8_000_000] },
]) {
  // One buffer per size (each its own memory, scanned in place), holding the same seeded rows.
  const source = seeded(type, Math.max(...counts) * rowBytes);
  const buffers = counts.map((count) => {
    const buffer = kernels.alloc(type, count * rowBytes);
    buffer.array.set(source.array.subarray(0, count * rowBytes));
    return buffer;
  });
  source.dispose();
  const query = type === "int8" ? new Int8Array(rowBytes).fill(3) : new Uint8Array(rowBytes).fill(0x5a);
  const scan = type === "int8" ? kernels.dot_i8_topk : kernels.hamming_u1_topk;
  const times = counts.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    buffers.forEach((buffer, i) => {
      const start = performance.now();
      scan(query, buffer, 10);
      times[i].push(performance.now() - start);
    });
  }
  console.log(name);
  counts.forEach((count, i) => {
    const ms = median(times[i]);
    console.log(`  ${String(count).padStart(9)} rows  ${ms.toFixed(1).padStart(7)} ms  ${(count * rowBytes / ms / 1e6).toFixed(1).padStart(5)} GB/s`);
  });
  buffers.forEach((buffer) => buffer.dispose());
}
