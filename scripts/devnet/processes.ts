import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { RUNTIME_FILE, type NodeRuntime } from "../../cli/runtime.ts";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "riskshare.js");

/** How much of a node's log is kept in memory for error messages. */
const MAX_LOG_TAIL_CHARS = 64 * 1024;

/** A member node running as its own process (`riskshare node start`), as an operator runs it. */
export interface NodeProcess {
  pid: number;
  runtime: NodeRuntime;
  /** The last part of what the process wrote to stderr (its log), for failure messages. */
  log(): string;
  /** Sends a signal and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Runs `riskshare --data-dir DIR node start` and resolves once its API answers. */
export async function startNodeProcess(dataDir: string, opts: { timeoutMs?: number; logFile?: string } = {}): Promise<NodeProcess> {
  await rm(join(dataDir, RUNTIME_FILE), { force: true }); // a killed node leaves its runtime file behind
  const child: ChildProcess = spawn(process.execPath, [BIN, "--data-dir", dataDir, "--json", "--log-level", "info", "node", "start"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CI: "true" },
  });
  let stderr = "";
  const logStream = opts.logFile === undefined ? undefined : createWriteStream(opts.logFile, { flags: "a", mode: 0o600 });
  child.stderr?.on("data", (chunk: Buffer) => {
    logStream?.write(chunk);
    stderr = (stderr + chunk.toString()).slice(-MAX_LOG_TAIL_CHARS); // a long-running node must not grow memory
  });
  child.once("exit", () => logStream?.end());
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // The node prints one JSON document (its runtime) on stdout once it serves.
  const runtime = await new Promise<NodeRuntime>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the node did not start in time:\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      try {
        const document = JSON.parse(stdout) as NodeRuntime;
        clearTimeout(timer);
        resolve(document);
      } catch {
        // the document is not complete yet
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the node exited with ${code} before it was ready:\n${stderr}`));
    });
  });
  return {
    pid: child.pid!,
    runtime,
    log: () => stderr,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
