/**
 * Local chains for the devnet and the end-to-end tests: Hardhat's node or anvil, on 127.0.0.1 and
 * a free port, each one process stopped by its PID.
 *
 * @example
 *   const chain = await startChain({ kind: "hardhat" });
 *   …  await chain.stop();
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { RiskshareError } from "../../node/errors.ts";

const require = createRequire(import.meta.url);

/** Which local chain to run. */
export type ChainKind = "hardhat" | "anvil";

/** The well-known development mnemonic both Hardhat and anvil prefund (never use it anywhere real). */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** A running local chain. */
export interface LocalChain {
  kind: ChainKind;
  rpcUrl: string;
  pid: number;
  /** Stops the chain process (SIGTERM, then SIGKILL after 5 s); idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startChain}. */
export interface StartChainOptions {
  kind: ChainKind;
  port?: number;
  /** anvil only: seconds per block (interval mining, as a BFT chain produces blocks); 0 = automine. */
  blockTimeSeconds?: number;
  /** Where the chain's output goes (default: discarded). */
  onOutput?: (line: string) => void;
  readyTimeoutMs?: number;
}

/**
 * A TCP port on 127.0.0.1 that is free now and stays free until a process listens on it.
 *
 * A port the kernel hands out for `listen(0)` comes from its ephemeral range, the same range every
 * outgoing connection (an RPC call, a libp2p dial) takes its local port from; between choosing the
 * port and the node binding it, such a connection can take it (EADDRINUSE). So on Linux the port is
 * chosen at random below the ephemeral range (read from /proc), checked by binding it, and never
 * handed out twice by this process. Elsewhere, the kernel's choice.
 */
export async function freePort(): Promise<number> {
  const range = await nonEphemeralRange();
  if (range !== undefined) {
    for (let attempt = 0; attempt < 64; attempt++) {
      const port = range.low + Math.floor(Math.random() * (range.high - range.low));
      if (handedOut.has(port)) continue;
      if (await bindable(port)) {
        handedOut.add(port);
        return port;
      }
    }
  }
  for (;;) {
    const port = await bindable(0);
    if (port !== false && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

const handedOut = new Set<number>();
const FIRST_UNPRIVILEGED_PORT = 20_000;

/** Ports below the kernel's ephemeral range (Linux), if that range leaves room for them. */
async function nonEphemeralRange(): Promise<{ low: number; high: number } | undefined> {
  try {
    const text = await readFile("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
    const [low] = text.trim().split(/\s+/).map(Number);
    if (low !== undefined && Number.isInteger(low) && low - FIRST_UNPRIVILEGED_PORT >= 1_000) return { low: FIRST_UNPRIVILEGED_PORT, high: low };
  } catch {
    // Not Linux, or /proc not mounted: fall back to the kernel's choice.
  }
  return undefined;
}

/** Binds `port` (0 = the kernel's choice) on 127.0.0.1 and releases it: the port bound, or false. */
function bindable(port: number): Promise<number | false> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(bound === 0 ? false : bound));
    });
  });
}

/** The anvil binary of this platform, from the @foundry-rs/anvil-<platform> package npm installed. */
export function anvilBinary(): string {
  const platform = { linux: "linux", darwin: "darwin", win32: "win32" }[process.platform as string];
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
  if (!platform || !arch) throw new RiskshareError("E_CONFIG", `anvil has no build for ${process.platform}/${process.arch}`);
  const pkg = require.resolve(`@foundry-rs/anvil-${platform}-${arch}/package.json`);
  return join(dirname(pkg), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
}

/**
 * Switches a running anvil from mining each transaction as it comes (automine) to a block every
 * `blockTimeSeconds` (interval mining, as a BFT chain produces blocks).
 */
export async function startIntervalMining(chain: LocalChain, blockTimeSeconds: number): Promise<void> {
  if (chain.kind !== "anvil") throw new RiskshareError("E_CONFIG", "interval mining is switched on anvil only");
  const response = await fetch(chain.rpcUrl, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "evm_setIntervalMining", params: [blockTimeSeconds] }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.json() as { error?: { message: string } };
  if (body.error) throw new RiskshareError("E_CHAIN_UNREACHABLE", `anvil refused interval mining: ${body.error.message}`);
}

/** Starts a chain and resolves once it answers eth_chainId. */
export async function startChain(opts: StartChainOptions): Promise<LocalChain> {
  const port = opts.port ?? (await freePort());
  let child: ChildProcess;
  if (opts.kind === "hardhat") {
    const cli = join(dirname(require.resolve("hardhat/package.json")), "dist", "src", "cli.js");
    child = spawn(process.execPath, [cli, "node", "--hostname", "127.0.0.1", "--port", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  } else {
    const args = ["--host", "127.0.0.1", "--port", String(port), "--mnemonic", DEV_MNEMONIC, "--silent"];
    if ((opts.blockTimeSeconds ?? 0) > 0) args.push("--block-time", String(opts.blockTimeSeconds));
    child = spawn(anvilBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  }
  const forward = (chunk: Buffer) => {
    if (opts.onOutput) for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) opts.onOutput(line);
  };
  child.stdout?.on("data", forward);
  child.stderr?.on("data", forward);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const rpcUrl = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new RiskshareError("E_CHAIN_UNREACHABLE", `the ${opts.kind} chain exited with status ${child.exitCode} before it was ready`);
    try {
      const response = await fetch(rpcUrl, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        signal: AbortSignal.timeout(1_000),
      });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new RiskshareError("E_TIMEOUT", `the ${opts.kind} chain did not become ready on ${rpcUrl}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { kind: opts.kind, rpcUrl, pid: child.pid!, stop };
}
