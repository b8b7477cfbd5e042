/**
 * Small statistics for the benchmarks: percentiles of latency samples, and timed loops.
 *
 * @example
 *   const samples = await timeEach(500, async () => { await store.checkOne(key); });
 *   const { p50, p99 } = summarise(samples);   // milliseconds
 */

/** Latency figures of a sample set, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The `q`-quantile (0..1) of sorted samples, by linear interpolation between closest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const weight = position - lower;
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

/** p50/p90/p99/max/mean of `samples` (milliseconds). */
export function summarise(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / Math.max(sorted.length, 1);
  return { count: sorted.length, p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN, mean };
}

/** Runs `task(i)` `count` times one after another and returns each run's duration in ms. */
export async function timeEach(count: number, task: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await task(i);
    samples[i] = performance.now() - started;
  }
  return samples;
}

/**
 * Runs `total` tasks with at most `concurrency` in flight; returns the wall time in ms and each
 * task's latency. A task that throws stops the run with its error.
 */
export async function runConcurrent(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<{ elapsedMs: number; samples: number[] }> {
  const samples = new Array<number>(total);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const t0 = performance.now();
      await task(i);
      samples[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { elapsedMs: performance.now() - started, samples };
}

/** Operations per second of `count` operations in `elapsedMs`. */
export function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : Number.NaN;
}
