import { Writable } from "node:stream";
import type { CliIo } from "./output.ts";

/** Runs the CLI on argv with the given streams and returns its exit status (cli/index.ts's runCli). */
export type CliRunner = (argv: readonly string[], io: CliIo) => Promise<number>;

/** Runs `riskshare …args` in this process and captures what it prints; handed to the code that drives the CLI (the devnet's story). */
export type CapturedCli = (args: readonly string[]) => Promise<CapturedRun>;

/** What one in-process CLI run printed, and its exit status. */
export interface CapturedRun {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Runs `riskshare …args` through `run` in this process and captures what it prints (scripts and
 * tests drive the CLI as a user would). The runner is a parameter, so this module needs nothing of
 * the command tree, and a command may be handed a captured CLI without an import cycle.
 */
export async function captureCli(run: CliRunner, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CapturedRun> {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) => new Writable({
    write(chunk: Buffer, _encoding, done) {
      append(chunk.toString());
      done();
    },
  });
  const status = await run(["node", "riskshare", ...args], {
    stdout: sink((text) => { stdout += text; }),
    stderr: sink((text) => { stderr += text; }),
    env: { ...env, CI: "true" },
    isTTY: false,
  });
  return { status, stdout, stderr, json: () => JSON.parse(stdout) };
}
