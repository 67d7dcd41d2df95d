// Timing through tinybench: every task of one call is measured in the same run, so ratios
// between them hold on a shared, noisy machine even when absolute numbers drift.

export interface Timing {
  p50Ms: number;
  p99Ms: number;
  samples: number;
}

export interface Task {
  name: string;
  fn: () => unknown;
}

type TinyBench = typeof import("tinybench");

async function tinybench(): Promise<TinyBench> {
  try {
    return await import("tinybench");
  } catch {
    throw new Error("quantvec bench needs tinybench: npm install --save-dev tinybench@6");
  }
}

/** Results stay observable so no engine can drop the work as dead code. */
export let sink = 0;

/**
 * Times each task for about `timeMs` (at least `iterations` runs, after a warm-up) and returns
 * its latency percentiles.
 */
export async function measure(tasks: Task[], timeMs: number, iterations = 5): Promise<Map<string, Timing>> {
  const { Bench } = await tinybench();
  const bench = new Bench({ time: timeMs, iterations, warmup: true, warmupIterations: 2, warmupTime: 0 });
  const consume = (result: unknown) => {
    sink ^= typeof result === "number" ? result : Array.isArray(result) ? result.length : 1;
  };
  for (const task of tasks) {
    // An async task's promise goes back to tinybench, which then times it to completion.
    bench.add(task.name, () => {
      const result = task.fn();
      if (result instanceof Promise) return result.then(consume);
      consume(result);
    });
  }
  await bench.run();
  const timings = new Map<string, Timing>();
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== "completed") {
      const error = "error" in result ? (result as { error?: Error }).error : undefined;
      throw new Error(`benchmark task "${task.name}" ${result.state}${error ? `: ${error.message}` : ""}`);
    }
    timings.set(task.name, { p50Ms: result.latency.p50, p99Ms: result.latency.p99, samples: result.latency.samplesCount });
  }
  return timings;
}
