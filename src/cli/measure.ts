// Timing for `quantvec bench`: the tasks of one call are timed in turn, A B C A B C …, so that
// the drift of a shared machine (another process starting, the clock changing) falls on every
// contender alike. Timed one after the other (as tinybench does), the same two contenders'
// ratio swung between 0.6× and 1.1× here; interleaved it held. Every call is timed to
// completion the same way, awaited when it returns a promise, so a kernel called directly and
// an `Index.search` are measured by one method.

export interface Timing {
  p50Ms: number;
  p99Ms: number;
  /** The spread of single calls: the 10th and 90th percentiles. */
  p10Ms: number;
  p90Ms: number;
  samples: number;
  /** The median call of each round, in round order: ratios are taken round by round. */
  roundsMs: number[];
}

export interface Task {
  name: string;
  fn: () => unknown;
}

/** Results stay observable so no engine can drop the work as dead code. */
export let sink = 0;

function consume(result: unknown): void {
  sink ^= typeof result === "number" ? result : Array.isArray(result) ? result.length : 1;
}

async function timeOne(fn: () => unknown): Promise<number> {
  const began = performance.now();
  const result = fn();
  consume(result instanceof Promise ? await result : result);
  return performance.now() - began;
}

const ROUNDS = 10;

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Times the tasks in turn for ROUNDS rounds (fewer, but at least `iterations`, where the calls
 * are slow: about `timeMs` of calls per task in all), after two warm-up calls each. In a round
 * each task runs for a slice of timeMs / ROUNDS (at least one call); the first task of a round
 * rotates, so none always follows the same neighbour.
 */
export async function measure(tasks: Task[], timeMs: number, iterations = 5): Promise<Map<string, Timing>> {
  const samples = tasks.map(() => [] as number[]);
  const rounds = tasks.map(() => [] as number[]);
  for (const task of tasks) for (let i = 0; i < 2; i++) await timeOne(task.fn);
  const slice = timeMs / ROUNDS;
  const began = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    if (round >= iterations && performance.now() - began > timeMs * tasks.length) break;
    for (let j = 0; j < tasks.length; j++) {
      const t = (round + j) % tasks.length;
      const calls: number[] = [];
      const start = performance.now();
      do calls.push(await timeOne(tasks[t].fn));
      while (performance.now() - start < slice);
      calls.sort((a, b) => a - b);
      rounds[t].push(percentile(calls, 0.5));
      samples[t].push(...calls);
    }
  }
  const timings = new Map<string, Timing>();
  tasks.forEach((task, t) => {
    const sorted = samples[t].sort((a, b) => a - b);
    timings.set(task.name, {
      p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), p10Ms: percentile(sorted, 0.1), p90Ms: percentile(sorted, 0.9),
      samples: sorted.length, roundsMs: rounds[t],
    });
  });
  return timings;
}

/** A ratio of two tasks' times, taken round by round: its median and its lowest and highest round. */
export interface Ratio {
  median: number;
  low: number;
  high: number;
}

/** How many times faster `ours` ran than `baseline` (baseline time / our time), round by round. */
export function speedup(timings: Map<string, Timing>, ours: string, baseline: string): Ratio {
  const a = timings.get(ours)!.roundsMs;
  const b = timings.get(baseline)!.roundsMs;
  const ratios = a.map((ms, i) => b[i] / ms).sort((x, y) => x - y);
  return { median: percentile(ratios, 0.5), low: ratios[0], high: ratios[ratios.length - 1] };
}
