// The persistence suite of `quantvec bench`: index.save and Index.load of a binary → int8 index
// of 1024-d vectors (the seed's deployment shape: bit codes to scan, int8 codes to rescore),
// against plain copies of the saved file's bytes, timed in turn (save, its baselines, load, its
// baselines, save, …) so that the ratios hold on a noisy machine. The page cache is warm: every
// contender reads a file written moments before.
//
// Two baselines each: copyFile (the kernel copies page cache to page cache; what the issue asks
// to compare with), and what any saver or loader of bytes held in process memory pays at the
// least — writing them to a new file that is flushed and renamed, reading them into memory that
// was never touched before and checksumming them (a loaded index's memory is new, and every byte
// is verified; where first touches of memory are expensive, as in sandboxed VMs, that dominates).

import { copyFile, mkdtemp, open, readFile, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Checksum } from "../checksum.js";
import { Index } from "../vector-index.js";
import { fillRandom, K, randomNormal } from "./kernel-bench.js";
import type { Progress } from "./progress.js";
import type { PersistenceRun } from "./results.js";

const DIMS = 1024;
const CHUNK_ROWS = 65536;
const PIECE_BYTES = 8 * 1024 * 1024;
const SAVE = "index.save (temp file, fsync, rename)";
const COPY_FSYNC = "copyFile + fsync";
const WRITE_NEW = "the bytes written to a new file + fsync + rename";
const LOAD = "Index.load";
const COPY = "copyFile";
const READ_FRESH = "readFile (into new memory) + xxh64 of it";

/** An index of `count` rows of random codes (addQuantized: the codes' values do not change the I/O). */
async function codesIndex(count: number, seed: number, progress: Progress): Promise<Index> {
  const index = await Index.create({ dims: DIMS, precision: "binary", rescore: "int8", ranges: { min: new Float32Array(DIMS).fill(-1), max: new Float32Array(DIMS).fill(1) } });
  const binary = new Uint8Array(CHUNK_ROWS * (DIMS / 8));
  const int8 = new Int8Array(CHUNK_ROWS * DIMS);
  for (let start = 0, c = 0; start < count; start += CHUNK_ROWS, c++) {
    const rows = Math.min(CHUNK_ROWS, count - start);
    fillRandom(binary, seed + 8000 + c);
    fillRandom(int8, seed + 9000 + c);
    index.addQuantized({ binary: binary.subarray(0, rows * (DIMS / 8)), int8: int8.subarray(0, rows * DIMS) });
    progress.update(start + rows, count, "adding codes");
  }
  progress.clear();
  return index;
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Times save and load of a `count`-row index against copyFile of the same bytes, `rounds` rounds
 * of the four contenders in turn, after checking that the loaded index answers as the saved one.
 *
 * @param count rows (1156 bytes each in the file: 128 of bits, 1024 of int8, 4 of id).
 * @param folder where the files go (default: the OS's temporary folder); removed afterwards.
 */
export async function persistenceSuite(count: number, seed: number, rounds: number, progress: Progress, folder?: string): Promise<PersistenceRun> {
  progress.stage(`persistence: save and load ${count.toLocaleString("en-US")} × 1024-d binary → int8 vs copying the file`);
  const index = await codesIndex(count, seed, progress);
  const dir = await mkdtemp(join(folder ?? tmpdir(), "quantvec-bench-persistence-"));
  try {
    const saved = join(dir, "index.qv");
    const copied = join(dir, "copy.qv");
    await index.save(saved);
    // Same answer first: what is loaded searches exactly like what was saved.
    const query = randomNormal(DIMS, seed + 77);
    const loaded = await Index.load(saved);
    const [want, got] = await Promise.all([index.search(query, { k: K }), loaded.search(query, { k: K })]);
    loaded.dispose();
    if (want.ids.join() !== got.ids.join() || want.scores.join() !== got.scores.join()) throw new Error("persistence bench: the loaded index answers differently");
    const bytes = await readFile(saved);
    const contenders: Record<string, () => Promise<unknown>> = {
      [SAVE]: () => index.save(saved),
      [COPY_FSYNC]: async () => {
        await copyFile(saved, copied);
        await fsyncFile(copied);
      },
      [WRITE_NEW]: async () => {
        const temporary = join(dir, "new.tmp");
        const handle = await open(temporary, "w");
        try {
          for (let at = 0; at < bytes.length; at += PIECE_BYTES) await handle.write(bytes, at, Math.min(PIECE_BYTES, bytes.length - at), at);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temporary, copied);
      },
      [LOAD]: async () => (await Index.load(saved)).dispose(),
      [COPY]: () => copyFile(saved, copied),
      [READ_FRESH]: async () => new Checksum().update(await readFile(saved)).digest(),
    };
    const seconds: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of Object.entries(contenders)) {
        const began = performance.now();
        await run();
        seconds[name].push((performance.now() - began) / 1000);
      }
      progress.update(round + 1, rounds, "rounds");
    }
    progress.clear();
    const fileBytes = (await stat(saved)).size;
    const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
    const rows = Object.entries(seconds).map(([name, list]) => ({ name, p50Seconds: median(list), gbPerSec: fileBytes / median(list) / 1e9, seconds: list }));
    const p50 = (name: string) => rows.find((r) => r.name === name)!.p50Seconds;
    return {
      vectors: count, fileBytes, rounds, rows,
      saveVsCopyFsync: p50(COPY_FSYNC) / p50(SAVE), saveVsWriteNew: p50(WRITE_NEW) / p50(SAVE),
      loadVsCopy: p50(COPY) / p50(LOAD), loadVsReadFresh: p50(READ_FRESH) / p50(LOAD),
    };
  } finally {
    index.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
