/**
 * Structured logging through pino, injected into every part as `modules.logger`.
 *
 * @example
 *   const logger = createLogger({ level: "info" });
 *   const storeLog = logger.child({ module: "store" });
 *   storeLog.info({ entries: 12 }, "import finished");
 *
 * Messages are constant strings; variable facts go into the context object. The redaction list is
 * a last line of defence: no code should ever pass a key or a raw identifier to a logger.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";

/** The logger type every module receives. */
export type Logger = PinoLogger;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** pino level: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent". */
  level: string;
  /** Where lines go; stderr by default so that stdout stays free for command output. */
  destination?: DestinationStream;
}

/** Fields removed from every log line, wherever they appear one level deep. */
export const REDACTED_FIELDS = [
  "pepper", "*.pepper", "privateKey", "*.privateKey", "key", "*.key", "token", "*.token",
  "value", "*.value", "rawValue", "*.rawValue", "mnemonic", "*.mnemonic", "authorization", "*.authorization",
];

/** Builds the root logger. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    { level: opts.level, base: undefined, redact: { paths: REDACTED_FIELDS, censor: "[redacted]" } },
    opts.destination ?? pino.destination(2),
  );
}

/** A logger that drops everything: for tests and for `--json` runs that must stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** Removes credentials (user:password@, and query strings that may carry API keys) from a URL before it is logged. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    parsed.search = "";
    return parsed.toString();
  } catch {
    return "[unparseable url]";
  }
}
