/**
 * The shape every benchmark suite has: a name and a `run` that measures, returns its figures and
 * stops everything it started (in a `finally`), whether it succeeds or throws.
 */
import type { ReportedResult } from "./report.ts";

/** What a suite is told. */
export interface SuiteContext {
  /** Smaller sizes, for a run of a few minutes. */
  quick: boolean;
  /** Seed of every generated input. */
  seed: number;
  /** Aborted when the run is interrupted (Ctrl-C). */
  signal: AbortSignal;
  /** A progress line on stderr (stdout is reserved for the report). */
  log(message: string): void;
}

/** One benchmark suite. */
export interface Suite {
  name: string;
  run(ctx: SuiteContext): Promise<ReportedResult[]>;
}
