// Persistence throughput: writing and reading a quantvec container (xxh64 checksums included) as a
// fraction of a plain file copy of the same bytes, contenders interleaved A B A B, page cache warm.
//
//   npm run build && node bench/persistence.mjs [--mib 1024] [--rounds 5] [--dir /tmp]
//
// Contenders, each over the same SIZE bytes:
//   copy        fs.copyFile of a file of SIZE bytes (Linux: copy_file_range, no user-space copy)
//   copy+fsync  the same, then fsync of the copy (what a durable save must pay too)
//   user copy+fsync  the same bytes read and written through user space in 16 MiB pieces, fsync
//               (what any writer of bytes held by JavaScript pays; `cat a > b`)
//   user copy to new file  the same, but into a new temporary file that is then renamed over the
//               copy: the save's own allocation pattern (on ext4 with `discard`, writing a new file
//               after one of the same size was replaced is much slower than overwriting one)
//   read        fs read of that file into one buffer (what loading needs at the least)
//   save        writeContainer to a path: one section of SIZE bytes in 64 KiB checksum blocks,
//               streamed from memory in 16 MiB chunks; temp file, fsync, rename
//   load        openContainer + readInto of that section (every block verified)
//   xxh64       the checksum alone over SIZE bytes already in WebAssembly memory, and copied in
// Reported: median seconds, GB/s, and the ratios save / copy+fsync and load / copy.

import { copyFile, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { ready } from "../dist/wasm.js";
import { Arena } from "../dist/wasm.js";
import { Checksum } from "../dist/checksum.js";
import { openContainer, writeContainer } from "../dist/file/container.js";

const { values } = parseArgs({ options: { mib: { type: "string", default: "1024" }, rounds: { type: "string", default: "5" }, dir: { type: "string", default: "/tmp" } } });
const SIZE = Number(values.mib) * 1024 * 1024;
const ROUNDS = Number(values.rounds);
const CHUNK = 16 << 20;
const BLOCK = 64 << 10;
await ready();

const folder = join(values.dir, `quantvec-persistence-${process.pid}`);
await (await import("node:fs/promises")).mkdir(folder, { recursive: true });
const data = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i += 4096) data[i] = (i * 2654435761) >>> 24; // touch every page: resident, not lazily zero

const plain = join(folder, "plain.bin");
const copied = join(folder, "copied.bin");
const saved = join(folder, "saved.qv");
const renamed = join(folder, "renamed.bin");
{
  const handle = await open(plain, "w");
  for (let at = 0; at < SIZE; at += CHUNK) await handle.write(data.subarray(at, at + CHUNK));
  await handle.close();
}
const chunks = function* () {
  for (let at = 0; at < SIZE; at += CHUNK) yield data.subarray(at, Math.min(at + CHUNK, SIZE));
};
const target = new Uint8Array(SIZE);

const contenders = {
  copy: async () => copyFile(plain, copied),
  "copy+fsync": async () => {
    await copyFile(plain, copied);
    const handle = await open(copied, "r+");
    await handle.sync();
    await handle.close();
  },
  "user copy+fsync": async () => {
    const from = await open(plain, "r");
    const to = await open(copied, "w");
    const piece = new Uint8Array(CHUNK);
    for (let at = 0; at < SIZE;) {
      const { bytesRead } = await from.read(piece, 0, Math.min(CHUNK, SIZE - at), at);
      await to.write(piece, 0, bytesRead, at);
      at += bytesRead;
    }
    await to.sync();
    await Promise.all([from.close(), to.close()]);
  },
  "user copy to new file": async () => {
    const from = await open(plain, "r");
    const temporary = join(folder, `copied.${Math.random()}.tmp`);
    const to = await open(temporary, "wx");
    const piece = new Uint8Array(CHUNK);
    for (let at = 0; at < SIZE;) {
      const { bytesRead } = await from.read(piece, 0, Math.min(CHUNK, SIZE - at), at);
      await to.write(piece, 0, bytesRead, at);
      at += bytesRead;
    }
    await to.sync();
    await Promise.all([from.close(), to.close()]);
    await rename(temporary, renamed);
  },
  read: async () => {
    const handle = await open(plain, "r");
    for (let at = 0; at < SIZE;) at += (await handle.read(target, at, Math.min(1 << 30, SIZE - at), at)).bytesRead;
    await handle.close();
  },
  save: async () => writeContainer(saved, [{ tag: "DATA", byteLength: SIZE, chunks: chunks(), blockBytes: BLOCK }]),
  load: async () => {
    const file = await openContainer(saved);
    await file.readInto("DATA", target);
    await file.close();
  },
};

// Same answer first: the loaded bytes equal the saved ones.
await contenders.save();
await contenders.load();
for (let i = 0; i < SIZE; i += 65521) if (target[i] !== data[i]) throw new Error(`load returned different bytes at ${i}`);

const times = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(contenders)) {
    const start = performance.now();
    await run();
    times[name].push((performance.now() - start) / 1000);
  }
}

// The checksum alone.
const arena = new Arena("bench", Math.min(4 * 1024 ** 3, SIZE + 64 * 1024 * 1024));
const ptr = arena.alloc("bench", SIZE);
arena.u8.set(data, ptr);
times["xxh64 in place"] = [];
times["xxh64 copied in"] = [];
for (let round = 0; round < ROUNDS; round++) {
  let start = performance.now();
  new Checksum({ arena }).updateAt(ptr, SIZE).digest();
  times["xxh64 in place"].push((performance.now() - start) / 1000);
  start = performance.now();
  new Checksum().update(data).digest();
  times["xxh64 copied in"].push((performance.now() - start) / 1000);
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
console.log(`persistence, ${(SIZE / 2 ** 20).toFixed(0)} MiB, ${ROUNDS} rounds interleaved, page cache warm; Node ${process.version}, ${cpus()[0].model} × ${cpus().length}; ${new Date().toISOString()}`);
console.log("| contender | median s | GB/s | all rounds (s) |\n|---|---|---|---|");
for (const [name, list] of Object.entries(times)) {
  console.log(`| ${name} | ${median(list).toFixed(3)} | ${(SIZE / median(list) / 1e9).toFixed(2)} | ${list.map((t) => t.toFixed(3)).join(" ")} |`);
}
const ratio = (a, b) => (median(times[b]) / median(times[a])).toFixed(2);
console.log(`save throughput / (copy + fsync) throughput: ${ratio("save", "copy+fsync")}`);
console.log(`save throughput / (user-space copy + fsync) throughput: ${ratio("save", "user copy+fsync")}`);
console.log(`save throughput / (user-space copy to a new file + fsync + rename) throughput: ${ratio("save", "user copy to new file")}`);
console.log(`load throughput / copy throughput: ${ratio("load", "copy")}`);
console.log(`load throughput / plain read throughput: ${ratio("load", "read")}`);
await rm(folder, { recursive: true, force: true });
