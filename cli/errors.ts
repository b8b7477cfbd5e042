import { CommanderError } from "commander";
import { z } from "zod";
import { RiskshareError, isRiskshareError } from "../node/errors.ts";
import { jsonReplacer, type CliIo } from "./output.ts";

/** Exit statuses: 0 ok, 1 failure, 2 bad usage. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const USAGE_CODES = new Set(["E_USAGE", "E_BAD_INPUT", "E_ADMISSION_REQUEST"]);

/**
 * The one place a CLI failure becomes output and an exit status: a single line
 * `error E_CODE: what happened. What to do.` on stderr (or `{"error": …}` on stdout under --json).
 */
export function handleError(err: unknown, io: CliIo, json: boolean): number {
  if (err instanceof Error && (err.name === "AuditFailed" || err.name === "ReportedFailure")) return EXIT.failure; // the command printed its findings
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return EXIT.ok; // --help, --version
    const message = err.message.replace(/^error:\s*/i, "");
    return report(new RiskshareError("E_USAGE", message), io, json, EXIT.usage);
  }
  if (err instanceof z.ZodError) {
    const problems = err.issues.map((issue) => `${issue.path.join(".") || "input"}: ${issue.message}`).join("; ");
    return report(new RiskshareError("E_USAGE", problems), io, json, EXIT.usage);
  }
  if (isRiskshareError(err)) return report(err, io, json, USAGE_CODES.has(err.code) ? EXIT.usage : EXIT.failure);
  return report(new RiskshareError("E_INTERNAL", "unexpected failure", {}, { cause: err }), io, json, EXIT.failure, err);
}

function report(err: RiskshareError, io: CliIo, json: boolean, status: number, original?: unknown): number {
  if (json) io.stdout.write(`${JSON.stringify({ error: err.toJSON() }, jsonReplacer)}\n`);
  else io.stderr.write(`error ${err.code}: ${err.message}. ${err.hint}\n`);
  if (original !== undefined && io.env.RISKSHARE_DEBUG) io.stderr.write(`${(original as Error).stack ?? String(original)}\n`);
  return status;
}

/** Raised after a command printed a result that is a failure (a node refusing lookups): exit status 1 without a second message. */
export class ReportedFailure extends Error {
  override readonly name = "ReportedFailure";
}

/** Parses a command's options through its schema; a failure is a usage error naming the option. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `--${kebab(String(issue.path[0] ?? "input"))}: ${issue.message}`).join("; ");
  throw new RiskshareError("E_USAGE", problems);
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
