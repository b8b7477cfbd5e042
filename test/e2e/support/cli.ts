import { Writable } from "node:stream";
import { runCli } from "../../../cli/index.ts";

/** What one in-process CLI run printed, and its exit status. */
export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Runs `riskshare …args` in this process, capturing its output (as a user would see it). */
export async function cli(...args: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) => new Writable({ write(chunk, _enc, done) { append(chunk.toString()); done(); } });
  const status = await runCli(["node", "riskshare", ...args], {
    stdout: sink((t) => { stdout += t; }),
    stderr: sink((t) => { stderr += t; }),
    env: { ...process.env, CI: "true" },
    isTTY: false,
  });
  return { status, stdout, stderr, json: () => JSON.parse(stdout) };
}
