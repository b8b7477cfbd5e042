import { Writable } from "node:stream";
import { runCli } from "./index.ts";

/** What one in-process CLI run printed, and its exit status. */
export interface CapturedRun {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = any>(): T; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Runs `riskshare …args` in this process and captures what it prints (scripts and tests drive the CLI as a user would). */
export async function runCliCaptured(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CapturedRun> {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) => new Writable({
    write(chunk: Buffer, _encoding, done) {
      append(chunk.toString());
      done();
    },
  });
  const status = await runCli(["node", "riskshare", ...args], {
    stdout: sink((text) => { stdout += text; }),
    stderr: sink((text) => { stderr += text; }),
    env: { ...env, CI: "true" },
    isTTY: false,
  });
  return { status, stdout, stderr, json: () => JSON.parse(stdout) };
}
