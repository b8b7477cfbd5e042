/**
 * A terminal progress bar for imports (cli-progress): rows, rows/s, and with a known file size a
 * bar and an ETA by bytes. Silent when output is not a terminal, in --json mode or in CI, so logs
 * and machine-read output stay clean.
 */
import cliProgress from "cli-progress";
import type { ImportProgress } from "./options.ts";

/** Options of {@link createProgressReporter}. */
export interface ProgressReporterOptions {
  /** Whether the output stream is a terminal (e.g. `process.stderr.isTTY`). */
  readonly tty: boolean;
  /** --json output: never draw. */
  readonly json: boolean;
  /** Running in CI (e.g. `Boolean(process.env.CI)`): never draw. */
  readonly ci?: boolean | undefined;
  /** Where to draw; stderr by default, so stdout stays for results. */
  readonly stream?: NodeJS.WritableStream | undefined;
}

/** Receives import progress; `stop()` ends the bar. */
export interface ProgressReporter {
  update(progress: ImportProgress): void;
  stop(): void;
}

const QUIET: ProgressReporter = { update: () => undefined, stop: () => undefined };

/** A progress reporter: a cli-progress bar on a terminal, a no-op otherwise. */
export function createProgressReporter(opts: ProgressReporterOptions): ProgressReporter {
  if (!opts.tty || opts.json || opts.ci) return QUIET;
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(progress) {
      const payload = { rows: progress.rows.toLocaleString("en"), rate: progress.rowsPerSec.toLocaleString("en"), rejected: progress.rejected };
      if (bar === undefined) {
        const sized = progress.totalBytes !== undefined && progress.totalBytes > 0;
        bar = new cliProgress.SingleBar({
          stream: opts.stream ?? process.stderr,
          format: sized
            ? "import [{bar}] {percentage}% | {rows} rows | {rate} rows/s | {rejected} rejected | ETA {eta_formatted}"
            : "import {rows} rows | {rate} rows/s | {rejected} rejected",
          hideCursor: true,
          etaBuffer: 50,
        });
        bar.start(sized ? progress.totalBytes! : 1, 0, payload);
      }
      bar.update(progress.totalBytes ? Math.min(progress.bytes, progress.totalBytes) : 0, payload);
    },
    stop() {
      bar?.stop();
    },
  };
}
