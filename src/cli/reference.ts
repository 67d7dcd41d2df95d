// The hardware reference of a suite: the plain streaming read each scan is measured against
// (read_sum_rows: the suite's bytes in the scans' own order, no work on them), on this thread
// alone and split with one worker over a shared memory, as a two-thread search splits its rows.
// Timed in the same run as the suite, it says what this machine allows: a "2 threads vs 1" of
// ours reads against the reference's, not against a 2× the cores may not give.

import { WorkerPool } from "../pool.js";
import { Arena, buildFor, compile, kernelModule, PAGE_BYTES } from "../wasm.js";
import { fillRandom } from "./random.js";

const CALLER = "quantvec bench (hardware reference)";

export class HardwareReference {
  private constructor(
    private readonly arena: Arena,
    private readonly pool: WorkerPool,
    private readonly ptr: number,
    private readonly rowBytes: number,
    private readonly rows: number,
  ) {}

  /** `rows` rows of `rowBytes` bytes (seeded, so no page is left untouched), or the reason there is no worker here. */
  static async create(rowBytes: number, rows: number, seed: number): Promise<HardwareReference | string> {
    const build = buildFor("simd128", true);
    try {
      await compile(build);
      const bytes = rowBytes * rows;
      const arena = new Arena(CALLER, Math.ceil((bytes + (1 << 20)) / PAGE_BYTES) * PAGE_BYTES, true, "simd128");
      const ptr = arena.alloc(CALLER, bytes);
      fillRandom(new Uint8Array(arena.memory.buffer, ptr, bytes), seed);
      const pool = await WorkerPool.create(kernelModule(CALLER, build), arena.memory, 1);
      return new HardwareReference(arena, pool, ptr, rowBytes, rows);
    } catch (error) {
      return `no worker over shared memory here (${(error as Error).message})`;
    }
  }

  /** The streaming read on this thread. */
  one(): number {
    return this.arena.kernels.read_sum_rows(this.ptr, this.rowBytes, this.rows);
  }

  /** The same read, the first half on this thread while the worker reads the second. */
  async two(): Promise<number> {
    const half = Math.ceil(this.rows / 2);
    const remote = this.pool.call(0, "read_sum_rows", [this.ptr + half * this.rowBytes, this.rowBytes, this.rows - half]);
    const sum = this.arena.kernels.read_sum_rows(this.ptr, this.rowBytes, half);
    await remote;
    return sum;
  }

  dispose(): void {
    this.pool.terminate();
  }
}
